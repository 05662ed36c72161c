"""The pure translation of a request into a llama.cpp call (no model loaded)."""

from __future__ import annotations

import json

import pytest

from kernel.errors import BackendError, InvalidRequest, UnsupportedByModel
from kernel.types import ChatRequest
from local_backends.llama_answer import read_answer
from local_backends.llama_request import ignored_params, plan_local_call, wants_logprobs

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
            "additionalProperties": False,
        },
    },
}
TIME = {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object"}}}


def _req(**params) -> ChatRequest:
    return ChatRequest(model="m", messages=[{"role": "user", "content": "hi"}], **params)


def test_plain_request_has_no_grammar_and_client_sampling_wins():
    call = plan_local_call(_req(temperature=0.7, seed=3, logit_bias={"42": -100}), {"top_p": 0.9})
    assert call.grammar is None and call.schema is None and call.tool_mode is None
    assert call.sampling == {"top_p": 0.9, "temperature": 0.7, "seed": 3, "logit_bias": {42: -100}}


def test_json_schema_gets_a_grammar_with_strict_json_strings():
    schema = {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}
    fmt = {"type": "json_schema", "json_schema": {"name": "x", "strict": True, "schema": schema}}
    call = plan_local_call(_req(response_format=fmt), {})
    assert call.schema == schema and call.grammar is not None
    assert "\\x00-\\x1F" in call.grammar  # raw control characters are not JSON


def test_json_object_is_any_object():
    call = plan_local_call(_req(response_format={"type": "json_object"}), {})
    assert call.schema == {"type": "object"} and "root ::= object" in (call.grammar or "")


def test_an_invalid_schema_is_not_enforceable_here():
    fmt = {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": 12}}}
    with pytest.raises(UnsupportedByModel) as caught:
        plan_local_call(_req(response_format=fmt), {})
    assert caught.value.param == "response_format" and caught.value.status == 400


@pytest.mark.parametrize(
    ("choice", "names", "may_answer"),
    [
        ("auto", {"get_weather", "get_time"}, True),
        (None, {"get_weather", "get_time"}, True),
        ("required", {"get_weather", "get_time"}, False),
        ({"type": "function", "function": {"name": "get_time"}}, {"get_time"}, False),
        (
            {
                "type": "allowed_tools",
                "allowed_tools": {"mode": "required", "tools": [WEATHER]},
            },
            {"get_weather"},
            False,
        ),
    ],
)
def test_tool_choice_shapes_the_envelope(choice, names, may_answer):
    call = plan_local_call(_req(tools=[WEATHER, TIME], tool_choice=choice), {})
    assert call.tool_mode == "tools" and call.schema is not None
    options = call.schema.get("anyOf", [call.schema])
    offered = {o["properties"]["name"]["const"] for o in options if "name" in o["properties"]}
    assert offered == names
    assert any("answer" in o["properties"] for o in options) is may_answer
    assert "get_weather" in call.messages[0]["content"] or "get_time" in call.messages[0]["content"]


def test_tool_choice_none_generates_plain_text():
    call = plan_local_call(_req(tools=[WEATHER], tool_choice="none"), {})
    assert call.grammar is None and call.tool_mode is None
    assert all("get_weather" not in m["content"] for m in call.messages)


def test_a_named_function_that_does_not_exist_is_a_400():
    choice = {"type": "function", "function": {"name": "nope"}}
    with pytest.raises(InvalidRequest) as caught:
        plan_local_call(_req(tools=[WEATHER], tool_choice=choice), {})
    assert caught.value.param == "tool_choice"


def test_custom_tools_are_refused_so_another_candidate_may_take_them():
    custom = {"type": "custom", "custom": {"name": "grep"}}
    with pytest.raises(UnsupportedByModel) as caught:
        plan_local_call(_req(tools=[custom]), {})
    assert isinstance(caught.value, BackendError) and caught.value.param == "tools"


def test_legacy_functions_become_function_calls():
    call = plan_local_call(
        _req(functions=[WEATHER["function"]], function_call={"name": "get_weather"}), {}
    )
    assert call.tool_mode == "functions"
    message, finish = read_answer(
        call, '{"name": "get_weather", "arguments": {"city": "Oslo"}}', "stop"
    )
    assert finish == "function_call"
    assert message.function_call == {"name": "get_weather", "arguments": '{"city": "Oslo"}'}


def test_replayed_tool_turns_are_rendered_for_the_model():
    req = ChatRequest(
        model="m",
        messages=[
            {"role": "user", "content": "Weather in Oslo?"},
            {
                "role": "assistant",
                "content": None,
                "refusal": None,
                "annotations": [],
                "audio": None,
                "function_call": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": "12 C"},
        ],
        tools=[WEATHER],
    )
    messages = plan_local_call(req, {}).messages
    assert json.loads(messages[2]["content"]) == {
        "name": "get_weather",
        "arguments": {"city": "Oslo"},
    }
    assert messages[3] == {"role": "user", "content": "Result of call_1: 12 C"}


def test_answers_are_checked_against_the_schema():
    schema = {"type": "object", "properties": {"n": {"type": "integer", "minimum": 3}}}
    fmt = {"type": "json_schema", "json_schema": {"name": "x", "schema": schema}}
    call = plan_local_call(_req(response_format=fmt), {})
    assert read_answer(call, '{"n": 4}', "stop")[0].content == '{"n": 4}'
    with pytest.raises(BackendError, match=r"less than the minimum of 3"):
        read_answer(call, '{"n": 1}', "stop")
    truncated, finish = read_answer(call, '{"n": ', "length")  # the client's own cap
    assert truncated.content == '{"n": ' and finish == "length"


def test_tool_call_answers_have_openai_shape():
    call = plan_local_call(_req(tools=[WEATHER], tool_choice="auto"), {})
    message, finish = read_answer(
        call, '{"name": "get_weather", "arguments": {"city": "Rome"}}', "stop"
    )
    assert finish == "tool_calls" and message.content is None
    [tool_call] = message.tool_calls or []
    assert tool_call["type"] == "function" and tool_call["id"].startswith("call_")
    assert json.loads(tool_call["function"]["arguments"]) == {"city": "Rome"}
    text, finish = read_answer(call, '{"answer": "It is sunny."}', "stop")
    assert (text.content, finish) == ("It is sunny.", "stop")


def test_ignored_parameters_are_the_hosted_only_ones():
    req = _req(
        metadata={"k": "v"},
        store=True,
        service_tier="auto",
        temperature=0.1,
        seed=1,
        modalities=["text"],
        stream_options={"include_usage": True, "include_obfuscation": False},
        prompt_cache_key=None,
    )
    assert ignored_params(req) == {
        "metadata",
        "store",
        "service_tier",
        "stream_options.include_obfuscation",
    }
    assert "modalities" in ignored_params(_req(modalities=["text", "audio"]))
    assert ignored_params(_req(logprobs=True, top_logprobs=2)) == set()
    streamed = _req(logprobs=True, top_logprobs=2, stream=True)
    assert ignored_params(streamed) == set() and wants_logprobs(streamed)
    assert "logprobs" in ignored_params(_req(logprobs=True, tools=[WEATHER]))
