"""`hybridgw router calibrate --local-model ALIAS`: measure the deployed local model, fit its
difficulty threshold, write it into the policy.

1. The policy's backend for ALIAS (a local-tier model) answers the shipped gradable sets
   (`gradable_sets`: everyday tasks + a GSM8K sample; small and bounded by `--per-kind` and
   `--gsm8k`), graded automatically; answers are checkpointed, so a rerun resumes.
2. The classifier scores each prompt with the policy's `router_profile` head.
3. The threshold is fitted on half of the items (stable hash) for a target local share or a
   quality floor, and reported on the other half.

The gradable sets cover ten short task kinds and grade-school maths only: the threshold is a
starting point for this model, not a guarantee on other traffic.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kernel.protocols import Backend
from router.profiles import difficulty_key
from training.router import calibrate
from training.router.gradable_sets import everyday_items, gsm8k_items
from training.router.label_local import LabelItem, label, read_labels
from training.router.records import stable_id


@dataclass(frozen=True, slots=True)
class LocalCalibration:
    """What the run measured and fitted."""

    alias: str
    profile: str
    items: int
    local_ok_rate: float
    fitted: calibrate.Operating
    held_out: calibrate.Operating


def items_for(data: Path, per_kind: int, gsm8k: int) -> list[LabelItem]:
    """The bounded gradable set: `per_kind` everyday tasks per kind + `gsm8k` GSM8K items."""
    out = everyday_items(per_kind)
    if gsm8k:
        out += gsm8k_items(data / "difficulty/gsm8k/train.jsonl", gsm8k)
    return out


def measure(
    items: list[LabelItem], backend: Backend, model: str, checkpoint: Path, confidence: bool = False
) -> int:
    """Run the local model on the items not yet in `checkpoint` (with each answer's confidence
    when `confidence`); closes the backend."""

    async def go() -> int:
        try:
            return await label(items, backend, model, checkpoint, confidence=confidence)
        finally:
            await backend.aclose()

    return asyncio.run(go())


def fit(
    checkpoint: Path,
    items: list[LabelItem],
    profile: str,
    *,
    alias: str,
    target_local_share: float | None,
    quality_floor: float | None,
    model_path: Path | None = None,
) -> LocalCalibration:
    """Score the labelled items, fit on one half, report on the other."""
    from router.classifier import OnnxClassifier

    wanted = {i.item_id for i in items}
    rows = [r for r in read_labels(checkpoint) if r["id"] in wanted]
    if len(rows) < 4:
        raise ValueError(f"only {len(rows)} labelled items in {checkpoint}; need at least 4")
    classifier = OnnxClassifier(model_path)
    key = difficulty_key(profile)
    scores = np.array([s[key] for s in classifier.score_batch([str(r["text"]) for r in rows])])
    ok = np.array([1.0 if r["local_ok"] else 0.0 for r in rows])
    held = np.array([int(stable_id(str(r["id"])), 16) % 2 == 1 for r in rows])
    fitted = calibrate.fit(scores[~held], ok[~held], target_local_share, quality_floor)
    held_out = calibrate.operating_point(fitted.threshold, scores[held], ok[held])
    return LocalCalibration(alias, profile, len(rows), float(ok.mean()), fitted, held_out)
