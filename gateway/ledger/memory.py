"""`InMemoryLedger`: keeps entries in a list. A real `Ledger`, for tests and throwaway runs."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime

from gateway.ledger.base import FetchingLedger
from gateway.ledger.verdicts import Verdict
from kernel.protocols import LedgerEntry


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


class InMemoryLedger(FetchingLedger):
    def __init__(self) -> None:
        self.entries: list[LedgerEntry] = []
        self.verdicts: list[Verdict] = []

    async def record(self, entry: LedgerEntry) -> None:
        self.entries.append(entry)

    def submit_many(self, entries: Sequence[LedgerEntry]) -> asyncio.Future[None]:
        """Keep the entries now; the future is already settled (`BatchSubmitting`)."""
        self.entries.extend(entries)
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done

    async def fetch(
        self, *, since: datetime, until: datetime, tenant: str | None = None
    ) -> list[LedgerEntry]:
        """The entries with `since <= timestamp < until`, oldest first."""
        low, high = _aware(since), _aware(until)
        return sorted(
            (
                e
                for e in self.entries
                if low <= _aware(e.timestamp) < high and (tenant is None or e.tenant == tenant)
            ),
            key=lambda e: (_aware(e.timestamp), e.request_id),
        )

    async def record_verdict(self, verdict: Verdict) -> None:
        self.verdicts.append(verdict)

    async def fetch_verdicts(
        self, *, since: datetime, until: datetime, tenant: str | None = None
    ) -> list[Verdict]:
        low, high = _aware(since), _aware(until)
        return sorted(
            (
                v
                for v in self.verdicts
                if low <= _aware(v.timestamp) < high and (tenant is None or v.tenant == tenant)
            ),
            key=lambda v: (_aware(v.timestamp), v.request_id),
        )

    async def aclose(self) -> None:
        """Nothing to release."""
