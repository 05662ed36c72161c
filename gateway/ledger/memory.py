"""`InMemoryLedger`: keeps entries in a list. A real `Ledger`, for tests and throwaway runs."""

from __future__ import annotations

from router.protocols import LedgerEntry


class InMemoryLedger:
    def __init__(self) -> None:
        self.entries: list[LedgerEntry] = []

    async def record(self, entry: LedgerEntry) -> None:
        self.entries.append(entry)

    async def aclose(self) -> None:
        """Nothing to release."""
