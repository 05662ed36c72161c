"""Pick the ledger store from settings."""

from __future__ import annotations

from gateway.ledger.memory import InMemoryLedger
from gateway.settings import Settings
from router.protocols import Ledger


async def build_ledger(settings: Settings) -> Ledger:
    return InMemoryLedger()
