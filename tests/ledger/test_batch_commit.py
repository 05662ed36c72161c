"""The committer's batch path: a `BatchSubmitting` store gets each journaled batch as one write
(one transaction); a batch it fails or hangs on goes to the spool whole.

Real SQLite files and a real PostgreSQL; `BatchFlaky` fails, hangs or is slow on command.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import psycopg
import pytest
from ledger_support import START, sample_entries
from test_spooled_ledger import END, settle

from gateway.circuit import Circuit, CircuitConfig
from gateway.ledger.journal import Journal
from gateway.ledger.memory import InMemoryLedger
from gateway.ledger.postgres import PostgresLedger
from gateway.ledger.spool import Spool
from gateway.ledger.spooled import SpooledLedger
from gateway.ledger.sqlite import SqliteLedger
from kernel.protocols import Ledger, LedgerEntry


class Traced(SqliteLedger):
    """A SQLite store that notes the transactions and inserts its connections run."""

    statements: list[str]

    def _connect(self) -> sqlite3.Connection:
        conn = super()._connect()
        conn.set_trace_callback(self._trace)
        return conn

    def _trace(self, sql: str) -> None:
        if sql.startswith(("BEGIN", "COMMIT", "INSERT INTO ledger")):
            self.statements.append(sql.split(" ")[0])


class BatchFlaky:
    """A batch-committing store whose writes work, fail, hang or land late, as the test says."""

    def __init__(self, inner: SqliteLedger) -> None:
        self.inner = inner
        self.mode = "ok"
        self.batches: list[int] = []

    def submit_many(self, entries: Sequence[LedgerEntry]) -> asyncio.Future[None]:
        self.batches.append(len(entries))
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self.mode == "fail":
            done.set_exception(ConnectionError("store down"))
        elif self.mode == "late":  # commits, but after the spooled ledger stopped waiting
            asyncio.get_running_loop().call_later(0.3, self._land, list(entries), done)
        elif self.mode == "ok":
            return self.inner.submit_many(entries)
        return done  # "hang": never settles

    def _land(self, entries: list[LedgerEntry], done: asyncio.Future[None]) -> None:
        self.inner.submit_many(entries).add_done_callback(
            lambda _: done.done() or done.set_result(None)
        )

    async def record(self, entry: LedgerEntry) -> None:
        await self.submit_many([entry])

    async def summarize(self, **kwargs):  # type: ignore[no-untyped-def]
        return await self.inner.summarize(**kwargs)

    async def aclose(self) -> None:
        await self.inner.aclose()


class SpySpool(Spool):
    """A spool that notes every row handed to it."""

    handed: list[str]

    def submit_many(self, entries: Sequence[LedgerEntry]) -> asyncio.Future[None]:
        self.handed += [e.request_id for e in entries]
        return super().submit_many(entries)


async def journaled(
    tmp_path: Path, store: Ledger, *, wait_s: float = 0.1, failures: int = 2
) -> SpooledLedger:
    spool = await SpySpool.open(tmp_path / "spool.db")
    spool.handed = []
    circuit = Circuit("ledger", CircuitConfig(failures, backoff_s=0.1, max_backoff_s=0.2))
    journal = Journal(tmp_path / "journal", segment_records=7)
    return SpooledLedger(store, spool, circuit, wait_s=wait_s, journal=journal).start()


def segments(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "journal").glob("*.jsonl"))


def stored_ids(path: Path) -> list[str]:
    """Every row of a SQLite ledger file, duplicates included (there must be none)."""
    with sqlite3.connect(path) as conn:
        return sorted(r for (r,) in conn.execute("SELECT request_id FROM ledger"))


async def record_all(ledger: SpooledLedger, entries: list[LedgerEntry]) -> None:
    for entry in entries:  # journaled without yielding: the committer sees them as one batch
        await ledger.record(entry)


async def test_a_journaled_batch_is_one_store_transaction(tmp_path):
    store = await Traced.open(tmp_path / "store.db")
    store.statements = []
    ledger = await journaled(tmp_path, store)
    try:
        entries = sample_entries(40)
        await record_all(ledger, entries)
        await ledger.flush()
        assert store.statements == ["BEGIN", *["INSERT"] * 40, "COMMIT"]
        assert stored_ids(store.path) == sorted(e.request_id for e in entries)
        assert len(segments(tmp_path)) == 1  # 6 segments of 7 rows, all but the current gone
    finally:
        await ledger.aclose()
    assert not segments(tmp_path)


@pytest.mark.parametrize("mode", ["fail", "hang"])
async def test_a_batch_the_store_fails_or_hangs_on_goes_to_the_spool_whole(tmp_path, mode):
    store = BatchFlaky(await SqliteLedger.open(tmp_path / "store.db"))
    ledger = await journaled(tmp_path, store, failures=3)
    try:
        store.mode = mode
        entries = sample_entries(30)
        await record_all(ledger, entries)
        await ledger.flush()
        assert store.batches[0] == 30  # one write for the whole batch (then the drainer's)
        expected = sorted(e.request_id for e in entries)
        assert sorted(ledger.spool.handed) == expected  # type: ignore[attr-defined]
        assert stored_ids(tmp_path / "spool.db") == expected
        assert stored_ids(store.inner.path) == []
        assert ledger.circuit.opened == 1  # 30 misses, as 30 single rows would be: open now
        assert ledger.journal is not None and ledger.journal.pending() == 0
    finally:
        await ledger.aclose()
    assert not segments(tmp_path)


async def test_a_batch_that_lands_after_it_was_spooled_is_stored_once(tmp_path):
    store = BatchFlaky(await SqliteLedger.open(tmp_path / "store.db"))
    ledger = await journaled(tmp_path, store)
    try:
        store.mode = "late"  # the drainer's writes are late too
        entries = sample_entries(25)
        await record_all(ledger, entries)
        await ledger.flush()
        expected = sorted(e.request_id for e in entries)
        assert sorted(ledger.spool.handed) == expected  # type: ignore[attr-defined]

        async def drained() -> bool:
            return await ledger.spool.count() == 0 and stored_ids(store.inner.path) == expected

        await settle(drained)  # the late write and the drained copies: each row once
        assert store.batches[:2] == [25, 25]  # every row written twice, stored once
    finally:
        await ledger.aclose()


async def test_a_recovery_cancelled_while_the_store_hangs_still_spools_its_batch(tmp_path):
    dead = Journal(tmp_path / "journal")
    entries = sample_entries(12)
    for entry in entries:
        dead.append(entry)
    dead.close()
    store = BatchFlaky(await SqliteLedger.open(tmp_path / "store.db"))
    ledger = await journaled(tmp_path, store)
    try:
        store.mode = "hang"
        recovery = asyncio.ensure_future(ledger.recover())
        await asyncio.sleep(0.02)  # waiting on the store now
        recovery.cancel()
        await asyncio.gather(recovery, return_exceptions=True)
        assert recovery.cancelled()
        await settle(lambda: _equal(ledger.spool.count(), len(entries)))
        assert len(segments(tmp_path)) == 1  # not known committed: kept for the next process
    finally:
        await ledger.aclose()


async def test_a_store_batch_is_all_or_nothing(store):
    entries = sample_entries(10)
    bad = dataclasses.replace(entries[-1], tenant=None)  # NOT NULL: the whole batch fails
    with pytest.raises((sqlite3.IntegrityError, psycopg.errors.NotNullViolation)):
        await store.submit_many([*entries[:-1], bad])  # type: ignore[attr-defined]
    assert await store.fetch(since=START, until=END) == []  # type: ignore[attr-defined]
    await store.submit_many([*entries, entries[0]])  # type: ignore[attr-defined]
    assert len(await store.fetch(since=START, until=END)) == 10  # type: ignore[attr-defined]


async def test_postgres_commits_a_journaled_batch_in_one_transaction(tmp_path, pg_url):
    ledger = await journaled(tmp_path, await PostgresLedger.open(pg_url), wait_s=5.0)
    try:
        entries = sample_entries(60)
        await record_all(ledger, entries)
        fetched = await ledger.fetch(since=START, until=END)  # a read flushes first
        assert sorted(e.request_id for e in fetched) == sorted(e.request_id for e in entries)
        with psycopg.connect(pg_url) as conn:
            [(transactions,)] = conn.execute("SELECT count(DISTINCT xmin::text) FROM ledger")
        assert transactions == 1
        assert await ledger.spool.count() == 0
    finally:
        await ledger.aclose()
    assert not segments(tmp_path)


async def test_postgres_rejecting_a_batch_sends_all_of_it_to_the_spool(tmp_path, pg_url):
    ledger = await journaled(tmp_path, await PostgresLedger.open(pg_url))
    try:
        entries = sample_entries(20)
        entries[7] = dataclasses.replace(entries[7], status=2**40)  # PostgreSQL: out of range
        await record_all(ledger, entries)
        await ledger.flush()
        assert stored_ids(tmp_path / "spool.db") == sorted(e.request_id for e in entries)
        assert await ledger.store.fetch(since=START, until=END) == []  # type: ignore[attr-defined]
    finally:
        await ledger.aclose()
    assert not segments(tmp_path)


async def test_postgres_hung_on_a_lock_spools_the_batch_then_holds_each_row_once(tmp_path, pg_url):
    ledger = await journaled(tmp_path, await PostgresLedger.open(pg_url), wait_s=0.2)
    try:
        entries = sample_entries(20)
        with psycopg.connect(pg_url) as blocker:
            blocker.execute("LOCK TABLE ledger IN ACCESS EXCLUSIVE MODE")  # inserts wait
            await record_all(ledger, entries)
            await ledger.flush()
            assert await ledger.spool.count() == len(entries)
        # the lock is gone: the hung write lands, the drainer adds the spooled copies
        expected = sorted(e.request_id for e in entries)

        async def drained() -> bool:
            if await ledger.spool.count():
                return False
            with psycopg.connect(pg_url) as conn:
                rows = conn.execute("SELECT request_id FROM ledger ORDER BY 1").fetchall()
            return [r for (r,) in rows] == expected

        await settle(drained, timeout_s=15)
    finally:
        await ledger.aclose()


async def test_the_in_memory_store_takes_a_journaled_batch(tmp_path):
    store = InMemoryLedger()
    ledger = await journaled(tmp_path, store)
    try:
        entries = sample_entries(9)
        await record_all(ledger, entries)
        assert await ledger.fetch(since=START, until=END) == await store.fetch(
            since=START, until=END
        )
        assert sorted(store.entries, key=lambda e: e.request_id) == sorted(
            entries, key=lambda e: e.request_id
        )
    finally:
        await ledger.aclose()


async def _equal(value, expected) -> bool:  # type: ignore[no-untyped-def]
    return await value == expected
