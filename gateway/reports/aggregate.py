"""Ledger records → report rows. The one place report arithmetic lives, shared by every store.

Sums of money use `math.fsum`, which is exact-then-rounded and independent of record order, so a
total equals the sum of the raw records however a store returned them. Percentiles use the
nearest-rank method on the sorted values (no interpolation), so they are always a latency that
some request actually had.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC

from kernel.protocols import LedgerEntry
from kernel.reporting import GroupBy, ReportRow

TOTAL = "total"
NONE_KEY = "(none)"


def percentile(values: Sequence[float], pct: float) -> float | None:
    """Nearest-rank percentile of `values` (`None` when empty): the ⌈pct/100·n⌉-th smallest."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def group_key(group_by: GroupBy) -> Callable[[LedgerEntry], str]:
    """The function that names the group of one record."""
    if group_by == "day":
        return lambda e: e.timestamp.astimezone(UTC).date().isoformat()
    if group_by == "tier":
        return lambda e: e.tier or NONE_KEY
    if group_by == "model":
        return lambda e: e.model or NONE_KEY
    if group_by == "tenant":
        return lambda e: e.tenant
    if group_by == "app":
        return lambda e: e.app
    return lambda e: e.rule


def summarize_entries(entries: Iterable[LedgerEntry], group_by: GroupBy) -> list[ReportRow]:
    """One row per group (sorted by group name), then the total row over every record."""
    records = list(entries)
    key = group_key(group_by)
    groups: dict[str, list[LedgerEntry]] = {}
    for entry in records:
        groups.setdefault(key(entry), []).append(entry)
    rows = [row_of(name, groups[name], is_total=False) for name in sorted(groups)]
    rows.append(row_of(TOTAL, records, is_total=True))
    return rows


def row_of(group: str, records: Sequence[LedgerEntry], *, is_total: bool) -> ReportRow:
    """Aggregate `records` into one row."""
    answered = [e for e in records if e.status < 400]
    local = [e for e in answered if e.tier == "local"]
    cloud = [e for e in answered if e.tier == "cloud"]
    cost = math.fsum(e.cost_usd for e in records)
    counterfactual = math.fsum(e.counterfactual_cost_usd for e in records)
    savings = counterfactual - cost
    reference = [e.latency_ms for e in answered if e.model and e.model == e.reference_model]
    split = [e for e in records if e.baseline_cost_usd is not None]
    unsplit = [e for e in records if e.baseline_cost_usd is None]
    baseline = math.fsum(e.baseline_cost_usd or 0.0 for e in split)
    local_ms = [e.latency_ms for e in local]
    cloud_ms = [e.latency_ms for e in cloud]
    return ReportRow(
        group=group,
        is_total=is_total,
        requests=len(records),
        answered=len(answered),
        errors=len(records) - len(answered),
        prompt_tokens=sum(e.prompt_tokens for e in records),
        completion_tokens=sum(e.completion_tokens for e in records),
        cost_usd=cost,
        counterfactual_cost_usd=counterfactual,
        savings_usd=savings,
        savings_pct=savings / counterfactual * 100 if counterfactual > 0 else None,
        local_requests=len(local),
        cloud_requests=len(cloud),
        local_share=len(local) / len(answered) if answered else None,
        fallbacks=sum(1 for e in records if e.fallback_used),
        pii_detected_requests=sum(1 for e in records if any(e.pii_counts.values())),
        pii_redacted_requests=sum(1 for e in records if e.pii_redacted),
        cache_hits=sum(1 for e in records if e.cache_hit),
        latency_mean_ms=math.fsum(e.latency_ms for e in answered) / len(answered)
        if answered
        else None,
        latency_p50_ms_local=percentile(local_ms, 50),
        latency_p95_ms_local=percentile(local_ms, 95),
        latency_p50_ms_cloud=percentile(cloud_ms, 50),
        latency_p95_ms_cloud=percentile(cloud_ms, 95),
        reference_latency_p50_ms=percentile(reference, 50),
        reference_latency_samples=len(reference),
        price_sources=tuple(sorted({e.price_source for e in records if e.price_source})),
        baseline_cost_usd=baseline,
        savings_local_usd=_difference(split, lambda e: e.baseline_cost_usd or 0.0),
        savings_cloud_choice_usd=_difference(
            split, lambda e: e.counterfactual_cost_usd, lambda e: e.baseline_cost_usd or 0.0
        ),
        savings_unattributed_usd=_difference(unsplit, lambda e: e.counterfactual_cost_usd),
        reference_models=tuple(sorted({e.reference_model for e in records if e.reference_model})),
        demo_requests=sum(1 for e in records if e.origin == "demo"),
    )


def _difference(
    records: Sequence[LedgerEntry],
    plus: Callable[[LedgerEntry], float],
    minus: Callable[[LedgerEntry], float] = lambda e: e.cost_usd,
) -> float:
    """Σ plus − Σ minus, summed exactly (one rounding), in any record order."""
    return math.fsum([*(plus(e) for e in records), *(-minus(e) for e in records)])
