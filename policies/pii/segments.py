"""Where text lives in a request: the pieces that are scanned, redacted and put back.

A segment is a message's string content, one text part of a list content, or the JSON arguments
of one of an assistant message's tool calls. Scanning and redaction walk the same segments, so a
`SegmentFindings` always points at the text it was computed on.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from kernel.types import ChatRequest, Message
from policies.pii.findings import SegmentKind


@dataclass(frozen=True, slots=True)
class Segment:
    message_index: int
    kind: SegmentKind
    index: int
    text: str


def iter_segments(req: ChatRequest) -> Iterator[Segment]:
    """Every scannable text of `req`, in message order."""
    for i, msg in enumerate(req.messages):
        yield from message_segments(i, msg)


def message_segments(i: int, msg: Message) -> Iterator[Segment]:
    if isinstance(msg.content, str):
        if msg.content:
            yield Segment(i, "content", 0, msg.content)
    elif msg.content is not None:
        for j, part in enumerate(msg.content):
            text = part.get("text")
            if part.get("type") == "text" and isinstance(text, str) and text:
                yield Segment(i, "part", j, text)
    for j, call in enumerate(msg.tool_calls or ()):
        args = tool_arguments(call)
        if args:
            yield Segment(i, "tool_args", j, args)


def tool_arguments(call: dict[str, Any]) -> str | None:
    """The `function.arguments` string of an OpenAI tool call, if it has one."""
    fn = call.get("function")
    if isinstance(fn, dict):
        args = fn.get("arguments")
        if isinstance(args, str):
            return args
    return None
