"""Fixtures for ledger tests: a throwaway PostgreSQL schema and both stores."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psycopg
import pytest

from gateway.ledger.postgres import PostgresLedger
from gateway.ledger.sqlite import SqliteLedger
from kernel.protocols import Ledger

PG_BASE = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A URL whose search_path is a fresh schema, dropped afterwards."""
    schema = f"ledger_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_BASE, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{PG_BASE}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(PG_BASE, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture
async def sqlite_ledger(tmp_path: Path) -> AsyncIterator[SqliteLedger]:
    ledger = await SqliteLedger.open(tmp_path / "ledger.db")
    yield ledger
    await ledger.aclose()


@pytest.fixture
async def pg_ledger(pg_url: str) -> AsyncIterator[PostgresLedger]:
    ledger = await PostgresLedger.open(pg_url)
    yield ledger
    await ledger.aclose()


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest) -> Ledger:
    name = "sqlite_ledger" if request.param == "sqlite" else "pg_ledger"
    ledger: Ledger = request.getfixturevalue(name)
    return ledger
