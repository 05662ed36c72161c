"""Routing quality: rerun `hybridgw router evaluate` and copy its headline numbers.

    .venv/bin/python -m bench.bench_routing

The command evaluates the shipped classifier (router/models/model.onnx) on the test split of
the router dataset and rewrites its metrics, thresholds, model card and docs/router.md. Here it
runs on a temporary copy of router/models with `--docs` in a temporary folder, so the benchmark
changes no committed file; the headline numbers are read back from the copy's metrics.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from bench.report import Report, command_line, fmt
from bench.servers import ROOT, gateway_command

MODELS = ROOT / "router" / "models"


def evaluate(latency_runs: int, timeout_s: float) -> tuple[dict[str, Any], str]:
    with tempfile.TemporaryDirectory(prefix="bench-routing-") as tmp:
        models = Path(tmp) / "models"
        shutil.copytree(MODELS, models)
        argv = [
            *gateway_command(),
            "router",
            "evaluate",
            "--models",
            str(models),
            "--docs",
            str(Path(tmp) / "docs"),
            "--latency-runs",
            str(latency_runs),
        ]
        done = subprocess.run(
            argv, cwd=ROOT, capture_output=True, text=True, timeout=timeout_s, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"`hybridgw router evaluate` failed ({done.returncode}):\n{done.stderr[-2000:]}"
            )
        metrics = json.loads((models / "metrics.json").read_text("utf-8"))
    return metrics, done.stdout


def pct(value: float | None) -> str:
    return fmt(None if value is None else 100 * value, 1, "%")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency-runs", type=int, default=300)
    parser.add_argument("--timeout", type=float, default=1200.0, help="seconds, whole command")
    parser.add_argument("--no-write", action="store_true", help="Do not append to the docs.")
    args = parser.parse_args()
    metrics, printed = evaluate(args.latency_runs, args.timeout)
    report = Report("Routing quality", command=command_line("bench.bench_routing"))
    report.text(
        "`hybridgw router evaluate` on a temporary copy of `router/models` (nothing committed "
        f"is rewritten); model `{metrics.get('model_version', '?')}`. What it printed:\n\n"
        "```\n" + printed.strip() + "\n```"
    )
    heads = []
    for head in ("difficulty", "sensitivity"):
        m = metrics[head]["overall"]
        heads.append(
            [
                head,
                fmt(metrics["thresholds"][head], 4),
                fmt(m.get("roc_auc"), 3),
                fmt(m.get("pr_auc"), 3),
                fmt(m.get("ece"), 3),
                fmt(m.get("precision"), 3),
                fmt(m.get("recall"), 3),
                str(int(m.get("rows", 0))),
            ]
        )
    report.table(
        ["head", "threshold", "ROC-AUC", "PR-AUC", "ECE", "precision", "recall", "test rows"],
        heads,
        caption="Classifier heads on the test split",
    )
    routing = metrics.get("routing", {})
    routers = routing.get("routers", {})
    rows = []
    for name, r in routers.items():
        quality = r.get("quality_at", {})
        rows.append(
            [
                name,
                fmt(r.get("apgr"), 3),
                pct(quality.get("0.5")),
                pct(quality.get("0.7")),
                pct(quality.get("0.8")),
            ]
        )
    if rows:
        report.table(
            ["router", "APGR", "quality @50% local", "@70% local", "@80% local"],
            rows,
            caption="Quality (share of answers acceptable) vs share of traffic kept local; "
            f"the local model alone is acceptable on {pct(routing.get('local_ok_rate'))}",
        )
    points = routing.get("operating_points", {})
    if points:
        report.table(
            ["operating point", "difficulty threshold", "local share", "quality"],
            [
                [name, fmt(p.get("threshold"), 4), pct(p.get("local_share")), pct(p.get("quality"))]
                for name, p in points.items()
            ],
            caption="Operating points",
        )
    report.emit(write=not args.no_write)


if __name__ == "__main__":
    main()
