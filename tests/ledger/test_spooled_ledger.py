"""`SpooledLedger` over a real SQLite store that can be made to fail or hang on command."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from pathlib import Path

from ledger_support import START, sample_entries

from gateway.circuit import Circuit, CircuitConfig
from gateway.ledger.spool import Spool
from gateway.ledger.spooled import SpooledLedger
from gateway.ledger.sqlite import SqliteLedger
from kernel.protocols import LedgerEntry

END = START + timedelta(days=7)


class Flaky:
    """A store whose writes work, raise or hang, as the test says."""

    def __init__(self, inner: SqliteLedger) -> None:
        self.inner = inner
        self.mode = "ok"
        self.calls = 0

    async def record(self, entry: LedgerEntry) -> None:
        self.calls += 1
        if self.mode == "fail":
            raise ConnectionError("store down")
        if self.mode == "hang":
            await asyncio.sleep(3600)
        await self.inner.record(entry)

    async def summarize(self, **kwargs):  # type: ignore[no-untyped-def]
        return await self.inner.summarize(**kwargs)

    async def fetch(self, **kwargs):  # type: ignore[no-untyped-def]
        return await self.inner.fetch(**kwargs)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def spooled(tmp_path: Path) -> tuple[SpooledLedger, Flaky]:
    store = Flaky(await SqliteLedger.open(tmp_path / "store.db"))
    spool = await Spool.open(tmp_path / "spool.db")
    circuit = Circuit("ledger", CircuitConfig(failures=2, backoff_s=0.1, max_backoff_s=0.2))
    return SpooledLedger(store, spool, circuit, wait_s=0.1).start(), store


async def stored(store: Flaky) -> list[str]:
    return sorted(e.request_id for e in await store.inner.fetch(since=START, until=END))


async def settle(check, timeout_s: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while not await check():
        assert time.monotonic() < deadline, "not settled in time"
        await asyncio.sleep(0.02)


async def test_healthy_store_takes_every_record_directly(tmp_path):
    ledger, store = await spooled(tmp_path)
    try:
        entries = sample_entries(20)
        for entry in entries:
            await ledger.record(entry)
        assert await stored(store) == sorted(e.request_id for e in entries)
        assert await ledger.spool.count() == 0
    finally:
        await ledger.aclose()


async def test_failing_then_hanging_store_spools_then_drains_exactly_once(tmp_path):
    ledger, store = await spooled(tmp_path)
    try:
        entries = sample_entries(30)
        store.mode = "fail"
        for entry in entries[:10]:
            await ledger.record(entry)
        store.mode = "hang"
        started = time.perf_counter()
        for entry in entries[10:20]:
            await ledger.record(entry)
        assert time.perf_counter() - started < 2.0  # never the hour the store would take
        assert ledger.circuit.state != "closed"
        calls = store.calls
        for entry in entries[20:]:  # circuit open: not even tried, straight to the spool
            await ledger.record(entry)
        assert store.calls - calls <= 1  # at most one probe
        assert await ledger.spool.count() == 30

        store.mode = "ok"
        await settle(lambda: _equal(stored(store), sorted(e.request_id for e in entries)))
        await settle(lambda: _equal(ledger.spool.count(), 0))
        assert ledger.circuit.state == "closed"
    finally:
        await ledger.aclose()


async def test_a_row_both_stored_and_spooled_is_kept_once(tmp_path):
    ledger, store = await spooled(tmp_path)
    try:
        [entry] = sample_entries(1)
        await store.inner.record(entry)  # the slow write that landed after all
        await ledger.spool.record(entry)  # …and the spooled copy
        await ledger.drain_once()
        assert await stored(store) == [entry.request_id]
        assert await ledger.spool.count() == 0
    finally:
        await ledger.aclose()


async def test_a_caller_cancelled_while_the_store_hangs_still_leaves_its_row_spooled(tmp_path):
    ledger, store = await spooled(tmp_path)
    try:
        [entry] = sample_entries(1)
        store.mode = "hang"
        caller = asyncio.ensure_future(ledger.record(entry))
        await asyncio.sleep(0.01)  # waiting on the store now
        caller.cancel()
        await asyncio.gather(caller, return_exceptions=True)
        assert caller.cancelled()
        await settle(lambda: _equal(ledger.spool.count(), 1))  # after the bounded wait
    finally:
        await ledger.aclose()


async def test_a_caller_cancelled_mid_write_still_leaves_its_row_in_the_sqlite_store(tmp_path):
    store = await SqliteLedger.open(tmp_path / "store.db")
    spool = await Spool.open(tmp_path / "spool.db")
    ledger = SpooledLedger(store, spool, Circuit("ledger"), wait_s=0.1).start()
    try:
        [entry] = sample_entries(1)
        caller = asyncio.ensure_future(ledger.record(entry))
        await asyncio.sleep(0)  # queued for the writer thread, awaiting its commit
        caller.cancel()
        await asyncio.gather(caller, return_exceptions=True)

        async def landed() -> bool:
            return [e.request_id for e in await store.fetch(since=START, until=END)] == [
                entry.request_id
            ]

        await settle(landed)
        assert await spool.count() == 0
    finally:
        await ledger.aclose()


async def _equal(value, expected) -> bool:  # type: ignore[no-untyped-def]
    return await value == expected


async def test_closing_right_after_a_record_was_spooled_stops_the_drainer(tmp_path):
    """The record that spools wakes the idle drainer in the same loop turn as aclose() cancels
    it. Python 3.11's wait_for swallowed that cancel: the drainer went on retrying the hung
    store and aclose() never returned (CI hung here)."""
    ledger, store = await spooled(tmp_path)
    [entry] = sample_entries(1)
    store.mode = "hang"
    await asyncio.sleep(0.05)  # the drainer found the spool empty and waits for news
    await ledger.record(entry)  # the store hangs: spooled after the bounded wait
    async with asyncio.timeout(5):
        await ledger.aclose()
    spool = await Spool.open(tmp_path / "spool.db")
    try:
        assert await spool.count() == 1  # the row is kept for the next process
    finally:
        await spool.aclose()
