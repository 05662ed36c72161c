"""`SqliteLedger`: the embedded default store, one file in WAL mode.

Writes go through one dedicated writer thread that commits each batch before the awaiting
`record()` calls return (group commit: requests that arrive while a commit is in flight share
the next one; `submit_many` hands it a whole batch as one item, settled by one future). The
pipeline records before it sends the answer, so an answered request is in the WAL file by the
time the client sees it: it survives `kill -9` of the gateway (the WAL write is in the OS page
cache); with `synchronous=FULL` (opt-in; the default is NORMAL) it is also fsynced, so it
survives an OS crash or power cut. Reports read through their own connections; WAL lets them
run while the writer commits.
"""

from __future__ import annotations

import asyncio
import queue
import sqlite3
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Self

from gateway.ledger import verdicts
from gateway.ledger.base import FetchingLedger
from gateway.ledger.schema import COLUMN_LIST, COLUMNS, MIGRATIONS, from_row, to_row
from gateway.ledger.verdicts import Verdict
from kernel.protocols import LedgerEntry

Synchronous = Literal["NORMAL", "FULL"]
_INSERT = (
    f"INSERT INTO ledger ({COLUMN_LIST}) VALUES ({', '.join('?' for _ in COLUMNS)}) "
    "ON CONFLICT (request_id) DO NOTHING"
)
_BATCH = 512
_Item = tuple[list[tuple[Any, ...]], asyncio.AbstractEventLoop, "asyncio.Future[None]"]


def sqlite_ts(moment: datetime) -> str:
    """Fixed-width UTC text, so string order is time order (naive datetimes are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    # isoformat is ~5x faster than strftime, and pads the year (strftime's %Y does not on glibc)
    return moment.astimezone(UTC).isoformat(timespec="microseconds")[:-6] + "Z"


def sqlite_row(entry: LedgerEntry) -> tuple[Any, ...]:
    """The entry's column values as stored here (and in the journal): timestamp as text."""
    row = to_row(entry)
    return (row[0], sqlite_ts(entry.timestamp), *row[2:])


def parse_ts(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


class SqliteLedger(FetchingLedger):
    """A `Ledger` in one SQLite file. Build with `await SqliteLedger.open(path)`."""

    def __init__(self, path: Path, synchronous: Synchronous = "NORMAL") -> None:
        self.path = path
        self._synchronous = synchronous
        self._queue: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._write_loop, name="ledger-writer", daemon=True)

    @classmethod
    async def open(cls, path: Path, synchronous: Synchronous = "NORMAL") -> Self:
        """Create or migrate the file, then start the writer thread."""
        ledger = cls(path, synchronous)
        await asyncio.to_thread(ledger._migrate)
        ledger._thread.start()
        return ledger

    async def record(self, entry: LedgerEntry) -> None:
        """Returns once the entry is committed (or raises what the commit raised)."""
        await self.submit_many((entry,))

    def submit_many(self, entries: Sequence[LedgerEntry]) -> asyncio.Future[None]:
        """Queue the entries for the writer as one item: they are committed in one transaction,
        then the one future settles; cancelling it does not stop the write (`BatchSubmitting`)."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        self._queue.put(([sqlite_row(e) for e in entries], loop, done))
        return done

    async def fetch(
        self, *, since: datetime, until: datetime, tenant: str | None = None
    ) -> list[LedgerEntry]:
        """The records with `since <= timestamp < until`, oldest first."""
        return await asyncio.to_thread(self._fetch, since, until, tenant)

    async def record_verdict(self, verdict: Verdict) -> None:
        """Store one shadow verdict (rare: its own short connection, committed on return)."""
        await asyncio.to_thread(self._write_verdict, verdict)

    async def fetch_verdicts(
        self, *, since: datetime, until: datetime, tenant: str | None = None
    ) -> list[Verdict]:
        """The verdicts with `since <= ts < until`, oldest first."""
        return await asyncio.to_thread(self._fetch_verdicts, since, until, tenant)

    async def aclose(self) -> None:
        """Commit what is queued, then stop the writer."""
        if self._thread.is_alive():
            self._queue.put(None)
            await asyncio.to_thread(self._thread.join)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={self._synchronous}")
        return conn

    def _migrate(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = self._connect()
        conn.isolation_level = None
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS ledger_schema "
                "(version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
            applied = {v for (v,) in conn.execute("SELECT version FROM ledger_schema")}
            for migration in MIGRATIONS:
                if migration.version in applied:
                    continue
                for statement in migration.sqlite:
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO ledger_schema VALUES (?, ?, ?)",
                    (migration.version, migration.description, sqlite_ts(datetime.now(UTC))),
                )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        finally:
            conn.close()

    def _write_loop(self) -> None:
        conn = self._connect()
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is None:
                break
            batch, rows = [first], list(first[0])
            while len(rows) < _BATCH:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stopping = True
                    break
                batch.append(item)
                rows += item[0]
            error: BaseException | None = None
            try:
                with conn:
                    conn.executemany(_INSERT, rows)
            except Exception as exc:  # handed to every waiting record() call
                error = exc
            waiting: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = {}
            for _, loop, done in batch:
                waiting.setdefault(loop, []).append(done)
            for loop, dones in waiting.items():  # one wake-up per loop, not one per item
                loop.call_soon_threadsafe(_settle, dones, error)
        conn.close()

    def _fetch(self, since: datetime, until: datetime, tenant: str | None) -> list[LedgerEntry]:
        sql = f"SELECT {COLUMN_LIST} FROM ledger WHERE ts >= ? AND ts < ?"
        params: list[Any] = [sqlite_ts(since), sqlite_ts(until)]
        if tenant is not None:
            sql += " AND tenant = ?"
            params.append(tenant)
        conn = self._connect()
        try:
            rows = conn.execute(sql + " ORDER BY ts, request_id", params).fetchall()
        finally:
            conn.close()
        return [from_row(row, parse_ts(row[1])) for row in rows]

    def _write_verdict(self, verdict: Verdict) -> None:
        conn = self._connect()
        try:
            with conn:
                row = verdicts.to_row(verdict, sqlite_ts(verdict.timestamp))
                conn.execute(verdicts.insert_sql("?"), row)
        finally:
            conn.close()

    def _fetch_verdicts(
        self, since: datetime, until: datetime, tenant: str | None
    ) -> list[Verdict]:
        params = [sqlite_ts(since), sqlite_ts(until), *([tenant] if tenant is not None else [])]
        conn = self._connect()
        try:
            rows = conn.execute(verdicts.select_sql("?", tenant is not None), params).fetchall()
        finally:
            conn.close()
        return [verdicts.from_row(row, parse_ts(row[1])) for row in rows]


def _settle(dones: list[asyncio.Future[None]], error: BaseException | None) -> None:
    for done in dones:
        if done.done():  # the caller was cancelled; the write itself still happened (or failed)
            continue
        if error is None:
            done.set_result(None)
        else:
            done.set_exception(error)
