"""Fixtures for shared-state tests: each backend built from settings, Redis keys cleaned after."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from state_support import REDIS_URL, drop_prefix

from gateway.settings import Settings
from gateway.state.factory import SharedState, build_state


@pytest.fixture
def redis_prefix() -> str:
    return f"hybridgw-test-{uuid.uuid4().hex[:10]}"


@pytest.fixture(params=["memory", "redis"])
async def state(request: pytest.FixtureRequest, redis_prefix: str) -> AsyncIterator[SharedState]:
    url = REDIS_URL if request.param == "redis" else None
    # Fail closed: an outage must surface as an error here, never as a silently admitted call.
    # A generous call timeout: these tests are about limiter semantics, and a loaded machine can
    # make one of 60 concurrent calls slower than the 1 s default (the chaos tests cover timeouts).
    settings = Settings(
        redis_url=url,
        redis_key_prefix=redis_prefix,
        redis_failure_mode="closed",
        redis_timeout_s=10.0,
    )
    built = build_state(settings)
    assert built.backend == request.param
    try:
        yield built
    finally:
        await built.aclose()
        await drop_prefix(redis_prefix)
