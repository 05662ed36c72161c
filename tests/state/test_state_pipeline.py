"""Limits, budgets and the cache through HTTP, in-process and on Redis, with the mock upstreams."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest
from state_support import REDIS_URL, drop_prefix
from support import AUTH, TEST_KEY, chat_body, policy_yaml

URL = "/v1/chat/completions"


@pytest.fixture(params=["memory", "redis"])
def backend_settings(request: pytest.FixtureRequest, redis_prefix: str):
    if request.param == "memory":
        yield {}
        return
    yield {"redis_url": REDIS_URL, "redis_key_prefix": redis_prefix}


@pytest.fixture
async def _clean(redis_prefix: str):
    yield
    await drop_prefix(redis_prefix)


@pytest.fixture
def policy_with(write_policy, cloud_mock, local_mock) -> Callable[..., Path]:
    def build(extra: str, *, cache: bool = False) -> Path:
        text = policy_yaml(cloud_mock.base_url, local_mock.base_url, extra)
        if cache:
            digest = hashlib.sha256(TEST_KEY.encode()).hexdigest()
            text = text.replace(f"key_sha256: {digest}}}", f"key_sha256: {digest}, cache: true}}")
        return write_policy(text)

    return build


@pytest.mark.usefixtures("_clean")
async def test_rate_limit_answers_429_with_retry_after(gateway, policy_with, backend_settings):
    policy = policy_with("limits: {apps: {app1: {requests_per_minute: 2}}}\n")
    async with gateway(policy=policy, **backend_settings) as gw:
        codes = [
            (await gw.client.post(URL, json=chat_body(), headers=AUTH)).status_code
            for _ in range(2)
        ]
        refused = await gw.client.post(URL, json=chat_body(), headers=AUTH)
    assert codes == [200, 200]
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "rate_limit_exceeded"
    assert int(refused.headers["retry-after"]) >= 1
    assert len(gw.ledger.entries) == 2  # a refusal is not an answered request


@pytest.mark.usefixtures("_clean")
async def test_spend_is_settled_and_the_hard_budget_then_refuses(
    gateway, policy_with, backend_settings, cloud_mock
):
    policy = policy_with("budgets: {apps: {app1: {monthly_usd: {hard: 0.000001}}}}\n")
    async with gateway(difficulty=0.9, policy=policy, **backend_settings) as gw:
        first = await gw.client.post(URL, json=chat_body("Prove it."), headers=AUTH)
        second = await gw.client.post(URL, json=chat_body("Prove it."), headers=AUTH)
    assert first.status_code == 200 and first.headers["x-route-tier"] == "cloud"
    assert gw.ledger.entries[0].cost_usd > 0.000001
    assert second.status_code == 429
    error = second.json()["error"]
    assert error["code"] == "budget_exceeded"
    assert "monthly budget of app 'app1' is exhausted" in error["message"]
    assert len(cloud_mock.requests) == 1


async def test_over_the_soft_budget_cloud_work_is_served_locally(gateway, policy_with):
    policy = policy_with("budgets: {tenants: {t1: {monthly_usd: {soft: 0, hard: 100}}}}\n")
    async with gateway(difficulty=0.9, policy=policy) as gw:
        r = await gw.client.post(URL, json=chat_body("Prove it."), headers=AUTH)
    assert r.status_code == 200
    assert r.headers["x-route-tier"] == "local"
    assert r.headers["x-route-rule"] == "budget:soft-limit"


@pytest.mark.usefixtures("_clean")
async def test_an_opted_in_app_gets_exact_repeats_from_cache(
    gateway, policy_with, backend_settings, local_mock
):
    policy = policy_with("cache: {ttl_s: 60}\n", cache=True)
    async with gateway(policy=policy, **backend_settings) as gw:
        first = await gw.client.post(URL, json=chat_body("Same words."), headers=AUTH)
        again = await gw.client.post(URL, json=chat_body("Same words."), headers=AUTH)
        other = await gw.client.post(URL, json=chat_body("Other words."), headers=AUTH)
        streamed = await gw.client.post(
            URL, json=chat_body("Same words.", stream=True), headers=AUTH
        )
    assert "x-cache" not in first.headers and again.headers["x-cache"] == "hit"
    assert again.json()["choices"] == first.json()["choices"]
    assert again.json()["id"] != first.json()["id"]
    assert "x-cache" not in other.headers and "x-cache" not in streamed.headers
    assert len(local_mock.requests) == 3  # the repeat never reached the model
    assert [e.cache_hit for e in gw.ledger.entries] == [False, True, False, False]
    miss, hit = gw.ledger.entries[:2]
    # a hit costs nothing; what it saved is what the reference model would have charged
    assert hit.cost_usd == 0 and hit.counterfactual_cost_usd == miss.counterfactual_cost_usd > 0


async def test_apps_that_did_not_opt_in_are_never_cached(gateway, policy_with, local_mock):
    async with gateway(policy=policy_with("cache: {ttl_s: 60}\n")) as gw:
        for _ in range(2):
            r = await gw.client.post(URL, json=chat_body("Same words."), headers=AUTH)
            assert "x-cache" not in r.headers
    assert len(local_mock.requests) == 2
