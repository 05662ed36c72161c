"""The ledger against a PostgreSQL that hangs, refuses or resets: no answer waits, no row is lost.

The real `build_ledger` stack (PostgresLedger behind SpooledLedger) talks to PostgreSQL through
a chaos proxy. During the fault every `record()` must return within the bounded wait (plus the
spool's own commit; with the journal, the default, it returns after one file append) and every
commit must end in the store or the spool; afterwards every record must be in PostgreSQL
exactly once and the spool must be empty.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from chaos_support import entry, pg_url, spooled, stored_ids, wait_until

from gateway.ledger.factory import build_ledger
from gateway.ledger.spooled import SpooledLedger
from gateway.settings import Settings

WAIT_MS = 200
RECORD_BOUND_S = 1.0  # the 200 ms wait, the spool's fsync, a busy 2-core machine


async def open_ledger(port: int, schema: str, spool: Path) -> SpooledLedger:
    settings = Settings(
        database_url=pg_url(port, schema),
        ledger_spool_path=spool,
        ledger_wait_ms=WAIT_MS,
        circuit_failures=3,
        circuit_backoff_s=0.2,
        circuit_max_backoff_s=1.0,
    )
    return await build_ledger(settings)


async def timed_record(ledger: SpooledLedger, request_id: str) -> float:
    started = time.perf_counter()
    await ledger.record(entry(request_id))
    return time.perf_counter() - started


@pytest.mark.parametrize("fault", ["hang", "refuse", "reset"])
async def test_records_during_a_database_fault_are_quick_and_all_arrive(
    fault, pg_proxy, pg_schema, tmp_path
):
    ledger = await open_ledger(pg_proxy.port, pg_schema, tmp_path / "spool.db")
    try:
        before = [f"{fault}-before-{i}" for i in range(10)]
        for request_id in before:
            await ledger.record(entry(request_id))
        await ledger.flush()  # the journal's rows committed
        assert stored_ids(pg_schema) == set(before)  # healthy: straight into the store

        pg_proxy.set(fault)
        during = [f"{fault}-during-{i}" for i in range(150)]
        waits = await asyncio.gather(*(timed_record(ledger, r) for r in during[:50]))
        for request_id in during[50:]:  # and one at a time, as a trickle of answers would
            waits.append(await timed_record(ledger, request_id))
        assert max(waits) < RECORD_BOUND_S, f"slowest record() took {max(waits):.2f} s"
        await ledger.flush()
        assert ledger.circuit.state != "closed"
        assert await ledger.spool.count() > 0

        pg_proxy.set("pass")
        expected = set(before) | set(during)
        await wait_until(lambda: stored_ids(pg_schema) == expected, 30, "spool drained")
        await wait_until(lambda: spooled(tmp_path / "spool.db") == 0, 10, "spool emptied")
        assert ledger.circuit.state == "closed"
    finally:
        await ledger.aclose()


async def test_a_new_process_drains_what_the_last_one_spooled(pg_proxy, pg_schema, tmp_path):
    spool = tmp_path / "spool.db"
    first = await open_ledger(pg_proxy.port, pg_schema, spool)
    pg_proxy.set("refuse")
    ids = [f"left-{i}" for i in range(20)]
    for request_id in ids:
        await first.record(entry(request_id))
    await first.aclose()  # as a crash would, it leaves the spooled rows behind
    assert stored_ids(pg_schema) == set() and spooled(spool) == 20

    pg_proxy.set("pass")
    second = await open_ledger(pg_proxy.port, pg_schema, spool)
    try:
        await wait_until(lambda: stored_ids(pg_schema) == set(ids), 15, "left-over spool drained")
    finally:
        await second.aclose()
