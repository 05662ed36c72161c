"""Helpers shared by the shared-state tests (a module of its own: conftest names are ambiguous)."""

from __future__ import annotations

import redis.asyncio as aioredis

REDIS_URL = "redis://127.0.0.1:6379/0"


async def drop_prefix(prefix: str) -> None:
    """Delete every Redis key of one test run."""
    client = aioredis.Redis.from_url(REDIS_URL)
    try:
        keys = [k async for k in client.scan_iter(match=f"{prefix}:*", count=500)]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()
