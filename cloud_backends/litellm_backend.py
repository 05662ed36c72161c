"""Cloud models through litellm: the only module of the gateway that imports it.

Each model alias gets one `LiteLLMBackend` carrying its `api_base`, key (read from the environment
variable the policy names) and timeout. litellm's own retries are off: the pipeline's fallbacks
decide what happens on failure, and a retry storm must not hide an outage. Prompts are never logged.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from typing import Any

from cloud_backends import litellm_caps
from kernel.errors import (
    BackendError,
    BackendTimeout,
    BackendUnavailable,
    ContextLengthExceeded,
    GatewayError,
    InvalidRequest,
    UpstreamRateLimited,
)
from kernel.protocols import BackendStatus
from kernel.types import ChatChunk, ChatRequest, ChatResponse


def import_litellm() -> Any:
    """Import litellm with its bundled price map (it must not try to download one at start-up)."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    litellm.suppress_debug_info = True
    litellm.turn_off_message_logging = True
    return litellm


class LiteLLMBackend:
    """`Backend` for one cloud model alias."""

    name = "litellm"

    def __init__(
        self,
        *,
        api_base: str | None = None,
        api_key_env: str | None = None,
        timeout_s: float = 60.0,
    ) -> None:
        self._litellm = import_litellm()
        self._api_base = api_base
        self._api_key_env = api_key_env
        self._timeout_s = timeout_s

    async def start(self) -> None:
        """Nothing to load: litellm pools its HTTP clients process-wide."""

    def status(self) -> BackendStatus:
        """Not ready when the policy's key variable is unset (a provider's implicit key
        variable, used without `api_key_env`, is checked per model at call time)."""
        problem = litellm_caps.key_problem(self._litellm, None, self._api_base, self._api_key_env)
        return BackendStatus(problem is None, problem)

    def ignored_params(self, req: ChatRequest, *, model: str) -> frozenset[str]:
        return litellm_caps.forwarded(self._litellm, req, model)[1]

    async def complete(self, req: ChatRequest, *, model: str) -> ChatResponse:
        kwargs = self._kwargs(req, model, stream=False)
        try:
            async with asyncio.timeout(self._timeout_s):
                response = await self._litellm.acompletion(**kwargs)
        except Exception as exc:
            raise map_litellm_error(exc) from exc
        return ChatResponse.model_validate(response.model_dump())

    async def stream(self, req: ChatRequest, *, model: str) -> AsyncIterator[ChatChunk]:
        """Chunks as they arrive; `timeout_s` bounds the wait for the first and each next one."""
        kwargs = self._kwargs(req, model, stream=True)
        try:
            async with asyncio.timeout(self._timeout_s):
                response = await self._litellm.acompletion(**kwargs)
            chunks = aiter(response)
            while True:
                async with asyncio.timeout(self._timeout_s):
                    chunk = await anext(chunks, None)
                if chunk is None:
                    return
                yield ChatChunk.model_validate(chunk.model_dump())
        except GatewayError:
            raise
        except Exception as exc:
            raise map_litellm_error(exc) from exc

    def _kwargs(self, req: ChatRequest, model: str, *, stream: bool) -> dict[str, Any]:
        """litellm's arguments; refuses (before any call) a missing key or an oversized prompt."""
        problem = litellm_caps.key_problem(self._litellm, model, self._api_base, self._api_key_env)
        if problem is not None:
            raise BackendUnavailable(f"The cloud model {model} is unavailable: {problem}.")
        messages = [m.wire() for m in req.messages]
        litellm_caps.check_context(self._litellm, req, model, messages)
        kwargs: dict[str, Any] = {
            "model": model,
            "messages": messages,
            "stream": stream,
            "timeout": self._timeout_s,
            "max_retries": 0,
            "num_retries": 0,
            "drop_params": True,
            **req.sampling_params(),
            **litellm_caps.forwarded(self._litellm, req, model)[0],
        }
        if stream:
            kwargs["stream_options"] = {"include_usage": True}
        if self._api_base:
            kwargs["api_base"] = self._api_base
        if self._api_key_env:
            kwargs["api_key"] = os.environ[self._api_key_env]
        elif self._api_base:
            kwargs["api_key"] = "unused"  # keyless OpenAI-compatible endpoint; the SDK wants one
        return kwargs

    async def aclose(self) -> None:
        """litellm pools its HTTP clients process-wide; nothing to release per alias."""


def map_litellm_error(exc: Exception) -> GatewayError:
    """Translate a litellm (OpenAI-style) exception into the gateway's error tree."""
    kind = type(exc).__name__
    status = getattr(exc, "status_code", None)
    if isinstance(exc, TimeoutError) or kind in ("Timeout", "APITimeoutError") or status == 408:
        return BackendTimeout("The cloud model timed out.")
    if kind == "ContextWindowExceededError":
        return ContextLengthExceeded("The prompt is longer than the cloud model's context window.")
    if kind == "RateLimitError" or status == 429:
        return UpstreamRateLimited("The cloud provider is rate limiting this gateway.")
    if kind == "APIConnectionError" and status in (None, 500):
        return BackendUnavailable("The cloud provider is unreachable.")
    if kind in ("BadRequestError", "UnprocessableEntityError") and status in (400, 422):
        return InvalidRequest("The cloud model rejected the request as invalid.")
    if kind in ("AuthenticationError", "PermissionDeniedError", "NotFoundError"):
        return BackendError(f"The cloud provider refused the gateway's call ({kind}).")
    return BackendError(f"The cloud provider failed (HTTP {status or 'error'}).")
