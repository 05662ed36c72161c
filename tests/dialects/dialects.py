"""Each client dialect as the PII end-to-end tests drive it: body, auth, reading text back."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from support import AUTH, TEST_KEY


@dataclass(frozen=True)
class Dialect:
    name: str
    path: str
    headers: dict[str, str]
    body: Callable[[str, bool], dict[str, Any]]
    answer: Callable[[dict[str, Any]], str]
    streamed: Callable[[str], str]
    error_code: Callable[[dict[str, Any]], str]

    def __str__(self) -> str:
        return self.name


def _sse_data(text: str) -> list[dict[str, Any]]:
    return [json.loads(line[6:]) for line in text.split("\n") if line.startswith("data: {")]


def _chat_stream(text: str) -> str:
    return "".join(
        c["choices"][0]["delta"].get("content") or "" for c in _sse_data(text) if c["choices"]
    )


def _anthropic_stream(text: str) -> str:
    return "".join(
        d["delta"].get("text", "") for d in _sse_data(text) if d["type"] == "content_block_delta"
    )


CHAT = Dialect(
    "chat",
    "/v1/chat/completions",
    AUTH,
    lambda text, stream: {
        "model": "auto",
        "messages": [{"role": "user", "content": text}],
        "stream": stream,
    },
    lambda body: body["choices"][0]["message"]["content"],
    _chat_stream,
    lambda body: body["error"]["code"],
)

ANTHROPIC = Dialect(
    "anthropic",
    "/v1/messages",
    {"x-api-key": TEST_KEY},
    lambda text, stream: {
        "model": "auto",
        "max_tokens": 256,
        "messages": [{"role": "user", "content": [{"type": "text", "text": text}]}],
        "stream": stream,
    },
    lambda body: "".join(b["text"] for b in body["content"] if b["type"] == "text"),
    _anthropic_stream,
    lambda body: body["error"]["type"],
)


def _responses_stream(text: str) -> str:
    return "".join(d["delta"] for d in _sse_data(text) if d["type"] == "response.output_text.delta")


RESPONSES = Dialect(
    "responses",
    "/v1/responses",
    AUTH,
    lambda text, stream: {
        "model": "auto",
        "input": [{"role": "user", "content": [{"type": "input_text", "text": text}]}],
        "stream": stream,
    },
    lambda body: "".join(
        part["text"]
        for item in body["output"]
        if item["type"] == "message"
        for part in item["content"]
    ),
    _responses_stream,
    lambda body: body["error"]["code"],
)

COMPLETIONS = Dialect(
    "completions",
    "/v1/completions",
    AUTH,
    lambda text, stream: {"model": "auto", "prompt": text, "max_tokens": 256, "stream": stream},
    lambda body: body["choices"][0]["text"],
    lambda text: "".join(c["choices"][0]["text"] for c in _sse_data(text) if c["choices"]),
    lambda body: body["error"]["code"],
)

ALL = [CHAT, ANTHROPIC, RESPONSES, COMPLETIONS]
