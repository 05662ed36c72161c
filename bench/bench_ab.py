"""Two (or more) versions of our gateway, paired: rounds alternate between them at one level.

    .venv/bin/python -m bench.bench_ab LABEL=TREE[,ENV=VALUE...] LABEL=TREE... [--c 1]
        [--rounds 8] [--seconds 4] [--workers 2] [--pass-through] [--no-write]

e.g. `bench.bench_ab a9e8075=/tmp/base now=.` with `/tmp/base` an extracted earlier commit
(`git archive a9e8075 | tar -x -C /tmp/base`). Each TREE serves the full path as
`bench.bench_peers` does (same mock upstream, policy and settings; `,ENV=VALUE` adds an
environment variable). On a shared 2-core machine one 8 s wrk run per target (as
`bench_peers` does) varies by ±20 % from run to run; here every round runs each target once,
in alternating order, and the tables give the median over rounds and every round, so a
difference shows up as the same sign round after round. It never asserts.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from bench.bench_peers import body
from bench.loadgen import ensure_wrk, run_wrk
from bench.peers import _without_pii
from bench.procs import Processes, free_port, tree_cpu_seconds, wait_http, wait_idle
from bench.report import Report, command_line, fmt
from bench.servers import (
    GATEWAY_KEY,
    Server,
    gateway_env,
    parse_target,
    serve_argv,
    start_mock,
    write_policy,
)

Round = tuple[float, float, float, float]  # req/s, p50 ms, p99 ms, CPU ms per request


def start(
    ps: Processes, directory: Path, mock: Server, spec: str, args: argparse.Namespace
) -> Server:
    label, root, extra = parse_target(spec)
    policy = write_policy(directory, "openai_compat", mock)
    if args.pass_through:
        policy = _without_pii(policy)
    env = gateway_env(directory / f"ledger-{label}.db", pass_through=args.pass_through, extra=extra)
    port = free_port()
    proc = ps.start(
        f"gateway-{label}", serve_argv(port, args.workers, policy, tree=root), env=env, cwd=root
    )
    wait_http(f"http://127.0.0.1:{port}/healthz", proc, timeout_s=120)
    url = f"http://127.0.0.1:{port}/v1/chat/completions"
    return Server(label, proc, url, GATEWAY_KEY, "auto")


def one_round(server: Server, connections: int, seconds: float) -> Round:
    before = tree_cpu_seconds(server.proc.pid)
    w = run_wrk(server.url, body(server), key=server.key, connections=connections, seconds=seconds)
    cpu = (tree_cpu_seconds(server.proc.pid) - before) * 1000 / max(1, w.requests)
    return w.rps, w.p50_ms, w.p99_ms, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "targets", nargs="*", default=["now=."], metavar="LABEL=TREE[,ENV=VALUE...]"
    )  # `make bench` runs it without arguments: this checkout alone
    parser.add_argument("--c", type=int, default=1, help="wrk connections")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=4.0, help="wrk duration per round")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--pass-through", action="store_true", help="No PII types, fixed scores.")
    parser.add_argument("--no-write", action="store_true", help="Do not append to the docs.")
    args = parser.parse_args()
    ensure_wrk()
    report = Report("Paired A/B of our gateway", command=command_line("bench.bench_ab"))
    with tempfile.TemporaryDirectory(prefix="bench-ab-") as tmp, Processes(Path(tmp)) as ps:
        directory = Path(tmp)
        mock = start_mock(ps)
        servers = [start(ps, directory, mock, spec, args) for spec in args.targets]
        for s in servers:
            wait_idle(s.proc.pid, timeout_s=60)
            run_wrk(s.url, body(s), key=s.key, connections=8, seconds=3)  # warm-up
        rounds: dict[str, list[Round]] = {s.label: [] for s in servers}
        for r in range(args.rounds):
            for s in servers if r % 2 == 0 else servers[::-1]:
                rounds[s.label].append(one_round(s, args.c, args.seconds))
    path = "pass-through" if args.pass_through else "full path"
    report.text(
        f"{path}, wrk -c{args.c}, {args.rounds} rounds of {args.seconds:g} s, order alternating; "
        f"{args.workers} workers each; CPU = the process tree's user+system CPU ÷ requests."
    )
    report.table(
        [
            "target",
            "req/s (median)",
            "p50 ms (median)",
            "p99 ms (median)",
            "CPU ms/req (median)",
            "rounds: req/s / p50 / p99 / CPU",
        ],
        [
            [
                label,
                fmt(statistics.median(x[0] for x in rows)),
                fmt(statistics.median(x[1] for x in rows), 2),
                fmt(statistics.median(x[2] for x in rows), 2),
                fmt(statistics.median(x[3] for x in rows), 2),
                " ".join(f"{x[0]:.0f}/{x[1]:.2f}/{x[2]:.1f}/{x[3]:.2f}" for x in rows),
            ]
            for label, rows in rounds.items()
        ],
    )
    report.emit(write=not args.no_write)


if __name__ == "__main__":
    main()
