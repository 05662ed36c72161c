"""Fixtures for shared-state tests: each backend built from settings, Redis keys cleaned after."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from gateway.settings import Settings
from gateway.state.factory import SharedState, build_state

REDIS_URL = "redis://127.0.0.1:6379/0"


async def drop_prefix(prefix: str) -> None:
    client = aioredis.Redis.from_url(REDIS_URL)
    try:
        keys = [k async for k in client.scan_iter(match=f"{prefix}:*", count=500)]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


@pytest.fixture
def redis_prefix() -> str:
    return f"hybridgw-test-{uuid.uuid4().hex[:10]}"


@pytest.fixture(params=["memory", "redis"])
async def state(request: pytest.FixtureRequest, redis_prefix: str) -> AsyncIterator[SharedState]:
    url = REDIS_URL if request.param == "redis" else None
    # Fail closed: an outage must surface as an error here, never as a silently admitted call.
    settings = Settings(redis_url=url, redis_key_prefix=redis_prefix, redis_failure_mode="closed")
    built = build_state(settings)
    assert built.backend == request.param
    try:
        yield built
    finally:
        await built.aclose()
        await drop_prefix(redis_prefix)
