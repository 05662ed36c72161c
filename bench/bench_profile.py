"""Where our gateway spends its CPU under load: py-spy on `hybridgw serve` while wrk drives it.

    .venv/bin/python -m bench.bench_profile

Same set-up as bench/bench_overhead.py (mock upstream, cloud-hop policy, production settings, 2
workers); for each cloud backend (`--backends`), wrk runs at c=8 while `py-spy record
--subprocesses` samples the server's process tree for `--seconds`. Samples of a thread blocked
in a wait (a leaf frame whose source line is a `.get(`/`.wait(`/`.join(`/`.acquire(`/`select(`/
`sleep(` call), anyio worker threads (only the policy watcher's native wait here) and the event
loop's native wait (`Runner.run` as leaf) are dropped as idle, waits to enter a lock are reported
separately; the rest — Python, and native work such as spaCy's matrix products or
onnxruntime — counts as busy.
The folded stacks are kept in $TMPDIR/hybridgw-profile-<backend>.txt. Tables: the top frames by
own time, and own time by owner (our module, or the library whose code was running; the
standard library is charged to its nearest non-stdlib caller).

py-spy is installed into the project venv when missing (a tool, not a project dependency).
"""

from __future__ import annotations

import argparse
import linecache
import re
import shutil
import subprocess
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.bench_overhead import body, probe, warm_up
from bench.loadgen import ensure_wrk, run_wrk
from bench.procs import Processes
from bench.report import Report, command_line, fmt
from bench.servers import ROOT, classifier_setting, python, start_gateway, start_mock

PY_SPY = Path(python()).parent / "py-spy"


def ensure_py_spy() -> Path:
    if not PY_SPY.exists():
        subprocess.run([str(PY_SPY.parent / "pip"), "install", "-q", "py-spy"], check=True)
    return PY_SPY


def short_path(path: str) -> str:
    """A full file name made relative: to the repo, to site-packages, or to the stdlib dir."""
    for marker in ("/site-packages/", "/lib/python3.11/", "/lib/python3/"):
        if marker in path:
            return path.split(marker, 1)[1]
    root = str(ROOT) + "/"
    return path.removeprefix(root)


def parse_frame(frame: str) -> tuple[str, str]:
    """`func (/abs/path/file.py:12)` → (`func (path/file.py)`, full path)."""
    name, _, where = frame.rpartition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    return f"{name} ({short_path(path)})", path


def owner(path: str) -> str | None:
    """Our module path, or the library's top package; None for the standard library."""
    ours = path.startswith(str(ROOT) + "/") and "/site-packages/" not in path
    if path.startswith("<") or not (ours or "/site-packages/" in path):
        return None  # stdlib (or frozen bootstrap code)
    short = short_path(path)
    head = short.split("/", 1)[0].removesuffix(".py")
    if head in ("gateway", "router", "policies", "local_backends", "cloud_backends", "bench"):
        return short
    return head


# Owners grouped into the stages of one request.
COMPONENTS = (
    (
        "upstream HTTP client (httpx/httpcore/anyio/h11)",
        ("httpx", "httpcore", "anyio", "h11", "sniffio", "certifi"),
    ),
    (
        "litellm + openai SDK + aiohttp",
        (
            "litellm",
            "openai",
            "aiohttp",
            "tiktoken",
            "tokenizers",
            "yarl",
            "multidict",
            "frozenlist",
            "aiosignal",
        ),
    ),
    (
        "HTTP server (uvicorn/starlette/fastapi)",
        ("uvicorn", "starlette", "fastapi", "httptools", "uvloop"),
    ),
    (
        "PII names (name model)",
        (
            *("spacy", "thinc", "catalogue", "srsly", "cymem", "preshed", "blis", "numpy"),
            *("policies/pii/ner_tagger.py", "policies/pii/ner_spacy.py"),
        ),
    ),
    (
        "PII patterns + redaction",
        ("regex", "policies/pii", "phonenumbers", "stdnum", "gateway/privacy.py"),
    ),
    ("classifier (onnxruntime)", ("onnxruntime", "router/classifier.py")),
    ("pydantic (parse/validate/serialise)", ("pydantic", "pydantic_core")),
    ("ledger (SQLite)", ("gateway/ledger",)),
    (
        "pipeline, API, policy, state",
        ("gateway", "router", "policies", "cloud_backends", "local_backends"),
    ),
)


def component(who: str) -> str:
    for name, prefixes in COMPONENTS:
        if any(who == p or who.startswith(p + "/") or who.startswith(p) for p in prefixes):
            return name
    return "other"


_BLOCKING = re.compile(r"\.get\(|\.wait\(|\.join\(|\bselect\(|\.recv\(|\bread\(|\bsleep\(")
_LOCK = re.compile(r"\.acquire\(|with [\w.]*lock\b", re.IGNORECASE)


def idle(frame: str) -> str | None:
    """`"idle"` or `"lock"` for a leaf frame that waits instead of working, else None.

    Idle: a blocking call (queue get, event wait, pipe read — e.g. uvicorn's health-check
    thread —, a sleep such as the log listener's batching pause), the event loop's native
    wait, and anyio worker threads (here only the policy file watcher, blocked in watchfiles'
    native watch). Lock: waiting to enter a lock.
    """
    name, _, where = frame.rpartition(" (")
    path, _, line = where.rstrip(")").rpartition(":")
    if name == "Runner.run" and path.endswith("asyncio/runners.py"):
        return "idle"
    if name == "WorkerThread.run" and "anyio" in path:
        return "idle"
    source = linecache.getline(path, int(line)) if line.isdigit() else ""
    if _LOCK.search(source):
        return "lock"
    return "idle" if _BLOCKING.search(source) else None


def analyse(raw: Path) -> tuple[int, Counter[str], Counter[str], Counter[str], Counter[str]]:
    """Busy samples, own samples per frame and per owner, lock waits per frame, and the
    cumulative samples per frame (the frame anywhere on the stack, counted once per stack)."""
    total = 0
    frames: Counter[str] = Counter()
    cumulative: Counter[str] = Counter()
    owners: Counter[str] = Counter()
    locks: Counter[str] = Counter()
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        parts = stack.split(";")[1:]  # the first entry names the process
        if not parts:
            continue
        waiting = idle(parts[-1])
        if waiting == "lock":
            locks[parse_frame(parts[-1])[0]] += n
        if waiting:
            continue
        total += n
        leaf, _ = parse_frame(parts[-1])
        frames[leaf] += n
        for name in {parse_frame(frame)[0] for frame in parts}:
            cumulative[name] += n
        who = "standard library (no caller found)"
        for frame in reversed(parts):
            found = owner(parse_frame(frame)[1])
            if found:
                who = found
                break
        owners[who] += n
    return total, frames, owners, locks, cumulative


def profile(
    backend: str, seconds: float, connections: int, workers: int, rate: int
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-profile-") as tmp, Processes(Path(tmp)) as ps:
        directory = Path(tmp)
        mock = start_mock(ps)
        gateway = start_gateway(ps, directory, backend=backend, mock=mock, workers=workers)
        route = probe(gateway)
        warm_up(gateway)
        raw = directory / "profile.txt"
        spy = subprocess.Popen(
            [
                str(ensure_py_spy()),
                "record",
                "--pid",
                str(gateway.proc.pid),
                "--subprocesses",
                "--full-filenames",
                "--rate",
                str(rate),
                "--duration",
                f"{seconds:g}",
                "--format",
                "raw",
                "--output",
                str(raw),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(1)  # py-spy attaches
        result = run_wrk(
            gateway.url, body(gateway), key=gateway.key, connections=connections, seconds=seconds
        )
        _, err = spy.communicate(timeout=seconds + 60)
        if not raw.exists():
            raise RuntimeError(f"py-spy wrote nothing: {err}")
        total, frames, owners, locks, cumulative = analyse(raw)
        kept = Path(tempfile.gettempdir()) / f"hybridgw-profile-{backend}.txt"
        shutil.copyfile(raw, kept)  # the folded stacks, for flamegraph.pl or speedscope
    return {
        "backend": backend,
        "route": route,
        "wrk": result,
        "total": total,
        "frames": frames,
        "owners": owners,
        "locks": locks,
        "cumulative": cumulative,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backends", default="openai_compat,litellm")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rate", type=int, default=200, help="py-spy samples per second")
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--no-write", action="store_true", help="Do not append to the docs.")
    args = parser.parse_args()
    ensure_wrk()
    ensure_py_spy()
    report = Report("Profile: our gateway under load", command=command_line("bench.bench_profile"))
    report.text(
        f"`hybridgw serve --workers {args.workers}` (classifier `{classifier_setting()}`, "
        "cloud-hop policy `bench/policies/cloud_hop.yaml`, SQLite ledger) against the mock "
        f"upstream; wrk `-c{args.connections} -d{args.seconds:g}s` while `py-spy record "
        f"--subprocesses --full-filenames --rate {args.rate} --format raw` samples every worker. "
        "Shares are of busy samples: threads blocked in a wait and the event loop's idle "
        "`Runner.run` are dropped; native work (spaCy/thinc matrix code, onnxruntime, SQLite) "
        "counts. py-spy slows the server, so its req/s here is below the overhead benchmark's."
    )
    for backend in args.backends.split(","):
        got = profile(backend, args.seconds, args.connections, args.workers, args.rate)
        total = max(1, got["total"])
        wrk = got["wrk"]
        report.text(
            f"### Cloud via `{backend}`\n\nroute: {got['route']}; {wrk.rps:.1f} req/s, p50 "
            f"{wrk.p50_ms:.1f} ms under the profiler; {got['total']} busy samples."
            + "".join(
                f" Waiting to enter a lock: `{frame}` in {n} samples "
                f"({100 * n / total:.1f}% of the busy count)."
                for frame, n in got["locks"].most_common(3)
            )
        )
        report.table(
            ["own %", "frame (function, file)"],
            [
                [fmt(100 * n / total, 1), f"`{frame}`"]
                for frame, n in got["frames"].most_common(args.top)
            ],
            caption=f"Top {args.top} frames by own time",
        )
        report.table(
            ["cumulative %", "frame (function, file)"],
            [
                [fmt(100 * n / total, 1), f"`{frame}`"]
                for frame, n in got["cumulative"].most_common(args.top * 2)
            ],
            caption=f"Top {args.top * 2} frames by cumulative time (on the stack)",
        )
        parts: Counter[str] = Counter()
        for who, n in got["owners"].items():
            parts[component(who)] += n
        report.table(
            ["own %", "stage"],
            [[fmt(100 * n / total, 1), name] for name, n in parts.most_common()],
            caption="Own time by stage of the request (owners grouped)",
        )
        report.table(
            ["own %", "owner (our module, or library)"],
            [[fmt(100 * n / total, 1), f"`{who}`"] for who, n in got["owners"].most_common(12)],
            caption="Own time by owner (stdlib charged to its nearest non-stdlib caller)",
        )
    report.emit(write=not args.no_write)


if __name__ == "__main__":
    main()
