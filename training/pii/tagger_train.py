"""Training for `NameTagger` (run as `hybridgw pii train-tagger`; needs the `train` extra).

The data is built by `training.pii.tagger_data` (Presidio gold split by template, refilled
templates, spaCy as teacher on real prompts). The model is a multinomial logistic regression
(scikit-learn) over the features of `ner_tagger.features`; the threshold on the best entity
probability maximises token F1 on the tuning set.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from policies.pii.ner_tagger import (
    OUTSIDE,
    Gazetteers,
    candidates,
    features,
    pack,
    tokenize,
    word_lists,
)
from training.pii.tagger_data import (
    IGNORE,
    SEED,
    Labelled,
    gazetteers_from_faker,
    presidio_labelled,
    presidio_split,
    refilled,
    router_texts,
    teacher_labelled,
    token_labels,
)

LABELS = (OUTSIDE, "PERSON", "LOCATION", "ORGANIZATION", "NRP")


def examples(
    items: Iterable[Labelled], gazetteers: Gazetteers
) -> tuple[list[list[str]], list[str], list[str]]:
    """Features, label and origin of every candidate token of `items`."""
    feats: list[list[str]] = []
    labels: list[str] = []
    origins: list[str] = []
    lists = word_lists(gazetteers)
    for item in items:
        tokens = tokenize(item.text)
        tags = token_labels(tokens.items(), item.spans)
        rows = [i for i in candidates(tokens, lists) if tags[i] != IGNORE]
        feats.extend(features(tokens, rows, lists))
        labels.extend(tags[i] for i in rows)
        origins.extend(item.origin for _ in rows)
    return feats, labels, origins


@dataclass(slots=True)
class Trained:
    vocabulary: list[str]
    weights: np.ndarray[Any, Any]
    bias: np.ndarray[Any, Any]
    threshold: float
    gazetteers: Gazetteers
    counts: dict[str, int]


def _matrix(feats: Sequence[Sequence[str]], index: dict[str, int]) -> Any:
    from scipy.sparse import csr_matrix

    indptr: list[int] = [0]
    cols: list[int] = []
    for row in feats:
        cols.extend(j for f in row if (j := index.get(f)) is not None)
        indptr.append(len(cols))
    data = np.ones(len(cols), dtype=np.float32)
    return csr_matrix((data, cols, indptr), shape=(len(feats), len(index)))


def fit(
    train: Sequence[Labelled],
    tune: Sequence[Labelled],
    gazetteers: Gazetteers,
    *,
    min_count: int = 2,
    c: float = 1.0,
) -> Trained:
    """Fit the logistic regression and pick the threshold on `tune`."""
    from sklearn.linear_model import LogisticRegression

    feats, labels, origins = examples(train, gazetteers)
    counts = Counter(f for row in feats for f in row)
    vocabulary = ["<none>", *sorted(f for f, n in counts.items() if n >= min_count)]
    index = {f: i for i, f in enumerate(vocabulary)}
    y = np.array([LABELS.index(label) for label in labels])
    clf = LogisticRegression(C=c, max_iter=400, random_state=SEED)
    clf.fit(_matrix(feats, index), y)
    weights = np.zeros((len(vocabulary), len(LABELS)), dtype=np.float32)
    weights[:, clf.classes_] = clf.coef_.T
    weights[0] = 0.0
    bias = np.full(len(LABELS), -1e4, dtype=np.float32)
    bias[clf.classes_] = clf.intercept_

    tune_feats, tune_labels, _ = examples(tune, gazetteers)
    probs = clf.predict_proba(_matrix(tune_feats, index))
    full = np.zeros((len(tune_labels), len(LABELS)))
    full[:, clf.classes_] = probs
    threshold = best_threshold(full, [LABELS.index(label) for label in tune_labels])
    return Trained(
        vocabulary,
        weights,
        bias,
        threshold,
        gazetteers,
        {"tokens": len(labels), **Counter(labels), **Counter(origins)},
    )


def best_threshold(probs: np.ndarray[Any, Any], gold: Sequence[int]) -> float:
    """The threshold on the best entity probability that maximises entity-token F1."""
    entity = probs.copy()
    entity[:, 0] = -1.0
    best = entity.argmax(axis=1)
    p_best = entity[np.arange(len(best)), best]
    gold_arr = np.asarray(gold)
    top, top_f1 = 0.5, -1.0
    for t in np.arange(0.2, 0.81, 0.02):
        predicted = p_best >= t
        tp = int(np.sum(predicted & (best == gold_arr) & (gold_arr != 0)))
        fp = int(np.sum(predicted)) - tp
        fn = int(np.sum(gold_arr != 0)) - tp
        f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
        if f1 > top_f1:
            top, top_f1 = float(t), f1
    return round(top, 2)


def save(trained: Trained, path: Path) -> None:
    """Write the model file `NameTagger` reads (compressed npz, no pickles)."""
    keep = np.abs(trained.weights).max(axis=1) >= 1e-3
    keep[0] = True
    vocabulary = [f for f, k in zip(trained.vocabulary, keep, strict=True) if k]
    arrays: dict[str, Any] = {
        "vocabulary": pack(vocabulary),
        "weights": trained.weights[keep].astype(np.float16),
        "bias": trained.bias,
        "labels": np.array(LABELS),
        "threshold": np.array(trained.threshold),
        "gazetteer_names": np.array(sorted(trained.gazetteers)),
    }
    for name, words in trained.gazetteers.items():
        arrays[f"gazetteer_{name}"] = pack(sorted(words))
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        np.savez_compressed(fh, **arrays)


# --- the whole run ----------------------------------------------------------------------------


def token_scores(
    trained: Trained, items: Sequence[Labelled]
) -> dict[str, tuple[float, float, int]]:
    """Per-type token (precision, recall, gold count) of `trained` on `items`, via the runtime."""
    from policies.pii.ner_tagger import _Model

    model = _Model(
        trained.vocabulary,
        trained.weights,
        trained.bias,
        LABELS,
        trained.gazetteers,
        trained.threshold,
    )
    tp: Counter[str] = Counter()
    predicted: Counter[str] = Counter()
    gold: Counter[str] = Counter()
    for item in items:
        tokens = tokenize(item.text).items()
        tags = token_labels(tokens, item.spans)
        found = model.tag(item.text)
        pred = token_labels(tokens, [(f.entity_type, f.start, f.end) for f in found])
        for g, p in zip(tags, pred, strict=True):
            if g == IGNORE:
                continue
            gold[g] += g != OUTSIDE
            predicted[p] += p != OUTSIDE
            tp[g] += g == p and g != OUTSIDE
    return {t: (tp[t] / max(predicted[t], 1), tp[t] / max(gold[t], 1), gold[t]) for t in LABELS[1:]}


def run(
    shared_data: Path,
    router_dataset: Path,
    *,
    teacher: str,
    copies: int = 3,
    use_gazetteers: bool = True,
) -> tuple[Trained, dict[str, dict[str, tuple[float, float, int]]]]:
    """Build the data, fit, and score on both held-out sets (Presidio test, teacher test)."""
    presidio = presidio_split(shared_data / "sensitivity" / "presidio" / "generated_large.json")
    train = [
        *presidio_labelled(presidio["train"]),
        *refilled(presidio["train"], copies),
        *teacher_labelled(router_texts(router_dataset, "train"), teacher),
    ]
    tune = [
        *presidio_labelled(presidio["tune"]),
        *teacher_labelled(router_texts(router_dataset, "validation"), teacher),
    ]
    gazetteers = gazetteers_from_faker() if use_gazetteers else {}
    trained = fit(train, tune, gazetteers)
    scores = {
        "presidio_test": token_scores(trained, list(presidio_labelled(presidio["test"]))),
        "teacher_test": token_scores(
            trained, list(teacher_labelled(router_texts(router_dataset, "test"), teacher))
        ),
    }
    return trained, scores


def save_metadata(
    trained: Trained,
    scores: dict[str, dict[str, tuple[float, float, int]]],
    path: Path,
    *,
    teacher: str,
) -> None:
    """Write what the model was trained on and how it scored, beside the model file."""
    meta: dict[str, Any] = {
        "model": "multinomial logistic regression over token features (policies.pii.ner_tagger)",
        "labels": list(LABELS),
        "threshold": trained.threshold,
        "features": int(np.sum(np.abs(trained.weights).max(axis=1) >= 1e-3)),
        "gazetteers": {name: len(words) for name, words in sorted(trained.gazetteers.items())},
        "teacher": teacher,
        "seed": SEED,
        "training_tokens": dict(sorted(trained.counts.items())),
        "scores_are": "token level; presidio_test = gold spans of held-out templates, "
        "teacher_test = agreement with the spaCy teacher on the router dataset's test split",
    }
    for name, per_type in scores.items():
        meta[name] = {
            kind: {"precision": round(p, 4), "recall": round(r, 4), "gold_tokens": n}
            for kind, (p, r, n) in per_type.items()
        }
    path.write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
