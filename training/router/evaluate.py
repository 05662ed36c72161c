"""In-distribution numbers of the shipped model (test split) and the threshold rules.

These are the *flattering* numbers (same sources and templates as training); the headline of
the card is leave-one-source-out (`loso.py`). Thresholds are chosen on leave-one-source-out
predictions, i.e. on scores for sources the model had not seen, never on the probe set:

- sensitivity: the highest threshold whose held-out recall is at least `SENSITIVITY_RECALL`
  (missing a sensitive prompt costs more than a needless local route);
- difficulty (per profile): the threshold maximising Youden's J (TPR - FPR) on held-out
  scores, i.e. balanced errors whatever the mixture of the evaluation data.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

from router.profiles import HEADS, SENSITIVITY
from training.router.loso import Fold, labelled
from training.router.metrics import head_metrics, oracle_curve, quality_curve, random_curve

SENSITIVITY_RECALL = 0.90
Rows = list[dict[str, Any]]


def scored(score_batch: Any, rows: Rows) -> Rows:
    """Rows with `p_<head>` for every head (batched)."""
    out: Rows = []
    for start in range(0, len(rows), 256):
        chunk = rows[start : start + 256]
        for row, s in zip(chunk, score_batch([r["text"] for r in chunk]), strict=True):
            out.append({**row, **{f"p_{h}": s[h] for h in HEADS}})
    return out


def head_report(rows: Rows, head: str, threshold: float) -> dict[str, Any]:
    """Overall and per-label-source metrics of one head; flag rate at the threshold."""
    picked = [r for r in rows if r[head] is not None]
    groups: dict[str, Rows] = defaultdict(list)
    for r in picked:
        groups[r[f"{head}_source"]].append(r)
    report: dict[str, Any] = {"overall": _metrics(picked, head, threshold), "by_source": {}}
    for source in sorted(groups):
        report["by_source"][source] = _metrics(groups[source], head, threshold)
    return report


def _metrics(rows: Rows, head: str, threshold: float) -> dict[str, float]:
    y = np.array([float(r[head] >= 0.5) for r in rows])
    p = np.array([r[f"p_{head}"] for r in rows])
    out = head_metrics(y, p)
    flagged = p >= threshold
    out["flagged_rate"] = float(flagged.mean()) if len(p) else float("nan")
    tp = float((flagged & (y == 1)).sum())
    out["precision"] = tp / flagged.sum() if flagged.sum() else float("nan")
    out["recall"] = tp / (y == 1).sum() if (y == 1).sum() else float("nan")
    return out


def recall_threshold(y: np.ndarray, p: np.ndarray, recall: float) -> float:
    """The highest threshold whose recall on (y, p) is at least `recall`."""
    positives = np.sort(p[y == 1])
    if len(positives) == 0:
        return 0.5
    return float(positives[int(np.floor((1.0 - recall) * len(positives)))])


def youden_threshold(y: np.ndarray, p: np.ndarray) -> float:
    """The threshold maximising TPR - FPR (midpoint between adjacent scores)."""
    from sklearn.metrics import roc_curve

    fpr, tpr, cuts = roc_curve(y, p)
    best = int(np.argmax(tpr - fpr))
    return float(min(max(cuts[best], 1e-4), 1.0 - 1e-4))


def thresholds_from_folds(folds: list[Fold]) -> dict[str, float]:
    """Per-head thresholds from leave-one-source-out scores (see the module docstring)."""
    out = {}
    for head in HEADS:
        ys, ps = zip(*(labelled(f.rows, head) for f in folds), strict=True)
        y, p = np.concatenate(ys), np.concatenate(ps)
        if head == SENSITIVITY:
            out[head] = recall_threshold(y, p, SENSITIVITY_RECALL)
        else:
            out[head] = youden_threshold(y, p)
    return out


def in_distribution(test: Rows, thresholds: dict[str, float]) -> dict[str, Any]:
    """Test-split report of every head, and the quality-vs-local-share curve per profile."""
    out: dict[str, Any] = {h: head_report(test, h, thresholds[h]) for h in HEADS}
    curves = {}
    for head in HEADS:
        if head == SENSITIVITY:
            continue
        rows = [r for r in test if r[head] is not None]
        ok = np.array([1.0 - float(r[head] >= 0.5) for r in rows])
        scores = np.array([r[f"p_{head}"] for r in rows])
        curves[head] = {
            "router": quality_curve(ok, scores),
            "random": random_curve(ok),
            "oracle": oracle_curve(ok),
        }
    return {"heads": out, "curves": curves}
