"""Policy-version broadcast: a reload on one replica reaches another through Redis pub/sub."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from state_support import REDIS_URL, drop_prefix

from gateway.settings import Settings
from gateway.state.broadcast import PolicySync
from gateway.state.factory import SharedState, build_state
from policies.store import PolicyStore


async def converged(store: PolicyStore, version: str, attempts: int = 50) -> bool:
    for _ in range(attempts):  # bounded poll, 5 s at most
        if store.current.version == version:
            return True
        await asyncio.sleep(0.1)
    return False


class Replica:
    def __init__(self, path: Path, prefix: str, store: PolicyStore | None = None) -> None:
        self.store = store or PolicyStore(path)
        self.state: SharedState = build_state(
            Settings(redis_url=REDIS_URL, redis_key_prefix=prefix)
        )
        self.sync = PolicySync(self.store, self.state.broadcaster, attempts=3)
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Replica:
        self.task = self.sync.start()
        await asyncio.sleep(0.2)  # let it subscribe
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.sync.stop()
        assert self.task is not None
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)
        await self.state.aclose()


async def test_reload_on_one_replica_reaches_the_other(
    write_policy: Callable[..., Path], redis_prefix: str
):
    path = write_policy()
    try:
        async with Replica(path, redis_prefix) as a, Replica(path, redis_prefix) as b:
            old = a.store.current.version
            path.write_text(path.read_text() + "\n# edited\n")
            new = a.store.reload().version
            assert new != old
            assert await converged(b.store, new)
    finally:
        await drop_prefix(redis_prefix)


async def test_a_replica_that_joins_later_catches_up_from_the_stored_version(
    write_policy: Callable[..., Path], redis_prefix: str
):
    path = write_policy()
    try:
        late = PolicyStore(path)  # loaded before the change, like a replica that was offline
        async with Replica(path, redis_prefix) as a:
            path.write_text(path.read_text() + "\n# edited\n")
            new = a.store.reload().version
            await asyncio.sleep(0.2)
        async with Replica(path, redis_prefix, store=late):
            assert await converged(late, new)
    finally:
        await drop_prefix(redis_prefix)


async def test_a_bad_file_announced_keeps_the_old_policy(
    write_policy: Callable[..., Path], redis_prefix: str
):
    good = write_policy()
    bad = write_policy(name="other.yaml")
    try:
        async with Replica(good, redis_prefix) as a, Replica(bad, redis_prefix) as b:
            b_version = b.store.current.version
            bad.write_text("version: 1\nnot_a_key: [\n")
            good.write_text(good.read_text() + "\n# edited\n")
            a.store.reload()
            for _ in range(50):
                if b.store.reload_failures:
                    break
                await asyncio.sleep(0.1)
            assert b.store.reload_failures >= 1
            assert b.store.current.version == b_version
    finally:
        await drop_prefix(redis_prefix)
