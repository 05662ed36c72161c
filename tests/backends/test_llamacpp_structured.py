"""Grammar-constrained output on the shipped SmolLM2 GGUF: JSON that parses and validates,
tool calls whose arguments match the function's parameters schema, and token logprobs."""

from __future__ import annotations

import json

import jsonschema
import pytest
import pytest_asyncio

from kernel.types import ChatRequest
from local_backends.llamacpp import LlamaCppBackend, LlamaCppConfig
from local_backends.registry import default_gguf_path

pytestmark = pytest.mark.slow

VERDICT = {
    "type": "object",
    "properties": {
        "answer": {"type": "string", "enum": ["yes", "no"]},
        "confidence": {"type": "integer", "minimum": 0, "maximum": 100},
    },
    "required": ["answer", "confidence"],
    "additionalProperties": False,
}
CITY = {
    "type": "object",
    "properties": {"city": {"type": "string", "maxLength": 24}},
    "required": ["city"],
    "additionalProperties": False,
}
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather for a city.",
            "parameters": CITY,
        },
    },
    {
        "type": "function",
        "function": {
            "name": "get_population",
            "description": "Population of a city.",
            "parameters": CITY,
        },
    },
]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def backend():
    llm = LlamaCppBackend(LlamaCppConfig(model_path=str(default_gguf_path()), n_ctx=1024))
    await llm.start()
    yield llm
    await llm.aclose()


def _ask(text: str, **params) -> ChatRequest:
    return ChatRequest(model="local", messages=[{"role": "user", "content": text}], **params)


@pytest.mark.asyncio(loop_scope="module")
async def test_json_schema_answer_parses_and_validates(backend):
    fmt = {"type": "json_schema", "json_schema": {"name": "v", "strict": True, "schema": VERDICT}}
    response = await backend.complete(
        _ask("Is Paris in France?", response_format=fmt, max_tokens=24, seed=1), model="m"
    )
    choice = response.choices[0]
    assert choice.finish_reason == "stop"
    jsonschema.validate(json.loads(choice.message.content or ""), VERDICT)


@pytest.mark.asyncio(loop_scope="module")
async def test_streamed_json_object_parses(backend):
    fmt = {"type": "json_object"}
    req = _ask('Reply with {"ok": true} and nothing else.', response_format=fmt, max_tokens=32)
    chunks = [c async for c in backend.stream(req, model="m")]
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert isinstance(json.loads(text), dict)


@pytest.mark.asyncio(loop_scope="module")
async def test_required_tool_call_has_schema_valid_arguments(backend):
    req = _ask("What is the weather in Rome?", tools=TOOLS, tool_choice="required", max_tokens=32)
    choice = (await backend.complete(req, model="m")).choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.content is None
    [call] = choice.message.tool_calls or []
    assert call["function"]["name"] in {"get_weather", "get_population"}
    jsonschema.validate(json.loads(call["function"]["arguments"]), CITY)


@pytest.mark.asyncio(loop_scope="module")
async def test_named_tool_is_the_one_called_when_streaming(backend):
    choice = {"type": "function", "function": {"name": "get_population"}}
    req = _ask("Tell me about Rome.", tools=TOOLS, tool_choice=choice, max_tokens=32)
    chunks = [c async for c in backend.stream(req, model="m")]
    calls = [tc for c in chunks if c.choices for tc in c.choices[0].delta.tool_calls or []]
    [call] = calls
    assert call["index"] == 0 and call["function"]["name"] == "get_population"
    jsonschema.validate(json.loads(call["function"]["arguments"]), CITY)
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "tool_calls"
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0


@pytest.mark.asyncio(loop_scope="module")
async def test_logprobs_cover_the_answer_token_by_token(backend):
    req = _ask("Name a colour.", max_tokens=6, logprobs=True, top_logprobs=3, seed=1)
    choice = (await backend.complete(req, model="m")).choices[0]
    tokens = (choice.logprobs or {})["content"]
    assert "".join(t["token"] for t in tokens) == choice.message.content
    assert len(tokens) == 6  # finish_reason length: the last token is recovered too
    for token in tokens:
        assert token["logprob"] <= 0 and bytes(token["bytes"]).decode() == token["token"]
        assert len(token["top_logprobs"]) == 3
        best = token["top_logprobs"][0]["logprob"]
        assert all(alt["logprob"] <= best for alt in token["top_logprobs"])
