"""OpenAI Responses through the in-process gateway: input items, tools, refusals, stream events."""

from __future__ import annotations

import json

from support import AUTH

from gateway.api.responses.stream import ResponseEvents, response_events
from gateway.api.responses.wire import ResponsesRequest
from kernel.errors import BackendTimeout
from kernel.types import ChatChunk, ChunkChoice, Delta, Usage


def _events(text: str) -> list[dict]:
    return [json.loads(line[6:]) for line in text.split("\n") if line.startswith("data: ")]


async def test_string_input_and_instructions(gateway, local_mock):
    body = {
        "model": "auto",
        "input": "Say hello.",
        "instructions": "Be brief.",
        "max_output_tokens": 32,
        "metadata": {"k": "v"},
    }
    async with gateway() as gw:
        r = await gw.client.post("/v1/responses", json=body, headers=AUTH)
        entry = gw.ledger.entries[0]
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["object"] == "response" and out["id"].startswith("resp_")
    assert out["status"] == "completed" and out["store"] is False
    assert out["output"][0]["content"][0] == {
        "type": "output_text",
        "text": "echo: Say hello.",
        "annotations": [],
    }
    assert out["metadata"] == {"k": "v"}
    assert out["usage"]["output_tokens"] == entry.completion_tokens > 0
    sent = local_mock.requests[0].json()
    assert sent["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Say hello."},
    ]
    assert sent["max_tokens"] == 32


async def test_harmless_sdk_defaults_are_accepted(gateway, local_mock):
    body = {
        "model": "auto",
        "input": "hi",
        "include": [],
        "reasoning": None,
        "safety_identifier": "user-7",
        "prompt_cache_key": "k",
    }
    async with gateway() as gw:
        r = await gw.client.post("/v1/responses", json=body, headers=AUTH)
    assert r.status_code == 200, r.text
    assert r.headers["x-gateway-ignored-params"] == "prompt_cache_key"
    assert local_mock.requests[0].json()["user"] == "user-7"


async def test_function_call_items_translate_to_tool_messages(gateway, local_mock):
    body = {
        "model": "auto",
        "tools": [{"type": "function", "name": "get_weather", "parameters": {"type": "object"}}],
        "tool_choice": {"type": "function", "name": "get_weather"},
        "input": [
            {"type": "message", "role": "user", "content": "Weather in Paris?"},
            {
                "type": "function_call",
                "call_id": "c1",
                "name": "get_weather",
                "arguments": '{"city":"Paris"}',
            },
            {
                "type": "function_call",
                "call_id": "c2",
                "name": "get_weather",
                "arguments": '{"city":"Lyon"}',
            },
            {"type": "function_call_output", "call_id": "c1", "output": "18C"},
            {"type": "function_call_output", "call_id": "c2", "output": "20C"},
            {"role": "user", "content": [{"type": "input_text", "text": "Compare."}]},
        ],
    }
    async with gateway() as gw:
        r = await gw.client.post("/v1/responses", json=body, headers=AUTH)
    assert r.status_code == 200, r.text
    sent = local_mock.requests[0].json()
    assert [m["role"] for m in sent["messages"]] == ["user", "assistant", "tool", "tool", "user"]
    assert [c["id"] for c in sent["messages"][1]["tool_calls"]] == ["c1", "c2"]
    assert sent["messages"][3] == {"role": "tool", "tool_call_id": "c2", "content": "20C"}
    assert sent["tools"][0]["function"]["name"] == "get_weather"
    assert sent["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}


async def test_refusals_are_clear_openai_400s(gateway):
    cases = {
        "store": {"store": True},
        "previous_response_id": {"previous_response_id": "resp_1"},
        "tools.0.type": {"tools": [{"type": "web_search"}]},
        "input.0.type": {"input": [{"type": "reasoning", "summary": []}]},
        "input.0.content.0": {
            "input": [{"role": "user", "content": [{"type": "input_file", "file_id": "f"}]}]
        },
        "reasoning": {"reasoning": {"effort": "low"}},
        "include": {"include": ["message.output_text.logprobs"]},
        "stream_options": {"stream_options": {"include_usage": True}},
    }
    async with gateway() as gw:
        for param, extra in cases.items():
            body = {"model": "auto", "input": "hi", **extra}
            r = await gw.client.post("/v1/responses", json=body, headers=AUTH)
            assert r.status_code == 400, (param, r.text)
            error = r.json()["error"]
            assert error["param"] == param and error["type"] == "invalid_request_error"
        stored = await gw.client.post(
            "/v1/responses", json={"model": "auto", "input": "hi", "store": True}, headers=AUTH
        )
    assert "no prompt or answer text at rest" in stored.json()["error"]["message"]


async def test_stream_events_in_order_with_sequence_numbers(gateway):
    body = {"model": "auto", "input": "Say hello.", "stream": True}
    async with gateway() as gw:
        r = await gw.client.post("/v1/responses", json=body, headers=AUTH)
    events = _events(r.text)
    kinds = [e["type"] for e in events]
    assert kinds[:4] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
    ]
    assert kinds[-4:] == [
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    text = "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta")
    assert text == "echo: Say hello." == events[-4]["text"]
    done = events[-1]["response"]
    assert done["status"] == "completed" and done["usage"]["output_tokens"] > 0
    assert done["output"][0]["content"][0]["text"] == text


async def test_streamed_function_call_and_late_error():
    req = ResponsesRequest(model="auto", input="x", stream=True)

    async def chunks():
        yield ChatChunk(
            id="c",
            model="m",
            choices=[
                ChunkChoice(
                    delta=Delta(
                        tool_calls=[
                            {
                                "index": 0,
                                "id": "call_1",
                                "function": {"name": "f", "arguments": '{"a":'},
                            }
                        ]
                    )
                )
            ],
        )
        yield ChatChunk(
            id="c",
            model="m",
            choices=[
                ChunkChoice(delta=Delta(tool_calls=[{"index": 0, "function": {"arguments": "1}"}}]))
            ],
        )
        yield ChatChunk(id="c", model="m", choices=[ChunkChoice(finish_reason="tool_calls")])
        yield ChatChunk(id="c", model="m", usage=Usage.of(2, 3))

    raw = b"".join([e async for e in response_events(chunks(), ResponseEvents(req, "r", "m"))])
    events = _events(raw.decode())
    done = next(e for e in events if e["type"] == "response.function_call_arguments.done")
    assert done["arguments"] == '{"a":1}' and done["name"] == "f"
    final = events[-1]["response"]
    assert final["output"][0]["type"] == "function_call"
    assert final["output"][0]["call_id"] == "call_1"
    assert final["usage"]["total_tokens"] == 5

    async def failing():
        yield ChatChunk(id="c", model="m", choices=[ChunkChoice(delta=Delta(content="hi"))])
        raise BackendTimeout("The backend timed out.")

    raw = b"".join([e async for e in response_events(failing(), ResponseEvents(req, "r", "m"))])
    last = _events(raw.decode())[-1]
    assert last["type"] == "error" and last["code"] == "upstream_timeout"
