"""Admission: rate limits, then budgets, before any work is done for a request."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.metrics import Metrics
from gateway.pipeline.exchange import Exchange
from gateway.state.factory import SharedState
from gateway.tracing import traced
from kernel.errors import RateLimited
from kernel.text import estimate_prompt_tokens


@dataclass(frozen=True, slots=True)
class Admission:
    over_soft_budget: bool = False


class Admitter:
    def __init__(self, state: SharedState, metrics: Metrics) -> None:
        self._state = state
        self._metrics = metrics

    @traced("hybridgw.admit")
    async def admit(self, ex: Exchange) -> Admission:
        """Raise `RateLimited` (or a subclass) when the caller may not start this request now."""
        document = ex.policy.document
        tokens = estimate_prompt_tokens(ex.request)
        try:
            await self._state.limiter.acquire(ex.caller, document.limits, tokens)
            status = await self._state.budgets.check(ex.caller, document.budgets)
        except RateLimited as exc:
            self._metrics.refused.labels(exc.code).inc()
            raise
        return Admission(over_soft_budget=status.over_soft)
