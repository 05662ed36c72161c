"""The immutable values a request is carried in: built at the edge, returned by the stages."""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass, field

from gateway.auth import Caller
from kernel.types import ChatChunk, ChatRequest
from policies.loader import LoadedPolicy
from policies.pii import RequestFindings
from router.decision import Features, RouteDecision, Target


@dataclass(frozen=True, slots=True)
class Exchange:
    """One request as the edge received it, with the policy snapshot every stage reads.

    The policy is pinned once, at the edge: authentication, limits and routing all see the same
    version even if a reload lands while the request is in flight.
    """

    request_id: str
    caller: Caller
    policy: LoadedPolicy
    request: ChatRequest
    started: float = field(default_factory=time.perf_counter)

    def elapsed_ms(self) -> float:
        return (time.perf_counter() - self.started) * 1000


@dataclass(frozen=True, slots=True)
class Route:
    """What served a request; becomes the `x-route-*` headers and part of the ledger entry."""

    request_id: str
    decision: RouteDecision
    policy_version: str
    target: Target | None = None
    fallback_used: bool = False
    cache_hit: bool = False
    escalated: bool = False  # a low-confidence local answer was replaced by the cloud's


@dataclass(frozen=True, slots=True)
class Explanation:
    """Planning without a backend call: what `explain` reports."""

    policy_version: str
    features: Features
    decision: RouteDecision
    findings: RequestFindings


@dataclass(frozen=True, slots=True)
class Streamed:
    """A started stream. Whoever serves it calls `close()` when done, however it ended: the
    relay's own ending runs if it started, and a stream nobody read (the client left before
    the first byte was sent) is recorded as abandoned, once."""

    route: Route
    chunks: AsyncGenerator[ChatChunk, None]
    abandon: Callable[[], Awaitable[None]]

    async def close(self) -> None:
        await self.chunks.aclose()
        await self.abandon()
