"""What every ledger store shares: reports are computed from fetched records, one way for all.

A store implements `fetch`; `summarize` is defined once here, so SQLite, PostgreSQL and the
in-memory ledger cannot disagree on report arithmetic.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol, runtime_checkable

from gateway.reports.aggregate import summarize_entries
from kernel.protocols import LedgerEntry
from kernel.reporting import GroupBy, ReportRow


@runtime_checkable
class RecordSource(Protocol):
    """A store that can list its records (what-if replay and shadow verdict reports need it)."""

    async def fetch(
        self, *, since: datetime, until: datetime, tenant: str | None = None
    ) -> list[LedgerEntry]: ...


@runtime_checkable
class BatchSubmitting(Protocol):
    """A store that commits many records in one transaction: `submit_many` queues them and
    returns one future, settled once all are committed (or with the error, none committed),
    whatever happens to its caller."""

    def submit_many(self, entries: Sequence[LedgerEntry]) -> asyncio.Future[None]: ...


class FetchingLedger(ABC):
    @abstractmethod
    async def fetch(
        self, *, since: datetime, until: datetime, tenant: str | None = None
    ) -> list[LedgerEntry]:
        """The records with `since <= timestamp < until`, oldest first."""

    async def summarize(
        self,
        *,
        since: datetime,
        until: datetime,
        group_by: GroupBy,
        tenant: str | None = None,
    ) -> list[ReportRow]:
        entries = await self.fetch(since=since, until=until, tenant=tenant)
        return summarize_entries(entries, group_by)
