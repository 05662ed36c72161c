"""POST /v1/completions — OpenAI's legacy text completions: the prompt becomes one user message.

One prompt string (or a list holding one); `max_tokens` defaults to 16 as at OpenAI. `suffix`,
`echo`, `logprobs`, `best_of` > 1, `n` > 1 and token-array prompts are refused with a 400.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from gateway.api.body import parse_model, read_body
from gateway.api.deps import ServicesDep
from gateway.api.edge import new_request_id, open_exchange, route_headers
from gateway.api.internal import chat_request
from gateway.api.openai.errors import error_body
from gateway.api.openai.sse import DONE
from gateway.api.streaming import RelayedResponse
from gateway.auth import authenticate
from kernel.errors import GatewayError, InvalidRequest
from kernel.types import ChatChunk, ChatRequest, ChatResponse, StreamOptions

log = logging.getLogger(__name__)

router = APIRouter()


class CompletionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str = Field(min_length=1)
    prompt: str | list[str] | list[int] | list[list[int]]
    max_tokens: int = Field(default=16, ge=1)
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, gt=0, le=1)
    n: int | None = None
    best_of: int | None = None
    stream: bool = False
    stream_options: StreamOptions | None = None
    stop: str | list[str] | None = None
    presence_penalty: float | None = Field(default=None, ge=-2, le=2)
    frequency_penalty: float | None = Field(default=None, ge=-2, le=2)
    seed: int | None = None
    user: str | None = None
    suffix: str | None = None
    echo: bool | None = None
    logprobs: int | None = None

    def to_chat(self) -> ChatRequest:
        for name in ("suffix", "echo", "logprobs"):
            if getattr(self, name):
                raise InvalidRequest(f"{name} is not supported.", param=name)
        if (self.best_of or 1) != 1:
            raise InvalidRequest("Only best_of=1 is supported.", param="best_of")
        prompt = self.prompt
        if isinstance(prompt, list):
            if len(prompt) != 1 or not isinstance(prompt[0], str):
                raise InvalidRequest(
                    "prompt must be one string (token arrays and batches are not supported).",
                    param="prompt",
                )
            prompt = prompt[0]
        fields = self.model_dump(
            exclude={"prompt", "best_of", "suffix", "echo", "logprobs"}, exclude_none=True
        )
        return chat_request({**fields, "messages": [{"role": "user", "content": prompt}]})


def _choice(text: str, finish: str | None) -> dict[str, Any]:
    return {"text": text, "index": 0, "logprobs": None, "finish_reason": finish}


def completion_body(response: ChatResponse, request_id: str) -> dict[str, Any]:
    choice = response.choices[0]
    return {
        "id": f"cmpl-{request_id}",
        "object": "text_completion",
        "created": response.created,
        "model": response.model,
        "choices": [_choice(choice.message.content or "", choice.finish_reason)],
        "usage": response.usage.model_dump(),
    }


async def completion_events(
    chunks: AsyncIterator[ChatChunk], request_id: str
) -> AsyncGenerator[bytes, None]:
    """`text_completion` chunks as SSE, then `[DONE]`; a late failure becomes an error event."""
    created = int(time.time())
    try:
        async for chunk in chunks:
            body: dict[str, Any] = {
                "id": f"cmpl-{request_id}",
                "object": "text_completion",
                "created": created,
                "model": chunk.model,
                "choices": [_choice(c.delta.content or "", c.finish_reason) for c in chunk.choices],
            }
            if chunk.usage is not None:
                body["usage"] = chunk.usage.model_dump()
            yield b"data: " + orjson.dumps(body) + b"\n\n"
    except GatewayError as exc:
        yield b"data: " + error_body(exc.message, exc.type, exc.code, exc.param) + b"\n\n"
        return
    except Exception:
        log.exception("stream failed after the first byte")
        yield b"data: " + error_body("The stream failed.", "api_error", "internal_error") + b"\n\n"
        return
    yield DONE


@router.post("/v1/completions")
async def completions(request: Request, services: ServicesDep) -> Response:
    request_id = new_request_id(request)
    policy = services.policies.current
    caller = authenticate(policy.document, request.headers.get("authorization"))
    raw = await read_body(request, services.settings.max_body_bytes)
    req = parse_model(CompletionRequest, raw).to_chat()
    ex = open_exchange(services, request_id, caller, policy, req)
    if req.stream:
        streamed = await services.pipeline.stream(ex)
        events = completion_events(streamed.chunks, request_id)
        return RelayedResponse(streamed, events, route_headers(streamed.route))
    response, route = await services.pipeline.complete(ex)
    return Response(
        orjson.dumps(completion_body(response, request_id)),
        media_type="application/json",
        headers=route_headers(route),
    )
