"""Both stores: records round-trip, totals equal the raw records, and the stores report alike."""

from __future__ import annotations

import math
import sqlite3
from datetime import timedelta

import psycopg
from ledger_support import START, sample_entries

from gateway.ledger.postgres import PostgresLedger
from gateway.ledger.sqlite import SqliteLedger
from gateway.reports.aggregate import percentile
from kernel.reporting import GROUP_BY_CHOICES

END = START + timedelta(days=7)


async def record_all(ledger, entries) -> None:
    for entry in entries:
        await ledger.record(entry)


async def test_records_round_trip_exactly(store):
    entries = sample_entries(40)
    await record_all(store, entries)
    fetched = await store.fetch(since=START, until=END)
    assert sorted(fetched, key=lambda e: e.request_id) == sorted(
        entries, key=lambda e: e.request_id
    )


async def test_window_and_tenant_filters(store):
    entries = sample_entries(120)
    await record_all(store, entries)
    since, until = START + timedelta(days=1), START + timedelta(days=3)
    [total] = [
        r
        for r in await store.summarize(since=since, until=until, group_by="day", tenant="acme")
        if r.is_total
    ]
    expected = [e for e in entries if since <= e.timestamp < until and e.tenant == "acme"]
    assert total.requests == len(expected) > 0


async def test_duplicate_request_id_is_recorded_once(store):
    [entry] = sample_entries(1)
    await store.record(entry)
    await store.record(entry)
    assert len(await store.fetch(since=START, until=END)) == 1


async def test_sqlite_totals_equal_sums_of_raw_rows(sqlite_ledger: SqliteLedger):
    await record_all(sqlite_ledger, sample_entries())
    with sqlite3.connect(sqlite_ledger.path) as conn:
        raw = conn.execute(
            "SELECT cost_usd, counterfactual_cost_usd, prompt_tokens, completion_tokens, status,"
            " tier FROM ledger"
        ).fetchall()
    assert_reconciles(await summaries(sqlite_ledger), raw)


async def test_postgres_totals_equal_sums_of_raw_rows(pg_ledger: PostgresLedger, pg_url: str):
    await record_all(pg_ledger, sample_entries())
    with psycopg.connect(pg_url) as conn:
        raw = conn.execute(
            "SELECT cost_usd, counterfactual_cost_usd, prompt_tokens, completion_tokens, status,"
            " tier FROM ledger"
        ).fetchall()
    assert_reconciles(await summaries(pg_ledger), raw)


async def test_sqlite_and_postgres_give_identical_reports(sqlite_ledger, pg_ledger):
    entries = sample_entries()
    await record_all(sqlite_ledger, entries)
    await record_all(pg_ledger, list(reversed(entries)))  # insertion order must not matter
    assert await summaries(sqlite_ledger) == await summaries(pg_ledger)


async def test_concurrent_records_are_all_committed(store):
    import asyncio

    entries = sample_entries(200, seed=11)
    await asyncio.gather(*(store.record(e) for e in entries))
    assert len(await store.fetch(since=START, until=END)) == 200


def test_percentile_is_nearest_rank():
    values = [5.0, 1.0, 4.0, 2.0, 3.0]
    assert [percentile(values, p) for p in (0, 20, 50, 95, 100)] == [1.0, 1.0, 3.0, 5.0, 5.0]
    assert percentile([], 50) is None


async def summaries(ledger):
    return {g: await ledger.summarize(since=START, until=END, group_by=g) for g in GROUP_BY_CHOICES}


def assert_reconciles(reports, raw) -> None:
    cost = math.fsum(r[0] for r in raw)
    counterfactual = math.fsum(r[1] for r in raw)
    for group_by, rows in reports.items():
        *groups, total = rows
        assert total.is_total and not any(r.is_total for r in groups), group_by
        assert total.requests == len(raw) == sum(r.requests for r in groups)
        assert total.cost_usd == cost
        assert total.counterfactual_cost_usd == counterfactual
        assert total.savings_usd == counterfactual - cost
        assert total.prompt_tokens == sum(r[2] for r in raw) == sum(g.prompt_tokens for g in groups)
        assert total.completion_tokens == sum(r[3] for r in raw)
        assert total.errors == sum(1 for r in raw if r[4] >= 400)
        assert total.local_requests == sum(1 for r in raw if r[5] == "local" and r[4] < 400)
        assert math.isclose(math.fsum(g.cost_usd for g in groups), cost, rel_tol=1e-12)


async def test_shadow_verdicts_round_trip(store):
    from gateway.ledger.verdicts import Verdict

    verdicts = [
        Verdict(f"v{i}", START + timedelta(hours=i), "acme" if i % 2 else "globex", "app", "v1",
                "local", "gpt-4o-mini", "model", i % 3 != 0, None if i % 2 else True, 0.1 * i, 1e-5)
        for i in range(6)
    ]  # fmt: skip
    for verdict in verdicts:
        await store.record_verdict(verdict)
    await store.record_verdict(verdicts[0])  # one verdict per request id
    assert await store.fetch_verdicts(since=START, until=END) == verdicts
    acme = await store.fetch_verdicts(since=START, until=END, tenant="acme")
    assert acme == [v for v in verdicts if v.tenant == "acme"]
