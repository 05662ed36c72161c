"""What the gateway does when Redis is unreachable (`HYBRIDGW_REDIS_FAILURE_MODE`).

* ``open``  (default): requests are served without the rate limit and budget check they could not
  make; the outage is logged (at most once per `_LOG_EVERY_S`) and counted in `/metrics`.
* ``closed``: requests are refused with 503 `backend_unavailable` until Redis answers again.

The cache always fails open (an unreachable cache is a miss), and spend or tokens that cannot be
recorded after an answer was given are logged, never turned into an error. Every call goes
through one circuit breaker (`gateway.circuit`), so a hung Redis is skipped, not waited for.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any, Literal, TypeVar

from redis.exceptions import RedisError

from gateway.auth import Caller
from gateway.circuit import Circuit
from gateway.state.protocols import (
    BudgetGuard,
    BudgetStatus,
    RateLimiter,
    ResponseCache,
    budget_scopes,
    current_month,
    rate_buckets,
)
from kernel.errors import BackendUnavailable, GatewayError
from kernel.types import ChatResponse
from policies.limits import BudgetsConfig, LimitsConfig

log = logging.getLogger(__name__)

FailureMode = Literal["open", "closed"]
OnOutage = Callable[[str], None]

_LOG_EVERY_S = 10.0
_UNREACHABLE = (RedisError, OSError)
T = TypeVar("T")


class Outages:
    """Runs each Redis call behind one circuit; decides, logs and counts what an outage means.

    After `failures` consecutive errors or timeouts the circuit opens and calls are skipped
    without touching Redis (so a hung Redis costs nothing per request), until a probe succeeds.
    Only calls that would reach Redis go through it: one with no scope to count (no limit, no
    budget configured) would otherwise pass for a success and keep the circuit closed.
    """

    def __init__(
        self,
        mode: FailureMode,
        on_outage: OnOutage | None = None,
        circuit: Circuit | None = None,
    ) -> None:
        self.mode = mode
        self.circuit = circuit or Circuit("redis")
        self._on_outage = on_outage
        self._logged_at = float("-inf")

    async def run(
        self, operation: str, call: Coroutine[Any, Any, T], *, refuse: bool = False
    ) -> T | None:
        """`call`'s result; None if Redis is out (first refusing, if `refuse` and fail-closed)."""
        if not self.circuit.allow():
            call.close()
            self._out(operation, "circuit open", refuse)
            return None
        try:
            result = await call
        except _UNREACHABLE as exc:
            self.circuit.failed()
            self._out(operation, type(exc).__name__, refuse)
            return None
        except GatewayError:  # Redis answered: a limit or budget refused the request
            self.circuit.succeeded()
            raise
        except BaseException:
            self.circuit.abandoned()
            raise
        self.circuit.succeeded()
        return result

    def _out(self, operation: str, why: str, refuse: bool) -> None:
        if self._on_outage is not None:
            self._on_outage(operation)
        now = time.monotonic()
        if now - self._logged_at >= _LOG_EVERY_S:
            self._logged_at = now
            log.warning("Redis unreachable during %s (%s); failing %s", operation, why, self.mode)
        if refuse and self.mode == "closed":
            raise BackendUnavailable(
                "Shared state is unavailable, and this gateway is configured to refuse "
                "requests rather than serve them unmetered. Try again shortly."
            ) from None


class GuardedRateLimiter:
    def __init__(self, inner: RateLimiter, outages: Outages) -> None:
        self._inner = inner
        self._outages = outages

    async def acquire(self, caller: Caller, limits: LimitsConfig, tokens: int) -> None:
        if rate_buckets(caller, limits, tokens, admit=True):
            call = self._inner.acquire(caller, limits, tokens)
            await self._outages.run("rate limit", call, refuse=True)

    async def consume(self, caller: Caller, limits: LimitsConfig, tokens: int) -> None:
        if rate_buckets(caller, limits, tokens, admit=False):
            call = self._inner.consume(caller, limits, tokens)
            await self._outages.run("token accounting", call)


class GuardedBudgetGuard:
    def __init__(self, inner: BudgetGuard, outages: Outages) -> None:
        self._inner = inner
        self._outages = outages

    async def check(self, caller: Caller, budgets: BudgetsConfig) -> BudgetStatus:
        if not budget_scopes(caller, budgets, current_month()):
            return BudgetStatus()
        call = self._inner.check(caller, budgets)
        return await self._outages.run("budget check", call, refuse=True) or BudgetStatus()

    async def settle(self, caller: Caller, budgets: BudgetsConfig, cost_usd: float) -> None:
        if cost_usd > 0 and budget_scopes(caller, budgets, current_month()):
            call = self._inner.settle(caller, budgets, cost_usd)
            await self._outages.run("budget settlement", call)


class GuardedResponseCache:
    def __init__(self, inner: ResponseCache, outages: Outages) -> None:
        self._inner = inner
        self._outages = outages

    async def get(self, key: str) -> ChatResponse | None:
        return await self._outages.run("cache read", self._inner.get(key))

    async def put(self, key: str, response: ChatResponse, ttl_s: int) -> None:
        await self._outages.run("cache write", self._inner.put(key, response, ttl_s))
