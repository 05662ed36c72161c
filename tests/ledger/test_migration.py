"""A ledger created by schema version 1 is upgraded in place: old rows keep their values and
read back without decision inputs; new rows carry them."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import timedelta

import psycopg
from ledger_support import START, sample_entries

from gateway.ledger.postgres import PostgresLedger
from gateway.ledger.schema import LATEST, MIGRATIONS
from gateway.ledger.sqlite import SqliteLedger, sqlite_ts

V1_COLUMNS = (
    "request_id, ts, tenant, app, policy_version, rule, tier, backend, model, reference_model, "
    "status, error_code, prompt_tokens, completion_tokens, cost_usd, counterfactual_cost_usd, "
    "price_source, latency_ms, ttft_ms, fallback_used, pii_redacted, pii_counts, cache_hit"
)


def v1_values(entry, ts):
    return (
        entry.request_id, ts, entry.tenant, entry.app, entry.policy_version, entry.rule,
        entry.tier, entry.backend, entry.model, entry.reference_model, entry.status,
        entry.error_code, entry.prompt_tokens, entry.completion_tokens, entry.cost_usd,
        entry.counterfactual_cost_usd, entry.price_source, entry.latency_ms, entry.ttft_ms,
        entry.fallback_used, entry.pii_redacted, "{}", entry.cache_hit,
    )  # fmt: skip


def new_entry(old):
    return replace(
        old,
        request_id="req-new",
        baseline_model="gpt-4o-mini",
        baseline_cost_usd=0.001,
        difficulty=0.42,
        sensitivity=0.1,
        pii_types=("EMAIL_ADDRESS",),
        requested_model="auto",
        routed_prompt_tokens=17,
        needs_cloud_features=True,
        origin="demo",
    )


async def test_sqlite_v1_file_is_migrated(tmp_path):
    path = tmp_path / "old.db"
    old = replace(sample_entries(1)[0], pii_counts={})
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TABLE ledger_schema (version INTEGER PRIMARY KEY, description TEXT NOT NULL,"
            " applied_at TEXT NOT NULL)"
        )
        for statement in MIGRATIONS[0].sqlite:
            conn.execute(statement)
        conn.execute("INSERT INTO ledger_schema VALUES (1, 'v1', '2026-11-01T00:00:00.000000Z')")
        marks = ", ".join("?" for _ in V1_COLUMNS.split(", "))
        conn.execute(
            f"INSERT INTO ledger ({V1_COLUMNS}) VALUES ({marks})",
            v1_values(old, sqlite_ts(old.timestamp)),
        )
    ledger = await SqliteLedger.open(path)
    try:
        await ledger.record(replace(new_entry(old), timestamp=old.timestamp + timedelta(1e-3)))
        fetched = {
            e.request_id: e for e in await ledger.fetch(since=START, until=START + timedelta(9))
        }
    finally:
        await ledger.aclose()
    assert fetched[old.request_id] == old  # defaults: no baseline, no inputs, origin live
    assert fetched[old.request_id].difficulty is None and fetched[old.request_id].origin == "live"
    assert fetched["req-new"].difficulty == 0.42 and fetched["req-new"].pii_types == (
        "EMAIL_ADDRESS",
    )
    with sqlite3.connect(path) as conn:
        versions = [v for (v,) in conn.execute("SELECT version FROM ledger_schema ORDER BY 1")]
    assert versions == [m.version for m in MIGRATIONS] and versions[-1] == LATEST


async def test_postgres_v1_schema_is_migrated(pg_url):
    old = replace(sample_entries(1)[0], pii_counts={})
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE ledger_schema (version INTEGER PRIMARY KEY, description TEXT NOT NULL,"
            " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        for statement in MIGRATIONS[0].postgres:
            conn.execute(statement)
        conn.execute("INSERT INTO ledger_schema (version, description) VALUES (1, 'v1')")
        marks = ", ".join("%s" for _ in V1_COLUMNS.split(", "))
        conn.execute(
            f"INSERT INTO ledger ({V1_COLUMNS}) VALUES ({marks})", v1_values(old, old.timestamp)
        )
    ledger = await PostgresLedger.open(pg_url)
    try:
        await ledger.record(replace(new_entry(old), timestamp=old.timestamp + timedelta(1e-3)))
        fetched = {
            e.request_id: e for e in await ledger.fetch(since=START, until=START + timedelta(9))
        }
    finally:
        await ledger.aclose()
    assert fetched[old.request_id] == old
    assert fetched["req-new"] == replace(new_entry(old), timestamp=fetched["req-new"].timestamp)
