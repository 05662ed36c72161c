"""The ledger journal: an answer waits for one file append; the store gets every row after.

Real files, a real SQLite store and spool; a store that fails or hangs on command
(`Flaky`, from the spooled-ledger tests). A process that died is played by a `Journal` closed
with rows still uncommitted: exactly what `kill -9` leaves (its locks go with its descriptors).
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from ledger_support import START, sample_entries
from test_spooled_ledger import END, Flaky, stored

from gateway.circuit import Circuit, CircuitConfig
from gateway.ledger.journal import Journal, read
from gateway.ledger.spool import Spool
from gateway.ledger.spooled import SpooledLedger
from gateway.ledger.sqlite import SqliteLedger
from gateway.reports.aggregate import summarize_entries


async def journaled(
    tmp_path: Path, *, journal: Journal | None = None
) -> tuple[SpooledLedger, Flaky]:
    store = Flaky(await SqliteLedger.open(tmp_path / "store.db"))
    spool = await Spool.open(tmp_path / "spool.db")
    circuit = Circuit("ledger", CircuitConfig(failures=2, backoff_s=0.1, max_backoff_s=0.2))
    journal = journal or Journal(tmp_path / "journal")
    ledger = SpooledLedger(store, spool, circuit, wait_s=0.1, journal=journal).start()
    return ledger, store


def segments(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "journal").glob("*.jsonl"))


async def test_record_returns_before_the_store_commits_and_the_store_gets_every_row(tmp_path):
    ledger, store = await journaled(tmp_path)
    try:
        entries = sample_entries(40)
        store.mode = "hang"  # the store takes nothing while the answers are recorded
        async with asyncio.timeout(2):  # never the hour the hung store would take
            for entry in entries:
                await ledger.record(entry)
        [segment] = segments(tmp_path)
        assert [e.request_id for e in read(segment)] == [e.request_id for e in entries]
        assert ledger.journal is not None and ledger.journal.pending() == len(entries)
        store.mode = "ok"
        await ledger.flush()  # the hung writes went to the spool; the drainer moves them
        assert ledger.journal is not None and ledger.journal.pending() == 0
    finally:
        await ledger.aclose()
    assert not segments(tmp_path)  # every row committed: nothing left for a next process


async def test_a_report_right_after_the_answers_counts_every_one(tmp_path):
    ledger, _ = await journaled(tmp_path)
    try:
        entries = sample_entries(30)
        for entry in entries:
            await ledger.record(entry)
        rows = await ledger.summarize(since=START, until=END, group_by="tenant")
        assert rows == summarize_entries(entries, "tenant")  # the total row counts all 30
        fetched = await ledger.fetch(since=START, until=END)
        assert sorted(e.request_id for e in fetched) == sorted(e.request_id for e in entries)
    finally:
        await ledger.aclose()


async def test_the_next_process_commits_what_a_dead_one_journaled(tmp_path):
    entries = sample_entries(25)
    dead = Journal(tmp_path / "journal")
    for entry in entries:
        dead.append(entry)
    dead.close()  # as kill -9 would: nothing committed, its locks released

    ledger, store = await journaled(tmp_path)
    try:
        assert await ledger.recover() == len(entries)
        assert await stored(store) == sorted(e.request_id for e in entries)
        assert not segments(tmp_path)
        assert await ledger.recover() == 0  # taken over once
    finally:
        await ledger.aclose()


async def test_a_live_process_keeps_its_own_segment(tmp_path):
    live = Journal(tmp_path / "journal")
    [entry] = sample_entries(1)
    live.append(entry)  # held under its flock while the process lives
    ledger, store = await journaled(tmp_path)
    try:
        assert await ledger.recover() == 0
        assert await stored(store) == []
        assert len(segments(tmp_path)) == 1
    finally:
        await ledger.aclose()
        live.close()


async def test_journaled_rows_the_store_refuses_end_in_the_spool(tmp_path):
    ledger, store = await journaled(tmp_path)
    try:
        store.mode = "fail"
        entries = sample_entries(12)
        for entry in entries:
            await ledger.record(entry)
        await ledger.flush()
        assert await ledger.spool.count() == len(entries)
        assert await stored(store) == []
    finally:
        await ledger.aclose()
    assert not segments(tmp_path)  # in the spool now: the journal's part is done


async def test_an_unwritable_journal_makes_record_wait_for_the_store_instead(tmp_path):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the journal's folder should be")
    ledger, store = await journaled(tmp_path, journal=Journal(blocked))
    try:
        [entry] = sample_entries(1)
        await ledger.record(entry)
        assert await stored(store) == [entry.request_id]  # committed before record returned
    finally:
        await ledger.aclose()


async def test_segments_roll_over_and_are_deleted_once_committed(tmp_path):
    ledger, store = await journaled(
        tmp_path, journal=Journal(tmp_path / "journal", segment_records=5)
    )
    try:
        entries = sample_entries(23)
        for entry in entries:
            await ledger.record(entry)
        await ledger.flush()
        assert len(segments(tmp_path)) == 1  # the sealed, committed ones are gone already
        assert await stored(store) == sorted(e.request_id for e in entries)
    finally:
        await ledger.aclose()


def test_a_torn_last_line_is_skipped(tmp_path):
    journal = Journal(tmp_path / "journal")
    entries = sample_entries(3)
    for entry in entries:
        journal.append(entry)
    journal.close()
    [segment] = segments(tmp_path)
    data = segment.read_bytes()
    segment.write_bytes(data[: len(data) - 40])  # a power cut mid-append, without fsync
    assert [e.request_id for e in read(segment)] == [e.request_id for e in entries[:2]]


def test_fsync_journal_writes_the_same_lines(tmp_path):
    journal = Journal(tmp_path / "journal", fsync=True)
    entries = sample_entries(3)
    for entry in entries:
        journal.append(entry)
    [segment] = segments(tmp_path)
    assert read(segment) == entries
    assert os.stat(segment).st_mode & 0o777 == 0o600  # ids and prices: this user's only
    journal.close()
