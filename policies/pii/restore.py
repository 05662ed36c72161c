"""Restoring placeholders in a streamed answer, where one may be split across chunks.

Each stream (a choice's content, or one tool call's arguments in a choice) keeps back only a
tail that may still become a form of a placeholder the vault issued (`<PERS` of `<PERSON_1>`,
`[pers`, `&lt;PER`, a bare `PERSON_`), at most `MAX_FORM` characters; everything before it is
emitted at once. Nothing else is buffered, so the
first bytes reach the client as soon as the model sends them.

    restorer = vault.stream_restorer()
    async for chunk in backend.stream(redacted, model=...):
        yield restorer.restore_chunk(chunk)          # flushes a choice on its finish_reason
    if (tail := restorer.drain_chunk(chunk_id, model)) is not None:
        yield tail                                   # only when the stream ended abruptly
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kernel.types import ChatChunk, ChunkChoice, Delta
from policies.pii.placeholders import MAX_FORM

if TYPE_CHECKING:
    from policies.pii.vault import Vault

_OPENERS = frozenset("<[{&«\\")
_Key = tuple[int, int | None]  # (choice index, tool-call index or None for content)


class StreamRestorer:
    """Per-answer restoration state; not shared between requests or threads."""

    __slots__ = ("_pending", "_vault")

    def __init__(self, vault: Vault) -> None:
        self._vault = vault
        self._pending: dict[_Key, str] = {}

    # -- text streams --------------------------------------------------------------------------

    def feed(self, choice_index: int, delta_text: str) -> str:
        """Restored content safe to emit now for choice `choice_index`."""
        return self._feed((choice_index, None), delta_text)

    def flush(self, choice_index: int) -> str:
        """Whatever is still held back for the content of `choice_index` (end of the choice)."""
        return self._flush((choice_index, None))

    def feed_tool_args(self, choice_index: int, tool_index: int, delta_text: str) -> str:
        """Restored (JSON-escaped) tool-call argument text safe to emit now."""
        return self._feed((choice_index, tool_index), delta_text)

    def flush_tool_args(self, choice_index: int, tool_index: int) -> str:
        return self._flush((choice_index, tool_index))

    def _feed(self, key: _Key, text: str) -> str:
        buf = self._pending.pop(key, "") + text
        cut = self._holdback(buf)
        if cut < len(buf):
            self._pending[key] = buf[cut:]
            buf = buf[:cut]
        return self._restore(key, buf)

    def _holdback(self, buf: str) -> int:
        """Where the tail that may still become a placeholder starts (len(buf): nowhere). Only
        an opener (`<`, `[`, `{`, `&`, `«`, `\\`) or the start of a word can begin one."""
        for i in range(max(0, len(buf) - MAX_FORM), len(buf)):
            c = buf[i]
            starts = c in _OPENERS or (c.isupper() and (i == 0 or not buf[i - 1].isalnum()))
            if starts and self._vault.partial_placeholder(buf[i:]):
                return i
        return len(buf)

    def _flush(self, key: _Key) -> str:
        return self._restore(key, self._pending.pop(key, ""))

    def _restore(self, key: _Key, text: str) -> str:
        if not text:
            return text
        return self._vault.restore(text) if key[1] is None else self._vault.restore_json(text)

    @property
    def holding(self) -> bool:
        """True while some text is held back."""
        return bool(self._pending)

    # -- OpenAI chunks -------------------------------------------------------------------------

    def restore_chunk(self, chunk: ChatChunk) -> ChatChunk:
        """`chunk` with its content and tool-call argument deltas restored.

        A choice's held-back text is released in the chunk carrying its `finish_reason`; a tool
        call's held-back arguments are released before the next tool call of the same choice
        starts. Chunks without choices (the usage chunk) pass unchanged.
        """
        if not chunk.choices:
            return chunk
        return chunk.model_copy(update={"choices": [self._choice(c) for c in chunk.choices]})

    def _choice(self, choice: ChunkChoice) -> ChunkChoice:
        i = choice.index
        delta = choice.delta
        content = delta.content
        if content:
            content = self.feed(i, content)
        tool_calls: list[dict[str, Any]] | None = None
        if delta.tool_calls is not None:
            tool_calls = []
            for call in delta.tool_calls:
                ti = call.get("index", 0)
                tool_calls.extend(self._flush_other_tools(i, ti))
                tool_calls.append(self._tool_delta(i, ti, call))
        if choice.finish_reason is not None:
            rest = self.flush(i)
            if rest:
                content = (content or "") + rest
            leftovers = self._flush_other_tools(i, None)
            if leftovers:
                tool_calls = [*(tool_calls or []), *leftovers]
        if content == delta.content and tool_calls is None:
            return choice
        new_delta = Delta(role=delta.role, content=content, tool_calls=tool_calls)
        return choice.model_copy(update={"delta": new_delta})

    def _tool_delta(self, i: int, ti: int, call: dict[str, Any]) -> dict[str, Any]:
        fn = call.get("function")
        if not isinstance(fn, dict) or not isinstance(fn.get("arguments"), str):
            return call
        args = self.feed_tool_args(i, ti, fn["arguments"])
        return {**call, "function": {**fn, "arguments": args}}

    def _flush_other_tools(self, i: int, keep: int | None) -> list[dict[str, Any]]:
        out = []
        for ci, ti in sorted(k for k in self._pending if k[0] == i and k[1] is not None):
            if ti != keep and ti is not None:
                out.append({"index": ti, "function": {"arguments": self._flush((ci, ti))}})
        return out

    def drain_chunk(self, chunk_id: str, model: str) -> ChatChunk | None:
        """A final chunk carrying everything still held back, or None when nothing is."""
        if not self._pending:
            return None
        choices = []
        for i in sorted({k[0] for k in self._pending}):
            content = self.flush(i) or None
            tools = self._flush_other_tools(i, None) or None
            choices.append(ChunkChoice(index=i, delta=Delta(content=content, tool_calls=tools)))
        return ChatChunk(id=chunk_id, model=model, choices=choices)
