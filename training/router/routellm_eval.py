"""RouteLLM's routing metrics on held-out data: MMLU leave-subject-out and GSM8K held out.

MMLU (RouteLLM's own response files): the 57 subjects are split into `k` folds by a hash of
the subject name; each fold trains on every other row of the dataset (RouterDC's MMLU rows are
left out: their subjects are unknown) and scores the held-out subjects. The weak model is
Mixtral-8x7B, the strong one GPT-4-1106, both measured: performance at cloud share c = mean
correctness when the c most difficult prompts go to GPT-4 (`metrics.routellm_metrics`). As
RouteLLM trains a router per model pair, the head here is the shipped recipe trained with
Mixtral's labels, which the shipped 7b-class head leaves out (`train.EXCLUDED_LABELS`).

GSM8K has no subjects: the whole benchmark is held out (its leave-one-source-out fold). The
7b-class weak model is "most of RouterDC's 7-8B models solve it"; the strong model is assumed
always right (GPT-4-class models score ~0.9+ on GSM8K; this flatters no router in particular).
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from router.classifier import normalize
from router.profiles import difficulty_key
from training.router.features import Representation
from training.router.loso import Fold
from training.router.metrics import SHARES, RouteLLMMetrics, routellm_metrics
from training.router.train import TrainConfig, fit_heads

Rows = list[dict[str, Any]]
HEAD_7B = difficulty_key("7b-class")
GPT4 = "gpt-4-1106-preview"


def subject_of(row: dict[str, Any]) -> str | None:
    """The MMLU subject of a RouteLLM MMLU row (group `mmlu:<subject>:<i>`), else None."""
    group = str(row["group"])
    return group.split(":")[1] if group.startswith("mmlu:") else None


def gpt4_correct(data: Path) -> dict[str, bool]:
    """RouteLLM MMLU prompt (normalised) -> GPT-4-1106 correctness."""
    out: dict[str, bool] = {}
    for path in sorted((data / "difficulty/mmlu_routellm").glob("mmlu_*.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            for record in csv.DictReader(handle):
                column = next(k for k in record if k.startswith("gpt-4"))
                out[normalize(record["prompt"])] = record[column].strip().lower() == "true"
    return out


def mmlu_leave_subject_out(
    rows: Rows, data: Path, config: TrainConfig, representation: Representation, k: int = 5
) -> dict[str, Any]:
    """APGR, CPT(50%), CPT(80%) and the PGR curve of the 7b-class head on held-out subjects."""
    strong = gpt4_correct(data)
    config = replace(config, excluded_labels=())  # the Mixtral/GPT-4 pair's own router
    keep = [r for r in rows if not (r["source"] == "mmlu" and subject_of(r) is None)]
    texts = [normalize(r["text"]) for r in keep]
    train_texts = [t for t, r in zip(texts, keep, strict=True) if r["split"] == "train"]
    x_all = representation.fit(train_texts).transform(texts)
    subjects = {s for s in (subject_of(r) for r in keep) if s is not None}
    fold_of = {s: int(hashlib.sha256(s.encode()).hexdigest()[:8], 16) % k for s in subjects}
    held_scores, weak, top = [], [], []
    for fold in range(k):
        test_i = [i for i, r in enumerate(keep) if fold_of.get(subject_of(r) or "") == fold
                  and subject_of(r) is not None]  # fmt: skip
        out_i = set(test_i)
        train_i = [i for i, r in enumerate(keep) if i not in out_i and r["split"] == "train"]
        val_i = [i for i, r in enumerate(keep) if i not in out_i and r["split"] == "validation"]
        heads = fit_heads(
            x_all[train_i], [keep[i] for i in train_i], x_all[val_i],
            [keep[i] for i in val_i], config, (HEAD_7B,),
        )  # fmt: skip
        w, b = heads[HEAD_7B].folded()
        logits = np.asarray(x_all[test_i] @ w).ravel() + b
        held_scores.append(1.0 / (1.0 + np.exp(-logits)))
        weak.append([1.0 - float(keep[i][HEAD_7B] >= 0.5) for i in test_i])
        top.append([float(strong[texts[i]]) for i in test_i])
    scores = np.concatenate(held_scores)
    return _report(np.concatenate(weak), np.concatenate(top), scores, k_folds=k)


def gsm8k_held_out(folds: list[Fold], head: str, label_source: str) -> dict[str, Any]:
    """RouteLLM metrics of `head` on the GSM8K fold's rows labelled by `label_source`."""
    (fold,) = [f for f in folds if f.held_out == "gsm8k"]
    rows = [r for r in fold.rows if r.get(f"{head}_source") == label_source]
    weak = np.array([1.0 - float(r[head] >= 0.5) for r in rows])
    scores = np.array([float(r[f"p_{head}"]) for r in rows])
    return _report(weak, np.ones_like(weak), scores)


def _report(
    weak: np.ndarray, strong: np.ndarray, scores: np.ndarray, **extra: Any
) -> dict[str, Any]:
    rng = np.random.default_rng(0)
    ours = routellm_metrics(weak, strong, scores)
    randoms = [routellm_metrics(weak, strong, rng.random(len(scores))) for _ in range(20)]
    oracle = routellm_metrics(weak, strong, strong - weak)
    return {
        "rows": len(scores),
        "weak_accuracy": float(weak.mean()),
        "strong_accuracy": float(strong.mean()),
        "router": _jsonable(ours),
        "random": {"apgr": float(np.mean([r.apgr for r in randoms]))},
        "oracle": _jsonable(oracle),
        **extra,
    }


def _jsonable(m: RouteLLMMetrics) -> dict[str, Any]:
    return {
        "apgr": m.apgr,
        "cpt50": m.cpt50,
        "cpt80": m.cpt80,
        "pgr": [round(float(v), 4) for v in m.pgr[:: len(SHARES) // 20]],
    }
