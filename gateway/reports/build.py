"""A finance report: ledger rows plus the labels that say how each figure was obtained.

Latency saving compares each group's mean latency with the reference cloud model's median
latency. That median is *measured* when the window holds at least `MIN_REFERENCE_SAMPLES`
answered requests served by the reference model, and otherwise the configured
`reference_latency_estimate_ms`, labelled *estimated*. Local cost is labelled with the mode(s)
its records were priced under (`local-zero`, `local-per-token`, `local-per-hour`).
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from gateway.ledger.verdicts import VerdictStore
from gateway.reports.quality import Quality, quality_of
from kernel.protocols import Ledger
from kernel.reporting import GroupBy, ReportRow

MIN_REFERENCE_SAMPLES = 10
DEFAULT_DAYS = 30
SAVINGS_LABELS = {
    "savings_local_usd": "local serving: the cloud model the policy would otherwise have used "
    "(baseline) minus the actual cost",
    "savings_cloud_choice_usd": "cloud model choice: the reference model minus the baseline",
    "savings_unattributed_usd": "rows recorded before baselines were kept: not split",
}
LOCAL_COST_LABELS = {
    "local-zero": "local tokens priced at 0 (marginal cost only; hardware not included)",
    "local-per-token": "local tokens priced at the configured USD per 1M tokens",
    "local-per-hour": "local hardware USD per hour, amortised over measured or set throughput",
}


@dataclass(frozen=True, slots=True)
class LatencyReference:
    """The latency a request would have had on the reference cloud model."""

    ms: float
    basis: str  # "measured" or "estimated"
    samples: int


@dataclass(frozen=True, slots=True)
class Report:
    since: datetime
    until: datetime
    group_by: GroupBy
    tenant: str | None
    rows: list[ReportRow]
    total: ReportRow
    latency_reference: LatencyReference
    quality: Quality | None = None  # shadow evaluation over the window (all groups)

    @property
    def local_cost_modes(self) -> list[str]:
        """The local-cost modes the window's records were priced under."""
        return [s for s in self.total.price_sources if s.startswith("local-")]

    def latency_saved_ms(self, row: ReportRow) -> float | None:
        """Reference latency minus the row's mean latency (positive = faster than reference)."""
        if row.latency_mean_ms is None:
            return None
        return self.latency_reference.ms - row.latency_mean_ms

    def row_dict(self, row: ReportRow) -> dict[str, Any]:
        out = asdict(row)
        out["price_sources"] = list(row.price_sources)
        out["reference_models"] = list(row.reference_models)
        out["latency_saved_ms_avg"] = self.latency_saved_ms(row)
        out["latency_saving_basis"] = self.latency_reference.basis
        return out

    def to_json(self) -> dict[str, Any]:
        """The report as JSON-ready data (what `GET /admin/reports` returns)."""
        return {
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "group_by": self.group_by,
            "tenant": self.tenant,
            "basis": {
                "currency": "USD",
                "reference_models": list(self.total.reference_models),
                "savings_split": SAVINGS_LABELS,
                "local_cost_modes": self.local_cost_modes,
                "local_cost_notes": [LOCAL_COST_LABELS[m] for m in self.local_cost_modes],
                "latency_reference_ms": self.latency_reference.ms,
                "latency_reference_basis": self.latency_reference.basis,
                "latency_reference_samples": self.latency_reference.samples,
            },
            "rows": [self.row_dict(r) for r in self.rows],
            "total": self.row_dict(self.total),
            "quality": self.quality.to_json() if self.quality else None,
        }

    def to_csv(self) -> str:
        """One line per group, then a `TOTAL` line; floats at full precision."""
        buffer = io.StringIO()
        rows = [self.row_dict(r) for r in [*self.rows, self.total]]
        rows[-1]["group"] = "TOTAL"
        if self.quality is not None:  # a window figure: on the TOTAL line only
            q = self.quality
            rows[-1].update(
                quality_retained=q.retained,
                quality_samples=q.samples,
                quality_ci_low=q.ci_low,
                quality_ci_high=q.ci_high,
            )
        fields = [k for k in rows[-1] if k != "is_total"]
        writer = csv.DictWriter(buffer, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            row["price_sources"] = " ".join(row["price_sources"])
            row["reference_models"] = " ".join(row["reference_models"])
            writer.writerow(row)
        return buffer.getvalue()


async def build_report(
    ledger: Ledger,
    *,
    since: datetime,
    until: datetime,
    group_by: GroupBy,
    tenant: str | None,
    reference_estimate_ms: float,
) -> Report:
    """Summarize the window and label the figures."""
    rows = await ledger.summarize(since=since, until=until, group_by=group_by, tenant=tenant)
    total = rows[-1]
    if total.reference_latency_p50_ms is not None and (
        total.reference_latency_samples >= MIN_REFERENCE_SAMPLES
    ):
        reference = LatencyReference(
            total.reference_latency_p50_ms, "measured", total.reference_latency_samples
        )
    else:
        reference = LatencyReference(
            reference_estimate_ms, "estimated", total.reference_latency_samples
        )
    quality = None
    if isinstance(ledger, VerdictStore):
        quality = quality_of(await ledger.fetch_verdicts(since=since, until=until, tenant=tenant))
    return Report(since, until, group_by, tenant, rows[:-1], total, reference, quality)


def parse_moment(text: str | None, *, end: bool) -> datetime | None:
    """`YYYY-MM-DD` (a whole UTC day: `end` means the day is included) or an ISO datetime."""
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        moment = datetime.fromisoformat(text)
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return start + timedelta(days=1) if end else start


def window(since: str | None, until: str | None) -> tuple[datetime, datetime]:
    """The report window; by default the last 30 UTC days including today."""
    today = datetime.now(UTC).date()
    end = parse_moment(until, end=True) or datetime(
        today.year, today.month, today.day, tzinfo=UTC
    ) + timedelta(days=1)
    start = parse_moment(since, end=False) or end - timedelta(days=DEFAULT_DAYS)
    if start >= end:
        raise ValueError("--since must be before --until")
    return start, end
