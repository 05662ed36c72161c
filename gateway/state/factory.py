"""Build the shared state from settings: Redis when `HYBRIDGW_REDIS_URL` is set, else in-process."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from gateway.settings import Settings
from gateway.state.memory import (
    LocalBroadcaster,
    MemoryBudgetGuard,
    MemoryRateLimiter,
    MemoryResponseCache,
)
from gateway.state.protocols import BudgetGuard, PolicyBroadcaster, RateLimiter, ResponseCache

if TYPE_CHECKING:  # the guard imports redis: only the Redis branch below needs it at run time
    from gateway.state.guard import OnOutage

# Request-path calls give up quickly, so an outage costs milliseconds, not the request's timeout.
_CONNECT_TIMEOUT_S = 1.0
_READ_TIMEOUT_S = 1.0
_MAX_CONNECTIONS = 64


@dataclass
class SharedState:
    """The four shared-state seams of one process, and how to release them."""

    limiter: RateLimiter
    budgets: BudgetGuard
    cache: ResponseCache
    broadcaster: PolicyBroadcaster
    backend: str = "memory"
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    async def aclose(self) -> None:
        for close in self.closers:
            await close()


def memory_state() -> SharedState:
    return SharedState(
        MemoryRateLimiter(), MemoryBudgetGuard(), MemoryResponseCache(), LocalBroadcaster()
    )


def build_state(settings: Settings, on_outage: OnOutage | None = None) -> SharedState:
    """Connects lazily: building never fails because Redis is down (the failure mode decides)."""
    if not settings.redis_url:
        return memory_state()
    from redis.asyncio import BlockingConnectionPool, Redis

    from gateway.state.broadcast import RedisBroadcaster
    from gateway.state.guard import (
        GuardedBudgetGuard,
        GuardedRateLimiter,
        GuardedResponseCache,
        Outages,
    )
    from gateway.state.redis_state import RedisBudgetGuard, RedisRateLimiter, RedisResponseCache

    pool = BlockingConnectionPool.from_url(
        settings.redis_url,
        max_connections=_MAX_CONNECTIONS,
        timeout=_READ_TIMEOUT_S,
        socket_connect_timeout=_CONNECT_TIMEOUT_S,
        socket_timeout=_READ_TIMEOUT_S,
    )
    redis = Redis(connection_pool=pool)
    # Pub/sub blocks on reads, so it gets its own connection without a read timeout.
    listener = Redis.from_url(settings.redis_url, socket_connect_timeout=_CONNECT_TIMEOUT_S)
    prefix = settings.redis_key_prefix
    outages = Outages(settings.redis_failure_mode, on_outage)
    return SharedState(
        limiter=GuardedRateLimiter(RedisRateLimiter(redis, prefix), outages),
        budgets=GuardedBudgetGuard(RedisBudgetGuard(redis, prefix), outages),
        cache=GuardedResponseCache(RedisResponseCache(redis, prefix), outages),
        broadcaster=RedisBroadcaster(listener, prefix),
        backend="redis",
        closers=[redis.aclose, listener.aclose, pool.aclose],
    )
