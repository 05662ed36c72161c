"""`Spool`: a local, durable holding area for ledger records the store could not take in time.

It is a `SqliteLedger` (same schema, same group-committing writer thread, WAL, `synchronous=FULL`,
a repeated request id stored once) on its own file beside the process, plus the two operations
draining needs: read the oldest records, forget records the store has committed. A record is in
the spool file before `record()` returns, so it survives `kill -9`; the next process to open the
same file drains it.
"""

from __future__ import annotations

import asyncio

from gateway.ledger.schema import COLUMN_LIST, from_row
from gateway.ledger.sqlite import SqliteLedger, parse_ts
from kernel.protocols import LedgerEntry


class Spool(SqliteLedger):
    async def oldest(self, limit: int) -> list[LedgerEntry]:
        """Up to `limit` spooled records, oldest first."""
        return await asyncio.to_thread(self._oldest, limit)

    async def forget(self, request_ids: list[str]) -> None:
        """Drop records the store has committed."""
        await asyncio.to_thread(self._forget, request_ids)

    async def count(self) -> int:
        return await asyncio.to_thread(self._count)

    def _oldest(self, limit: int) -> list[LedgerEntry]:
        conn = self._connect()
        try:
            sql = f"SELECT {COLUMN_LIST} FROM ledger ORDER BY ts, request_id LIMIT ?"
            rows = conn.execute(sql, (limit,)).fetchall()
        finally:
            conn.close()
        return [from_row(row, parse_ts(row[1])) for row in rows]

    def _forget(self, request_ids: list[str]) -> None:
        conn = self._connect()
        try:
            with conn:
                conn.executemany(
                    "DELETE FROM ledger WHERE request_id = ?", [(r,) for r in request_ids]
                )
        finally:
            conn.close()

    def _count(self) -> int:
        conn = self._connect()
        try:
            (n,) = conn.execute("SELECT count(*) FROM ledger").fetchone()
        finally:
            conn.close()
        return int(n)
