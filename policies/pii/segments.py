"""Where text lives in a request: the pieces that are scanned, redacted and put back.

A segment is a message's string content, one text part of a list content, the JSON arguments
of one of an assistant message's tool calls, or a message's `name`. Every role is walked (system
prompt, user, assistant, tool results). Scanning and redaction walk the same segments, so a
`SegmentFindings` always points at the text it was computed on.

Two derived views: `model_view` is what the name model reads (a tool call's JSON string values,
decoded, as lines of prose; a `name` field with `_`/`-` as spaces), with the offset map back to
the segment; `context_before`/`context_after` are the end of the previous and the start of the
next prose segment, so "my password is" in one message (or one half of a split message) still
marks the value at the start of the next, and a value split across two parts is found in both.
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
    context_before: str = ""  # tail of the previous prose segment (context words, split values)
    context_after: str = ""  # head of the next prose segment (a value split across the two)


def iter_segments(req: ChatRequest) -> Iterator[Segment]:
    """Every scannable text of `req`: the tool definitions' descriptions (message index -1,
    they are not a message), the request's `user` field (-1 too), then each message's texts in
    order, prose with the neighbouring prose as context."""
    for j, tool in enumerate(req.tools or ()):
        desc = tool_description(tool)
        if desc:
            yield Segment(-1, "tool_description", j, desc)
    if req.user:
        yield Segment(-1, "user", 0, req.user)
    segments = [seg for i, msg in enumerate(req.messages) for seg in message_segments(i, msg)]
    prose = [k for k, seg in enumerate(segments) if seg.kind in _PROSE_KINDS]
    linked: dict[int, Segment] = {}
    befores, afters = [None, *prose][: len(prose)], [*prose[1:], None][: len(prose)]
    for before, k, after in zip(befores, prose, afters, strict=True):
        seg = segments[k]
        head = tail = ""
        if before is not None:
            prev = segments[before]
            tail = prev.text[-CONTEXT_CARRY:] + _joiner(prev, seg)
        if after is not None:
            nxt = segments[after]
            head = _joiner(seg, nxt) + nxt.text[:CONTEXT_CARRY]
        linked[k] = Segment(seg.message_index, seg.kind, seg.index, seg.text, tail, head)
    for k, seg in enumerate(segments):
        yield linked.get(k, seg)


def _joiner(first: Segment, second: Segment) -> str:
    """Parts of one message run on (a split message); separate messages are separate lines."""
    return "" if first.message_index == second.message_index else "\n"


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
class TextView:
    """A derived text to scan for a segment (what the name model reads, or the segment with
    percent-escapes decoded), and where each of its characters sits in the segment
    (`starts[i]`/`ends[i]`: the raw span of view character `i`)."""

    text: str
    starts: tuple[int, ...] | None = None  # None: the view is the segment's text itself
    ends: tuple[int, ...] | None = None

    def raw_span(self, start: int, end: int) -> tuple[int, int]:
        if self.starts is None or self.ends is None:
            return start, end
        return self.starts[start], self.ends[end - 1]


def tool_description(tool: dict[str, Any]) -> str | None:
    """The `function.description` string of an OpenAI tool definition, if it has one."""
    fn = tool.get("function")
    if isinstance(fn, dict):
        desc = fn.get("description")
        if isinstance(desc, str):
            return desc
    return None


_PERCENT = re.compile(r"%[0-9A-Fa-f]{2}")


def percent_view(text: str) -> TextView | None:
    """`text` with percent-escapes decoded (`a%40b.com` -> `a@b.com`), UTF-8 sequences
    included; None when it has none. Text pasted from URLs carries e-mails and phones so."""
    if "%" not in text or not _PERCENT.search(text):
        return None
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    i, n = 0, len(text)
    while i < n:
        m = _PERCENT.match(text, i)
        if m is None:
            chars.append(text[i])
            starts.append(i)
            ends.append(i + 1)
            i += 1
            continue
        j, raw = i, bytearray()
        while (m := _PERCENT.match(text, j)) is not None:
            raw.append(int(text[j + 1 : j + 3], 16))
            j += 3
        decoded = raw.decode("utf-8", errors="replace")
        for ch in decoded:  # every decoded character stands for the whole escaped run
            chars.append(ch)
            starts.append(i)
            ends.append(j)
        i = j
    return TextView("".join(chars), tuple(starts), tuple(ends))


def model_view(seg: Segment) -> TextView:
    """What the name model reads for `seg`: prose as it is; a `name` field with `_`, `-`, `.`
    as spaces; a tool call's JSON as its decoded string values, one per line (keys and syntax
    dropped)."""
    if seg.kind == "name":
        return TextView(seg.text.translate(_NAME_SEPARATORS))
    if seg.kind == "tool_args":
        return json_values_view(seg.text)
    return TextView(seg.text)


def json_values_view(raw: str) -> TextView:
    """`raw` JSON's string values, decoded, each on its own line, with the raw span of every
    character. Not JSON: `raw` itself (a truncated argument string is scanned as it is)."""
    try:
        json.loads(raw)
    except ValueError:
        return TextView(raw)
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
    return TextView("".join(chars), tuple(starts), tuple(ends))
