"""Load generators for the HTTP benchmarks: `wrk` for throughput and latency percentiles, a
small httpx client for streaming time to first byte.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LUA = Path(__file__).with_name("wrk_post.lua")
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def ensure_wrk() -> str:
    """The path of `wrk`, installing the Debian package if it is missing."""
    found = shutil.which("wrk")
    if found:
        return found
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    installed = subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], env=env, check=False)
    if installed.returncode != 0:
        subprocess.run(["apt-get", "update", "-qq"], env=env, check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], env=env, check=True)
    found = shutil.which("wrk")
    if not found:
        raise RuntimeError("wrk is not installed and could not be installed with apt-get")
    return found


@dataclass(frozen=True, slots=True)
class WrkResult:
    connections: int
    seconds: float
    requests: int
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    errors: int  # non-2xx responses plus socket errors

    def as_dict(self) -> dict[str, Any]:
        return {
            "connections": self.connections,
            "rps": self.rps,
            "p50_ms": self.p50_ms,
            "p90_ms": self.p90_ms,
            "p99_ms": self.p99_ms,
            "requests": self.requests,
            "errors": self.errors,
        }


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not match:
        raise ValueError(f"unparsable wrk latency {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse_wrk(output: str, connections: int, seconds: float) -> WrkResult:
    percentiles = {
        int(m.group(1)): _ms(m.group(2))
        for m in re.finditer(r"^\s+(50|75|90|99)%\s+(\S+)", output, re.MULTILINE)
    }
    requests = re.search(r"(\d+) requests in", output)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    errors = int(non2xx.group(1)) if non2xx else 0
    if socket:
        errors += sum(int(g) for g in socket.groups())
    if not (requests and rps and percentiles):
        raise ValueError(f"unparsable wrk output:\n{output}")
    return WrkResult(
        connections=connections,
        seconds=seconds,
        requests=int(requests.group(1)),
        rps=float(rps.group(1)),
        p50_ms=percentiles[50],
        p90_ms=percentiles[90],
        p99_ms=percentiles[99],
        errors=errors,
    )


def run_wrk(
    url: str,
    body: dict[str, Any],
    *,
    key: str,
    connections: int,
    seconds: float,
    threads: int = 2,
    headers: Mapping[str, str] | None = None,
) -> WrkResult:
    """`wrk -t{threads} -c{connections} -d{seconds}s --latency` POSTing `body` to `url`
    (with `headers` added); each `@N@` in it becomes a number unique to the request (see
    `wrk_post.lua`)."""
    wrk = ensure_wrk()
    threads = max(1, min(threads, connections))
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as out:
        json.dump(body, out)
        body_path = out.name
    try:
        completed = subprocess.run(
            [
                wrk,
                f"-t{threads}",
                f"-c{connections}",
                f"-d{seconds:g}s",
                "--timeout",
                "10s",
                "--latency",
                "-s",
                str(LUA),
                url,
            ],
            env={
                **os.environ,
                "WRK_BODY": body_path,
                "WRK_KEY": key,
                "WRK_HEADERS": "\n".join(f"{k}: {v}" for k, v in (headers or {}).items()),
            },
            capture_output=True,
            text=True,
            timeout=seconds + 60,
            check=True,
        )
    finally:
        os.unlink(body_path)
    return parse_wrk(completed.stdout, connections, seconds)


@dataclass(frozen=True, slots=True)
class TtfbResult:
    concurrency: int
    requests: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    errors: int


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


async def _ttfb(
    url: str,
    body: dict[str, Any],
    key: str,
    concurrency: int,
    requests: int,
    extra: Mapping[str, str],
) -> TtfbResult:
    import httpx

    headers = {"authorization": f"Bearer {key}", "content-type": "application/json", **extra}
    template = json.dumps(body)
    counter = 0
    samples: list[float] = []
    errors = 0
    remaining = requests
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async with httpx.AsyncClient(timeout=30, limits=limits, trust_env=False) as client:

        async def one() -> None:
            nonlocal errors, counter
            counter += 1
            payload = template.replace("@N@", f"s{counter}").encode()
            started = time.perf_counter()
            async with client.stream("POST", url, content=payload, headers=headers) as response:
                if response.status_code != 200:
                    errors += 1
                    await response.aread()
                    return
                first: float | None = None
                async for line in response.aiter_lines():
                    if first is None and line.startswith("data:"):
                        first = time.perf_counter() - started
                if first is None:
                    errors += 1
                else:
                    samples.append(first * 1000)

        async def worker() -> None:
            nonlocal remaining, errors
            while remaining > 0:
                remaining -= 1
                try:
                    await one()
                except httpx.HTTPError:
                    errors += 1

        for _ in range(min(10, requests)):  # warm-up: open connections, fill caches
            with contextlib.suppress(httpx.HTTPError):
                await one()
        samples.clear()
        errors = 0
        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return TtfbResult(
        concurrency,
        len(samples),
        statistics.median(samples) if samples else float("nan"),
        _percentile(samples, 90),
        _percentile(samples, 99),
        errors,
    )


def streaming_ttfb(
    url: str,
    body: dict[str, Any],
    *,
    key: str,
    concurrency: int,
    requests: int,
    headers: Mapping[str, str] | None = None,
) -> TtfbResult:
    """Time from sending a streaming request to its first `data:` line, `requests` times.

    Each `@N@` in `body` is replaced by a per-request number (as in `wrk_post.lua`)."""
    stream = {**body, "stream": True}
    return asyncio.run(_ttfb(url, stream, key, concurrency, requests, headers or {}))
