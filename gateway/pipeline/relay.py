"""Relay: forward a stream with PII restored, keep its tally, and report how it ended.

Usage follows one counting rule for streamed and non-streamed answers (`usage_of`): the
backend's own usage when it reports one, else the prompt and answer text estimated the same way.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass

from gateway.pipeline.dispatch import OpenStream, Served
from gateway.pipeline.exchange import Exchange, Route
from gateway.pipeline.outcome import Outcome
from gateway.privacy import Protection
from kernel.errors import GatewayError
from kernel.text import estimate_prompt_tokens, tokens_for_chars
from kernel.types import ChatChunk, ChatRequest, ChatResponse, Usage


def usage_of(req: ChatRequest, reported: Usage | None, answer_chars: int) -> Usage:
    """The backend's usage if it gave one, else estimates (prompt text and answer text)."""
    if reported is not None and reported.total_tokens > 0:
        return Usage.of(reported.prompt_tokens, reported.completion_tokens)
    completion = tokens_for_chars(answer_chars) if answer_chars else 0
    return Usage.of(estimate_prompt_tokens(req), completion)


def response_usage(req: ChatRequest, response: ChatResponse) -> Usage:
    answer = "".join(c.message.content or "" for c in response.choices)
    return usage_of(req, response.usage, len(answer))


@dataclass(slots=True)
class _Tally:
    """Running totals of one stream (private to the relay)."""

    reported: Usage | None = None
    answer_chars: int = 0
    ttft_ms: float | None = None


async def relay(
    ex: Exchange,
    route: Route,
    served: Served[OpenStream],
    protection: Protection,
    finish: Callable[[Outcome], Awaitable[None]],
) -> AsyncGenerator[ChatChunk, None]:
    """Yield the answer's chunks, restored; emit usage if asked; `finish` once when it ends."""
    tally = _Tally()
    restorer = protection.stream_restorer(served.target)
    req = ex.request
    status, error = 200, None
    try:
        first, rest = served.result.first, served.result.rest
        pending = [first] if first is not None else []
        while True:
            chunk = pending.pop() if pending else await anext(rest, None)
            if chunk is None:
                break
            if tally.ttft_ms is None:
                tally.ttft_ms = (time.perf_counter() - ex.started) * 1000
            if chunk.usage is not None:
                tally.reported = chunk.usage
                if not chunk.choices:
                    continue  # re-emitted below, after any held-back text
                chunk = chunk.model_copy(update={"usage": None})
            for choice in chunk.choices:
                tally.answer_chars += len(choice.delta.content or "")
            for out in restorer.feed(chunk):
                yield out
        for out in restorer.flush(f"chatcmpl-{ex.request_id}", served.target.model):
            yield out
        if req.wants_usage_chunk():
            usage = usage_of(req, tally.reported, tally.answer_chars)
            yield ChatChunk(id=f"chatcmpl-{ex.request_id}", model=served.target.model, usage=usage)
    except GatewayError as exc:
        status, error = exc.status, exc.code
        raise
    except (asyncio.CancelledError, GeneratorExit):  # the client left mid-way
        status, error = 499, "client_closed_request"
        raise
    finally:
        usage = usage_of(req, tally.reported, tally.answer_chars)
        await finish(Outcome(route, usage, tally.ttft_ms, status, error))
