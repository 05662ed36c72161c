"""Report types shared by every ledger store: how records are grouped and what one row holds.

A `ReportRow` is pure arithmetic over ledger records; the stores only fetch records, and one
shared function (in `gateway.reports`) turns them into rows, so every store reports the same
numbers to the last bit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

GroupBy = Literal["day", "tenant", "app", "model", "rule", "tier"]
GROUP_BY_CHOICES: tuple[GroupBy, ...] = ("day", "tenant", "app", "model", "rule", "tier")


@dataclass(frozen=True, slots=True)
class ReportRow:
    """Totals for one group of ledger records (or for all of them when `is_total`).

    Money is in USD, latencies in milliseconds. `savings_pct` and `local_share` are `None` when
    their denominator is zero; latency percentiles are `None` when the tier served nothing.
    """

    group: str
    is_total: bool
    requests: int
    answered: int
    errors: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    counterfactual_cost_usd: float
    savings_usd: float
    savings_pct: float | None
    local_requests: int
    cloud_requests: int
    local_share: float | None
    fallbacks: int
    pii_detected_requests: int
    pii_redacted_requests: int
    cache_hits: int
    latency_mean_ms: float | None
    latency_p50_ms_local: float | None
    latency_p95_ms_local: float | None
    latency_p50_ms_cloud: float | None
    latency_p95_ms_cloud: float | None
    reference_latency_p50_ms: float | None
    reference_latency_samples: int
    price_sources: tuple[str, ...]
    # The savings split (docs/ledger.md): local serving + cloud model choice (+ the savings of
    # rows recorded before baselines were kept, which cannot be split) = savings_usd.
    baseline_cost_usd: float = 0.0
    savings_local_usd: float = 0.0
    savings_cloud_choice_usd: float = 0.0
    savings_unattributed_usd: float = 0.0
    reference_models: tuple[str, ...] = ()
    demo_requests: int = 0
