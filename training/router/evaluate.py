"""In-distribution numbers of the shipped model (test split) and the threshold rules.

These are the *flattering* numbers (same sources and templates as training); the headline of
the card is leave-one-source-out (`loso.py`).

Thresholds are decision-theoretic on the Platt-calibrated probabilities, not fitted to any
evaluation set (and never to the probe set): act when P >= c_wrong_act / (c_wrong_act +
c_wrong_skip).

- difficulty (every profile): a needless cloud call and a bad local answer cost the same → 0.5;
- sensitivity: sending a sensitive prompt to the cloud costs twice a needless local route → 1/3.

Fitting them on leave-one-source-out scores instead was tried and rejected: a recall target
over held-out families drives the sensitivity threshold to ~0.03 (some families score low when
held out), and Youden's J on the pooled smollm2 scores is dominated by one-class families.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

from router.profiles import HEADS, SENSITIVITY
from training.router.metrics import head_metrics, oracle_curve, quality_curve, random_curve

DIFFICULTY_THRESHOLD = 0.5
SENSITIVITY_THRESHOLD = 1.0 / 3.0
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


def decision_thresholds() -> dict[str, float]:
    """The shipped per-head thresholds (see the module docstring)."""
    return {h: SENSITIVITY_THRESHOLD if h == SENSITIVITY else DIFFICULTY_THRESHOLD for h in HEADS}


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
