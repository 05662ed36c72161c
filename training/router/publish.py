"""`hybridgw router evaluate`: measure the shipped model and regenerate everything that quotes
its numbers — `router/models/{metrics,thresholds}.json`, `model_card.md`, `docs/router.md`
and `docs/router_curve.png`.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from training.router import latency, model_card, report
from training.router.evaluate import evaluate
from training.router.label_gsm8k import summarize_labels

COMMAND = "hybridgw router evaluate"


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, float) and value != value:  # NaN is not JSON
        return None
    return value


def publish(
    dataset: Path, models: Path, docs: Path, labels: Path, latency_runs: int
) -> dict[str, Any]:
    """Evaluate, time, and write the metrics, thresholds, card, report and plot."""
    model_path = models / "model.onnx"
    metrics, curves = evaluate(model_path, dataset)
    timings = [asdict(t) for t in latency.measure(model_path, runs=latency_runs)]
    metrics["latency"] = timings
    metrics["gsm8k_labels"] = summarize_labels(labels)
    (models / "metrics.json").write_text(
        json.dumps(_jsonable(metrics), indent=1, sort_keys=True) + "\n", encoding="utf-8"
    )
    thresholds = {
        "difficulty": round(metrics["thresholds"]["difficulty"], 4),
        "sensitivity": round(metrics["thresholds"]["sensitivity"], 4),
        "note": "difficulty: 80% of validation requests local; sensitivity: recall >= 0.95 "
        "on validation. See model_card.md.",
    }
    (models / "thresholds.json").write_text(json.dumps(thresholds, indent=1) + "\n", "utf-8")
    docs.mkdir(parents=True, exist_ok=True)
    report.plot(curves, docs / "router_curve.png", "Quality vs local share (test split)")
    (docs / "router.md").write_text(
        report.router_doc(metrics, metrics["gsm8k_labels"], COMMAND), encoding="utf-8"
    )
    training = json.loads((models / "training.json").read_text("utf-8"))
    comparison_path = models / "comparison.json"
    comparison = (
        json.loads(comparison_path.read_text("utf-8")) if comparison_path.exists() else None
    )
    (models / "model_card.md").write_text(
        model_card.render(metrics, training, comparison), encoding="utf-8"
    )
    return metrics
