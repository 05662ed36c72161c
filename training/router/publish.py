"""`hybridgw router evaluate`: measure the shipped model and regenerate everything that quotes
its numbers — `router/models/{metrics,thresholds}.json`, `model_card.md` and `docs/router.md`.

Order: leave-one-source-out folds with the shipped recipe (headline, and the thresholds) →
RouteLLM metrics (MMLU leave-subject-out, GSM8K held out) → the probe set → the shipped model
on the test split (in-distribution) → latency.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict
from pathlib import Path
from typing import Any

from router.classifier import OnnxClassifier
from router.profiles import difficulty_key
from training.router import card, latency, loso, loso_report, probe_eval, routellm_eval
from training.router.build_data import read_split
from training.router.evaluate import decision_thresholds, in_distribution, scored
from training.router.label_gsm8k import summarize_labels
from training.router.recipe import shipped_evaluation

COMMAND = "hybridgw router evaluate"


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and value != value:  # NaN is not JSON
        return None
    if hasattr(value, "item"):
        return _jsonable(value.item())
    return value


def everyday_summary(path: Path) -> dict[str, Any]:
    """Per task kind: items and how many the local model answered acceptably."""
    import gzip

    if not path.exists():
        return {}
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle]
    total, ok = (
        Counter(str(r["kind"]) for r in rows),
        Counter(str(r["kind"]) for r in rows if r["local_ok"]),
    )
    return {k: {"items": total[k], "local_ok": ok[k]} for k in sorted(total)}


def publish(
    dataset: Path,
    models: Path,
    docs: Path,
    data: Path,
    probes: Path,
    labels: tuple[Path, Path],
    latency_runs: int,
    loso_cap: int | None = None,
) -> dict[str, Any]:
    """Evaluate, time, and write the metrics, thresholds, card and report."""
    training = json.loads((models / "training.json").read_text("utf-8"))
    ev = shipped_evaluation(dataset, models, loso_cap)
    config, representation, everything = ev.config, ev.representation, ev.everything
    folds = loso.folds(ev.rows, config, representation)
    thresholds = decision_thresholds()
    classifier = OnnxClassifier(models / "model.onnx")
    test = scored(classifier.score_batch, read_split(dataset, "test"))
    metrics: dict[str, Any] = {
        "model_version": classifier.version,
        "representation": training["representation"],
        "dataset_version": training["dataset"]["version"],
        "thresholds": thresholds,
        "loso_cap": loso_cap,
        "loso": {
            **loso_report.summary(folds, thresholds),
            "restricted": {
                "7b-class routerdc only": loso_report.restricted(
                    folds, difficulty_key("7b-class"), {"routerdc"}
                ),
                "7b-class measured + mmlu proxy": loso_report.restricted(
                    folds, difficulty_key("7b-class"), {"routerdc", "mmlu_mixtral"}
                ),
                "smollm2-135m measured only": loso_report.restricted(
                    folds, difficulty_key("smollm2-135m"), {"gsm8k_smollm2", "everyday_smollm2"}
                ),
            },
        },
        "routellm": {
            "mmlu_leave_subject_out": routellm_eval.mmlu_leave_subject_out(
                loso.capped(everything, loso_cap, keep="mmlu"), data, config, representation
            ),
            "gsm8k_7b-class": routellm_eval.gsm8k_held_out(
                folds, difficulty_key("7b-class"), "routerdc"
            ),
            "gsm8k_smollm2-135m": routellm_eval.gsm8k_held_out(
                folds, difficulty_key("smollm2-135m"), "gsm8k_smollm2"
            ),
        },
        "probes": probe_eval.agreement(
            probe_eval.read_probes(probes), classifier.score_batch, thresholds
        ),
        "in_distribution": in_distribution(test, thresholds)["heads"],
        "latency": [asdict(t) for t in latency.measure(models / "model.onnx", runs=latency_runs)],
        "labels": {
            "gsm8k": summarize_labels(labels[0]),
            "everyday": everyday_summary(labels[1]),
        },
        "training": training,
    }
    _write(metrics, models, docs)
    rounded = {k: round(v, 4) for k, v in thresholds.items()}
    note = {"note": "Cost-based: difficulty 0.5, sensitivity 1/3 (training/router/evaluate.py)."}
    (models / "thresholds.json").write_text(json.dumps({**rounded, **note}, indent=1) + "\n")
    return metrics


def retime(models: Path, docs: Path, latency_runs: int) -> dict[str, Any]:
    """Only re-measure latency (it depends on the machine's load, the rest does not) and
    re-render the card and report from the existing `metrics.json`."""
    metrics = json.loads((models / "metrics.json").read_text("utf-8"))
    timed = latency.measure(models / "model.onnx", runs=latency_runs)
    return _write({**metrics, "latency": [asdict(t) for t in timed]}, models, docs)


def _write(metrics: dict[str, Any], models: Path, docs: Path) -> dict[str, Any]:
    """metrics.json (with the hand-kept candidate comparison), the card and docs/router.md."""
    comparison = models / "comparison.json"
    if comparison.exists():
        metrics["comparison"] = json.loads(comparison.read_text("utf-8"))
    metrics = _jsonable(metrics)
    (models / "metrics.json").write_text(json.dumps(metrics, indent=1, sort_keys=True) + "\n")
    docs.mkdir(parents=True, exist_ok=True)
    (docs / "router.md").write_text(card.router_doc(metrics, COMMAND), encoding="utf-8")
    (models / "model_card.md").write_text(card.model_card(metrics, COMMAND), encoding="utf-8")
    return metrics
