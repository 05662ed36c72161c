"""Instructions per request of our gateway, counted by callgrind: a measure the machine's
neighbours move far less than wall time.

    .venv/bin/python -m bench.bench_instructions LABEL=TREE[,ENV=VALUE...] ... [--requests 200]
        [--warmup 20] [--repeats 2] [--pass-through | --no-name-model] [--no-write]

On this shared 2-core VM wall-clock numbers of the same code move by 30-70 % within an hour
(`docs/benchmarks.md`), so a change worth a few per cent cannot be seen in req/s. `valgrind
--tool=callgrind` counts the instructions a process executes. For a pure function they repeat
exactly; for the whole gateway they still move a little, because how often the event loop turns
and the background tasks (ledger commits, spool checks) wake depends on wall time: the same
tree measured 4.11-4.60 M instructions per request across six runs on 2026-12-01, some of them
beside a test run. So targets are measured `--repeats` times, in alternating order, and the
table gives the median and every repeat. Each TREE (`.`, or an extracted earlier commit) runs
`bench/inproc.py` (the chat route through the ASGI app in one process, no HTTP server, no wrk)
twice under callgrind, `--warmup` requests and `--warmup + --requests`; the difference over
`--requests` is the gateway's cost per request without start-up. Full path as
`bench.bench_peers` serves it (its policy, the ONNX classifier, the mock upstream, which runs
outside valgrind); `--pass-through`: no PII types, fixed scores; `--no-name-model`: the full
path with the PII name model off (patterns and validators only). Differences between these and
`,HYBRIDGW_CLASSIFIER=fake` give a stage's cost without a profiler's overhead. Log level
`warning` (the per-request INFO line is the same in every tree and would go to a file here).
Hash seed fixed. Each callgrind run takes about 1.5 minutes here (Python under valgrind is ~50x
slower), two per target and repeat. It never asserts."""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.bench_peers import body
from bench.peers import _without_pii
from bench.procs import Processes
from bench.report import Report, command_line, fmt
from bench.servers import (
    GATEWAY_KEY,
    ROOT,
    Server,
    gateway_env,
    parse_target,
    python,
    start_mock,
    write_policy,
)

DRIVER = ROOT / "bench" / "inproc.py"
_COLLECTED = re.compile(r"Collected : (\d+)")


@dataclass(frozen=True)
class Count:
    label: str
    warmup_instructions: int
    total_instructions: int
    requests: int

    @property
    def per_request(self) -> float:
        return (self.total_instructions - self.warmup_instructions) / self.requests


def callgrind(tree: Path, env: dict[str, str], body_file: Path, requests: int, out: Path) -> int:
    """Instructions executed by one run of the driver in `tree` (start-up included)."""
    argv = [
        *("valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"),
        *(python(), str(DRIVER), "--body", str(body_file), "--key", GATEWAY_KEY),
        *("--requests", str(requests)),
    ]
    done = subprocess.run(argv, cwd=tree, env=env, capture_output=True, text=True, check=False)
    found = _COLLECTED.findall(done.stderr)
    if done.returncode != 0 or not found:
        raise RuntimeError(f"{tree}: the driver failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return int(found[-1])


def measure(
    spec: str, directory: Path, mock: Server, body_file: Path, args: argparse.Namespace, repeat: int
) -> Count:
    label, tree, extra = parse_target(spec)
    policy = write_policy(directory, "openai_compat", mock, scan_model=not args.no_name_model)
    if args.pass_through:
        policy = _without_pii(policy)
    runs = []
    for requests in (args.warmup, args.warmup + args.requests):
        settings = {
            "HYBRIDGW_POLICY_FILE": str(policy),
            "HYBRIDGW_POLICY_WATCH": "false",
            "HYBRIDGW_LOG_LEVEL": "warning",
            "PYTHONHASHSEED": "0",
        }
        env = gateway_env(
            directory / f"ledger-{label}-{repeat}-{requests}.db",
            pass_through=args.pass_through,
            extra={**settings, **extra},
        )
        out = directory / f"callgrind-{label}-{repeat}-{requests}.out"
        runs.append(callgrind(tree, env, body_file, requests, out))
    return Count(label, runs[0], runs[1], args.requests)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "targets", nargs="*", default=["now=."], metavar="LABEL=TREE[,ENV=VALUE...]"
    )  # `make bench` runs it without arguments: this checkout alone
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=2, help="runs per target, alternating")
    variant = parser.add_mutually_exclusive_group()
    variant.add_argument("--pass-through", action="store_true", help="No PII types, fixed scores.")
    variant.add_argument("--no-name-model", action="store_true", help="PII patterns only.")
    parser.add_argument("--no-write", action="store_true", help="Do not append to the docs.")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (Debian: apt-get install -y valgrind)")
    report = Report(
        "Instructions per request (callgrind)", command=command_line("bench.bench_instructions")
    )
    with tempfile.TemporaryDirectory(prefix="bench-instr-") as tmp, Processes(Path(tmp)) as ps:
        directory = Path(tmp)
        mock = start_mock(ps)
        body_file = directory / "body.json"
        body_file.write_text(json.dumps(body(Server("ours", mock.proc, "", GATEWAY_KEY, "auto"))))
        counts: dict[str, list[Count]] = {}
        for r in range(args.repeats):
            for spec in args.targets if r % 2 == 0 else args.targets[::-1]:
                count = measure(spec, directory, mock, body_file, args, r)
                counts.setdefault(count.label, []).append(count)
    path = "pass-through" if args.pass_through else "full path"
    path += ", PII name model off" if args.no_name_model else ""
    report.text(
        f"{path}; per request = (instructions of {args.warmup} + {args.requests} requests − "
        f"those of {args.warmup}) ÷ {args.requests}, each run of `bench/inproc.py` under "
        "`valgrind --tool=callgrind` (one process: the ASGI app and its upstream client; the "
        "mock outside valgrind). Start-up = the run of the warm-up requests alone."
    )
    medians = {
        label: statistics.median(c.per_request for c in runs) for label, runs in counts.items()
    }
    first_label, first = next(iter(medians.items()))
    report.table(
        [
            "target",
            "instructions per request (M, median)",
            f"ratio to {first_label}",
            "each repeat (M)",
            "start-up (G)",
        ],
        [
            [
                label,
                fmt(medians[label] / 1e6, 3),
                f"{medians[label] / first:.3f}×",
                " ".join(f"{c.per_request / 1e6:.3f}" for c in runs),
                fmt(statistics.median(c.warmup_instructions for c in runs) / 1e9, 2),
            ]
            for label, runs in counts.items()
        ],
    )
    report.emit(write=not args.no_write)


if __name__ == "__main__":
    main()
