"""Fixtures for ledger tests: a throwaway PostgreSQL schema, both stores, seeded sample records."""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from gateway.ledger.postgres import PostgresLedger
from gateway.ledger.sqlite import SqliteLedger
from kernel.protocols import Ledger, LedgerEntry

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


START = datetime(2026, 11, 1, tzinfo=UTC)


def sample_entries(n: int = 300, seed: int = 7) -> list[LedgerEntry]:
    """A seeded mixed workload over 5 days: tiers, tenants, apps, errors, fallbacks, PII."""
    rng = random.Random(seed)
    entries = []
    for i in range(n):
        tier = rng.choice(["local", "local", "local", "cloud", None])
        status = 200 if tier else rng.choice([403, 429, 503])
        prompt, completion = rng.randint(5, 900), rng.randint(0, 400) if tier else 0
        cloud_model = rng.choice(["gpt-4o-mini", "gpt-4o"])
        model = {"local": "local", "cloud": cloud_model, None: None}[tier]
        counterfactual = (prompt * 2.5e-6 + completion * 1e-5) if tier else 0.0
        cost = {"local": 0.0, "cloud": prompt * 1.5e-7 + completion * 6e-7, None: 0.0}[tier]
        if model == "gpt-4o":
            cost = counterfactual
        entries.append(
            LedgerEntry(
                request_id=f"req-{seed}-{i:05d}",
                timestamp=START + timedelta(seconds=rng.randint(0, 5 * 86400 - 1), microseconds=i),
                tenant=rng.choice(["acme", "globex"]),
                app=rng.choice(["support-bot", "search", "hr-assistant"]),
                policy_version="v1-abc",
                rule=rng.choice(["default", "hard-to-cloud", "sensitive-stays-local"]),
                tier=tier,  # type: ignore[arg-type]
                backend={"local": "llamacpp", "cloud": "litellm", None: None}[tier],
                model=model,
                status=status,
                prompt_tokens=prompt,
                completion_tokens=completion,
                cost_usd=cost,
                counterfactual_cost_usd=counterfactual,
                latency_ms=rng.uniform(20, 3000),
                ttft_ms=rng.uniform(5, 500) if tier else None,
                fallback_used=rng.random() < 0.05,
                pii_counts={"EMAIL_ADDRESS": 1} if rng.random() < 0.2 else {},
                cache_hit=rng.random() < 0.1,
                error_code=None if tier else "rate_limited",
                pii_redacted=tier == "cloud" and rng.random() < 0.3,
                reference_model="gpt-4o",
                price_source={"local": "local-zero", "cloud": "litellm", None: None}[tier],
            )
        )
    return entries
