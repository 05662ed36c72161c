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

from router.classifier import normalize
from router.profiles import HEADS
from training.router.features import Representation
from training.router.train import Head, TrainConfig, fit, fit_heads

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


def folds(
    rows: Rows,
    config: TrainConfig,
    representation: Representation,
    families: Iterable[str] | None = None,
    progress: Callable[[str], None] | None = None,
    refit: bool = False,
) -> list[Fold]:
    """One fold per family (all of them unless `families` is given).

    With `refit=False` the featurizer is fitted once on the train split of *all* families
    (TF-IDF vocabulary and IDF), so a fold costs only the heads' fits. The heads still never
    see a held-out row: an n-gram that occurs only in the held-out family keeps weight 0, so
    what leaks is the IDF and norm of shared n-grams. `refit=True` refits it per fold.
    """
    wanted = sorted(families) if families is not None else sorted({family(r) for r in rows})
    texts = [normalize(r["text"]) for r in rows]
    x_all = None
    if getattr(representation, "fixed", False) or not refit:
        train_texts = [t for t, r in zip(texts, rows, strict=True) if r["split"] == "train"]
        x_all = representation.fit(train_texts).transform(texts)
    out = []
    for held in wanted:
        if progress is not None:
            progress(held)
        train_i = [i for i, r in enumerate(rows) if family(r) != held and r["split"] == "train"]
        val_i = [i for i, r in enumerate(rows) if family(r) != held and r["split"] == "validation"]
        test_i = [i for i, r in enumerate(rows) if family(r) == held]
        train_rows, val_rows = [rows[i] for i in train_i], [rows[i] for i in val_i]
        test_rows = [rows[i] for i in test_i]
        if x_all is not None:
            needed = tuple(h for h in HEADS if any(r[h] is not None for r in test_rows))
            heads = fit_heads(x_all[train_i], train_rows, x_all[val_i], val_rows, config, needed)
            probs = _apply(heads, x_all[test_i])
        else:
            trained = fit(train_rows, val_rows, config, representation)
            probs = trained.probabilities([r["text"] for r in test_rows])
        scored = [
            {**r, **{f"p_{h}": float(probs[i, j]) for j, h in enumerate(HEADS)}}
            for i, r in enumerate(test_rows)
        ]
        out.append(Fold(held, scored))
    return out


def _apply(heads: dict[str, Head], x: Any) -> np.ndarray:
    columns = []
    for name in HEADS:
        if name not in heads:  # the held-out family has no label for this head
            columns.append(np.full(x.shape[0], np.nan))
            continue
        w, b = heads[name].folded()
        columns.append(1.0 / (1.0 + np.exp(-(np.asarray(x @ w).ravel() + b))))
    return np.column_stack(columns)


def fixed_c(config: TrainConfig, c: float) -> TrainConfig:
    """The config with one C (no grid search), for the many fits of LOSO."""
    return replace(config, c_grid=(c,))


def labelled(rows: Rows, head: str) -> tuple[np.ndarray, np.ndarray]:
    """0/1 labels and scores of `head` on the rows that carry its label."""
    picked = [r for r in rows if r.get(head) is not None]
    y = np.array([float(r[head] >= 0.5) for r in picked])
    return y, np.array([float(r[f"p_{head}"]) for r in picked])


def capped(rows: Rows, cap: int | None, seed: int = 0, keep: str | None = None) -> Rows:
    """At most `cap` rows per family (a seeded sample; family `keep` is never cut)."""
    if cap is None:
        return rows
    import random

    by_family: dict[str, Rows] = {}
    for r in rows:
        by_family.setdefault(family(r), []).append(r)
    rng = random.Random(seed)
    out: Rows = []
    for name in sorted(by_family):
        members = list(by_family[name])
        if name != keep and len(members) > cap:
            rng.shuffle(members)
            members = members[:cap]
        out += members
    return out
