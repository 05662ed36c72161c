"""Compare the shipped TF-IDF model with MiniLM-L6 embeddings + logistic-regression heads.

Offline tooling, not imported by runtime code. Needs the ONNX export of MiniLM made by
`minilm_export.py` (in a throwaway torch venv) and the `tokenizers` package:

    .venv/bin/python -m training.router.compare_minilm /work/minilm-export

To stay frugal on a shared 2-core machine both candidates are compared on the same seeded
subsets: 2,000 training rows (heads fitted there; TF-IDF is refitted on the same rows for a
like-for-like row) and 1,000 test rows; the shipped TF-IDF model is also scored there.
Writes `router/models/comparison.json`, which the model card quotes.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.linear_model import LogisticRegression

from router.classifier import HEADS, OnnxClassifier, default_model_path, models_dir, normalize
from training.router.build_data import read_split
from training.router.latency import prompt_of
from training.router.metrics import head_metrics
from training.router.paths import DATASET_DIR
from training.router.train import TrainConfig, train

DATASET = DATASET_DIR
MAX_TOKENS = 256


class MiniLM:
    """MiniLM-L6 in onnxruntime with the `tokenizers` tokenizer (1 intra-op thread)."""

    def __init__(self, export_dir: Path) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.tokenizer = Tokenizer.from_file(str(export_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(MAX_TOKENS)
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        self.session = ort.InferenceSession(
            str(export_dir / "minilm.onnx"), options, providers=["CPUExecutionProvider"]
        )

    def embed(self, texts: list[str]) -> NDArray[np.float32]:
        """One 384-d embedding per text (one run per text: no padding waste)."""
        out = []
        for text in texts:
            enc = self.tokenizer.encode(normalize(text))
            ids = np.array([enc.ids], dtype=np.int64)
            mask = np.array([enc.attention_mask], dtype=np.int64)
            out.append(self.session.run(None, {"input_ids": ids, "attention_mask": mask})[0][0])
        return np.vstack(out).astype(np.float32)


def _subset(split: str, n: int, seed: int) -> list[dict[str, Any]]:
    rows = read_split(DATASET, split)
    keep = np.random.default_rng(seed).permutation(len(rows))[:n]
    return [rows[i] for i in sorted(keep)]


def _aucs(rows: list[dict[str, Any]], probs: NDArray[np.float64]) -> dict[str, float]:
    out = {}
    for j, head in enumerate(HEADS):
        mask = np.array([r[head] is not None for r in rows])
        y = np.array([float(r[head] >= 0.5) for r in rows if r[head] is not None])
        out[head] = head_metrics(y, probs[mask, j])["roc_auc"]
    return out


def _latency(fn: Any, runs: int = 50) -> float:
    text = prompt_of(500)
    fn(text)
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn(text)
        samples.append(time.perf_counter() - started)
    return float(np.median(samples) * 1000)


def compare(export_dir: Path, n_train: int = 2000, n_test: int = 1000) -> dict[str, Any]:
    """Fit MiniLM heads and a same-subset TF-IDF model; score all three on one test subset."""
    train_rows, test_rows = _subset("train", n_train, 1), _subset("test", n_test, 2)
    minilm = MiniLM(export_dir)
    started = time.perf_counter()
    x_train = minilm.embed([r["text"] for r in train_rows])
    x_test = minilm.embed([r["text"] for r in test_rows])
    embed_seconds = time.perf_counter() - started
    probs = np.zeros((len(test_rows), len(HEADS)))
    for j, head in enumerate(HEADS):
        idx = [i for i, r in enumerate(train_rows) if r[head] is not None]
        y = np.array([int(train_rows[i][head] >= 0.5) for i in idx])
        model = LogisticRegression(C=4.0, max_iter=2000).fit(x_train[idx], y)
        probs[:, j] = model.predict_proba(x_test)[:, 1]
    shipped = OnnxClassifier(default_model_path())
    shipped_probs = np.array(
        [[s[h] for h in HEADS] for s in shipped.score_batch([r["text"] for r in test_rows])]
    )
    small = train(TrainConfig(DATASET, max_rows=n_train, seed=1))
    small_probs = small.probabilities([r["text"] for r in test_rows])
    rows = [
        _row(
            "TF-IDF word+char → LR (shipped, full train split)",
            _aucs(test_rows, shipped_probs),
            _latency(shipped.score),
            "onnxruntime, raw string in; no extra dependency",
        ),
        _row(
            f"TF-IDF word+char → LR (same {n_train} train rows)",
            _aucs(test_rows, small_probs),
            None,
            "like-for-like with the MiniLM row",
        ),
        _row(
            f"MiniLM-L6 embeddings → LR ({n_train} train rows)",
            _aucs(test_rows, probs),
            _latency(lambda t: minilm.embed([t])),
            f"max {MAX_TOKENS} tokens; needs `tokenizers` + a 90 MB ONNX file; "
            f"embedding {len(train_rows) + len(test_rows)} texts took {embed_seconds:.0f} s",
        ),
    ]
    return {"dataset": DATASET_DIR.name, "train_rows": n_train, "test_rows": n_test, "rows": rows}


def _row(name: str, aucs: dict[str, float], p50: float | None, notes: str) -> dict[str, Any]:
    return {
        "name": name,
        "difficulty_auc": aucs["difficulty"],
        "sensitivity_auc": aucs["sensitivity"],
        "p50_ms": p50,
        "notes": notes,
    }


if __name__ == "__main__":
    result = compare(Path(sys.argv[1]))
    result["decision"] = sys.argv[2] if len(sys.argv) > 2 else ""
    (models_dir() / "comparison.json").write_text(json.dumps(result, indent=1) + "\n", "utf-8")
