"""The same behaviour table for the in-process and the Redis implementation of every seam."""

from __future__ import annotations

import asyncio

import pytest

from gateway.auth import Caller
from gateway.state.factory import SharedState
from gateway.state.protocols import cache_key
from kernel.errors import BudgetExceeded, RateLimited
from kernel.types import AssistantMessage, ChatRequest, ChatResponse, Choice, Usage
from policies.limits import BudgetsConfig, LimitsConfig

CALLER = Caller(tenant="t1", app="app1", key_id="0123456789ab")


def limits(**by_scope: dict[str, dict[str, int]]) -> LimitsConfig:
    return LimitsConfig.model_validate(by_scope)


def budgets(**by_scope: dict[str, dict[str, float]]) -> BudgetsConfig:
    return BudgetsConfig.model_validate(
        {kind: {name: {"monthly_usd": b} for name, b in v.items()} for kind, v in by_scope.items()}
    )


async def admitted(state: SharedState, cfg: LimitsConfig, n: int, tokens: int = 0) -> int:
    results = await asyncio.gather(
        *(state.limiter.acquire(CALLER, cfg, tokens) for _ in range(n)), return_exceptions=True
    )
    assert all(r is None or isinstance(r, RateLimited) for r in results)
    return sum(r is None for r in results)


async def test_requests_per_minute_admits_the_burst_then_refuses_with_retry_after(state):
    cfg = limits(apps={"app1": {"requests_per_minute": 3}})
    assert await admitted(state, cfg, 3) == 3
    with pytest.raises(RateLimited) as caught:
        await state.limiter.acquire(CALLER, cfg, 0)
    assert "app 'app1' requests/min" in caught.value.message
    assert 15 < caught.value.retry_after <= 20  # one request refills in 60/3 s


async def test_concurrent_acquires_never_exceed_the_limit(state):
    cfg = limits(tenants={"t1": {"requests_per_minute": 20}})
    passed = await admitted(state, cfg, 60)
    assert 20 <= passed <= 21  # 20 of the burst, plus at most one refilled while they ran


async def test_the_tightest_scope_refuses_and_a_refusal_takes_nothing(state):
    cfg = limits(
        keys={"0123456789ab": {"requests_per_minute": 2}},
        apps={"app1": {"requests_per_minute": 100}},
    )
    assert await admitted(state, cfg, 5) == 2
    wider = limits(apps={"app1": {"requests_per_minute": 100}})
    # Only the two admitted requests were taken from the app's bucket: 98 remain.
    passed = 0
    for _ in range(99):
        passed += await admitted(state, wider, 1)
    assert passed == 98


async def test_tokens_per_minute_counts_prompt_up_front_and_completion_after(state):
    cfg = limits(apps={"app1": {"tokens_per_minute": 100}})
    await state.limiter.acquire(CALLER, cfg, 60)
    with pytest.raises(RateLimited, match="tokens/min"):
        await state.limiter.acquire(CALLER, cfg, 60)
    await state.limiter.acquire(CALLER, cfg, 30)
    await state.limiter.consume(CALLER, cfg, 500)  # completion tokens put the bucket in debt
    with pytest.raises(RateLimited):
        await state.limiter.acquire(CALLER, cfg, 1)


async def test_a_prompt_larger_than_the_limit_still_passes_on_a_full_bucket(state):
    cfg = limits(apps={"app1": {"tokens_per_minute": 100}})
    await state.limiter.acquire(CALLER, cfg, 1000)
    with pytest.raises(RateLimited):
        await state.limiter.acquire(CALLER, cfg, 1)


async def test_no_limits_configured_admits_everything(state):
    assert await admitted(state, LimitsConfig(), 50, tokens=10_000) == 50


async def test_budget_soft_then_hard_limit(state):
    cfg = budgets(tenants={"t1": {"soft": 0.5, "hard": 1.0}})
    assert (await state.budgets.check(CALLER, cfg)).over_soft is False
    await state.budgets.settle(CALLER, cfg, 0.6)
    assert (await state.budgets.check(CALLER, cfg)).over_soft is True
    await state.budgets.settle(CALLER, cfg, 0.4000001)
    with pytest.raises(BudgetExceeded) as caught:
        await state.budgets.check(CALLER, cfg)
    assert "tenant 't1' is exhausted: $1.00 of $1.00" in caught.value.message
    assert caught.value.status == 429 and caught.value.retry_after > 0


async def test_budgets_add_up_small_costs_per_scope(state):
    cfg = budgets(apps={"app1": {"hard": 0.001}}, tenants={"t1": {"hard": 100}})
    for _ in range(9):
        await state.budgets.settle(CALLER, cfg, 0.0001)
    await state.budgets.check(CALLER, cfg)
    await state.budgets.settle(CALLER, cfg, 0.0001)
    with pytest.raises(BudgetExceeded, match="app 'app1'"):
        await state.budgets.check(CALLER, cfg)
    other_app = Caller(tenant="t1", app="app2")
    assert (await state.budgets.check(other_app, cfg)).over_soft is False


async def test_cache_round_trip_and_expiry(state):
    answer = ChatResponse(
        id="chatcmpl-1",
        model="m",
        choices=[Choice(message=AssistantMessage(content="hi"))],
        usage=Usage.of(3, 1),
    )
    await state.cache.put("cache:k", answer, ttl_s=1)
    assert await state.cache.get("cache:k") == answer
    assert await state.cache.get("cache:other") is None
    for _ in range(40):  # bounded poll: the entry expires after one second
        if await state.cache.get("cache:k") is None:
            break
        await asyncio.sleep(0.1)
    assert await state.cache.get("cache:k") is None


def test_cache_key_ignores_transport_fields_and_separates_tenants_and_versions():
    base = {"model": "auto", "messages": [{"role": "user", "content": "hi"}]}
    req = ChatRequest.model_validate(base)
    same = ChatRequest.model_validate({**base, "stream": False, "user": "u-1"})
    assert cache_key(req, "v1", "t1") == cache_key(same, "v1", "t1")
    assert cache_key(req, "v1", "t1") != cache_key(req, "v2", "t1")
    assert cache_key(req, "v1", "t1") != cache_key(req, "v1", "t2")
    hotter = ChatRequest.model_validate({**base, "temperature": 0.5})
    assert cache_key(req, "v1", "t1") != cache_key(hotter, "v1", "t1")
