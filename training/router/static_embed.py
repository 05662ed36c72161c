"""Static token embeddings distilled from all-MiniLM-L6-v2 (model2vec-style), and their use.

Distillation (offline, numpy, no torch): every WordPiece token of the vocabulary is encoded on
its own (`[CLS] token [SEP]`) by the MiniLM encoder and its mean-pooled output is its vector;
the table is reduced by PCA to `dims` dimensions and each row is scaled by a SIF-style weight
from the token's frequency rank (frequent tokens count less; the WordPiece vocabulary is
ordered roughly by frequency). A prompt's embedding is then the mean of its tokens' rows,
L2-normalised: one table lookup, no attention, so scoring costs microseconds after the
tokenizer. At run time the table lives in the ONNX graph (`static_onnx.py`) and only the
`tokenizers` package is needed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from training.router.minilm_numpy import MiniLM

F32 = NDArray[np.float32]
SPECIAL = (0, 100, 101, 102, 103)  # [PAD] [UNK] [CLS] [SEP] [MASK]


@dataclass(frozen=True, slots=True)
class StaticTable:
    """The distilled table [vocab, dims] (SIF weights folded in)."""

    table: F32


def distil(model_dir: Path, dims: int = 256, batch: int = 512, sif: float = 1e-3) -> StaticTable:
    """Encode every vocabulary token alone, PCA to `dims`, fold in SIF weights."""
    encoder = MiniLM(model_dir)
    vocab = encoder.w["embeddings.word_embeddings.weight"].shape[0]
    rows = []
    for start in range(0, vocab, batch):
        ids = np.arange(start, min(start + batch, vocab), dtype=np.int64)
        seq = np.stack([np.full_like(ids, 101), ids, np.full_like(ids, 102)], axis=1)
        states = encoder.hidden(seq, np.ones(seq.shape, dtype=np.float32))
        rows.append(states.mean(axis=1))
    raw = np.concatenate(rows).astype(np.float64)
    centred = raw - raw.mean(axis=0)
    _, _, vt = np.linalg.svd(centred[1000:], full_matrices=False)  # fit PCA on real tokens
    reduced = centred @ vt[:dims].T
    rank = np.arange(1, vocab + 1, dtype=np.float64)
    prob = 1.0 / (rank * np.log(1.78 * vocab))  # Zipf estimate from the rank
    weights = sif / (sif + prob)
    table = reduced * weights[:, None]
    table[list(SPECIAL)] = 0.0
    return StaticTable(table.astype(np.float32))


def tokenizer(model_dir: Path, max_tokens: int = 512) -> object:
    """The MiniLM WordPiece tokenizer without padding, truncated to `max_tokens`."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(max_tokens)
    return tok


def embed(table: F32, token_ids: list[list[int]]) -> F32:
    """Mean of the tokens' rows, L2-normalised, for each prompt (zeros for an empty one)."""
    out = np.zeros((len(token_ids), table.shape[1]), dtype=np.float32)
    for i, ids in enumerate(token_ids):
        if ids:
            v = table[ids].mean(axis=0)
            norm = float(np.linalg.norm(v))
            out[i] = v / norm if norm > 0 else v
    return out
