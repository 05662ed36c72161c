"""`GuardedBackend`: one model alias behind a circuit breaker, an in-flight cap and a time bound.

* **Bulkhead**: at most `max_in_flight` requests of the alias run at once; one more is refused at
  once with `BackendUnavailable`, so the pipeline moves on to the next candidate instead of
  queueing behind a model that hangs.
* **Time bound**: `timeout_s` (the policy's per-model timeout) covers everything before the answer
  (non-streamed) or the first chunk (streamed) — waiting for a pooled connection included. None
  for in-process models: their own queue bounds the wait (429 when full), and a cancelled
  generation would keep its thread busy anyway.
* **Circuit**: after consecutive failures or timeouts the alias is skipped with
  `BackendUnavailable` (no connection attempt) and probed again with backoff.

A call the backend answered counts as a success even if the answer is an error about the request
(context too long, bad input); a rate limit or a full local queue counts as neither.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace

from gateway.circuit import Circuit
from kernel.errors import (
    BackendError,
    BackendTimeout,
    BackendUnavailable,
    GatewayError,
    RateLimited,
    UpstreamRateLimited,
)
from kernel.protocols import Backend, BackendStatus
from kernel.types import ChatChunk, ChatRequest, ChatResponse


class GuardedBackend:
    def __init__(
        self, inner: Backend, circuit: Circuit, *, max_in_flight: int, timeout_s: float | None
    ) -> None:
        self.inner = inner
        self.name = inner.name
        self.circuit = circuit
        self._max_in_flight = max_in_flight
        self._timeout_s = timeout_s
        self.in_flight = 0

    async def complete(self, req: ChatRequest, *, model: str) -> ChatResponse:
        self._enter()
        try:
            async with asyncio.timeout(self._timeout_s):
                response = await self.inner.complete(req, model=model)
        except BaseException as exc:
            raise self._judge(exc) from exc.__cause__
        finally:
            self.in_flight -= 1
        self.circuit.succeeded()
        return response

    async def stream(self, req: ChatRequest, *, model: str) -> AsyncIterator[ChatChunk]:
        self._enter()
        chunks = aiter(self.inner.stream(req, model=model))
        try:
            try:
                async with asyncio.timeout(self._timeout_s):
                    first = await anext(chunks)
            except StopAsyncIteration:
                self.circuit.succeeded()
                return
            except BaseException as exc:
                raise self._judge(exc) from exc.__cause__
            self.circuit.succeeded()
            yield first
            async for chunk in chunks:  # failures after the first chunk are the stream's own
                yield chunk
        finally:
            self.in_flight -= 1
            aclose = getattr(chunks, "aclose", None)
            if aclose is not None:
                await aclose()

    async def start(self) -> None:
        await self.inner.start()

    def status(self) -> BackendStatus:
        """The inner backend's status, unless this alias's circuit is open."""
        inner = self.inner.status()
        if inner.ready and self.circuit.state == "open":
            return replace(inner, ready=False, reason="failing: skipped until a probe succeeds")
        return inner

    def ignored_params(self, req: ChatRequest, *, model: str) -> frozenset[str]:
        return self.inner.ignored_params(req, model=model)

    async def aclose(self) -> None:
        await self.inner.aclose()

    def _enter(self) -> None:
        if self.in_flight >= self._max_in_flight:
            raise BackendUnavailable(
                f"The model is at its limit of {self._max_in_flight} requests in flight."
            )
        if not self.circuit.allow():
            raise BackendUnavailable("The model is failing; it is skipped until it recovers.")
        self.in_flight += 1

    def _judge(self, exc: BaseException) -> BaseException:
        """Update the circuit for a call that raised `exc`; the exception to raise."""
        if isinstance(exc, TimeoutError):
            self.circuit.failed()
            return BackendTimeout(f"The model did not answer within {self._timeout_s or 0:g} s.")
        if isinstance(exc, RateLimited | UpstreamRateLimited) or not isinstance(exc, GatewayError):
            self.circuit.abandoned()  # busy, cancelled or a bug: says nothing about health
        elif isinstance(exc, BackendError):
            self.circuit.failed()
        else:
            self.circuit.succeeded()
        return exc
