"""Turning a finished (or failed) request into its ledger entry, metrics, log line and spend.

The entry carries ids, route, token counts, prices and timings — never prompt or answer text.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

from gateway.accounting import Accountant
from gateway.auth import Caller
from gateway.metrics import Metrics
from gateway.plan import Plan, Route
from gateway.state.factory import SharedState
from gateway.tracing import traced
from kernel.errors import GatewayError
from kernel.protocols import Ledger, LedgerEntry
from kernel.types import Usage

log = logging.getLogger(__name__)


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
    async def record(
        self,
        plan: Plan,
        route: Route,
        caller: Caller,
        usage: Usage,
        *,
        ttft_ms: float | None,
        status: int = 200,
        error_code: str | None = None,
    ) -> None:
        entry = self._entry(plan, route, caller, usage, ttft_ms, status, error_code)
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
            f"{ttft_ms:.1f}" if ttft_ms is not None else "-",
            sum(entry.pii_counts.values()),
        )  # ids, route, counts and timings only: never text
        try:
            await self._ledger.record(entry)
        except Exception:  # the answer was given; a ledger outage must not turn it into an error
            log.exception("ledger write failed for request %s", route.request_id)
        self._metrics.observe(entry)
        await self._settle(plan, caller, entry)

    async def record_failure(
        self, plan: Plan, route: Route, caller: Caller, exc: GatewayError
    ) -> None:
        await self.record(
            plan, route, caller, Usage(), ttft_ms=None, status=exc.status, error_code=exc.code
        )

    def _entry(
        self,
        plan: Plan,
        route: Route,
        caller: Caller,
        usage: Usage,
        ttft_ms: float | None,
        status: int,
        error_code: str | None,
    ) -> LedgerEntry:
        target = route.target
        document = plan.policy.document
        latency_ms = (time.perf_counter() - plan.started) * 1000
        prices = self._accountant.price(document, target, usage, latency_ms=latency_ms)
        return LedgerEntry(
            request_id=route.request_id,
            timestamp=datetime.now(UTC),
            tenant=caller.tenant,
            app=caller.app,
            policy_version=plan.policy.version,
            rule=plan.decision.rule,
            tier=target.tier if target else None,
            backend=target.backend if target else None,
            model=target.alias if target else None,
            status=status,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            cost_usd=prices.cost,
            counterfactual_cost_usd=prices.counterfactual,
            latency_ms=latency_ms,
            ttft_ms=ttft_ms,
            fallback_used=route.fallback_used,
            cache_hit=route.cache_hit,
            pii_counts=plan.protection.counts,
            error_code=error_code,
            pii_redacted=target is not None
            and target.tier == "cloud"
            and plan.protection.redacted is not None,
            reference_model=document.reference_model,
            price_source=prices.source,
        )

    async def _settle(self, plan: Plan, caller: Caller, entry: LedgerEntry) -> None:
        """Charge the spend to the budgets and the completion tokens to the token limits."""
        document = plan.policy.document
        if entry.cost_usd > 0:
            await self._state.budgets.settle(caller, document.budgets, entry.cost_usd)
        if entry.completion_tokens > 0 and not entry.cache_hit:  # a cache hit generated nothing
            await self._state.limiter.consume(caller, document.limits, entry.completion_tokens)
