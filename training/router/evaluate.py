"""Score the validation and test splits with the shipped ONNX model and compute every number
the model card and `docs/router.md` report.

Thresholds are chosen on validation and reported on test: the difficulty threshold that keeps
80% of validation requests local, and the sensitivity threshold with recall >= 0.95 on
validation (missing a sensitive prompt costs more than a needless local route).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from router.classifier import OnnxClassifier
from training.router import calibrate
from training.router.build_data import read_split
from training.router.metrics import (
    SHARES,
    Array,
    head_metrics,
    oracle_curve,
    quality_curve,
    random_curve,
    summarize,
)

SENSITIVITY_RECALL = 0.95
TARGET_LOCAL_SHARE = 0.8


def scored(classifier: OnnxClassifier, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows with `p_difficulty` and `p_sensitivity` added (batched ONNX runs)."""
    out: list[dict[str, Any]] = []
    for start in range(0, len(rows), 256):
        chunk = rows[start : start + 256]
        for row, score in zip(
            chunk, classifier.score_batch([r["text"] for r in chunk]), strict=True
        ):
            out.append(
                {**row, "p_difficulty": score["difficulty"], "p_sensitivity": score["sensitivity"]}
            )
    return out


def _labelled(rows: list[dict[str, Any]], head: str) -> list[dict[str, Any]]:
    return [r for r in rows if r[head] is not None]


def head_report(rows: list[dict[str, Any]], head: str, threshold: float) -> dict[str, Any]:
    """Overall and per-label-source metrics of one head; flag rate at the threshold."""
    picked = _labelled(rows, head)
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in picked:
        groups[r[f"{head}_source"]].append(r)
    report: dict[str, Any] = {"overall": _metrics(picked, head, threshold), "by_source": {}}
    for source in sorted(groups):
        report["by_source"][source] = _metrics(groups[source], head, threshold)
    return report


def _metrics(rows: list[dict[str, Any]], head: str, threshold: float) -> dict[str, float]:
    y = np.array([float(r[head] >= 0.5) for r in rows])
    p = np.array([r[f"p_{head}"] for r in rows])
    out = head_metrics(y, p)
    flagged = p >= threshold
    out["flagged_rate"] = float(flagged.mean()) if len(p) else float("nan")
    tp = float((flagged & (y == 1)).sum())
    out["precision"] = tp / flagged.sum() if flagged.sum() else float("nan")
    out["recall"] = tp / (y == 1).sum() if (y == 1).sum() else float("nan")
    return out


def sensitivity_threshold(rows: list[dict[str, Any]], recall: float) -> float:
    """The highest threshold whose recall on these rows is at least `recall`."""
    picked = _labelled(rows, "sensitivity")
    positives = np.sort([r["p_sensitivity"] for r in picked if r["sensitivity"] >= 0.5])
    if len(positives) == 0:
        return 0.5
    k = int(np.floor((1.0 - recall) * len(positives)))
    return float(positives[k])


def routing_report(
    validation: list[dict[str, Any]], test: list[dict[str, Any]]
) -> tuple[dict[str, Any], dict[str, Array]]:
    """Quality-vs-local-share curves on test and the operating points of the thresholds."""
    val = _labelled(validation, "difficulty")
    rows = _labelled(test, "difficulty")
    ok = np.array([1.0 - float(r["difficulty"] >= 0.5) for r in rows])
    scores = np.array([r["p_difficulty"] for r in rows])
    val_ok = np.array([1.0 - float(r["difficulty"] >= 0.5) for r in val])
    val_scores = np.array([r["p_difficulty"] for r in val])
    curves = {
        "router (ours)": quality_curve(ok, scores),
        "random": random_curve(ok),
        "prompt length": quality_curve(ok, np.array([float(len(r["text"])) for r in rows])),
        "oracle": oracle_curve(ok),
    }
    summaries = {name: summarize(name, curve, ok) for name, curve in curves.items()}
    points: dict[str, Any] = {}
    for share in (0.5, 0.7, 0.8):
        fit = calibrate.for_share(val_scores, val_ok, share)
        held = calibrate.operating_point(fit.threshold, scores, ok)
        points[f"share_{share}"] = {"threshold": fit.threshold, **_point(held)}
    for floor in (0.9, 0.95):
        fit = calibrate.for_quality_floor(val_scores, val_ok, floor)
        held = calibrate.operating_point(fit.threshold, scores, ok)
        points[f"floor_{floor}"] = {"threshold": fit.threshold, **_point(held)}
    report = {
        "rows": len(rows),
        "local_ok_rate": float(ok.mean()),
        "routers": {
            name: {
                "apgr": s.apgr,
                "area_over_random": s.area_over_random,
                "quality_at": {str(k): v for k, v in s.quality_at.items()},
            }
            for name, s in summaries.items()
        },
        "operating_points": points,
    }
    return report, {"shares": SHARES, **curves}


def _point(op: calibrate.Operating) -> dict[str, float]:
    return {"local_share": op.local_share, "quality": op.quality}


def evaluate(model_path: Path, dataset_dir: Path) -> tuple[dict[str, Any], dict[str, Array]]:
    """All metrics of the model at `model_path` on the dataset's validation and test splits."""
    classifier = OnnxClassifier(model_path)
    validation = scored(classifier, read_split(dataset_dir, "validation"))
    test = scored(classifier, read_split(dataset_dir, "test"))
    val_diff = _labelled(validation, "difficulty")
    diff_threshold = calibrate.threshold_for_share(
        np.array([r["p_difficulty"] for r in val_diff]), TARGET_LOCAL_SHARE
    )
    sens_threshold = sensitivity_threshold(validation, SENSITIVITY_RECALL)
    routing, curves = routing_report(validation, test)
    metrics = {
        "model_version": classifier.version,
        "thresholds": {"difficulty": diff_threshold, "sensitivity": sens_threshold},
        "difficulty": head_report(test, "difficulty", diff_threshold),
        "sensitivity": head_report(test, "sensitivity", sens_threshold),
        "routing": routing,
    }
    return metrics, curves
