"""The router's prompt classifier: one ONNX graph, one probability per head out.

What is scored: the caller passes `kernel.text.scoring_text(req)` — the system/developer turns
plus the last user turn, at most the last 4000 characters. `score()` then collapses runs of
whitespace to one space (the same normalisation the model was trained with) and keeps the last
`SCORED_CHARS` characters. The graph's inputs say what it needs: `text` (raw string, for the
TF-IDF featurizer inside the graph) and/or `ids` + `mask` (WordPiece ids from the
`tokenizer.json` shipped next to the model, for the static token-embedding table). It returns
`probabilities[:, i]` for the heads named in the model's `heads` metadata: one
`difficulty@<profile>` per local-model profile (`router.profiles`) and `sensitivity`. The
plain `difficulty` key repeats the default profile's score (backward compatibility).

The onnxruntime session (and tokenizer) are created once in `__init__`; `InferenceSession.run`
and `Tokenizer.encode` are thread-safe, so one instance serves every request. onnxruntime and
tokenizers are imported lazily.
"""

from __future__ import annotations

import importlib.resources
import json
from pathlib import Path
from typing import Any

from kernel.text import SCORED_CHARS
from router.profiles import DEFAULT_PROFILE, HEADS, difficulty_key
from router.profiles import default_thresholds as profile_thresholds
from router.wordpiece import AsciiWordPiece

MODEL_FILE = "model.onnx"
THRESHOLDS_FILE = "thresholds.json"
TOKENIZER_FILE = "tokenizer.json"
MAX_TOKENS = 1024  # scored text is at most SCORED_CHARS (4000) characters
DEFAULT_DIFFICULTY = difficulty_key(DEFAULT_PROFILE)
BATCH = 64  # texts per onnxruntime run in score_batch


def normalize(text: str) -> str:
    """Whitespace collapsed to single spaces, then the last `SCORED_CHARS` characters."""
    return " ".join(text.split())[-SCORED_CHARS:]


def models_dir() -> Path:
    """The folder holding the shipped model, its card and thresholds (`router/models/`)."""
    return Path(str(importlib.resources.files("router") / "models"))


def default_model_path() -> Path:
    """The shipped ONNX model."""
    return models_dir() / MODEL_FILE


def default_thresholds(path: str | Path | None = None) -> dict[str, float]:
    """The recommended per-head thresholds shipped next to the model (see model_card.md);
    `difficulty` repeats the default profile's."""
    folder = Path(path).parent if path is not None else models_dir()
    out = profile_thresholds(folder)
    out.setdefault("difficulty", out[DEFAULT_DIFFICULTY])
    return out


class OnnxClassifier:
    """`Classifier` backed by onnxruntime; every head's probability in [0, 1]."""

    def __init__(self, path: str | Path | None = None, *, intra_op_threads: int = 1) -> None:
        import numpy as np
        import onnxruntime as ort

        self.path = Path(path) if path is not None else default_model_path()
        options = ort.SessionOptions()
        options.intra_op_num_threads = intra_op_threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        self._session = ort.InferenceSession(
            str(self.path), sess_options=options, providers=["CPUExecutionProvider"]
        )
        meta = self._session.get_modelmeta().custom_metadata_map
        self.heads: tuple[str, ...] = tuple(json.loads(meta.get("heads", json.dumps(HEADS))))
        self.version: str = meta.get("version", "unknown")
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._tokenizer = _tokenizer(self.path.parent) if "ids" in self._inputs else None
        self._ascii = (
            AsciiWordPiece.from_file(self.path.parent / TOKENIZER_FILE)
            if self._tokenizer is not None
            else None
        )
        self._np = np

    def score(self, text: str) -> dict[str, float]:
        """Probabilities for one prompt text (see the module docstring for what to pass)."""
        return self.score_batch([text])[0]

    def score_batch(self, texts: list[str]) -> list[dict[str, float]]:
        """Probabilities for several texts, run in chunks of `BATCH` (the embedding gather is
        texts × tokens × dims floats: a whole evaluation split at once took 23 GB)."""
        out: list[dict[str, float]] = []
        for start in range(0, len(texts), BATCH):
            out.extend(self._score_chunk(texts[start : start + BATCH]))
        return out

    def _score_chunk(self, texts: list[str]) -> list[dict[str, float]]:
        normalized = [normalize(t) for t in texts]
        feeds: dict[str, Any] = {}
        if "text" in self._inputs:
            feeds["text"] = self._np.array([[t] for t in normalized], dtype=object)
        if self._tokenizer is not None:
            feeds["ids"], feeds["mask"] = self._token_ids(normalized)
        (probabilities,) = self._session.run(["probabilities"], feeds)
        out = []
        for row in probabilities:  # one row per text
            scores = {head: float(row[i]) for i, head in enumerate(self.heads)}
            if "difficulty" not in scores and DEFAULT_DIFFICULTY in scores:
                scores["difficulty"] = scores[DEFAULT_DIFFICULTY]
            out.append(scores)
        return out

    def _token_ids(self, texts: list[str]) -> tuple[Any, Any]:
        """Padded WordPiece ids [N, T] (no [CLS]/[SEP]) and their 0/1 mask."""
        np = self._np
        rows = [np.asarray(ids, dtype=np.int64) for ids in self._encode(texts)]
        length = max([1, *(len(r) for r in rows)])
        ids = np.zeros((len(texts), length), dtype=np.int64)
        mask = np.zeros((len(texts), length), dtype=np.float32)
        for i, row in enumerate(rows):
            ids[i, : len(row)] = row
            mask[i, : len(row)] = 1.0
        return ids, mask

    def _encode(self, texts: list[str]) -> list[list[int]]:
        """Token ids of each text: ASCII ones in Python (`router.wordpiece`, same ids, ~3x
        faster for a short prompt), the others with `tokenizers`."""
        assert self._tokenizer is not None
        out = [self._ascii.encode(t, MAX_TOKENS) if self._ascii else None for t in texts]
        rest = [i for i, ids in enumerate(out) if ids is None]
        if len(rest) == 1:  # encode_batch's thread pool costs more than it saves for one
            out[rest[0]] = self._tokenizer.encode(texts[rest[0]], add_special_tokens=False).ids
        elif rest:
            batch = self._tokenizer.encode_batch([texts[i] for i in rest], add_special_tokens=False)
            for i, encoding in zip(rest, batch, strict=True):
                out[i] = encoding.ids
        return [ids or [] for ids in out]


def _tokenizer(folder: Path) -> Any:
    """The WordPiece tokenizer shipped next to a token-id model (`tokenizers`, imported lazily)."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(folder / TOKENIZER_FILE))
    tokenizer.no_padding()
    tokenizer.enable_truncation(MAX_TOKENS)
    return tokenizer
