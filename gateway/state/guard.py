"""What the gateway does when Redis is unreachable (`HYBRIDGW_REDIS_FAILURE_MODE`).

* ``open``  (default): requests are served without the rate limit and budget check they could not
  make; the outage is logged (at most once per `_LOG_EVERY_S`) and counted in `/metrics`.
* ``closed``: requests are refused with 503 `backend_unavailable` until Redis answers again.

The cache always fails open (an unreachable cache is a miss), and spend or tokens that cannot be
recorded after an answer was given are logged, never turned into an error.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Literal

from redis.exceptions import RedisError

from gateway.auth import Caller
from gateway.state.protocols import BudgetGuard, BudgetStatus, RateLimiter, ResponseCache
from kernel.errors import BackendUnavailable
from kernel.types import ChatResponse
from policies.limits import BudgetsConfig, LimitsConfig

log = logging.getLogger(__name__)

FailureMode = Literal["open", "closed"]
OnOutage = Callable[[str], None]

_LOG_EVERY_S = 10.0
_UNREACHABLE = (RedisError, OSError)


class Outages:
    """Decides, logs and counts what an unreachable Redis means for one operation."""

    def __init__(self, mode: FailureMode, on_outage: OnOutage | None = None) -> None:
        self.mode = mode
        self._on_outage = on_outage
        self._logged_at = float("-inf")

    def note(self, operation: str, exc: BaseException) -> None:
        if self._on_outage is not None:
            self._on_outage(operation)
        now = time.monotonic()
        if now - self._logged_at >= _LOG_EVERY_S:
            self._logged_at = now
            log.warning(
                "Redis unreachable during %s (%s); failing %s",
                operation,
                type(exc).__name__,
                self.mode,
            )

    def refuse_or_allow(self, operation: str, exc: BaseException) -> None:
        self.note(operation, exc)
        if self.mode == "closed":
            raise BackendUnavailable(
                "Shared state is unavailable, and this gateway is configured to refuse "
                "requests rather than serve them unmetered. Try again shortly."
            ) from None


class GuardedRateLimiter:
    def __init__(self, inner: RateLimiter, outages: Outages) -> None:
        self._inner = inner
        self._outages = outages

    async def acquire(self, caller: Caller, limits: LimitsConfig, tokens: int) -> None:
        try:
            await self._inner.acquire(caller, limits, tokens)
        except _UNREACHABLE as exc:
            self._outages.refuse_or_allow("rate limit", exc)

    async def consume(self, caller: Caller, limits: LimitsConfig, tokens: int) -> None:
        try:
            await self._inner.consume(caller, limits, tokens)
        except _UNREACHABLE as exc:
            self._outages.note("token accounting", exc)


class GuardedBudgetGuard:
    def __init__(self, inner: BudgetGuard, outages: Outages) -> None:
        self._inner = inner
        self._outages = outages

    async def check(self, caller: Caller, budgets: BudgetsConfig) -> BudgetStatus:
        try:
            return await self._inner.check(caller, budgets)
        except _UNREACHABLE as exc:
            self._outages.refuse_or_allow("budget check", exc)
            return BudgetStatus()

    async def settle(self, caller: Caller, budgets: BudgetsConfig, cost_usd: float) -> None:
        try:
            await self._inner.settle(caller, budgets, cost_usd)
        except _UNREACHABLE as exc:
            self._outages.note("budget settlement", exc)


class GuardedResponseCache:
    def __init__(self, inner: ResponseCache, outages: Outages) -> None:
        self._inner = inner
        self._outages = outages

    async def get(self, key: str) -> ChatResponse | None:
        try:
            return await self._inner.get(key)
        except _UNREACHABLE as exc:
            self._outages.note("cache read", exc)
            return None

    async def put(self, key: str, response: ChatResponse, ttl_s: int) -> None:
        try:
            await self._inner.put(key, response, ttl_s)
        except _UNREACHABLE as exc:
            self._outages.note("cache write", exc)
