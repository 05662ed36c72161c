"""Through the whole gateway on the shipped GGUF: a prompt over the local window, a full local
queue and a model that does not load each move the request to the next allowed candidate;
protected traffic never spills to the cloud; readiness says which aliases can serve and why."""

from __future__ import annotations

import asyncio
import hashlib
import textwrap

import pytest
from support import AUTH, TEST_KEY, chat_body

pytestmark = pytest.mark.slow

LONG = "Summarise this contract clause. " + "The party of the first part shall pay. " * 120


@pytest.fixture
def llama_policy(write_policy, cloud_mock, monkeypatch):
    monkeypatch.delenv("HYBRIDGW_UNSET_KEY_VAR", raising=False)

    def write(path: str | None = None, fallbacks: str = "[cloud]"):
        digest = hashlib.sha256(TEST_KEY.encode()).hexdigest()
        where = f", path: {path}" if path else ""
        return write_policy(
            textwrap.dedent(f"""\
            version: 1
            reference_model: cloud
            models:
              local: {{tier: local, backend: llamacpp, model: smollm2{where}}}
              cloud: {{tier: cloud, backend: litellm, model: openai/gpt-4o-mini,
                      api_base: "{cloud_mock.base_url}", api_key_env: HYBRIDGW_TEST_CLOUD_KEY}}
              cloud-nokey: {{tier: cloud, backend: litellm, model: openai/gpt-4o-mini,
                      api_base: "{cloud_mock.base_url}", api_key_env: HYBRIDGW_UNSET_KEY_VAR}}
            apps: [{{name: app1, tenant: t1, key_sha256: {digest}}}]
            protect:
              - {{name: stays-local, when: {{sensitivity_gte: 0.5}}, action: local,
                 target: local}}
            default: {{action: local, target: local, fallbacks: {fallbacks}}}
            """)
        )

    return write


async def _post(gw, body):
    return await gw.client.post("/v1/chat/completions", json=body, headers=AUTH, timeout=120)


async def test_a_prompt_over_the_local_window_goes_to_the_fallback(gateway, llama_policy):
    async with gateway(policy=llama_policy(), local_context=256) as gw:
        spilled = await _post(gw, chat_body(LONG, max_tokens=8))
    assert spilled.status_code == 200, spilled.text
    assert spilled.headers["x-route-tier"] == "cloud"
    assert spilled.headers["x-route-fallback"] == "true"


async def test_a_protected_prompt_over_the_window_is_a_400_not_a_cloud_call(
    gateway, llama_policy, cloud_mock
):
    async with gateway(policy=llama_policy(), local_context=256, sensitivity=0.9) as gw:
        refused = await _post(gw, chat_body(LONG, max_tokens=8))
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "context_length_exceeded"
    assert not cloud_mock.requests


async def test_a_full_local_queue_spills_to_the_fallback(gateway, llama_policy):
    async with gateway(policy=llama_policy(), local_max_queue=0) as gw:
        replies = await asyncio.gather(
            *(_post(gw, chat_body("Name a colour.", max_tokens=6)) for _ in range(4))
        )
    assert [r.status_code for r in replies] == [200] * 4, [r.text for r in replies]
    tiers = sorted(r.headers["x-route-tier"] for r in replies)
    assert "local" in tiers and "cloud" in tiers, tiers


async def test_protected_traffic_gets_429_not_the_cloud_when_the_queue_is_full(
    gateway, llama_policy, cloud_mock
):
    async with gateway(policy=llama_policy(), local_max_queue=0, sensitivity=0.9) as gw:
        replies = await asyncio.gather(
            *(_post(gw, chat_body("Name a colour.", max_tokens=6)) for _ in range(3))
        )
    busy = [r for r in replies if r.status_code == 429]
    assert busy and all(r.status_code in (200, 429) for r in replies)
    assert all(r.json()["error"]["code"] == "queue_full" for r in busy)
    assert all(r.headers["retry-after"] == "1" for r in busy)
    assert not cloud_mock.requests


async def test_a_model_that_does_not_load_falls_back_or_is_a_503(gateway, llama_policy, tmp_path):
    policy = llama_policy(str(tmp_path / "missing.gguf"))
    async with gateway(policy=policy) as gw:
        before = await gw.client.get("/readyz")
        open_ = await _post(gw, chat_body("Hello", max_tokens=4))
        after = await gw.client.get("/readyz")
        models = (await gw.client.get("/v1/models", headers=AUTH)).json()["data"]
    async with gateway(policy=policy, sensitivity=0.9) as gw:
        protected = await _post(gw, chat_body("Hello", max_tokens=4))
    assert before.status_code == 503 and before.json()["status"] == "loading"
    assert open_.status_code == 200 and open_.headers["x-route-tier"] == "cloud"
    assert protected.status_code == 503
    assert "failed to load" in protected.json()["error"]["message"]
    assert after.status_code == 200 and after.json()["status"] == "degraded"
    local = after.json()["backends"]["local"]
    assert local["ready"] is False and "failed to load" in local["reason"]
    by_id = {m["id"]: m for m in models}
    assert by_id["local"]["ready"] is False and by_id["cloud"]["ready"] is True


async def test_an_alias_without_its_key_says_so_and_pinning_it_is_a_503(gateway, llama_policy):
    async with gateway(policy=llama_policy(fallbacks="[]")) as gw:
        one = await gw.client.get("/v1/models/cloud-nokey", headers=AUTH)
        missing = await gw.client.get("/v1/models/nope", headers=AUTH)
        pinned = await _post(gw, {**chat_body("Hello"), "model": "cloud-nokey"})
        ready = (await gw.client.get("/readyz")).json()
    assert one.status_code == 200 and one.json()["ready"] is False
    assert "HYBRIDGW_UNSET_KEY_VAR" in one.json()["reason"]
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "model_not_found"
    assert pinned.status_code == 503
    assert "HYBRIDGW_UNSET_KEY_VAR" in pinned.json()["error"]["message"]
    assert "HYBRIDGW_UNSET_KEY_VAR" in ready["backends"]["cloud-nokey"]["reason"]


async def test_ignored_parameters_are_named_in_a_header(gateway, llama_policy):
    extra = {"metadata": {"k": "v"}, "store": True, "logprobs": True, "seed": 3}
    async with gateway(policy=llama_policy()) as gw:
        local = await _post(gw, chat_body("Hello", max_tokens=4, **extra))
        cloud = await _post(
            gw, {**chat_body("Hello", **extra), "model": "cloud", "verbosity": "low"}
        )
    assert local.status_code == 200 and local.headers["x-route-tier"] == "local"
    assert local.headers["x-hybridgw-ignored-params"] == "metadata,store"
    [token, *_] = local.json()["choices"][0]["logprobs"]["content"]
    assert token["logprob"] <= 0 and token["top_logprobs"] == []
    assert cloud.status_code == 200 and cloud.headers["x-route-tier"] == "cloud"
    ignored = set(cloud.headers["x-hybridgw-ignored-params"].split(","))
    assert "metadata" in ignored and "store" not in ignored and "seed" not in ignored
