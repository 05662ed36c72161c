"""The request path through HTTP: local tier, cloud tier via the real litellm code, fallbacks."""

from __future__ import annotations

import json

from support import AUTH, chat_body


async def test_easy_prompt_is_served_locally_with_route_headers(gateway, local_mock, cloud_mock):
    async with gateway(difficulty=0.1) as gw:
        r = await gw.client.post("/v1/chat/completions", json=chat_body("Say hello."), headers=AUTH)
    assert r.status_code == 200, r.text
    assert r.headers["x-route-tier"] == "local"
    assert r.headers["x-route-model"] == "local"
    assert r.headers["x-route-rule"] == "default"
    assert len(r.headers["x-request-id"]) == 32
    assert r.json()["choices"][0]["message"]["content"] == "echo: Say hello."
    assert len(local_mock.requests) == 1 and not cloud_mock.requests


async def test_cloud_receives_model_messages_and_parameters_through_litellm(gateway, cloud_mock):
    body = chat_body(
        "Prove Fermat's little theorem.",
        temperature=0.3,
        top_p=0.5,
        max_tokens=77,
        stop=["END"],
        user="u-42",
        seed=7,
    )
    async with gateway(difficulty=0.9) as gw:
        r = await gw.client.post("/v1/chat/completions", json=body, headers=AUTH)
    assert r.status_code == 200, r.text
    assert r.headers["x-route-tier"] == "cloud" and r.headers["x-route-rule"] == "hard"
    [seen] = cloud_mock.requests
    sent = seen.json()
    assert seen.path == "/v1/chat/completions"
    assert sent["model"] == "gpt-4o-mini"
    assert sent["messages"] == [{"role": "user", "content": "Prove Fermat's little theorem."}]
    assert (sent["temperature"], sent["top_p"], sent["max_tokens"]) == (0.3, 0.5, 77)
    assert sent["stop"] == ["END"] and sent["user"] == "u-42" and sent["seed"] == 7
    assert seen.headers["authorization"] == "Bearer sk-cloud-secret"
    assert r.json()["choices"][0]["message"]["content"].startswith("echo: Prove")


async def test_tools_are_passed_through_to_the_cloud(gateway, cloud_mock):
    tools = [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
            },
        }
    ]
    async with gateway(difficulty=0.9) as gw:
        r = await gw.client.post(
            "/v1/chat/completions", json=chat_body("Weather in Oslo?", tools=tools), headers=AUTH
        )
    assert r.status_code == 200, r.text
    assert cloud_mock.requests[0].json()["tools"] == tools


async def test_pinned_alias_is_honoured(gateway, cloud_mock):
    async with gateway(difficulty=0.0) as gw:
        r = await gw.client.post(
            "/v1/chat/completions", json={**chat_body(), "model": "cloud"}, headers=AUTH
        )
    assert r.headers["x-route-model"] == "cloud" and r.headers["x-route-rule"] == "pinned:cloud"
    assert len(cloud_mock.requests) == 1


async def test_upstream_500_maps_to_502(gateway, cloud_mock):
    async with gateway() as gw:
        r = await gw.client.post(
            "/v1/chat/completions", json={**chat_body(), "model": "cloud-fail"}, headers=AUTH
        )
    # pinned cloud-fail falls back to the default's fallbacks ([cloud]) — which succeeds
    assert r.status_code == 200 and r.headers["x-route-fallback"] == "true"


async def test_upstream_failure_without_fallback_is_502_and_timeout_is_504(
    gateway, write_policy, cloud_mock, local_mock
):
    text = f"""\
version: 1
reference_model: cloud
models:
  cloud: {{tier: cloud, backend: litellm, model: openai/x, api_base: "{cloud_mock.base_url}",
          input_cost_per_token: 0.000001, output_cost_per_token: 0.000001}}
  cloud-fail: {{tier: cloud, backend: litellm, model: openai/fail-500,
               api_base: "{cloud_mock.base_url}",
               input_cost_per_token: 0.000001, output_cost_per_token: 0.000001}}
  cloud-slow: {{tier: cloud, backend: litellm, model: openai/slow-3000,
               api_base: "{cloud_mock.base_url}", timeout_s: 0.5,
               input_cost_per_token: 0.000001, output_cost_per_token: 0.000001}}
apps: [{{name: a, tenant: t, key_sha256: {_digest()}}}]
default: {{action: cloud_redacted, target: cloud}}
"""
    async with gateway(policy=write_policy(text)) as gw:
        failed = await gw.client.post(
            "/v1/chat/completions", json={**chat_body(), "model": "cloud-fail"}, headers=AUTH
        )
        slow = await gw.client.post(
            "/v1/chat/completions", json={**chat_body(), "model": "cloud-slow"}, headers=AUTH
        )
    assert failed.status_code == 502, failed.text
    assert failed.json()["error"]["code"] == "upstream_error"
    assert slow.status_code == 504, slow.text
    assert slow.json()["error"]["code"] == "upstream_timeout"
    assert [e.status for e in gw.ledger.entries] == [502, 504]


async def test_local_down_falls_back_to_cloud_and_says_so(
    gateway, write_policy, cloud_mock, local_mock
):
    from support import policy_yaml

    text = policy_yaml(cloud_mock.base_url, local_mock.base_url).replace(
        "default: {action: local, target: local, fallbacks: [cloud]}",
        "default: {action: local, target: local-down, fallbacks: [cloud]}",
    )
    async with gateway(policy=write_policy(text)) as gw:
        r = await gw.client.post("/v1/chat/completions", json=chat_body(), headers=AUTH)
    assert r.status_code == 200, r.text
    assert r.headers["x-route-tier"] == "cloud" and r.headers["x-route-fallback"] == "true"
    assert gw.ledger.entries[0].fallback_used is True


async def test_cloud_down_falls_back_to_local(gateway, write_policy, cloud_mock, local_mock):
    from support import policy_yaml

    text = policy_yaml(cloud_mock.base_url, local_mock.base_url).replace(
        "target: cloud\n    fallbacks: [local]", "target: cloud-fail\n    fallbacks: [local]"
    )
    async with gateway(difficulty=0.95, policy=write_policy(text)) as gw:
        r = await gw.client.post("/v1/chat/completions", json=chat_body(), headers=AUTH)
    assert r.status_code == 200, r.text
    assert r.headers["x-route-tier"] == "local" and r.headers["x-route-fallback"] == "true"
    assert r.headers["x-route-rule"] == "hard"


async def test_streaming_sse_with_usage(gateway, cloud_mock):
    body = chat_body("Stream me please", stream=True, stream_options={"include_usage": True})
    async with gateway(difficulty=0.9) as gw:
        r = await gw.client.post("/v1/chat/completions", json=body, headers=AUTH)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    assert r.headers["x-route-tier"] == "cloud"
    events = [line[6:] for line in r.text.split("\n") if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert text == "echo: Stream me please"
    assert len(chunks) > 5
    assert chunks[-1]["usage"]["completion_tokens"] > 0 and chunks[-1]["choices"] == []
    assert cloud_mock.requests[0].json()["stream"] is True
    entry = gw.ledger.entries[0]
    assert entry.completion_tokens == chunks[-1]["usage"]["completion_tokens"]
    assert entry.ttft_ms is not None and entry.tier == "cloud"


async def test_stream_without_usage_option_sends_no_usage_chunk(gateway):
    async with gateway(difficulty=0.9) as gw:
        r = await gw.client.post("/v1/chat/completions", json=chat_body(stream=True), headers=AUTH)
    chunks = [json.loads(line[6:]) for line in r.text.split("\n") if line.startswith("data: {")]
    assert all("usage" not in c for c in chunks)


async def test_ledger_records_cost_and_counterfactual(gateway):
    async with gateway(difficulty=0.9) as gw:
        await gw.client.post("/v1/chat/completions", json=chat_body("one two three"), headers=AUTH)
        await gw.client.post(
            "/v1/chat/completions", json={**chat_body(), "model": "local"}, headers=AUTH
        )
    cloud, local = gw.ledger.entries
    assert cloud.cost_usd == cloud.counterfactual_cost_usd > 0
    expected = cloud.prompt_tokens * 1e-6 + cloud.completion_tokens * 2e-6
    assert abs(cloud.cost_usd - expected) < 1e-12
    assert local.cost_usd == 0 and local.counterfactual_cost_usd > 0
    assert (cloud.tenant, cloud.app, cloud.rule) == ("t1", "app1", "hard")


def _digest() -> str:
    import hashlib

    from support import TEST_KEY

    return hashlib.sha256(TEST_KEY.encode()).hexdigest()


async def test_gateway_time_limit_bounds_the_whole_request(
    gateway, write_policy, cloud_mock, local_mock
):
    from support import policy_yaml

    text = policy_yaml(cloud_mock.base_url, local_mock.base_url).replace(
        "timeout_s: 0.5", "timeout_s: 30"
    )
    async with gateway(policy=write_policy(text), request_timeout_s=0.3) as gw:
        r = await gw.client.post(
            "/v1/chat/completions", json={**chat_body(), "model": "cloud-slow"}, headers=AUTH
        )
    assert r.status_code == 504, r.text
    assert "0.3 s" in r.json()["error"]["message"]
    assert r.headers["x-request-id"] == gw.ledger.entries[0].request_id
