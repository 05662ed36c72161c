"""Quality retained: the share of shadow-graded local answers judged as good as the reference's.

Shown beside savings with its sample size and a 95% Wilson score interval (sound for small
samples and for shares near 0 or 1, unlike the normal approximation).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gateway.ledger.verdicts import Verdict

Z95 = 1.959963984540054  # two-sided 95% normal quantile


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval for a proportion `successes / n` (n > 0)."""
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True, slots=True)
class Quality:
    samples: int
    as_good: int
    retained: float
    ci_low: float
    ci_high: float
    reference: tuple[str, ...]
    judges: tuple[str, ...]
    cost_usd: float

    def to_json(self) -> dict[str, Any]:
        return {
            "samples": self.samples,
            "as_good": self.as_good,
            "retained": self.retained,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "confidence": 0.95,
            "interval": "wilson",
            "reference": list(self.reference),
            "judges": list(self.judges),
            "shadow_cost_usd": self.cost_usd,
        }


def quality_of(verdicts: Sequence[Verdict]) -> Quality | None:
    """The window's figure, or None without verdicts."""
    if not verdicts:
        return None
    good = sum(1 for v in verdicts if v.local_ok)
    low, high = wilson(good, len(verdicts))
    return Quality(
        samples=len(verdicts),
        as_good=good,
        retained=good / len(verdicts),
        ci_low=low,
        ci_high=high,
        reference=tuple(sorted({v.reference_model for v in verdicts})),
        judges=tuple(sorted({v.judge for v in verdicts})),
        cost_usd=math.fsum(v.cost_usd for v in verdicts),
    )
