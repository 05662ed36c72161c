"""Summaries of leave-one-source-out folds: pooled and per-family numbers for each head."""

from __future__ import annotations

from typing import Any

import numpy as np

from router.profiles import HEADS
from training.router.loso import Fold, labelled
from training.router.metrics import head_metrics


def head_summary(folds: list[Fold], head: str, threshold: float = 0.5) -> dict[str, Any]:
    """Pooled LOSO metrics of `head` and one entry per held-out family that carries its label."""
    ys, ps = [], []
    families: dict[str, Any] = {}
    for fold in folds:
        y, p = labelled(fold.rows, head)
        if len(y) == 0:
            continue
        ys.append(y)
        ps.append(p)
        stats = head_metrics(y, p)
        stats["mean_score"] = float(p.mean())
        stats["flagged_rate"] = float((p >= threshold).mean())
        families[fold.held_out] = stats
    if not ys:
        return {"pooled": {}, "families": {}}
    pooled = head_metrics(np.concatenate(ys), np.concatenate(ps))
    return {"pooled": pooled, "families": families}


def summary(folds: list[Fold], thresholds: dict[str, float] | None = None) -> dict[str, Any]:
    """`head_summary` for every head."""
    th = thresholds or {}
    return {head: head_summary(folds, head, th.get(head, 0.5)) for head in HEADS}


def restricted(folds: list[Fold], head: str, label_sources: set[str]) -> float:
    """Pooled LOSO ROC-AUC of `head` over rows whose label source is in `label_sources`."""
    ys, ps = [], []
    for fold in folds:
        rows = [r for r in fold.rows if r.get(f"{head}_source") in label_sources]
        y, p = labelled(rows, head)
        ys.append(y)
        ps.append(p)
    y_all, p_all = np.concatenate(ys), np.concatenate(ps)
    return head_metrics(y_all, p_all)["roc_auc"]
