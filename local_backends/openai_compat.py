"""Any OpenAI-compatible model server: Ollama, llama.cpp server, vLLM — or a cloud provider.

For a cloud provider that speaks OpenAI's API natively this is the low-overhead path: it skips
litellm's request translation (several ms of CPU per call, measured in bench/).

One pooled `httpx.AsyncClient` per backend; connect/read timeouts; SSE streaming parsed line by
line. Failures map to the gateway's error tree so the pipeline can fall back.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from typing import Any

import httpx

from router.errors import (
    BackendError,
    BackendTimeout,
    BackendUnavailable,
    ContextLengthExceeded,
    UpstreamRateLimited,
)
from router.types import ChatChunk, ChatRequest, ChatResponse


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
        headers = {"content-type": "application/json"}
        key = os.environ.get(api_key_env) if api_key_env else None
        if key:
            headers["authorization"] = f"Bearer {key}"
        self._client = httpx.AsyncClient(
            base_url=api_base.rstrip("/"),
            headers=headers,
            timeout=httpx.Timeout(timeout_s, connect=min(5.0, timeout_s)),
            limits=httpx.Limits(max_connections=max_connections),
        )

    async def complete(self, req: ChatRequest, *, model: str) -> ChatResponse:
        try:
            response = await self._client.post("/chat/completions", content=_body(req, model))
        except httpx.TimeoutException as exc:
            raise BackendTimeout("The model server timed out.") from exc
        except httpx.TransportError as exc:
            raise BackendUnavailable("The model server is unreachable.") from exc
        _raise_for_status(response.status_code, response.text)
        return ChatResponse.model_validate(response.json())

    async def stream(self, req: ChatRequest, *, model: str) -> AsyncIterator[ChatChunk]:
        body = _body(req, model, stream=True)
        try:
            async with self._client.stream("POST", "/chat/completions", content=body) as response:
                if response.status_code >= 400:
                    _raise_for_status(response.status_code, (await response.aread()).decode())
                async for line in response.aiter_lines():
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        return
                    yield ChatChunk.model_validate_json(data)
        except httpx.TimeoutException as exc:
            raise BackendTimeout("The model server timed out.") from exc
        except httpx.TransportError as exc:
            raise BackendUnavailable("The model server is unreachable.") from exc

    async def aclose(self) -> None:
        await self._client.aclose()


def _body(req: ChatRequest, model: str, *, stream: bool = False) -> bytes:
    payload: dict[str, Any] = {
        "model": model,
        "messages": [m.model_dump(exclude_none=True) for m in req.messages],
        "stream": stream,
        **req.sampling_params(),
    }
    if stream:
        payload["stream_options"] = {"include_usage": True}
    return json.dumps(payload).encode()


def _raise_for_status(status: int, text: str) -> None:
    if status < 400:
        return
    if status == 429:
        raise UpstreamRateLimited("The model server is rate limiting.")
    if status == 400 and "context" in text.lower():
        raise ContextLengthExceeded("The prompt is longer than the model's context window.")
    raise BackendError(f"The model server answered HTTP {status}.")
