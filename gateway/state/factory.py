"""Build the shared state from settings: Redis when `HYBRIDGW_REDIS_URL` is set, else in-process."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from gateway.circuit import Circuit, circuit_config
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

_MAX_CONNECTIONS = 64


@dataclass
class SharedState:
    """The four shared-state seams of one process, and how to release them."""

    limiter: RateLimiter
    budgets: BudgetGuard
    cache: ResponseCache
    broadcaster: PolicyBroadcaster
    backend: str = "memory"
    circuits: list[Circuit] = field(default_factory=list)
    fail_closed: bool = False  # Redis unreachable → refuse requests
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    async def aclose(self) -> None:
        for close in self.closers:
            await close()


def memory_state() -> SharedState:
    return SharedState(
        MemoryRateLimiter(), MemoryBudgetGuard(), MemoryResponseCache(), LocalBroadcaster()
    )


def build_state(settings: Settings, on_outage: OnOutage | None = None) -> SharedState:
    """The state `STATES` names for the settings: Redis when a URL is set, else in-process."""
    return STATES["redis" if settings.redis_url else "memory"](settings, on_outage)


def _memory(settings: Settings, on_outage: OnOutage | None) -> SharedState:
    return memory_state()


def _redis(settings: Settings, on_outage: OnOutage | None) -> SharedState:
    """Connects lazily: building never fails because Redis is down (the failure mode decides)."""
    assert settings.redis_url is not None
    from redis.asyncio import BlockingConnectionPool, Redis

    from gateway.state.broadcast import RedisBroadcaster
    from gateway.state.guard import (
        GuardedBudgetGuard,
        GuardedRateLimiter,
        GuardedResponseCache,
        Outages,
    )
    from gateway.state.redis_state import RedisBudgetGuard, RedisRateLimiter, RedisResponseCache

    # Request-path calls give up quickly (HYBRIDGW_REDIS_TIMEOUT_S), and the circuit stops
    # making them at all after a few misses, so an outage costs milliseconds per request.
    timeout = settings.redis_timeout_s
    pool = BlockingConnectionPool.from_url(
        settings.redis_url,
        max_connections=_MAX_CONNECTIONS,
        timeout=timeout,
        socket_connect_timeout=timeout,
        socket_timeout=timeout,
    )
    redis = Redis(connection_pool=pool)
    # Pub/sub blocks on reads, so it gets its own connection without a read timeout.
    listener = Redis.from_url(settings.redis_url, socket_connect_timeout=timeout)
    prefix = settings.redis_key_prefix
    circuit = Circuit("redis", circuit_config(settings))
    outages = Outages(settings.redis_failure_mode, on_outage, circuit)
    return SharedState(
        limiter=GuardedRateLimiter(RedisRateLimiter(redis, prefix), outages),
        budgets=GuardedBudgetGuard(RedisBudgetGuard(redis, prefix), outages),
        cache=GuardedResponseCache(RedisResponseCache(redis, prefix), outages),
        broadcaster=RedisBroadcaster(listener, prefix),
        backend="redis",
        circuits=[circuit],
        fail_closed=settings.redis_failure_mode == "closed",
        closers=[redis.aclose, listener.aclose, pool.aclose],
    )


STATES: dict[str, Callable[[Settings, OnOutage | None], SharedState]] = {
    "memory": _memory,
    "redis": _redis,
}
"""The named shared-state backends (Redis's driver is imported only when it is built)."""
