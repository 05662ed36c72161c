"""`PostgresLedger`: the scale-out store (psycopg 3, async), shared by every gateway replica.

One writer connection commits batches (group commit: one `executemany` per transaction; a
`submit_many` batch is one queue item) before the awaiting `record()` calls return, with
PostgreSQL's default `synchronous_commit=on`: a returned `record()` is durable on the server.
Reports use a second connection, so a long report never delays a write. Connection loss is
repaired on the next write or report; a failed write raises (`SpooledLedger` then spools the
record). A write that hangs is abandoned after `_WRITE_TIMEOUT_S` and its connection dropped,
so a frozen server or network cannot wedge the writer for good.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import psycopg

from gateway.ledger import verdicts
from gateway.ledger.base import FetchingLedger
from gateway.ledger.schema import COLUMN_LIST, COLUMNS, MIGRATIONS, from_row, to_row
from gateway.ledger.verdicts import Verdict
from kernel.protocols import LedgerEntry

_INSERT = (
    f"INSERT INTO ledger ({COLUMN_LIST}) VALUES ({', '.join('%s' for _ in COLUMNS)}) "
    "ON CONFLICT (request_id) DO NOTHING"
)
_BATCH = 512
_CONNECT_TIMEOUT_S = 5
_WRITE_TIMEOUT_S = 10.0
_LOCK_ID = 0x6879_6272_6964  # pg_advisory_xact_lock key: replicas migrate one at a time
_Item = tuple[list[tuple[Any, ...]], "asyncio.Future[None]"]


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


class PostgresLedger(FetchingLedger):
    """A `Ledger` in PostgreSQL. Build with `await PostgresLedger.open(url)`."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._writer: psycopg.AsyncConnection[Any] | None = None
        self._reader: psycopg.AsyncConnection[Any] | None = None
        self._read_lock = asyncio.Lock()
        self._queue: asyncio.Queue[_Item | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls, url: str) -> PostgresLedger:
        """Connect, apply pending migrations, start the writer task."""
        ledger = cls(url)
        conn = await ledger._writer_conn()
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_ID,))
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS ledger_schema (version INTEGER PRIMARY KEY, "
                "description TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
            )
            cur = await conn.execute("SELECT version FROM ledger_schema")
            applied = {v for (v,) in await cur.fetchall()}
            for migration in MIGRATIONS:
                if migration.version in applied:
                    continue
                for statement in migration.postgres:
                    await conn.execute(statement)
                await conn.execute(
                    "INSERT INTO ledger_schema (version, description) VALUES (%s, %s)",
                    (migration.version, migration.description),
                )
        ledger._task = asyncio.create_task(ledger._write_loop(), name="ledger-writer")
        return ledger

    async def record(self, entry: LedgerEntry) -> None:
        """Returns once the entry is committed (or raises what the commit raised)."""
        await self.submit_many((entry,))

    def submit_many(self, entries: Sequence[LedgerEntry]) -> asyncio.Future[None]:
        """Queue the entries for the writer task as one item: they are committed in one
        transaction, then the one future settles; cancelling it does not stop the write
        (`BatchSubmitting`)."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(([_pg_row(e) for e in entries], done))
        return done

    async def fetch(
        self, *, since: datetime, until: datetime, tenant: str | None = None
    ) -> list[LedgerEntry]:
        """The records with `since <= timestamp < until`, oldest first."""
        sql = f"SELECT {COLUMN_LIST} FROM ledger WHERE ts >= %s AND ts < %s"
        params: list[Any] = [_aware(since), _aware(until)]
        if tenant is not None:
            sql += " AND tenant = %s"
            params.append(tenant)
        rows = await self._read(sql + " ORDER BY ts, request_id", params)
        return [from_row(row, row[1].astimezone(UTC)) for row in rows]

    async def record_verdict(self, verdict: Verdict) -> None:
        """Store one shadow verdict (rare: on the autocommit reader connection)."""
        row = verdicts.to_row(verdict, _aware(verdict.timestamp))
        await self._read(verdicts.insert_sql("%s"), list(row), fetch=False)

    async def fetch_verdicts(
        self, *, since: datetime, until: datetime, tenant: str | None = None
    ) -> list[Verdict]:
        """The verdicts with `since <= ts < until`, oldest first."""
        params = [_aware(since), _aware(until), *([tenant] if tenant is not None else [])]
        rows = await self._read(verdicts.select_sql("%s", tenant is not None), params)
        return [verdicts.from_row(row, row[1].astimezone(UTC)) for row in rows]

    async def _read(self, sql: str, params: list[Any], *, fetch: bool = True) -> list[Any]:
        async with self._read_lock:
            if self._reader is None or self._reader.closed:
                self._reader = await psycopg.AsyncConnection.connect(
                    self._url, autocommit=True, connect_timeout=_CONNECT_TIMEOUT_S
                )
            try:
                cur = await self._reader.execute(sql, params)
                return await cur.fetchall() if fetch else []
            except psycopg.OperationalError:
                await self._reader.close()
                raise

    async def aclose(self) -> None:
        """Commit what is queued, stop the writer, close both connections."""
        if self._task is not None:
            self._queue.put_nowait(None)
            await self._task
        for conn in (self._writer, self._reader):
            if conn is not None:
                await conn.close()

    async def _writer_conn(self) -> psycopg.AsyncConnection[Any]:
        if self._writer is None or self._writer.closed:
            self._writer = await psycopg.AsyncConnection.connect(
                self._url, connect_timeout=_CONNECT_TIMEOUT_S
            )
        return self._writer

    async def _drop_writer(self) -> None:
        """Forget the writer connection after a failed write (its state is unknown)."""
        writer, self._writer = self._writer, None
        if writer is not None:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(1.0):
                    await writer.close()

    async def _write_loop(self) -> None:
        stopping = False
        while not stopping:
            first = await self._queue.get()
            if first is None:
                break
            batch, rows = [first], list(first[0])
            while len(rows) < _BATCH and not self._queue.empty():
                item = self._queue.get_nowait()
                if item is None:
                    stopping = True
                    break
                batch.append(item)
                rows += item[0]
            error: BaseException | None = None
            try:
                async with asyncio.timeout(_WRITE_TIMEOUT_S):
                    conn = await self._writer_conn()
                    async with conn.transaction(), conn.cursor() as cur:
                        await cur.executemany(_INSERT, rows)
            except Exception as exc:  # handed to every waiting record() call
                error = exc
                await self._drop_writer()
            for _, done in batch:
                if done.done():
                    continue
                if error is None:
                    done.set_result(None)
                else:
                    done.set_exception(error)


def _pg_row(entry: LedgerEntry) -> tuple[Any, ...]:
    """The entry's column values as stored here: timestamp as an aware datetime."""
    row = to_row(entry)
    return (row[0], _aware(entry.timestamp), *row[2:])
