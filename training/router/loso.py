"""Leave-one-source-out (LOSO): for each source family, train on every other family, score it.

The headline of the model card: a score is only trusted on traffic from sources it never saw.
Each fold refits the featurizer and every head on the *train* split of the other families
(C chosen, Platt-scaled on their validation split) and scores *all* rows of the held-out
family. Pooled ROC-AUC over the held-out scores of every family is the LOSO number of a
head; the per-family table shows where it fails (within-family AUC where the family has both
classes, else the mean score and the share flagged at the threshold).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from router.profiles import HEADS
from training.router.train import TrainConfig, Trained, fit

Rows = list[dict[str, Any]]
FAMILIES = {"confaide_t3": "confaide", "confaide_t3_control": "confaide"}


def family(row: dict[str, Any]) -> str:
    """The source family a row belongs to (paired sources are one family)."""
    source = str(row["source"])
    return FAMILIES.get(source, source)


@dataclass(frozen=True, slots=True)
class Fold:
    """The held-out family and its rows, each with `p_<head>` from a model that never saw it."""

    held_out: str
    rows: Rows


def predict(trained: Trained, rows: Rows) -> Rows:
    """Rows with `p_<head>` added, from the scikit-learn side of `trained`."""
    if not rows:
        return []
    probs = trained.probabilities([r["text"] for r in rows])
    return [
        {**r, **{f"p_{h}": float(probs[i, j]) for j, h in enumerate(HEADS)}}
        for i, r in enumerate(rows)
    ]


def folds(
    rows: Rows,
    config: TrainConfig,
    families: Iterable[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[Fold]:
    """One fold per family (all of them unless `families` is given)."""
    wanted = sorted(families) if families is not None else sorted({family(r) for r in rows})
    out = []
    for held in wanted:
        if progress is not None:
            progress(held)
        train_rows = [r for r in rows if family(r) != held and r["split"] == "train"]
        val_rows = [r for r in rows if family(r) != held and r["split"] == "validation"]
        trained = fit(train_rows, val_rows, config)
        out.append(Fold(held, predict(trained, [r for r in rows if family(r) == held])))
    return out


def fixed_c(config: TrainConfig, c: float) -> TrainConfig:
    """The config with one C (no grid search), for the many fits of LOSO."""
    return replace(config, c_grid=(c,))


def labelled(rows: Rows, head: str) -> tuple[np.ndarray, np.ndarray]:
    """0/1 labels and scores of `head` on the rows that carry its label."""
    picked = [r for r in rows if r.get(head) is not None]
    y = np.array([float(r[head] >= 0.5) for r in picked])
    return y, np.array([float(r[f"p_{head}"]) for r in picked])
