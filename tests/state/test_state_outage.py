"""Redis unreachable: fail open serves unmetered, fail closed refuses; the cache always misses."""

from __future__ import annotations

import socket

import pytest

from gateway.auth import Caller
from gateway.settings import Settings
from gateway.state.factory import build_state
from kernel.errors import BackendUnavailable
from policies.limits import BudgetsConfig, LimitsConfig

CALLER = Caller(tenant="t1", app="app1")
LIMITS = LimitsConfig.model_validate(
    {"apps": {"app1": {"requests_per_minute": 1, "tokens_per_minute": 1000}}}
)
BUDGETS = BudgetsConfig.model_validate({"apps": {"app1": {"monthly_usd": {"hard": 1}}}})


@pytest.fixture
def dead_redis_url() -> str:
    """A 127.0.0.1 port with nothing listening (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"


async def test_fail_open_serves_without_limits_and_counts_the_outage(dead_redis_url):
    seen: list[str] = []
    state = build_state(
        Settings(redis_url=dead_redis_url, redis_failure_mode="open"), on_outage=seen.append
    )
    try:
        for _ in range(3):  # the limit of 1/min is not enforceable, so nothing is refused
            await state.limiter.acquire(CALLER, LIMITS, 10)
        assert (await state.budgets.check(CALLER, BUDGETS)).over_soft is False
        await state.budgets.settle(CALLER, BUDGETS, 5.0)
        await state.limiter.consume(CALLER, LIMITS, 10)
        assert await state.cache.get("cache:k") is None
    finally:
        await state.aclose()
    assert seen.count("rate limit") == 3
    assert {"budget check", "budget settlement", "token accounting", "cache read"} <= set(seen)


async def test_fail_closed_refuses_with_503_but_never_after_the_answer(dead_redis_url):
    state = build_state(Settings(redis_url=dead_redis_url, redis_failure_mode="closed"))
    try:
        with pytest.raises(BackendUnavailable) as caught:
            await state.limiter.acquire(CALLER, LIMITS, 10)
        assert caught.value.status == 503 and "Shared state is unavailable" in caught.value.message
        with pytest.raises(BackendUnavailable):
            await state.budgets.check(CALLER, BUDGETS)
        await state.budgets.settle(CALLER, BUDGETS, 1.0)  # logged, not raised
        assert await state.cache.get("cache:k") is None  # a miss, not an error
    finally:
        await state.aclose()


async def test_requests_without_limits_never_touch_redis(dead_redis_url):
    seen: list[str] = []
    state = build_state(
        Settings(redis_url=dead_redis_url, redis_failure_mode="closed"), on_outage=seen.append
    )
    try:
        await state.limiter.acquire(CALLER, LimitsConfig(), 10)
        await state.budgets.check(CALLER, BudgetsConfig())
    finally:
        await state.aclose()
    assert seen == []
