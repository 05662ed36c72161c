"""Where text lives in a request: the pieces that are scanned, redacted and put back.

A segment is a message's string content, one text part of a list content, the JSON arguments
of one of an assistant message's tool calls, or a message's `name`. Every role is walked (system
prompt, user, assistant, tool results). Scanning and redaction walk the same segments, so a
`SegmentFindings` always points at the text it was computed on.

Two derived views: `model_view` is what the name model reads (a tool call's JSON string values,
decoded, as lines of prose; a `name` field with `_`/`-` as spaces), with the offset map back to
the segment; `context_before` is the end of the previous prose segment, so "my password is" in
one message (or one half of a split message) still marks the value at the start of the next.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from kernel.types import ChatRequest, Message
from policies.pii.findings import SegmentKind

CONTEXT_CARRY = 64  # characters of the previous prose segment scanned as context
_PROSE_KINDS = frozenset({"content", "part"})
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_NAME_SEPARATORS = str.maketrans("_-.", "   ")
_ESCAPES = {"n": "\n", "t": " ", "r": " ", "b": " ", "f": " "}


@dataclass(frozen=True, slots=True)
class Segment:
    message_index: int
    kind: SegmentKind
    index: int
    text: str
    context_before: str = ""  # tail of the previous prose segment (for context words only)


def iter_segments(req: ChatRequest) -> Iterator[Segment]:
    """Every scannable text of `req`, in message order, prose segments with their context."""
    prev_tail, prev_message = "", -1
    for i, msg in enumerate(req.messages):
        for seg in message_segments(i, msg):
            if seg.kind in _PROSE_KINDS:
                joiner = "" if prev_message == i else "\n"  # parts of one message run on
                context = prev_tail + joiner if prev_tail else ""
                yield Segment(seg.message_index, seg.kind, seg.index, seg.text, context)
                prev_tail, prev_message = seg.text[-CONTEXT_CARRY:], i
            else:
                yield seg


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
    if msg.name:
        yield Segment(i, "name", 0, msg.name)


def tool_arguments(call: dict[str, Any]) -> str | None:
    """The `function.arguments` string of an OpenAI tool call, if it has one."""
    fn = call.get("function")
    if isinstance(fn, dict):
        args = fn.get("arguments")
        if isinstance(args, str):
            return args
    return None


@dataclass(frozen=True, slots=True)
class ModelView:
    """The text the name model reads for a segment, and where each of its characters sits in
    the segment (`starts[i]`/`ends[i]`: the raw span of view character `i`)."""

    text: str
    starts: tuple[int, ...] | None = None  # None: the view is the segment's text itself
    ends: tuple[int, ...] | None = None

    def raw_span(self, start: int, end: int) -> tuple[int, int]:
        if self.starts is None or self.ends is None:
            return start, end
        return self.starts[start], self.ends[end - 1]


def model_view(seg: Segment) -> ModelView:
    """What the name model reads for `seg`: prose as it is; a `name` field with `_`, `-`, `.`
    as spaces; a tool call's JSON as its decoded string values, one per line (keys and syntax
    dropped)."""
    if seg.kind == "name":
        return ModelView(seg.text.translate(_NAME_SEPARATORS))
    if seg.kind == "tool_args":
        return json_values_view(seg.text)
    return ModelView(seg.text)


def json_values_view(raw: str) -> ModelView:
    """`raw` JSON's string values, decoded, each on its own line, with the raw span of every
    character. Not JSON: `raw` itself (a truncated argument string is scanned as it is)."""
    try:
        json.loads(raw)
    except ValueError:
        return ModelView(raw)
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for m in _JSON_STRING.finditer(raw):
        if raw[m.end() : m.end() + 64].lstrip().startswith(":"):
            continue  # an object key
        k, stop = m.start() + 1, m.end() - 1
        while k < stop:
            width = 1
            ch = raw[k]
            if ch == "\\":
                esc = raw[k + 1]
                width = 6 if esc == "u" else 2
                ch = chr(int(raw[k + 2 : k + 6], 16)) if esc == "u" else _ESCAPES.get(esc, esc)
            chars.append(ch)
            starts.append(k)
            ends.append(k + width)
            k += width
        chars.append("\n")
        starts.append(stop)
        ends.append(stop)
    return ModelView("".join(chars), tuple(starts), tuple(ends))
