"""An OpenAI-compatible mock cloud on 127.0.0.1 that records every request it receives.

Used by the tests (to assert exactly what a cloud provider would have seen), by `hybridgw demo`
and by the benchmarks. A plain asyncio HTTP/1.1 server with keep-alive, so it is never the
bottleneck of a measurement. The model name steers its behaviour:

* ``…fail-<status>…``  answer with that HTTP status and an OpenAI error body;
* ``…slow-<ms>…``      wait that long before answering (to trigger client timeouts);
* anything else        answer ``"echo: <last user message>"`` — so placeholders sent up come
  back down, which is how the PII tests check restoration. Streams split the answer into
  ``stream_piece``-character pieces (small, to split placeholders across chunks).
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

_FAIL = re.compile(r"fail-(\d{3})")
_SLOW = re.compile(r"slow-(\d+)")
_REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


@dataclass(frozen=True, slots=True)
class Recorded:
    """One request as the mock received it, byte for byte."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class MockUpstream:
    """Start with `start()` (in a background thread) or `await serve()` in a running loop."""

    host: str = "127.0.0.1"
    port: int = 0
    stream_piece: int = 3
    record: bool = True
    requests: list[Recorded] = field(default_factory=list)
    _server: asyncio.AbstractServer | None = None
    _handlers: set[asyncio.Task[None]] = field(default_factory=set)
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def raw_bytes(self) -> bytes:
        """Everything received (headers and bodies), to search for leaked values."""
        parts: list[bytes] = []
        for r in self.requests:
            parts.append("\n".join(f"{k}: {v}" for k, v in r.headers.items()).encode())
            parts.append(r.body)
        return b"\n".join(parts)

    async def serve(self) -> None:
        self._server = await asyncio.start_server(self._handle, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    def start(self) -> MockUpstream:
        ready = threading.Event()

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            self._loop.run_until_complete(self.serve())
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name="mock-upstream", daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def stop(self) -> None:
        """Close the listener and every open keep-alive connection, then end the thread."""
        if self._loop and self._server:
            asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(5)
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread:
            self._thread.join(5)

    async def _shutdown(self) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._handlers):
            task.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        k, v = line.split(":", 1)
                        headers[k.strip().lower()] = v.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                if self.record:
                    self.requests.append(Recorded(method, path, headers, body))
                await self._respond(writer, path, body)
                if headers.get("connection", "").lower() == "close":
                    break
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        finally:
            self._handlers.discard(task)
            writer.close()

    async def _respond(self, writer: asyncio.StreamWriter, path: str, body: bytes) -> None:
        if not path.rstrip("/").endswith("/chat/completions"):
            return self._send(writer, 404, _error("not found", "not_found"))
        try:
            payload = json.loads(body)
        except json.JSONDecodeError:
            return self._send(writer, 400, _error("invalid JSON", "invalid_request"))
        model = str(payload.get("model", "mock"))
        if slow := _SLOW.search(model):
            await asyncio.sleep(int(slow.group(1)) / 1000)
        if fail := _FAIL.search(model):
            return self._send(writer, int(fail.group(1)), _error("mock failure", "mock_failure"))
        text = "echo: " + _last_user_text(payload.get("messages", []))
        usage = {
            "prompt_tokens": _count(payload),
            "completion_tokens": len(text.split()),
            "total_tokens": 0,
        }
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        if payload.get("stream"):
            include_usage = bool((payload.get("stream_options") or {}).get("include_usage"))
            events = list(
                _stream_events(model, text, usage if include_usage else None, self.stream_piece)
            )
            writer.write(
                b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
                b"transfer-encoding: chunked\r\n\r\n"
            )
            for event in events:
                writer.write(b"%x\r\n%s\r\n" % (len(event), event))
            writer.write(b"0\r\n\r\n")
            await writer.drain()
            return None
        self._send(
            writer,
            200,
            {
                "id": "chatcmpl-mock",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": text},
                        "finish_reason": "stop",
                    }
                ],
                "usage": usage,
            },
        )
        return None

    @staticmethod
    def _send(writer: asyncio.StreamWriter, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        reason = _REASONS.get(status, "Error").encode()
        writer.write(
            b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\n"
            b"content-length: %d\r\n\r\n%s" % (status, reason, len(data), data)
        )


def _stream_events(
    model: str, text: str, usage: dict[str, int] | None, piece: int
) -> Iterator[bytes]:
    base = {
        "id": "chatcmpl-mock",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
    }

    def event(obj: dict[str, Any]) -> bytes:
        return b"data: " + json.dumps({**base, **obj}).encode() + b"\n\n"

    yield event(
        {
            "choices": [
                {"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}
            ]
        }
    )
    for i in range(0, len(text), piece):
        yield event(
            {
                "choices": [
                    {"index": 0, "delta": {"content": text[i : i + piece]}, "finish_reason": None}
                ]
            }
        )
    yield event({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    if usage is not None:
        yield event({"choices": [], "usage": usage})
    yield b"data: [DONE]\n\n"


def _last_user_text(messages: list[dict[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, list):
                return " ".join(p.get("text", "") for p in content if p.get("type") == "text")
            return str(content or "")
    return ""


def _count(payload: dict[str, Any]) -> int:
    return sum(len(str(m.get("content", "")).split()) for m in payload.get("messages", []))


def _error(message: str, code: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": "api_error", "param": None, "code": code}}
