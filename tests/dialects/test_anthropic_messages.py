"""Anthropic Messages through the in-process gateway: translation both ways, errors, streams."""

from __future__ import annotations

import json

from support import AUTH, TEST_KEY, policy_yaml

from gateway.api.anthropic.stream import message_events
from gateway.api.anthropic.translate import to_chat_request, to_message
from gateway.api.anthropic.wire import MessagesRequest
from kernel.types import (
    AssistantMessage,
    ChatChunk,
    ChatResponse,
    Choice,
    ChunkChoice,
    Delta,
    Usage,
)

KEY = {"x-api-key": TEST_KEY}


def _body(text: str = "Say hello.", **extra):
    return {
        "model": "auto",
        "max_tokens": 64,
        "messages": [{"role": "user", "content": text}],
        **extra,
    }


def _events(text: str) -> list[tuple[str, dict]]:
    out = []
    for block in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.split("\n"))
        out.append((lines["event"], json.loads(lines["data"])))
    return out


async def test_plain_message_in_anthropic_shape(gateway, local_mock):
    async with gateway() as gw:
        r = await gw.client.post("/v1/messages", json=_body(system="Be brief."), headers=KEY)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["type"] == "message" and body["id"].startswith("msg_")
    assert body["content"] == [{"type": "text", "text": "echo: Say hello."}]
    assert body["stop_reason"] == "end_turn"
    assert body["usage"]["input_tokens"] > 0 and body["usage"]["output_tokens"] > 0
    assert r.headers["x-route-tier"] == "local"
    sent = local_mock.requests[0].json()
    assert sent["messages"][0] == {"role": "system", "content": "Be brief."}
    assert sent["max_tokens"] == 64
    assert gw.ledger.entries[0].status == 200 and gw.ledger.entries[0].tier == "local"


async def test_bearer_is_accepted_and_bad_key_is_an_anthropic_error(gateway):
    async with gateway() as gw:
        ok = await gw.client.post("/v1/messages", json=_body(), headers=AUTH)
        bad = await gw.client.post("/v1/messages", json=_body(), headers={"x-api-key": "nope"})
        missing = await gw.client.post("/v1/messages", json=_body())
    assert ok.status_code == 200
    assert bad.status_code == 401
    assert bad.json() == {
        "type": "error",
        "error": {"type": "authentication_error", "message": "Invalid API key."},
    }
    assert missing.status_code == 401


async def test_bad_requests_are_anthropic_400s(gateway):
    no_max = _body()
    del no_max["max_tokens"]
    doc = _body()
    doc["messages"][0]["content"] = [{"type": "document", "source": {}}]
    server_tool = _body(tools=[{"type": "web_search_20250305", "name": "web_search"}])
    async with gateway() as gw:
        five_stops = _body(stop_sequences=["a", "b", "c", "d", "e"])
        for body in (no_max, doc, server_tool, _body(thinking={"type": "enabled"}), five_stops):
            r = await gw.client.post("/v1/messages", json=body, headers=KEY)
            assert r.status_code == 400, (body, r.text)
            assert r.json()["error"]["type"] == "invalid_request_error"
        unknown = await gw.client.post("/v1/messages", json=_body(model="nope"), headers=KEY)
    assert unknown.status_code == 404
    assert unknown.json()["error"]["type"] == "not_found_error"


async def test_image_needs_cloud_and_top_k_is_reported_ignored(
    gateway, write_policy, cloud_mock, local_mock
):
    image = {
        "type": "image",
        "source": {"type": "base64", "media_type": "image/png", "data": "AA=="},
    }
    body = _body(top_k=5)
    body["messages"][0]["content"] = [{"type": "text", "text": "What is it?"}, image]
    features_rule = (
        "route:\n  - {name: features, when: {needs_cloud_features: true}, "
        "action: cloud_redacted, target: cloud}\n"
    )
    policy = policy_yaml(cloud_mock.base_url, local_mock.base_url).replace(
        "route:\n", features_rule
    )
    async with gateway(policy=write_policy(policy)) as gw:
        r = await gw.client.post("/v1/messages", json=body, headers=KEY)
    assert r.status_code == 200, r.text
    assert r.headers["x-route-rule"] == "features" and r.headers["x-route-tier"] == "cloud"
    assert r.headers["x-gateway-ignored-params"] == "top_k"
    part = cloud_mock.requests[0].json()["messages"][0]["content"][1]
    assert part == {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA=="}}
    assert "top_k" not in cloud_mock.requests[0].json()


async def test_tool_round_trip_is_translated_to_openai_messages(gateway, local_mock):
    body = _body(
        tools=[
            {
                "name": "get_weather",
                "description": "Weather for a city",
                "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
            }
        ],
        tool_choice={"type": "tool", "name": "get_weather"},
        stop_sequences=["END"],
        metadata={"user_id": "u-1"},
    )
    body["messages"] = [
        {"role": "user", "content": "Weather in Paris?"},
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Checking."},
                {
                    "type": "tool_use",
                    "id": "toolu_1",
                    "name": "get_weather",
                    "input": {"city": "Paris"},
                },
            ],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_1",
                    "content": [{"type": "text", "text": "18C"}],
                },
                {"type": "text", "text": "And tomorrow?"},
            ],
        },
    ]
    async with gateway() as gw:
        r = await gw.client.post("/v1/messages", json=body, headers=KEY)
    assert r.status_code == 200, r.text
    sent = local_mock.requests[0].json()
    roles = [m["role"] for m in sent["messages"]]
    assert roles == ["user", "assistant", "tool", "user"]
    call = sent["messages"][1]["tool_calls"][0]
    assert call["function"] == {"name": "get_weather", "arguments": '{"city": "Paris"}'}
    assert sent["messages"][2] == {"role": "tool", "tool_call_id": "toolu_1", "content": "18C"}
    assert sent["tools"][0]["function"]["parameters"]["properties"] == {"city": {"type": "string"}}
    assert sent["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}
    assert sent["stop"] == ["END"] and sent["user"] == "u-1"


def test_tool_calls_in_the_answer_become_tool_use_blocks():
    response = ChatResponse(
        id="x",
        model="m",
        choices=[
            Choice(
                message=AssistantMessage(
                    content=None,
                    tool_calls=[
                        {
                            "id": "call_9",
                            "type": "function",
                            "function": {"name": "f", "arguments": '{"a": 1}'},
                        }
                    ],
                ),
                finish_reason="tool_calls",
            )
        ],
        usage=Usage.of(3, 4),
    )
    message = to_message(response, "msg_1")
    assert message["content"] == [
        {"type": "tool_use", "id": "call_9", "name": "f", "input": {"a": 1}}
    ]
    assert message["stop_reason"] == "tool_use"
    assert message["usage"] == {"input_tokens": 3, "output_tokens": 4}


async def test_streamed_tool_call_becomes_input_json_deltas():
    def chunk(**delta):
        return ChatChunk(id="c", model="m", choices=[ChunkChoice(delta=Delta(**delta))])

    async def chunks():
        yield chunk(content="Let me check.")
        yield chunk(
            tool_calls=[
                {"index": 0, "id": "call_1", "function": {"name": "f", "arguments": '{"a"'}}
            ]
        )
        yield chunk(tool_calls=[{"index": 0, "function": {"arguments": ": 1}"}}])
        yield ChatChunk(id="c", model="m", choices=[ChunkChoice(finish_reason="tool_calls")])
        yield ChatChunk(id="c", model="m", usage=Usage.of(5, 6))

    raw = b"".join([e async for e in message_events(chunks(), "msg_1", "m", 5)])
    events = _events(raw.decode())
    names = [name for name, _ in events]
    assert names == [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "content_block_start",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    assert events[4][1]["content_block"] == {
        "type": "tool_use",
        "id": "call_1",
        "name": "f",
        "input": {},
    }
    partial = "".join(
        d["delta"]["partial_json"]
        for n, d in events
        if d.get("index") == 1 and n == "content_block_delta"
    )
    assert json.loads(partial) == {"a": 1}
    assert events[8][1]["delta"]["stop_reason"] == "tool_use"
    assert events[8][1]["usage"] == {"input_tokens": 5, "output_tokens": 6}


async def test_streaming_message_events_over_http(gateway):
    async with gateway() as gw:
        r = await gw.client.post("/v1/messages", json=_body(stream=True), headers=KEY)
        assert r.status_code == 200
        events = _events(r.text)
        entry = gw.ledger.entries[0]
    text = "".join(d["delta"]["text"] for n, d in events if n == "content_block_delta")
    assert text == "echo: Say hello."
    assert events[0][0] == "message_start" and events[-1][0] == "message_stop"
    assert events[-2][1]["delta"]["stop_reason"] == "end_turn"
    assert events[-2][1]["usage"]["output_tokens"] == entry.completion_tokens > 0


async def test_stream_failure_after_first_byte_is_an_error_event():
    from kernel.errors import BackendTimeout

    async def chunks():
        yield ChatChunk(id="c", model="m", choices=[ChunkChoice(delta=Delta(content="hi"))])
        raise BackendTimeout("The backend timed out.")

    raw = b"".join([e async for e in message_events(chunks(), "msg_1", "m", 1)])
    name, data = _events(raw.decode())[-1]
    assert name == "error"
    assert data == {
        "type": "error",
        "error": {"type": "api_error", "message": "The backend timed out."},
    }


async def test_count_tokens(gateway):
    body = {"model": "auto", "messages": [{"role": "user", "content": "x" * 40}]}
    async with gateway() as gw:
        r = await gw.client.post("/v1/messages/count_tokens", json=body, headers=KEY)
    assert r.status_code == 200 and r.json() == {"input_tokens": 10}


def test_system_blocks_and_images_translate():
    req = to_chat_request(
        MessagesRequest.model_validate(
            {
                "model": "auto",
                "max_tokens": 5,
                "system": [{"type": "text", "text": "A"}, {"type": "text", "text": "B"}],
                "messages": [
                    {
                        "role": "user",
                        "content": [
                            {"type": "image", "source": {"type": "url", "url": "https://x/y.png"}}
                        ],
                    }
                ],
            }
        )
    )
    assert req.messages[0].content == "A\nB"
    assert req.messages[1].content == [
        {"type": "image_url", "image_url": {"url": "https://x/y.png"}}
    ]
    assert req.messages[1].has_non_text_parts()
