"""Chaos fixtures: TCP proxies in front of the real PostgreSQL and Redis, a throwaway PG schema."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import psycopg
import pytest
import redis.asyncio as aioredis
from chaos_proxy import ChaosProxy

PG_BASE = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture
def pg_proxy() -> Iterator[ChaosProxy]:
    proxy = ChaosProxy(5432).start()
    yield proxy
    proxy.stop()


@pytest.fixture
def redis_proxy() -> Iterator[ChaosProxy]:
    proxy = ChaosProxy(6379).start()
    yield proxy
    proxy.stop()


@pytest.fixture
def pg_schema() -> Iterator[str]:
    """A fresh schema name (dropped afterwards); `pg_url(port, schema)` reaches it."""
    schema = f"chaos_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_BASE, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield schema
    finally:
        with psycopg.connect(PG_BASE, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture
async def redis_prefix() -> AsyncIterator[str]:
    """A fresh Redis key prefix; its keys are deleted afterwards."""
    prefix = f"hybridgw-chaos-{uuid.uuid4().hex[:10]}"
    yield prefix
    client = aioredis.Redis.from_url("redis://127.0.0.1:6379/0")
    try:
        keys = [k async for k in client.scan_iter(match=f"{prefix}:*", count=500)]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()
