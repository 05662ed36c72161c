"""The shipped model's training recipe, rebuilt from `training.json`, for evaluation refits.

Leave-one-source-out and leave-subject-out retrain the heads many times; they must use exactly
the representation and hyper-parameters of the shipped model (C per head fixed to the value
training chose on validation, no grid search).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from training.router.features import Concat, Representation, Static, StaticFeatures, Tfidf
from training.router.train import TrainConfig

TOKENIZER_FILE = "tokenizer.json"


def static_table(models: Path) -> np.ndarray:
    """The float16 token table stored in the shipped ONNX graph, as float32."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(models / "model.onnx"))
    (table,) = [i for i in model.graph.initializer if i.name == "table"]
    return numpy_helper.to_array(table).astype(np.float32)


def recipe_from(
    training: dict[str, Any], dataset: Path, models: Path
) -> tuple[TrainConfig, Representation]:
    """(config, representation) equal to what produced the shipped model."""
    from training.router.static_embed import tokenizer

    feats = training["featurizer"]
    config = TrainConfig(
        dataset_dir=dataset,
        word_features=int(feats.get("word_features_max", 20000)),
        char_features=int(feats.get("char_features_max", 20000)),
        balance_sources=bool(training.get("balance_sources", True)),
        # a model trained before per-label balancing balanced no head by label
        label_balanced=tuple(str(h) for h in training.get("label_balanced", [])),
        c_by_head=tuple((h, float(v["C"])) for h, v in sorted(training["heads"].items())),
        excluded_labels=tuple(
            (str(h), str(s)) for h, s in training.get("excluded_labels", [])
        ),  # a model trained before exclusions existed excluded nothing
    )
    kind = training["representation"]
    tfidf = Tfidf(config.word_features, config.char_features)
    if kind == "tfidf":
        return config, tfidf
    static = Static(static_table(models), tokenizer(models))
    if kind == "static":
        return config, static
    if kind == "static+features":
        return config, StaticFeatures(static)
    return config, Concat(tfidf, static, float(training.get("dense_weight", 1.0)))


@dataclass(frozen=True, slots=True)
class Evaluation:
    """What every evaluation of the shipped model starts from."""

    config: TrainConfig
    representation: Representation
    everything: list[dict[str, Any]]  # every row of every split
    rows: list[dict[str, Any]]  # the leave-one-source-out sample


def shipped_evaluation(dataset: Path, models: Path, loso_cap: int | None) -> Evaluation:
    """The shipped recipe, the whole dataset and its seeded LOSO sample (`loso.capped`)."""
    from training.router import loso
    from training.router.build_data import read_split

    training = json.loads((models / "training.json").read_text("utf-8"))
    config, representation = recipe_from(training, dataset, models)
    everything = [r for s in ("train", "validation", "test") for r in read_split(dataset, s)]
    return Evaluation(config, representation, everything, loso.capped(everything, loso_cap))
