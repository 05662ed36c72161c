"""The request corpus: valid bodies using every documented Chat Completions parameter (and the
message fields SDKs replay), invalid bodies with the parameter their 400 must name, and a seeded
mutator that puts wrong-typed values into valid bodies."""

from __future__ import annotations

import copy
import random
from collections.abc import Iterator
from typing import Any

USER = {"role": "user", "content": "Say hello."}
SCHEMA = {
    "type": "object",
    "properties": {"ok": {"type": "boolean"}},
    "required": ["ok"],
    "additionalProperties": False,
}
TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string", "maxLength": 16}},
            "required": ["city"],
            "additionalProperties": False,
        },
        "strict": True,
    },
}
REPLAYED = [  # an SDK's earlier answer sent back as is, then the tool's result
    {"role": "developer", "content": "Be brief."},
    {"role": "user", "content": [{"type": "text", "text": "Weather in Oslo?"}], "name": "ann"},
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
    {"role": "function", "name": "get_weather", "content": "12 C"},
]

PARAMETERS: dict[str, Any] = {
    "audio": {"voice": "alloy", "format": "mp3"},
    "frequency_penalty": 0.5,
    "function_call": "auto",
    "functions": [TOOL["function"]],
    "logit_bias": {"42": -100, "7": 5},
    "logprobs": True,
    "max_completion_tokens": 4,
    "max_tokens": 4,
    "metadata": {"team": "search"},
    "modalities": ["text"],
    "moderation": {"model": "omni-moderation-latest"},
    "n": 1,
    "parallel_tool_calls": False,
    "prediction": {"type": "content", "content": "Hello"},
    "presence_penalty": -0.5,
    "prompt_cache_key": "k-1",
    "prompt_cache_options": {"mode": "implicit", "ttl": "30m"},
    "prompt_cache_retention": "24h",
    "reasoning_effort": "low",
    "response_format": {"type": "text"},
    "safety_identifier": "user-hash",
    "seed": 2**63 - 1,
    "service_tier": "auto",
    "stop": ["\n\n", "END"],
    "store": False,
    "stream": False,
    "temperature": 0.0,
    "tool_choice": "none",
    "tools": [TOOL],
    "top_logprobs": 2,
    "top_p": 1,
    "user": "u-1",
    "verbosity": "low",
    "web_search_options": {"search_context_size": "low"},
}
"""One valid value for every parameter of the Chat Completions API besides model/messages."""


def valid_bodies() -> Iterator[tuple[str, dict[str, Any]]]:
    """(case id, body): each parameter alone, every parameter at once, and the replayed turns."""
    for name, value in PARAMETERS.items():
        extra = {"max_tokens": 4} if name not in ("max_tokens", "max_completion_tokens") else {}
        yield name, {"model": "auto", "messages": [USER], name: value, **extra}
    everything = {"model": "auto", "messages": [USER], **PARAMETERS}
    yield "every-parameter", everything
    yield (
        "every-parameter-null",
        {"model": "auto", "messages": [USER]}
        | dict.fromkeys(set(PARAMETERS) - {"functions", "tools"}),
    )
    yield (
        "stream-with-options",
        {
            "model": "auto",
            "messages": [USER],
            "max_tokens": 4,
            "stream": True,
            "stream_options": {"include_usage": True, "include_obfuscation": False},
        },
    )
    yield "replayed-turns", {"model": "auto", "messages": REPLAYED, "max_tokens": 4}
    yield (
        "json-schema",
        {
            "model": "auto",
            "messages": [USER],
            "max_tokens": 8,
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "ok", "strict": True, "schema": SCHEMA},
            },
        },
    )


INVALID: list[tuple[str, dict[str, Any]]] = [
    ("stream", {"stream": "yes"}),
    ("stream", {"stream": 1}),
    ("temperature", {"temperature": "0.5"}),
    ("temperature", {"temperature": 3}),
    ("max_tokens", {"max_tokens": 0}),
    ("max_tokens", {"max_tokens": 1.5}),
    ("max_tokens", {"max_tokens": 2**70}),
    ("seed", {"seed": 2**64}),
    ("seed", {"seed": "1"}),
    ("n", {"n": 2}),
    ("top_logprobs", {"top_logprobs": 21}),
    ("logprobs", {"logprobs": "true"}),
    ("logit_bias", {"logit_bias": {"abc": 1}}),
    ("logit_bias.1", {"logit_bias": {"1": 200}}),
    ("metadata.k", {"metadata": {"k": 1}}),
    ("stop", {"stop": ["a", "b", "c", "d", "e"]}),
    ("response_format", {"response_format": {"type": "xml"}}),
    ("response_format", {"response_format": {"type": "json_schema"}}),
    ("tools.0", {"tools": [{"type": "function"}]}),
    ("tools.0", {"tools": [{"type": "function", "function": {"name": "f", "x": 2**70}}]}),
    ("modalities.0", {"modalities": ["video"]}),
    ("verbosity", {"verbosity": "extreme"}),
    ("stream_options.include_usage", {"stream_options": {"include_usage": "yes"}}),
    ("user", {"user": 123}),
    ("store", {"store": "false"}),
    ("top_p", {"top_p": 2}),
    ("frobnicate", {"frobnicate": True}),
    ("messages", {"messages": []}),
    ("messages.0.role", {"messages": [{"role": "robot", "content": "hi"}]}),
    ("messages.0.content", {"messages": [{"role": "user", "content": 12}]}),
    ("messages.0.refusal", {"messages": [{"role": "assistant", "refusal": 1}]}),
]
"""(the parameter the 400 must name, the fields that replace a valid body's)."""

WRONG_VALUES: list[Any] = [None, True, 0, -1, 2**70, -(2**70), 1.5, "x", "", [], {}, [1], {"a": 1}]


def mutations(seed: int, count: int) -> Iterator[dict[str, Any]]:
    """`count` valid bodies with one field (top level or in a message) set to a random value."""
    rng = random.Random(seed)
    keys = ["model", "messages", *PARAMETERS]
    for _ in range(count):
        body: dict[str, Any] = {"model": "auto", "messages": copy.deepcopy(REPLAYED)}
        body["max_tokens"] = 4
        key = rng.choice(keys)
        value = copy.deepcopy(rng.choice(WRONG_VALUES))
        if rng.random() < 0.3:
            message = rng.choice(body["messages"])
            message[rng.choice(["role", "content", "name", "tool_calls", "refusal"])] = value
        else:
            body[key] = value
        yield body
