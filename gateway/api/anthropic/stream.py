"""Internal chunks → Anthropic's stream events.

message_start, then per content block content_block_start / content_block_delta (text_delta
or input_json_delta) / content_block_stop, then message_delta (stop_reason, usage) and
message_stop. A failure after the first byte becomes an `error` event.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from typing import Any

import orjson

from gateway.api.anthropic.errors import error_body
from gateway.api.anthropic.translate import STOP_REASONS
from kernel.errors import GatewayError
from kernel.types import ChatChunk, Usage

log = logging.getLogger(__name__)


def event(name: str, data: dict[str, Any]) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + orjson.dumps({"type": name, **data}) + b"\n\n"


@dataclass(slots=True)
class _Blocks:
    """Which content block is open: a text block, or the tool call of OpenAI index `tool`."""

    count: int = 0
    open_kind: str | None = None
    tool: int | None = None

    def close(self) -> list[bytes]:
        if self.open_kind is None:
            return []
        self.open_kind, self.tool = None, None
        return [event("content_block_stop", {"index": self.count - 1})]

    def open(self, kind: str, block: dict[str, Any], tool: int | None = None) -> list[bytes]:
        out = self.close()
        self.open_kind, self.tool = kind, tool
        self.count += 1
        out.append(event("content_block_start", {"index": self.count - 1, "content_block": block}))
        return out

    def delta(self, delta: dict[str, Any]) -> bytes:
        return event("content_block_delta", {"index": self.count - 1, "delta": delta})


def _chunk_events(chunk: ChatChunk, blocks: _Blocks) -> list[bytes]:
    out: list[bytes] = []
    for choice in chunk.choices:
        if choice.delta.content:
            if blocks.open_kind != "text":
                out += blocks.open("text", {"type": "text", "text": ""})
            out.append(blocks.delta({"type": "text_delta", "text": choice.delta.content}))
        for call in choice.delta.tool_calls or []:
            function = call.get("function") or {}
            index = int(call.get("index", 0))
            if blocks.open_kind != "tool_use" or blocks.tool != index:
                block = {
                    "type": "tool_use",
                    "id": call.get("id") or f"toolu_{index}",
                    "name": function.get("name", ""),
                    "input": {},
                }
                out += blocks.open("tool_use", block, index)
            if function.get("arguments"):
                partial = {"type": "input_json_delta", "partial_json": function["arguments"]}
                out.append(blocks.delta(partial))
    return out


async def message_events(
    chunks: AsyncIterator[ChatChunk], message_id: str, model: str, input_estimate: int
) -> AsyncGenerator[bytes, None]:
    """Encode the internal stream as Anthropic SSE events."""
    start: dict[str, Any] = {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {"input_tokens": input_estimate, "output_tokens": 0},
    }
    yield event("message_start", {"message": start})
    blocks, usage, finish = _Blocks(), Usage(), "stop"
    try:
        async for chunk in chunks:
            usage = chunk.usage or usage
            finish = next((c.finish_reason for c in chunk.choices if c.finish_reason), finish)
            for out in _chunk_events(chunk, blocks):
                yield out
    except GatewayError as exc:
        yield b"event: error\ndata: " + error_body(exc) + b"\n\n"
        return
    except Exception:
        log.exception("stream failed after the first byte")
        yield b"event: error\ndata: " + error_body(GatewayError("The stream failed.")) + b"\n\n"
        return
    for out in blocks.close():
        yield out
    delta = {"stop_reason": STOP_REASONS.get(finish, "end_turn"), "stop_sequence": None}
    counts = {"input_tokens": usage.prompt_tokens, "output_tokens": usage.completion_tokens}
    yield event("message_delta", {"delta": delta, "usage": counts})
    yield event("message_stop", {})
