"""Hold-back: a local stream that may escalate is judged on its first tokens before it is sent.

When the decision carries an escalation and its local first choice streams, the first
`hold_back_tokens` tokens are held from the client (its first byte waits for them) and judged
like a whole answer (`escalation.stream_confidence`). Confident — or nothing to judge by, as
for tool calls or a backend without logprobs — the held chunks are replayed and the local
stream continues. Low (also when the answer ended within the window): the escalation target
streams its outgoing copy; once it yields a first chunk the local stream is closed (llama.cpp
stops generating) and the client gets only the target's answer. If the target fails first, the
local answer stands. Nothing here decides where text may go: it acts on `decision.escalation`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace

from gateway.pipeline.dispatch import Dispatcher, OpenStream, Served
from gateway.pipeline.escalation import below_threshold, chunk_without_logprobs, stream_confidence
from gateway.pipeline.exchange import Exchange, Route
from gateway.pipeline.planning import Plan
from kernel.errors import GatewayError
from kernel.types import ChatChunk
from router.decision import Target

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Window:
    """The chunks held back, and the local stream's failure within the window if it failed."""

    held: tuple[ChatChunk, ...]
    error: GatewayError | None = None


async def hold_back(
    ex: Exchange, plan: Plan, route: Route, served: Served[OpenStream], dispatcher: Dispatcher
) -> tuple[Served[OpenStream], Route]:
    """The stream the client gets: the local one, or the escalation target's (then escalated)."""
    escalation = plan.decision.escalation
    if escalation is None or served.target != plan.decision.target:
        return served, route
    local = served.result
    try:
        window = await _window(local, escalation.hold_back_tokens)
        if window.error is None and below_threshold(plan, stream_confidence(window.held)):
            answer = await _escalated(ex, plan, escalation.target, dispatcher)
            if answer is not None:
                await _close(local.rest)
                route = replace(route, target=escalation.target, escalated=True)
                return Served(escalation.target, served.fallback_used, answer), route
    except BaseException:
        await _close(local.rest)
        raise
    return replace(served, result=_replay(window, local.rest, strip=not ex.request.logprobs)), route


async def _window(stream: OpenStream, size: int) -> _Window:
    """Read until `size` tokens are held, the stream ends, or a chunk's text has no logprobs."""
    if stream.first is None:
        return _Window(())
    held = [stream.first]
    tokens = _tokens(stream.first)
    try:
        while tokens is not None and tokens < size:
            chunk = await anext(stream.rest, None)
            if chunk is None:
                break
            held.append(chunk)
            more = _tokens(chunk)
            tokens = None if more is None else tokens + more
    except GatewayError as exc:  # replayed after the held chunks, as it would have come
        return _Window(tuple(held), exc)
    return _Window(tuple(held))


def _tokens(chunk: ChatChunk) -> int | None:
    """Tokens the chunk's logprobs cover; None when it carries text without them."""
    count = 0
    for choice in chunk.choices:
        entries = (choice.logprobs or {}).get("content") or []
        if choice.delta.content and not entries:
            return None
        count += len(entries)
    return count


async def _escalated(
    ex: Exchange, plan: Plan, target: Target, dispatcher: Dispatcher
) -> OpenStream | None:
    """`target`'s stream once it has a first chunk; None if it failed first."""
    try:
        answer = await dispatcher.ask_stream(ex, plan, target)
    except GatewayError as exc:  # the local answer stands
        log.warning("escalation to %s failed: %s", target.alias, exc.code)
        return None
    if answer.first is None:  # an empty answer replaces nothing
        await _close(answer.rest)
        return None
    return answer


def _replay(window: _Window, rest: AsyncIterator[ChatChunk], *, strip: bool) -> OpenStream:
    """The local stream again from its start: the held chunks, then the rest."""

    def clean(chunk: ChatChunk) -> ChatChunk:
        return chunk_without_logprobs(chunk) if strip else chunk

    async def chunks() -> AsyncIterator[ChatChunk]:
        try:
            for chunk in window.held[1:]:
                yield clean(chunk)
            if window.error is not None:
                raise window.error
            async for chunk in rest:
                yield clean(chunk)
        finally:
            await _close(rest)

    first = clean(window.held[0]) if window.held else None
    return OpenStream(first, chunks())


async def _close(chunks: AsyncIterator[ChatChunk]) -> None:
    """Close a stream early (a local generation stops at its next token)."""
    aclose = getattr(chunks, "aclose", None)
    if aclose is not None:
        await aclose()
