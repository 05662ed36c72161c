"""Choose the difficulty threshold for a target local share or a quality floor.

A request stays local when `difficulty < threshold`. The threshold is swept on a fitting set
(scores + `local_ok` labels) and then reported on held-out data: the local share it gives and
the quality retained (1 = as good as sending everything to the cloud; see `metrics.py`).
The result is written into a policy file by replacing the value of every `difficulty_gte:`
key in place (comments and layout are kept), or printed as a YAML snippet.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from training.router.metrics import Array, threshold_for_share

__all__ = [
    "Operating",
    "fit",
    "for_quality_floor",
    "for_share",
    "operating_point",
    "set_values",
    "threshold_for_share",
    "write_policy",
    "yaml_snippet",
]


@dataclass(frozen=True, slots=True)
class Operating:
    """Where a threshold puts a set of requests."""

    threshold: float
    local_share: float
    quality: float


def operating_point(threshold: float, scores: Array, local_ok: Array) -> Operating:
    """Local share and quality when requests with score < threshold stay local."""
    local = scores < threshold
    quality = float(np.where(local, local_ok, 1.0).mean()) if len(scores) else float("nan")
    return Operating(threshold, float(local.mean()) if len(scores) else 0.0, quality)


def for_share(scores: Array, local_ok: Array, share: float) -> Operating:
    """The threshold keeping `share` of the fitting set local."""
    return operating_point(threshold_for_share(scores, share), scores, local_ok)


def for_quality_floor(scores: Array, local_ok: Array, floor: float) -> Operating:
    """The highest threshold (largest local share) whose quality on the fitting set >= floor."""
    order = np.argsort(scores, kind="stable")
    sorted_scores = scores[order]
    n = len(scores)
    misses = np.concatenate([[0.0], np.cumsum(1.0 - local_ok[order])])
    best = Operating(0.0, 0.0, 1.0)
    for k in range(1, n + 1):
        if k < n and sorted_scores[k] == sorted_scores[k - 1]:
            continue  # a threshold cannot split tied scores
        quality = 1.0 - misses[k] / n
        if quality >= floor:
            threshold = (
                float((sorted_scores[k - 1] + sorted_scores[k]) / 2) if k < n else 1.0 + 1e-9
            )
            best = Operating(threshold, k / n, quality)
    return best


def fit(scores: Array, local_ok: Array, share: float | None, floor: float | None) -> Operating:
    """The threshold for a target local `share`, or else for a quality `floor`."""
    if share is not None:
        return for_share(scores, local_ok, share)
    assert floor is not None
    return for_quality_floor(scores, local_ok, floor)


def yaml_snippet(threshold: float) -> str:
    """The route rule to paste into a policy file."""
    return (
        "  - name: hard-to-cloud\n"
        "    description: Prompts the local model would likely get wrong.\n"
        f"    when: {{difficulty_gte: {threshold:.4f}}}\n"
        "    action: cloud_redacted\n"
    )


def write_policy(path: Path, threshold: float) -> int:
    """Set every `difficulty_gte:` value in the policy file; returns how many were replaced."""
    return set_values(path, "difficulty_gte", threshold)


def set_values(path: Path, key: str, value: float) -> int:
    """Replace the number after every `key:` in a policy file in place (comments and layout
    kept); returns how many were replaced."""
    pattern = re.compile(rf"({re.escape(key)}:\s*)([0-9]*\.?[0-9]+)")
    text = path.read_text(encoding="utf-8")
    new, count = pattern.subn(lambda m: f"{m.group(1)}{value:.4f}", text)
    if count:
        path.write_text(new, encoding="utf-8")
    return count
