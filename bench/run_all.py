"""Run every benchmark (`bench/bench_*.py`) one after the other: `make bench`.

    .venv/bin/python -m bench.run_all [--only overhead,local] [--timeout 1800]

Each runs as its own subprocess (`python -m bench.<name>`, so a crash or a hang in one does not
stop the others), bounded by `--timeout`; each prints its tables and appends them to
docs/benchmarks.md. Failures are reported at the end, and the exit status is 1 if any failed.
Takes many minutes; not part of `make test`.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Fast, in-process ones first; the server benchmarks (many processes, minutes each) last.
ORDER = (
    "bench_decision",
    "bench_http_client",
    "bench_classifier",
    "bench_pii",
    "bench_ledger",
    "bench_state",
    "bench_routing",
    "bench_local",
    "bench_overhead",
    "bench_profile",
)


def discover() -> list[str]:
    found = {p.stem for p in (ROOT / "bench").glob("bench_*.py")}
    ordered = [name for name in ORDER if name in found]
    return ordered + sorted(found - set(ordered))


def run(name: str, timeout_s: float) -> tuple[int | None, float]:
    """(exit status or None on timeout, seconds). The whole process group is killed on exit."""
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", f"bench.{name}"], cwd=ROOT, start_new_session=True
    )
    try:
        status: int | None = proc.wait(timeout_s)
    except subprocess.TimeoutExpired:
        status = None
    except KeyboardInterrupt:
        _kill(proc)
        raise
    _kill(proc)
    return status, time.monotonic() - started


def _kill(proc: subprocess.Popen[bytes]) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            return
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            continue


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="comma-separated names, e.g. overhead,local")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per benchmark")
    args = parser.parse_args()
    names = discover()
    if args.only:
        wanted = {f"bench_{n.removeprefix('bench_')}" for n in args.only.split(",")}
        names = [n for n in names if n in wanted]
    results: list[tuple[str, int | None, float]] = []
    for name in names:
        print(f"\n=== {name} ===", flush=True)
        status, seconds = run(name, args.timeout)
        results.append((name, status, seconds))
    print("\n=== summary ===")
    failed = 0
    for name, status, seconds in results:
        verdict = "ok" if status == 0 else "TIMEOUT" if status is None else f"FAILED ({status})"
        failed += status != 0
        print(f"{name:<20} {verdict:<12} {seconds:7.1f} s")
    print(f"{len(results) - failed} of {len(results)} succeeded; results in docs/benchmarks.md")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
