"""Internal chunks → the Responses API's stream events, each with a `sequence_number`.

response.created, response.in_progress; per output item response.output_item.added, then
for a message response.content_part.added / response.output_text.delta… / .done /
response.content_part.done, for a function call response.function_call_arguments.delta… /
.done; response.output_item.done; finally response.completed (response.incomplete when the
token cap cut the answer) with usage. A failure after the first byte is an `error` event.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from gateway.api.responses.translate import call_item, message_item, response_object
from gateway.api.responses.wire import ResponsesRequest
from kernel.errors import GatewayError
from kernel.types import ChatChunk, Usage

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Open:
    """The output item being streamed: a message (text) or the tool call of OpenAI index `tool`."""

    item: dict[str, Any]
    tool: int | None = None
    text: list[str] = field(default_factory=list)


class ResponseEvents:
    """Turns one internal stream into Responses events (one instance per response)."""

    def __init__(self, req: ResponsesRequest, request_id: str, model: str) -> None:
        self._req, self._rid, self._model = req, request_id, model
        self._seq = 0
        self._done: list[dict[str, Any]] = []
        self._open: _Open | None = None

    def _event(self, kind: str, **data: Any) -> bytes:
        payload = orjson.dumps({"type": kind, "sequence_number": self._seq, **data})
        self._seq += 1
        return b"event: " + kind.encode() + b"\ndata: " + payload + b"\n\n"

    def _response(self, status: str, usage: Usage | None = None, why: str | None = None) -> Any:
        return response_object(
            self._req,
            f"resp_{self._rid}",
            self._model,
            output=self._done,
            status=status,
            usage=usage,
            incomplete=why,
        )

    def start(self) -> list[bytes]:
        return [
            self._event("response.created", response=self._response("in_progress")),
            self._event("response.in_progress", response=self._response("in_progress")),
        ]

    def chunk(self, chunk: ChatChunk) -> list[bytes]:
        out: list[bytes] = []
        for choice in chunk.choices:
            if choice.delta.content:
                out += self._text(choice.delta.content)
            for call in choice.delta.tool_calls or []:
                out += self._call(call)
        return out

    def _text(self, delta: str) -> list[bytes]:
        out: list[bytes] = []
        if self._open is None or self._open.item["type"] != "message":
            out += self.close()
            item = message_item(f"msg_{self._rid}_{len(self._done)}", "", "in_progress")
            self._open = _Open(item)
            out.append(self._added(item))
            part = {"type": "output_text", "text": "", "annotations": []}
            out.append(self._event("response.content_part.added", **self._at(), part=part))
        self._open.text.append(delta)
        out.append(
            self._event("response.output_text.delta", **self._at(), delta=delta, logprobs=[])
        )
        return out

    def _call(self, call: dict[str, Any]) -> list[bytes]:
        out: list[bytes] = []
        index = int(call.get("index", 0))
        if self._open is None or self._open.tool != index:
            out += self.close()
            item = call_item(f"fc_{self._rid}_{len(self._done)}", call, "in_progress")
            item["arguments"] = ""
            self._open = _Open(item, tool=index)
            out.append(self._added(item))
        arguments = (call.get("function") or {}).get("arguments")
        if arguments:
            self._open.text.append(arguments)
            at = self._at()
            del at["content_index"]
            out.append(self._event("response.function_call_arguments.delta", **at, delta=arguments))
        return out

    def _added(self, item: dict[str, Any]) -> bytes:
        return self._event("response.output_item.added", output_index=len(self._done), item=item)

    def _at(self) -> dict[str, Any]:
        assert self._open is not None
        return {
            "item_id": self._open.item["id"],
            "output_index": len(self._done),
            "content_index": 0,
        }

    def close(self) -> list[bytes]:
        """Finish the open item, if any."""
        if self._open is None:
            return []
        opened, at, text = self._open, self._at(), "".join(self._open.text)
        out: list[bytes] = []
        if opened.tool is None:
            item = message_item(opened.item["id"], text)
            out.append(self._event("response.output_text.done", **at, text=text, logprobs=[]))
            part = {"type": "output_text", "text": text, "annotations": []}
            out.append(self._event("response.content_part.done", **at, part=part))
        else:
            item = {**opened.item, "arguments": text, "status": "completed"}
            del at["content_index"]
            done = {"arguments": text, "name": item["name"]}
            out.append(self._event("response.function_call_arguments.done", **at, **done))
        out.append(
            self._event("response.output_item.done", output_index=at["output_index"], item=item)
        )
        self._done.append(item)
        self._open = None
        return out

    def finish(self, usage: Usage, finish_reason: str) -> list[bytes]:
        out = self.close()
        if finish_reason == "length":
            response = self._response("incomplete", usage, "max_output_tokens")
            return [*out, self._event("response.incomplete", response=response)]
        return [
            *out,
            self._event("response.completed", response=self._response("completed", usage)),
        ]

    def error(self, exc: GatewayError) -> bytes:
        return self._event("error", code=exc.code, message=exc.message, param=exc.param)


async def response_events(
    chunks: AsyncIterator[ChatChunk], events: ResponseEvents
) -> AsyncGenerator[bytes, None]:
    for out in events.start():
        yield out
    usage, finish = Usage(), "stop"
    try:
        async for chunk in chunks:
            usage = chunk.usage or usage
            finish = next((c.finish_reason for c in chunk.choices if c.finish_reason), finish)
            for out in events.chunk(chunk):
                yield out
    except GatewayError as exc:
        yield events.error(exc)
        return
    except Exception:
        log.exception("stream failed after the first byte")
        yield events.error(GatewayError("The stream failed."))
        return
    for out in events.finish(usage, finish):
        yield out
