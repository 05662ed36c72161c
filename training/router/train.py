"""Train the TF-IDF → logistic-regression classifier and write the ONNX model.

Each head trains on the rows that carry its label (a row without a label for a head is not a
negative for it), except label sources the config excludes for that head (`EXCLUDED_LABELS`).
The regularisation strength C is picked per head by validation log-loss from a small grid, then
the head's logit is Platt-scaled on the validation split (a·z + b, folded into the exported
weights) so its probabilities are calibrated.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_matrix
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss

from router.classifier import normalize
from router.profiles import HEADS
from training.router.build_data import read_split
from training.router.features import Representation, Tfidf
from training.router.onnx_export import export

Array = NDArray[np.float64]

# (head, label source) pairs that do not train the head. Mixtral-8x7B (a 47B mixture of experts)
# is not a 7B-class model: its MMLU failures understate a 7B model's, and training the
# 7b-class head on them lowered its ROC-AUC on RouterDC's measured 7-8B labels (model card).
# They still train a Mixtral/GPT-4 router for RouteLLM's MMLU metrics (`routellm_eval`).
EXCLUDED_LABELS: tuple[tuple[str, str], ...] = (("difficulty@7b-class", "mmlu_mixtral"),)
# Heads whose loss gives each (source family, label) cell the same weight, so a family's base
# rate is no shortcut: pooled leave-one-source-out ROC-AUC rose for both (model card). The
# 7b-class head keeps per-family weights: with them per label its pooled LOSO rose 0.704 ->
# 0.712 but RouterDC's in-distribution test fell 0.703 -> 0.650 and its probes 0.800 -> 0.787.
LABEL_BALANCED: tuple[str, ...] = ("difficulty@smollm2-135m", "sensitivity")


@dataclass(frozen=True, slots=True)
class TrainConfig:
    """Inputs and hyper-parameters of a training run."""

    dataset_dir: Path
    word_features: int = 20000
    char_features: int = 20000
    c_grid: tuple[float, ...] = (0.5, 2.0, 8.0)
    seed: int = 0
    max_rows: int | None = None  # a deterministic subset, for CI
    balance_sources: bool = True  # every source family weighs the same in each head's loss
    label_balanced: tuple[str, ...] = LABEL_BALANCED  # ... and each of its labels, these heads
    c_by_head: tuple[tuple[str, float], ...] = ()  # fixed C per head (skips the grid)
    excluded_labels: tuple[tuple[str, str], ...] = EXCLUDED_LABELS  # (head, label source)

    def trains(self, row: dict[str, Any], head: str) -> bool:
        """True when `row` carries a label for `head` from a source not excluded for it."""
        return row[head] is not None and (head, row.get(f"{head}_source")) not in set(
            self.excluded_labels
        )


@dataclass(slots=True)
class Head:
    """One trained, calibrated head: probability = sigmoid(a * (x·coef + b0) + b)."""

    name: str
    coef: Array
    intercept: float
    c: float
    platt: tuple[float, float] = (1.0, 0.0)
    validation: dict[str, float] = field(default_factory=dict)

    def folded(self) -> tuple[Array, float]:
        """Weights and bias with the Platt scaling folded in."""
        a, b = self.platt
        return a * self.coef, a * self.intercept + b


@dataclass(slots=True)
class Trained:
    """The fitted featurizer and heads."""

    featurizer: Any  # features.Fitted; a FeatureUnion for TF-IDF
    heads: dict[str, Head]

    def probabilities(self, texts: list[str]) -> Array:
        """scikit-learn side of the model (for parity checks with ONNX): [N, heads]."""
        x = self.featurizer.transform([normalize(t) for t in texts])
        columns = []
        for name in HEADS:
            w, b = self.heads[name].folded()
            columns.append(_sigmoid(np.asarray(x @ w).ravel() + b))
        return np.column_stack(columns)


def _sigmoid(z: Array) -> Array:
    out: Array = 1.0 / (1.0 + np.exp(-z))
    return out


def load(config: TrainConfig, split: str) -> list[dict[str, Any]]:
    """A split, optionally cut to a deterministic subset of `max_rows` rows."""
    rows = read_split(config.dataset_dir, split)
    if config.max_rows is not None:
        rng = np.random.default_rng(config.seed)
        keep = rng.permutation(len(rows))[: config.max_rows]
        rows = [rows[i] for i in sorted(keep)]
    return rows


def source_weights(rows: list[dict[str, Any]], by_label: str | None = None) -> Array:
    """Per-row weights giving every source family the same total weight (mean weight 1);
    with `by_label` (a head), every (family, label of that head) cell the same weight."""
    from training.router.loso import family

    cells = [(family(r), by_label is not None and r[by_label] >= 0.5) for r in rows]
    counts = Counter(cells)
    weights = np.array([1.0 / counts[c] for c in cells])
    out: Array = weights * len(rows) / weights.sum()
    return out


def _fit_head(
    name: str,
    x: csr_matrix,
    y: NDArray[np.int64],
    x_val: csr_matrix,
    y_val: NDArray[np.int64],
    config: TrainConfig,
    weights: Array | None = None,
) -> Head:
    best: Head | None = None
    best_loss = np.inf
    fixed = dict(config.c_by_head)
    for c in (fixed[name],) if name in fixed else config.c_grid:
        model = LogisticRegression(C=c, max_iter=2000, random_state=config.seed)
        model.fit(x, y, sample_weight=weights)
        loss = float(log_loss(y_val, model.predict_proba(x_val)[:, 1], labels=[0, 1]))
        if loss < best_loss:
            best_loss = loss
            coef = np.asarray(model.coef_[0], dtype=np.float64)
            best = Head(name, coef, float(model.intercept_[0]), c)
    assert best is not None
    logits = np.asarray(x_val @ best.coef).ravel() + best.intercept
    if len(set(y_val.tolist())) == 2:
        platt = LogisticRegression(C=1e6, max_iter=1000).fit(logits.reshape(-1, 1), y_val)
        best.platt = (float(platt.coef_[0][0]), float(platt.intercept_[0]))
    best.validation = {"log_loss": best_loss, "c": best.c}
    return best


def train(config: TrainConfig) -> Trained:
    """Fit the featurizer on all training texts, then one head per label."""
    return fit(load(config, "train"), load(config, "validation"), config)


def fit(
    rows: list[dict[str, Any]],
    val_rows: list[dict[str, Any]],
    config: TrainConfig,
    representation: Representation | None = None,
) -> Trained:
    """Fit the featurizer on `rows`, then each head on its labelled rows (C, Platt on val)."""
    rep = representation or Tfidf(config.word_features, config.char_features)
    featurizer = rep.fit([normalize(r["text"]) for r in rows])
    x_all = featurizer.transform([normalize(r["text"]) for r in rows])
    x_val_all = featurizer.transform([normalize(r["text"]) for r in val_rows])
    return Trained(featurizer, fit_heads(x_all, rows, x_val_all, val_rows, config))


def fit_heads(
    x_all: Any,
    rows: list[dict[str, Any]],
    x_val_all: Any,
    val_rows: list[dict[str, Any]],
    config: TrainConfig,
    names: tuple[str, ...] = HEADS,
) -> dict[str, Head]:
    """One calibrated head per label on precomputed features (row i of x_all is rows[i])."""
    heads: dict[str, Head] = {}
    for name in names:
        idx = [i for i, r in enumerate(rows) if config.trains(r, name)]
        val_idx = [i for i, r in enumerate(val_rows) if config.trains(r, name)]
        y = np.array([int(rows[i][name] >= 0.5) for i in idx], dtype=np.int64)
        y_val = np.array([int(val_rows[i][name] >= 0.5) for i in val_idx], dtype=np.int64)
        weights = None
        if config.balance_sources:
            by_label = name if name in config.label_balanced else None
            weights = source_weights([rows[i] for i in idx], by_label)
        heads[name] = _fit_head(name, x_all[idx], y, x_val_all[val_idx], y_val, config, weights)
    return heads


def to_onnx(trained: Trained, metadata: dict[str, str]) -> Any:
    """The ONNX model of a trained classifier (TF-IDF, static, or both: see features.py)."""
    from router.prompt_features import FEATURES
    from training.router.features import ConcatFitted, StaticFeaturesFitted, StaticFitted
    from training.router.static_onnx import add_static_branch, export_static

    weights = np.column_stack([trained.heads[n].folded()[0] for n in HEADS]).astype(np.float32)
    bias = np.array([trained.heads[n].folded()[1] for n in HEADS], dtype=np.float32)
    featurizer = trained.featurizer
    if isinstance(featurizer, StaticFitted):
        return export_static(featurizer.table, weights, bias, list(HEADS), metadata)
    if isinstance(featurizer, StaticFeaturesFitted):
        table = featurizer.static.table
        return export_static(table, weights, bias, list(HEADS), metadata, FEATURES)
    if isinstance(featurizer, ConcatFitted):
        tfidf, static = featurizer.parts
        assert isinstance(static, StaticFitted)
        n_sparse = weights.shape[0] - static.table.shape[1]
        model = export(tfidf, weights[:n_sparse], bias, list(HEADS), metadata)
        return add_static_branch(model, static.table, weights[n_sparse:], featurizer.dense_weight)
    return export(featurizer, weights, bias, list(HEADS), metadata)


def _tfidf_part(trained: Trained) -> Any:
    from training.router.features import ConcatFitted

    featurizer = trained.featurizer
    return featurizer.parts[0] if isinstance(featurizer, ConcatFitted) else featurizer


def save(
    trained: Trained,
    config: TrainConfig,
    out_dir: Path,
    version: str,
    representation: Representation,
    tokenizer_file: Path | None = None,
) -> Path:
    """Write `model.onnx`, `training.json` (recipe, chosen C, Platt, dataset), the tokenizer."""
    import shutil

    out_dir.mkdir(parents=True, exist_ok=True)
    manifest = json.loads((config.dataset_dir / "manifest.json").read_text("utf-8"))
    dataset_digest = hashlib.sha256(json.dumps(manifest, sort_keys=True).encode()).hexdigest()
    metadata = {
        "version": version,
        "dataset_sha256": dataset_digest[:16],
        "representation": representation.name,
    }
    model = to_onnx(trained, metadata)
    path = out_dir / "model.onnx"
    path.write_bytes(model.SerializeToString())
    target = out_dir / "tokenizer.json"
    in_place = tokenizer_file is not None and target.exists() and target.samefile(tokenizer_file)
    if tokenizer_file is not None and representation.name != "tfidf" and not in_place:
        shutil.copyfile(tokenizer_file, target)
    featurizer: dict[str, Any] = {
        "word_features_max": config.word_features,
        "char_features_max": config.char_features,
    }
    if representation.name in ("tfidf", "tfidf+static"):
        tfidf = _tfidf_part(trained)
        featurizer |= {
            "word": "TF-IDF binary, [a-zA-Z0-9_]+ tokens, 1-2-grams, min_df 2",
            "char": "TF-IDF binary, char 2-4-grams, min_df 2",
            "word_features": len(tfidf.transformer_list[0][1].vocabulary_),
            "char_features": len(tfidf.transformer_list[1][1].vocabulary_),
        }
    if representation.name == "static+features":
        from router.prompt_features import FEATURES

        featurizer["surface_features"] = list(FEATURES)
    if representation.name != "tfidf":
        featurizer["static"] = (
            "all-MiniLM-L6-v2 distilled to static WordPiece embeddings (PCA 256, SIF), "
            "mean-pooled, L2-normalised (training/router/static_embed.py)"
        )
    info = {
        "version": version,
        "representation": representation.name,
        "dense_weight": getattr(representation, "dense_weight", 1.0),
        "balance_sources": config.balance_sources,
        "label_balanced": list(config.label_balanced),
        "excluded_labels": [list(pair) for pair in config.excluded_labels],
        "dataset": {"version": manifest["version"], "manifest_sha256": dataset_digest},
        "featurizer": featurizer,
        "heads": {
            n: {"C": h.c, "platt": list(h.platt), "validation": h.validation}
            for n, h in trained.heads.items()
        },
        "seed": config.seed,
    }
    (out_dir / "training.json").write_text(json.dumps(info, indent=1, sort_keys=True) + "\n")
    return path
