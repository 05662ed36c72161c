"""`hybridgw router calibrate-escalation`: fit a policy's `escalate.min_confidence` for the
deployed local model.

1. The policy's backend for the local alias answers the shipped gradable sets with token
   logprobs (`label_local.label(..., confidence=True)`; checkpointed, a rerun resumes); each
   answer is graded and keeps its confidence, computed exactly as the escalation stage does.
2. An answer escalates when its confidence is below `min_confidence`. On one half of the items
   (stable hash) the threshold is fitted for a target escalation share or a quality floor
   (quality: an escalated answer counts as acceptable, as a cloud answer does in `metrics.py`);
   it is reported on the other half, with how well confidence separates acceptable answers
   from the rest (ROC-AUC; 0.5 = confidence says nothing).
3. The value replaces every `min_confidence:` in the policy file (layout and comments kept).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from training.router import calibrate
from training.router.label_local import read_labels
from training.router.records import stable_id


@dataclass(frozen=True, slots=True)
class EscalationFit:
    """The fitted `min_confidence` and where it puts each half of the gradable items."""

    min_confidence: float
    items: int
    local_ok_rate: float
    fitted_escalated: float
    fitted_quality: float
    held_escalated: float
    held_quality: float
    roc_auc: float | None  # confidence vs acceptable answer, on every item


def fit(
    checkpoint: Path,
    item_ids: set[str],
    *,
    target_escalation_share: float | None,
    quality_floor: float | None,
) -> EscalationFit:
    """Fit on one half of the answered items, report on the other."""
    rows = [
        r
        for r in read_labels(checkpoint)
        if r["id"] in item_ids and r.get("confidence") is not None
    ]
    if len(rows) < 4:
        raise ValueError(
            f"only {len(rows)} answers with a confidence in {checkpoint}; need at least 4 "
            "(does the backend return logprobs?)"
        )
    confidence = np.array([float(str(r["confidence"])) for r in rows])
    ok = np.array([1.0 if r["local_ok"] else 0.0 for r in rows])
    held = np.array([int(stable_id(str(r["id"])), 16) % 2 == 1 for r in rows])
    doubt = 1.0 - confidence  # "difficulty" of the answer: high doubt escalates
    keep = None if target_escalation_share is None else 1.0 - target_escalation_share
    fitted = calibrate.fit(doubt[~held], ok[~held], keep, quality_floor)
    held_out = calibrate.operating_point(fitted.threshold, doubt[held], ok[held])
    return EscalationFit(
        min_confidence=float(np.clip(1.0 - fitted.threshold, 0.0, 1.0)),
        items=len(rows),
        local_ok_rate=float(ok.mean()),
        fitted_escalated=1.0 - fitted.local_share,
        fitted_quality=fitted.quality,
        held_escalated=1.0 - held_out.local_share,
        held_quality=held_out.quality,
        roc_auc=_auc(ok, confidence),
    )


def _auc(ok: np.ndarray, confidence: np.ndarray) -> float | None:
    if len(set(ok.tolist())) < 2:
        return None
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(ok, confidence))


def write_policy(path: Path, min_confidence: float) -> int:
    """Set every `min_confidence:` value in the policy file; returns how many were replaced."""
    return calibrate.set_values(path, "min_confidence", min_confidence)
