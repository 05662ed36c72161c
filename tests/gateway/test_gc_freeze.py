"""Start-up freezes what it allocated, so the cyclic collector never walks it again (a full
collection of a started worker's ~400k objects held the event loop ~250 ms)."""

from __future__ import annotations

import gc

from gateway.app import create_app
from gateway.ledger.memory import InMemoryLedger
from gateway.settings import Settings
from router.fakes import FakeClassifier


async def _started_freeze_count(write_policy, freeze: bool) -> int:  # type: ignore[no-untyped-def]
    gc.unfreeze()
    app = create_app(
        Settings(
            policy_file=write_policy(),
            load_local_on_start=False,
            classifier="fake",
            gc_freeze=freeze,
        ),
        classifier=FakeClassifier(0.0, 0.0),
        ledger=InMemoryLedger(),
    )
    async with app.router.lifespan_context(app):
        return gc.get_freeze_count()


async def test_start_up_heap_is_frozen_unless_turned_off(write_policy):
    try:
        assert await _started_freeze_count(write_policy, freeze=False) == 0
        frozen = await _started_freeze_count(write_policy, freeze=True)
        assert frozen > 10_000  # the imported modules and services, not a handful
    finally:
        gc.unfreeze()
