"""Dispatch: try the decision's candidates in order until one answers (complete and stream alike).

A candidate that fails before its first byte (connect error, 5xx, timeout, unavailable) is
replaced by the next; after the first byte the answer is committed to it. The candidates and
what each may see come from the plan; nothing here decides where text may go.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Generic, TypeVar

from gateway.backends import BackendPool
from gateway.pipeline.escalation import asks_confidence, with_logprobs
from gateway.pipeline.exchange import Exchange
from gateway.pipeline.planning import Plan
from gateway.tracing import traced
from kernel.errors import BackendError, BackendTimeout, BackendUnavailable
from kernel.protocols import Backend
from kernel.types import ChatChunk, ChatRequest, ChatResponse
from router.decision import Target

log = logging.getLogger(__name__)

T = TypeVar("T")
Attempt = Callable[[Backend, ChatRequest, Target], Awaitable[T]]


@dataclass(frozen=True, slots=True)
class Served(Generic[T]):
    """The candidate that answered, and what it returned."""

    target: Target
    fallback_used: bool
    result: T


@dataclass(frozen=True, slots=True)
class OpenStream:
    first: ChatChunk | None
    rest: AsyncIterator[ChatChunk]


class Dispatcher:
    def __init__(self, backends: BackendPool, request_timeout_s: float) -> None:
        self._backends = backends
        self._timeout_s = request_timeout_s

    @traced("hybridgw.dispatch")
    async def complete(self, ex: Exchange, plan: Plan) -> Served[ChatResponse]:
        async def attempt(backend: Backend, req: ChatRequest, target: Target) -> ChatResponse:
            if asks_confidence(plan, target):
                req = with_logprobs(req)  # the escalation stage judges the answer by them
            return await backend.complete(req, model=target.model)

        return await self._first_answer(ex, plan, attempt)

    async def ask(self, ex: Exchange, plan: Plan, target: Target) -> ChatResponse:
        """One target outside the candidate loop (an escalation), with its outgoing copy."""
        backend = self._backends.get(target.alias)
        async with self._deadline(ex):
            return await backend.complete(plan.protection.outgoing(target), model=target.model)

    async def ask_stream(self, ex: Exchange, plan: Plan, target: Target) -> OpenStream:
        """`ask`, streamed: one target's stream, open once it yields its first chunk."""
        backend = self._backends.get(target.alias)
        async with self._deadline(ex):
            return await _open(backend, plan.protection.outgoing(target), target)

    @traced("hybridgw.open_stream")
    async def open_stream(self, ex: Exchange, plan: Plan) -> Served[OpenStream]:
        async def attempt(backend: Backend, req: ChatRequest, target: Target) -> OpenStream:
            if asks_confidence(plan, target):
                req = with_logprobs(req)  # the hold-back judges the stream's first tokens
            return await _open(backend, req, target)

        return await self._first_answer(ex, plan, attempt)

    async def _first_answer(self, ex: Exchange, plan: Plan, attempt: Attempt[T]) -> Served[T]:
        """The one candidate loop: each candidate gets its outgoing copy within the deadline."""
        last: BackendError | None = None
        for index, target in enumerate(plan.decision.candidates()):
            outgoing = plan.protection.outgoing(target)
            try:
                backend = self._backends.get(target.alias)
                async with self._deadline(ex):
                    result = await attempt(backend, outgoing, target)
            except BackendError as exc:
                log.warning("backend %s failed: %s", target.alias, exc.code)
                last = exc
                continue
            return Served(target, index > 0, result)
        if last is None or plan.decision.withheld_reason:
            raise BackendUnavailable(_nothing_left(plan)) from last
        raise last

    @asynccontextmanager
    async def _deadline(self, ex: Exchange) -> AsyncIterator[None]:
        """Bound a backend call by what is left of the request's time budget (504 after)."""
        left = ex.started + self._timeout_s - time.perf_counter()
        try:
            async with asyncio.timeout(max(0.0, left)):
                yield
        except TimeoutError:
            raise BackendTimeout(
                f"No answer within the gateway's limit of {self._timeout_s:g} s."
            ) from None


async def _open(backend: Backend, req: ChatRequest, target: Target) -> OpenStream:
    chunks = aiter(backend.stream(req, model=target.model))
    try:
        first: ChatChunk | None = await anext(chunks)
    except StopAsyncIteration:
        first = None
    return OpenStream(first, chunks)


def _nothing_left(plan: Plan) -> str:
    reason = plan.decision.withheld_reason
    if reason:
        return f"No allowed backend: the local tier failed and the cloud is withheld ({reason})."
    return "No backend is available for this request."
