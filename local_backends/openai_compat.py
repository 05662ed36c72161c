"""Any OpenAI-compatible model server: Ollama, llama.cpp server, vLLM — or a cloud provider.

For a cloud provider that speaks OpenAI's API natively this is the low-overhead path: it skips
litellm's request translation (several ms of CPU per call, measured in bench/).

One pooled aiohttp session per backend, created on first use inside the running event loop.
aiohttp, not httpx: on this path the HTTP client was the largest CPU cost per request in the
profile, and aiohttp spent about a tenth of httpx's CPU per call (docs/benchmarks.md, "Upstream
HTTP client cost"). SSE is parsed line by line; failures map to the gateway's error tree so the
pipeline can fall back.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import orjson
from pydantic import ValidationError

from kernel.errors import (
    BackendError,
    BackendTimeout,
    BackendUnavailable,
    ContextLengthExceeded,
    UpstreamRateLimited,
)
from kernel.protocols import BackendStatus
from kernel.types import ChatChunk, ChatRequest, ChatResponse


class OpenAICompatBackend:
    """`Backend` speaking OpenAI's Chat Completions API over HTTP."""

    name = "openai_compat"

    def __init__(
        self,
        api_base: str,
        *,
        api_key_env: str | None = None,
        timeout_s: float = 60.0,
        max_connections: int = 100,
    ) -> None:
        self._url = api_base.rstrip("/") + "/chat/completions"
        self._headers = {"content-type": "application/json"}
        self._api_key_env = api_key_env
        key = os.environ.get(api_key_env) if api_key_env else None
        if key:
            self._headers["authorization"] = f"Bearer {key}"
        # `connect` includes waiting for a free pooled connection, so that wait is bounded too.
        self._timeout = aiohttp.ClientTimeout(
            total=None, connect=timeout_s, sock_connect=min(5.0, timeout_s), sock_read=timeout_s
        )
        self._max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._max_connections),
                timeout=self._timeout,
                headers=self._headers,
            )
        return self._session

    async def start(self) -> None:
        """Nothing to load; the session is created on first use inside the running loop."""

    def status(self) -> BackendStatus:
        if self._api_key_env and "authorization" not in self._headers:
            return BackendStatus(False, f"the API key variable {self._api_key_env} is not set")
        return BackendStatus(True)

    def ignored_params(self, req: ChatRequest, *, model: str) -> frozenset[str]:
        """Every parameter is forwarded (the server applies what it supports), but for
        `stream_options`, which this backend sets itself to count usage."""
        options = req.stream_options
        if options is not None and options.include_obfuscation is not None:
            return frozenset({"stream_options.include_obfuscation"})
        return frozenset()

    def _check_ready(self) -> None:
        status = self.status()
        if not status.ready:
            raise BackendUnavailable(f"This model is unavailable: {status.reason}.")

    async def complete(self, req: ChatRequest, *, model: str) -> ChatResponse:
        self._check_ready()
        try:
            async with self._client().post(self._url, data=_body(req, model)) as response:
                raw = await response.read()
                status = response.status
        except TimeoutError as exc:
            raise BackendTimeout("The model server timed out.") from exc
        except aiohttp.ClientError as exc:
            raise BackendUnavailable("The model server is unreachable.") from exc
        _raise_for_status(status, raw)
        return ChatResponse.model_validate_json(raw)

    async def stream(self, req: ChatRequest, *, model: str) -> AsyncIterator[ChatChunk]:
        self._check_ready()
        body = _body(req, model, stream=True)
        try:
            async with self._client().post(self._url, data=body) as response:
                if response.status >= 400:
                    _raise_for_status(response.status, await response.read())
                parse = _ChunkParser(model)
                async for line in response.content:
                    if not line.startswith(b"data:"):
                        continue  # comments, `event:`/`id:` fields, blank separators
                    data = line[5:].strip()
                    if data == b"[DONE]":
                        return
                    if data:
                        yield parse(data)
        except TimeoutError as exc:
            raise BackendTimeout("The model server timed out.") from exc
        except aiohttp.ClientError as exc:
            raise BackendUnavailable("The model server is unreachable.") from exc

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()


def _body(req: ChatRequest, model: str, *, stream: bool = False) -> bytes:
    payload: dict[str, Any] = {
        "model": model,
        "messages": [m.wire() for m in req.messages],
        "stream": stream,
        **req.sampling_params(),
        **req.passthrough_params(),
    }
    if stream:
        payload["stream_options"] = {"include_usage": True}
    return orjson.dumps(payload)


class _ChunkParser:
    """Parses one stream's SSE `data:` payloads, liberally: servers that omit `id`/`model`,
    add fields or send events with empty `choices` are accepted; the missing id and model are
    filled in (one id per stream). An error event or a payload that is not a chunk is a
    BackendError (the pipeline may fall back), never a 500."""

    __slots__ = ("_id", "_model")

    def __init__(self, model: str) -> None:
        self._id = f"chatcmpl-{uuid.uuid4().hex}"
        self._model = model

    def __call__(self, data: bytes) -> ChatChunk:
        try:
            raw = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise BackendError("The model server sent a malformed stream event.") from exc
        if not isinstance(raw, dict) or "error" in raw:
            raise BackendError("The model server reported an error mid-stream.")
        try:
            chunk = ChatChunk.model_validate(raw)
        except ValidationError as exc:
            raise BackendError("The model server sent an invalid stream event.") from exc
        if chunk.id and chunk.model:
            return chunk
        return chunk.model_copy(
            update={"id": chunk.id or self._id, "model": chunk.model or self._model}
        )


def _raise_for_status(status: int, raw: bytes) -> None:
    if status < 400:
        return
    if status == 429:
        raise UpstreamRateLimited("The model server is rate limiting.")
    if status == 400 and b"context" in raw.lower():
        raise ContextLengthExceeded("The prompt is longer than the model's context window.")
    raise BackendError(f"The model server answered HTTP {status}.")
