"""Our gateway next to the Rust and Python gateways, side by side in one run, one mock upstream.

    .venv/bin/python -m bench.bench_peers [--seconds 8] [--levels 1,8,64] [--no-portkey]
        [--before TREE[:VERSION]]

Starts on 127.0.0.1 the mock upstream (`bench.mock_server`) and, each pointed at it: LiteLLM
proxy (`litellm[proxy]`, 2 workers), TensorZero (the Rust gateway embedded in the `tensorzero`
wheel, observability off), Portkey (`@portkey-ai/gateway` on Node, non-streaming; skipped
without npm or with `--no-portkey`) and ours twice (`hybridgw serve --workers 2`, cloud via
`openai_compat`): the *full path* (every request a cloud hop after the PII scan with the
default entities and name model, the protect rules and the ONNX classifier) and
*pass-through* (no PII types, fixed scores); plus, unless `--no-ledger-row`, the full path
with the SQLite ledger fsyncing every commit (`synchronous=FULL`, opt-in; the default is
NORMAL), to show what power-loss durability costs; with `--before TREE:VERSION`, the full
path of another checkout (an earlier commit) in the same run.
Peers are installed once into ~/.cache/hybridgw-bench/<peer> (see `bench/peers.py`) and
reused.

Level after level, target after target (so machine noise hits all alike), `wrk -c{1,8,64}`
POSTs the same ~40-token chat completion, with a per-request number in the prompt so no cache
can serve it. Measured: req/s, added p50/p99 (through the gateway − direct to the mock at the
same level), CPU ms per request of each server's process tree (/proc), RSS/PSS, and streaming
time to the first `data:` line. Ratios are ours / each peer. About 4–5 minutes; not part of
`make test`; it never asserts: the targets table says which were met.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.bench_overhead import PROMPT, peak
from bench.loadgen import TtfbResult, WrkResult, ensure_wrk, run_wrk, streaming_ttfb
from bench.peers import start_floor, start_ours, start_portkey, start_tensorzero
from bench.procs import Memory, Processes, tree_cpu_seconds, tree_memory, wait_idle
from bench.report import Report, command_line, fmt
from bench.servers import Server, classifier_setting, start_litellm, start_mock


@dataclass
class Measured:
    server: Server
    wrk: dict[int, WrkResult] = field(default_factory=dict)
    cpu_ms: dict[int, float] = field(default_factory=dict)
    ttfb: dict[int, TtfbResult] = field(default_factory=dict)
    idle: Memory | None = None
    peak: Memory | None = None
    route: str = ""

    @property
    def label(self) -> str:
        return self.server.label


def body(server: Server) -> dict[str, Any]:
    return {
        "model": server.model,
        "messages": [{"role": "user", "content": PROMPT}],
        "max_tokens": 64,
        "temperature": 0.2,
    }


def probe(server: Server) -> str:
    """One request: it must succeed; for our gateway, which tier and rule served it."""
    data = json.dumps(body(server)).replace("@N@", "probe").encode()
    headers = {"authorization": f"Bearer {server.key}", "content-type": "application/json"}
    request = urllib.request.Request(server.url, data=data, headers={**headers, **server.headers})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=30) as response:
        tier, rule = response.headers.get("x-route-tier"), response.headers.get("x-route-rule")
        answer = json.loads(response.read())
    if not answer.get("choices"):
        raise RuntimeError(f"{server.label} answered without choices: {answer}")
    return f"{tier} (rule {rule})" if tier else ""


def wrk(server: Server, connections: int, seconds: float) -> WrkResult:
    return run_wrk(
        server.url,
        body(server),
        key=server.key,
        connections=connections,
        seconds=seconds,
        headers=server.headers,
    )


def warm_up(server: Server, *, max_rounds: int = 6) -> None:
    """Wait until start-up work is done, then 2 s rounds at c=8 until two agree within 20 %."""
    wait_idle(server.proc.pid, timeout_s=60)
    last = 0.0
    for round_ in range(max_rounds):
        rps = wrk(server, 8, 2).rps
        if round_ >= 2 and abs(rps - last) <= 0.2 * max(rps, last):
            return
        last = rps


def measure_level(m: Measured, connections: int, seconds: float) -> None:
    before = tree_cpu_seconds(m.server.proc.pid)
    result = wrk(m.server, connections, seconds)
    m.cpu_ms[connections] = (
        (tree_cpu_seconds(m.server.proc.pid) - before) * 1000 / max(1, result.requests)
    )
    m.wrk[connections] = result
    m.peak = peak(m.peak, tree_memory(m.server.proc.pid))
    print(
        f"  c={connections:<3} {m.label:<28} {result.rps:9.1f} req/s  p50 {result.p50_ms:7.2f} "
        f"ms  p99 {result.p99_ms:7.2f} ms  CPU {m.cpu_ms[connections]:6.2f} ms/req  "
        f"errors {result.errors}",
        flush=True,
    )


def start_all(ps: Processes, directory: Path, args: argparse.Namespace) -> list[Server]:
    mock = start_mock(ps)
    servers = [mock]
    if not args.no_litellm:
        servers.append(start_litellm(ps, directory, mock=mock))
    servers.append(start_tensorzero(ps, directory, mock=mock))
    if not args.no_portkey:
        portkey = start_portkey(ps, directory, mock=mock)
        if portkey is None:
            print("Portkey skipped: npm/node missing", flush=True)
        else:
            servers.append(portkey)
    servers.append(start_floor(ps, mock=mock))
    servers.append(start_ours(ps, directory, mock=mock, pass_through=False))
    servers.append(start_ours(ps, directory, mock=mock, pass_through=True))
    if args.ledger_row:
        servers.append(start_ours(ps, directory, mock=mock, pass_through=False, ledger_full=True))
    if args.before:  # an earlier commit's full path, with the ledger default it shipped with
        tree, _, version = args.before.partition(":")
        servers.append(
            start_ours(
                ps,
                directory,
                mock=mock,
                pass_through=False,
                ledger_full=args.before_ledger_full,
                tree=Path(tree).resolve(),
                version=version or Path(tree).name,
            )
        )
    return servers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="wrk duration per level")
    parser.add_argument("--levels", default="1,8,64", help="wrk connection counts")
    parser.add_argument("--ttfb-requests", type=int, default=100, help="streams per level")
    parser.add_argument("--no-portkey", action="store_true", help="Skip Portkey (Node).")
    parser.add_argument("--no-litellm", action="store_true", help="Skip LiteLLM proxy.")
    parser.add_argument(
        "--ledger-row",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="Also the full path with the SQLite ledger at synchronous=FULL (its fsync cost).",
    )
    parser.add_argument(
        "--before",
        metavar="TREE[:VERSION]",
        help="Also the full path served from another checkout (e.g. `git archive <commit>` "
        "unpacked), labelled VERSION: before and after in one run.",
    )
    parser.add_argument(
        "--before-ledger-full",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="Run --before with synchronous=FULL (the default before issue 17).",
    )
    parser.add_argument("--no-write", action="store_true", help="Do not append to the docs.")
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    ensure_wrk()
    report = Report(
        "Side by side: ours vs Rust and Python gateways", command=command_line("bench.bench_peers")
    )
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-peers-") as tmp, Processes(Path(tmp)) as ps:
        measured = [Measured(s) for s in start_all(ps, Path(tmp), args)]
        for m in measured:
            m.route = probe(m.server)
            warm_up(m.server)
            time.sleep(1)
            m.idle = tree_memory(m.server.proc.pid)
        for connections in levels:
            print(f"wrk -c{connections} -d{args.seconds:g}s", flush=True)
            for m in measured:
                measure_level(m, connections, args.seconds)
        for concurrency in (1, 8):
            for m in (m for m in measured if m.server.streams):
                m.ttfb[concurrency] = streaming_ttfb(
                    m.server.url,
                    body(m.server),
                    key=m.server.key,
                    concurrency=concurrency,
                    requests=args.ttfb_requests,
                    headers=m.server.headers,
                )
                m.peak = peak(m.peak, tree_memory(m.server.proc.pid))
        build_report(report, measured, levels, args, time.monotonic() - started)
    report.emit(write=not args.no_write)


def build_report(
    report: Report,
    measured: list[Measured],
    levels: list[int],
    args: argparse.Namespace,
    elapsed_s: float,
) -> None:
    from bench.peers_report import describe, memory_table, ratio_table, targets, ttfb_table

    direct = measured[0]
    report.text(describe(measured, args.seconds, classifier_setting(), elapsed_s))
    rows = []
    for c in levels:
        base = direct.wrk[c]
        for m in measured:
            w = m.wrk[c]
            rows.append(
                [
                    f"c={c}",
                    m.label,
                    fmt(w.rps),
                    fmt(w.p50_ms, 2),
                    fmt(w.p99_ms, 2),
                    "–" if m is direct else fmt(w.p50_ms - base.p50_ms, 2),
                    "–" if m is direct else fmt(w.p99_ms - base.p99_ms, 2),
                    fmt(m.cpu_ms[c], 2),
                    str(w.errors),
                ]
            )
    report.table(
        [
            "level",
            "target",
            "req/s",
            "p50 ms",
            "p99 ms",
            "added p50",
            "added p99",
            "CPU ms/req",
            "errors",
        ],
        rows,
        caption="Throughput and latency (non-streaming; added = minus direct-to-mock)",
    )
    ratio_table(report, measured, levels)
    ttfb_table(report, measured)
    memory_table(report, measured)
    targets(report, measured, levels)


if __name__ == "__main__":
    main()
