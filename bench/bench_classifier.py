"""Decision latency of the router's ONNX classifier at ~50 / 500 / 4000-token prompts.

Run: `.venv/bin/python bench/bench_classifier.py [--runs 1000] [--threads 1]`
Prints a table and appends it to docs/benchmarks.md with the date, machine and command.
Note: `score()` keeps only the last 4000 characters (~1000 tokens), so the 4000-token row
measures a truncated prompt — as the gateway scores it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.report import append_section, machine  # noqa: E402
from router.classifier import OnnxClassifier  # noqa: E402
from training.router.latency import measure  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--model", default=None, help="ONNX file (default: the shipped one).")
    parser.add_argument("--no-write", action="store_true", help="Do not append to the docs.")
    args = parser.parse_args()
    classifier = OnnxClassifier(args.model, intra_op_threads=args.threads)
    version = classifier.version
    rows = measure(args.model, runs=args.runs, intra_op_threads=args.threads)
    table = [
        "| prompt | chars scored | p50 ms | p99 ms | mean ms | CPU p50 ms | CPU p99 ms |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        table.append(
            f"| ~{r.tokens} tokens | {min(r.chars, 4000)} | {r.p50_ms:.3f} | {r.p99_ms:.3f} | "
            f"{r.mean_ms:.3f} | {r.cpu_p50_ms:.3f} | {r.cpu_p99_ms:.3f} |"
        )
    command = " ".join([".venv/bin/python", "bench/bench_classifier.py", *sys.argv[1:]])
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    section = "\n".join(
        [
            f"## Router classifier decision latency ({now})",
            "",
            f"- model: `{args.model or 'router/models/model.onnx'}` version `{version}` "
            f"({', '.join(classifier.heads)}), "
            f"onnxruntime CPU, {args.threads} intra-op thread(s), {args.runs} runs per size",
            f"- machine: {machine()} (shared with other jobs while measured; wall-clock p99 "
            "includes waiting for a core, CPU columns are this thread's CPU time)",
            f"- command: `{command}`",
            "",
            *table,
            "",
        ]
    )
    print(section)
    if not args.no_write:
        append_section(section)


if __name__ == "__main__":
    main()
