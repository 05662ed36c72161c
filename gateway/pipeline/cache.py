"""The exact-match response cache: opted-in apps only, never an answer with PII in or out."""

from __future__ import annotations

from gateway.pipeline.exchange import Exchange
from gateway.pipeline.planning import Plan
from gateway.state.factory import SharedState
from gateway.state.protocols import cache_key
from gateway.tracing import traced
from kernel.types import ChatResponse


def cacheable(ex: Exchange, plan: Plan) -> bool:
    return (
        ex.caller.cache
        and not ex.request.stream
        and not plan.decision.blocked
        and not plan.protection.counts
        and plan.protection.redacted is None
    )


class AnswerCache:
    def __init__(self, state: SharedState) -> None:
        self._state = state

    @traced("hybridgw.cache")
    async def get(self, ex: Exchange, plan: Plan) -> ChatResponse | None:
        if not cacheable(ex, plan):
            return None
        hit = await self._state.cache.get(self._key(ex))
        if hit is None:
            return None
        return hit.model_copy(update={"id": f"chatcmpl-{ex.request_id}"})

    async def put(self, ex: Exchange, plan: Plan, response: ChatResponse) -> None:
        if cacheable(ex, plan):
            ttl = ex.policy.document.cache.ttl_s
            await self._state.cache.put(self._key(ex), response, ttl)

    @staticmethod
    def _key(ex: Exchange) -> str:
        return cache_key(ex.request, ex.policy.version, ex.caller.tenant)
