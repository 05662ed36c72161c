"""Outcome: how a request ended, and the single place its ledger entry is written.

The entry carries ids, route, token counts, prices and timings — never prompt or answer text.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from gateway.accounting import Accountant, baseline_alias
from gateway.metrics import Metrics
from gateway.pipeline.exchange import Exchange, Route
from gateway.pipeline.planning import Plan
from gateway.state.factory import SharedState
from gateway.tracing import traced
from kernel.errors import GatewayError
from kernel.protocols import Ledger, LedgerEntry
from kernel.types import Usage

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Outcome:
    """The end of one request: what served it, what it used, and its status."""

    route: Route
    usage: Usage
    ttft_ms: float | None = None
    status: int = 200
    error_code: str | None = None

    @classmethod
    def failed(cls, route: Route, exc: GatewayError) -> Outcome:
        return cls(route, Usage(), status=exc.status, error_code=exc.code)

    @classmethod
    def abandoned(cls, route: Route) -> Outcome:
        """The client went away before an answer started (as the relay records it later on)."""
        return cls(route, Usage(), status=499, error_code="client_closed_request")


class Recorder:
    """Prices a request, writes its ledger entry, observes metrics and settles its spend."""

    def __init__(
        self, ledger: Ledger, accountant: Accountant, metrics: Metrics, state: SharedState
    ) -> None:
        self._ledger = ledger
        self._accountant = accountant
        self._metrics = metrics
        self._state = state

    @traced("hybridgw.record")
    async def record(self, ex: Exchange, plan: Plan, outcome: Outcome) -> None:
        entry = self.entry(ex, plan, outcome)
        log.info(
            "request %s status=%d tier=%s model=%s rule=%s fallback=%s tokens=%d+%d "
            "latency_ms=%.1f ttft_ms=%s pii=%d",
            entry.request_id,
            entry.status,
            entry.tier,
            entry.model,
            entry.rule,
            entry.fallback_used,
            entry.prompt_tokens,
            entry.completion_tokens,
            entry.latency_ms,
            f"{entry.ttft_ms:.1f}" if entry.ttft_ms is not None else "-",
            sum(entry.pii_counts.values()),
        )  # ids, route, counts and timings only: never text
        try:
            await self._ledger.record(entry)
        except Exception:  # the answer was given; a ledger outage must not turn it into an error
            log.exception("ledger write failed for request %s", entry.request_id)
        self._metrics.observe(entry)
        await self._settle(ex, entry)

    def entry(self, ex: Exchange, plan: Plan, outcome: Outcome) -> LedgerEntry:
        route, usage = outcome.route, outcome.usage
        target = route.target
        document = ex.policy.document
        latency_ms = ex.elapsed_ms()
        baseline = baseline_alias(document, plan.decision, target)
        prices = self._accountant.price(
            document, target, usage, latency_ms=latency_ms, baseline=baseline
        )
        features = plan.features
        return LedgerEntry(
            request_id=ex.request_id,
            timestamp=datetime.now(UTC),
            tenant=ex.caller.tenant,
            app=ex.caller.app,
            policy_version=ex.policy.version,
            rule=plan.decision.rule,
            tier=target.tier if target else None,
            backend=target.backend if target else None,
            model=target.alias if target else None,
            status=outcome.status,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            cost_usd=prices.cost,
            counterfactual_cost_usd=prices.counterfactual,
            latency_ms=latency_ms,
            ttft_ms=outcome.ttft_ms,
            fallback_used=route.fallback_used,
            cache_hit=route.cache_hit,
            pii_counts=plan.protection.counts,
            error_code=outcome.error_code,
            pii_redacted=target is not None
            and target.tier == "cloud"
            and plan.protection.redacted is not None,
            reference_model=document.reference_model,
            price_source=prices.source,
            baseline_model=baseline,
            baseline_cost_usd=prices.baseline,
            difficulty=features.difficulty,
            sensitivity=features.sensitivity,
            pii_types=tuple(sorted(features.pii_types)),
            pii_blocked=tuple(sorted(features.pii_blocked)),
            pii_unscanned=tuple(sorted(features.pii_unscanned)),
            requested_model=features.requested_model,
            routed_prompt_tokens=features.prompt_tokens,
            needs_cloud_features=features.needs_cloud_features,
            over_soft_budget=features.over_soft_budget,
        )

    async def _settle(self, ex: Exchange, entry: LedgerEntry) -> None:
        """Charge the spend to the budgets and the completion tokens to the token limits."""
        document = ex.policy.document
        if entry.cost_usd > 0:
            await self._state.budgets.settle(ex.caller, document.budgets, entry.cost_usd)
        if entry.completion_tokens > 0 and not entry.cache_hit:  # a cache hit generated nothing
            await self._state.limiter.consume(ex.caller, document.limits, entry.completion_tokens)
