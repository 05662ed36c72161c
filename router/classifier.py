"""The router's prompt classifier: one ONNX graph, one probability per head out.

What is scored: the caller passes `kernel.text.scoring_text(req)` — the system/developer turns
plus the last user turn, at most the last 4000 characters. `score()` then collapses runs of
whitespace (to one newline where the run holds a line break, else to one space: the same
normalisation the model was trained with) and keeps the last `SCORED_CHARS` characters. The
graph's inputs say what it needs: `text` (raw string, for the TF-IDF featurizer inside the
graph) and/or `ids` + `mask` (WordPiece ids from the
`tokenizer.json` shipped next to the model, for the static token-embedding table) and/or
`features` (`router.prompt_features.vector` of the normalised text; the model's `features`
metadata must name the same columns, or loading fails). It returns
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
from router import prompt_features
from router.profiles import DEFAULT_PROFILE, HEADS, difficulty_key
from router.profiles import default_thresholds as profile_thresholds

MODEL_FILE = "model.onnx"
THRESHOLDS_FILE = "thresholds.json"
TOKENIZER_FILE = "tokenizer.json"
MAX_TOKENS = 1024  # scored text is at most SCORED_CHARS (4000) characters
DEFAULT_DIFFICULTY = difficulty_key(DEFAULT_PROFILE)
BATCH = 64  # texts per onnxruntime run in score_batch


def normalize(text: str) -> str:
    """Whitespace collapsed (a run holding a line break to one newline, any other run to one
    space), then the last `SCORED_CHARS` characters. Line breaks survive because how many lines
    a prompt has says something about it (code, lists); the tokenizer ignores them."""
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line)[-SCORED_CHARS:]


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
        self._tokenizer: Any = None
        self._normalizer: Any = None
        if "ids" in self._inputs:
            self._tokenizer, self._normalizer = _tokenizer(self.path.parent)
        if "features" in self._inputs:
            _check_features(self.path, json.loads(meta.get("features", "[]")))
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
        if "features" in self._inputs:
            rows = [prompt_features.vector(t) for t in normalized]
            feeds["features"] = self._np.array(rows, dtype=self._np.float32)
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
        assert self._tokenizer is not None and self._normalizer is not None
        normalize_str = self._normalizer.normalize_str
        # printable ASCII only needs lowercasing (see `_tokenizer`); the *_fast variant skips
        # character offsets (~25% of the cost of a 500-token prompt)
        batch = [t.lower() if _plain(t) else normalize_str(t) for t in texts]
        encodings = self._tokenizer.encode_batch_fast(batch, add_special_tokens=False)
        rows = [np.asarray(e.ids, dtype=np.int64) for e in encodings]
        length = max([1, *(len(r) for r in rows)])
        ids = np.zeros((len(texts), length), dtype=np.int64)
        mask = np.zeros((len(texts), length), dtype=np.float32)
        for i, row in enumerate(rows):
            ids[i, : len(row)] = row
            mask[i, : len(row)] = 1.0
        return ids, mask


def _check_features(path: Path, trained_with: list[str]) -> None:
    """Refuse a model trained on other surface features than this code computes."""
    if tuple(trained_with) != prompt_features.FEATURES:
        raise ValueError(
            f"{path}: trained on surface features {trained_with}, this version computes "
            f"{list(prompt_features.FEATURES)}; retrain or use the matching release"
        )


def _plain(text: str) -> bool:
    """Printable ASCII but for newlines (whitespace already collapsed): BERT's normaliser would
    only lowercase (and turn the newlines into spaces, which its pre-tokenizer splits on)."""
    return text.isascii() and text.replace("\n", " ").isprintable()


def _tokenizer(folder: Path) -> tuple[Any, Any]:
    """The WordPiece tokenizer shipped next to a token-id model, without its normaliser, and
    that normaliser (`tokenizers`, imported lazily).

    BertNormalizer (clean control characters, space CJK, lowercase, strip accents) is ~40% of
    the tokenizer's time; on `_plain` text it only lowercases, which `str.lower` does in
    microseconds, and other text goes through the normaliser's `normalize_str` first: the ids
    are identical (tested on the training dataset's texts). One tokenizer instead of a
    normalising one plus a twin without: each holds ~7 MiB (vocabulary, added tokens).
    """
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(folder / TOKENIZER_FILE))
    tokenizer.no_padding()
    tokenizer.enable_truncation(MAX_TOKENS)
    normalizer = tokenizer.normalizer
    tokenizer.normalizer = None
    return tokenizer, normalizer
