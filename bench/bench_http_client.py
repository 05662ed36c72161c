"""Upstream HTTP client cost: httpx (what `openai_compat` uses) vs aiohttp, per request.

    .venv/bin/python -m bench.bench_http_client

The cloud hop's client runs inside every gateway worker, so its CPU per request is gateway
overhead. Both clients POST the same chat completion to the mock upstream (its own process) with
one pooled client each, `--concurrency` requests in flight, on uvloop; measured: CPU time of
this process per request (the client's cost; the mock's is not counted) and requests/s.
Rounds alternate httpx → aiohttp so machine noise hits both.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from bench.procs import Processes
from bench.report import Report, command_line, fmt, ratio
from bench.servers import start_mock

BODY = json.dumps(
    {
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": "Summarise optimistic locking in one line."}],
        "max_tokens": 64,
    }
).encode()
HEADERS = {"content-type": "application/json", "authorization": "Bearer sk-mock"}


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def drive(one: Callable[[], Awaitable[None]], requests: int, concurrency: int) -> tuple:
    await asyncio.gather(*(one() for _ in range(concurrency)))  # warm: open connections
    cpu, wall = cpu_seconds(), time.perf_counter()
    for _ in range(requests // concurrency):
        await asyncio.gather(*(one() for _ in range(concurrency)))
    done = requests // concurrency * concurrency
    return (cpu_seconds() - cpu) * 1000 / done, done / (time.perf_counter() - wall)


async def with_httpx(base: str, requests: int, concurrency: int) -> tuple:
    import httpx

    limits = httpx.Limits(max_connections=100)
    async with httpx.AsyncClient(base_url=base, limits=limits, trust_env=False) as client:

        async def one() -> None:
            response = await client.post("/chat/completions", content=BODY, headers=HEADERS)
            response.json()

        return await drive(one, requests, concurrency)


async def with_aiohttp(base: str, requests: int, concurrency: int) -> tuple:
    import aiohttp

    connector = aiohttp.TCPConnector(limit=100)
    async with aiohttp.ClientSession(base_url=base + "/", connector=connector) as session:

        async def one() -> None:
            async with session.post("chat/completions", data=BODY, headers=HEADERS) as response:
                await response.json()

        return await drive(one, requests, concurrency)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="per round and client")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-write", action="store_true", help="Do not append to the docs.")
    args = parser.parse_args()
    import uvloop

    clients = {"httpx": with_httpx, "aiohttp": with_aiohttp}
    results: dict[str, list[tuple]] = {name: [] for name in clients}
    with tempfile.TemporaryDirectory(prefix="bench-http-") as tmp, Processes(Path(tmp)) as ps:
        base = start_mock(ps).url.removesuffix("/chat/completions")
        for _ in range(args.rounds):
            for name, run in clients.items():
                results[name].append(uvloop.run(run(base, args.requests, args.concurrency)))
    rows = []
    medians = {}
    for name, runs in results.items():
        cpu = statistics.median(r[0] for r in runs)
        rps = statistics.median(r[1] for r in runs)
        medians[name] = (cpu, rps)
        rows.append([name, fmt(cpu, 3), fmt(rps, 0), str(len(runs))])
    report = Report("Upstream HTTP client cost", command=command_line("bench.bench_http_client"))
    report.text(
        f"One pooled client each, {args.concurrency} requests in flight, {args.requests} "
        "requests per round, uvloop, against the mock upstream (own process). *CPU ms/req* is "
        "this process only — the client's cost, which a gateway worker pays on every cloud "
        f"hop. Median of {args.rounds} alternating rounds. aiohttp / httpx: CPU "
        f"{ratio(medians['aiohttp'][0], medians['httpx'][0])}, req/s "
        f"{ratio(medians['aiohttp'][1], medians['httpx'][1])}."
    )
    report.table(["client", "CPU ms/req", "req/s", "rounds"], rows)
    report.emit(write=not args.no_write)


if __name__ == "__main__":
    main()
