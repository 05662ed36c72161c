"""Prompt representations the heads are trained on: TF-IDF, static embeddings, or both.

A `Representation` is fitted on training texts (TF-IDF learns its vocabulary; the static table
is fixed) and returns a fitted featurizer whose `transform` gives one row per normalised text.
`train.fit` and leave-one-source-out use any of them the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_matrix, hstack

from training.router.onnx_export import fit_featurizer


class Fitted(Protocol):
    """A fitted featurizer."""

    def transform(self, texts: list[str]) -> Any: ...


class Representation(Protocol):
    """Something that can be fitted on texts."""

    @property
    def name(self) -> str: ...

    def fit(self, texts: list[str]) -> Fitted: ...


@dataclass(frozen=True, slots=True)
class Tfidf:
    """TF-IDF word 1-2-grams + char 2-4-grams (see onnx_export.py)."""

    word_features: int = 20000
    char_features: int = 20000
    name: str = "tfidf"

    def fit(self, texts: list[str]) -> Fitted:
        union: Fitted = fit_featurizer(texts, self.word_features, self.char_features)
        return union


@dataclass(frozen=True, slots=True)
class StaticFitted:
    """Mean of distilled token rows, L2-normalised (nothing learnt from the texts)."""

    table: NDArray[np.float32]
    tokenizer: Any

    def transform(self, texts: list[str]) -> NDArray[np.float32]:
        from training.router.static_embed import embed

        ids = [e.ids for e in self.tokenizer.encode_batch(texts, add_special_tokens=False)]
        return embed(self.table, ids)


@dataclass(frozen=True, slots=True)
class Static:
    """Static embeddings distilled from MiniLM (`static_embed.py`)."""

    table: NDArray[np.float32]
    tokenizer: Any
    name: str = "static"
    fixed: bool = True  # learns nothing from the training texts

    def fit(self, texts: list[str]) -> Fitted:
        return StaticFitted(self.table, self.tokenizer)


@dataclass(frozen=True, slots=True)
class ConcatFitted:
    """Both featurizers side by side (sparse), the dense block scaled by `dense_weight`."""

    parts: tuple[Fitted, Fitted]
    dense_weight: float

    def transform(self, texts: list[str]) -> csr_matrix:
        sparse = self.parts[0].transform(texts)
        dense = csr_matrix(self.parts[1].transform(texts) * self.dense_weight)
        return csr_matrix(hstack([sparse, dense]))


@dataclass(frozen=True, slots=True)
class Concat:
    """TF-IDF and static embeddings in one linear model."""

    tfidf: Tfidf
    static: Static
    dense_weight: float = 1.0
    name: str = "tfidf+static"

    def fit(self, texts: list[str]) -> Fitted:
        return ConcatFitted((self.tfidf.fit(texts), self.static.fit(texts)), self.dense_weight)


@dataclass(frozen=True, slots=True)
class StaticFeaturesFitted:
    """The static embedding with the surface features of `router.prompt_features` after it."""

    static: StaticFitted

    def transform(self, texts: list[str]) -> NDArray[np.float32]:
        from router.prompt_features import vector

        surface = np.array([vector(t) for t in texts], dtype=np.float32)
        return np.hstack([self.static.transform(texts), surface])


@dataclass(frozen=True, slots=True)
class StaticFeatures:
    """Static embeddings + surface features in one linear model (what ships, see the card)."""

    static: Static
    name: str = "static+features"
    fixed: bool = True

    def fit(self, texts: list[str]) -> Fitted:
        return StaticFeaturesFitted(StaticFitted(self.static.table, self.static.tokenizer))
