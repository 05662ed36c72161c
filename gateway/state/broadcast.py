"""Policy-version broadcast over Redis pub/sub, and the per-replica sync that reacts to it.

A replica that activates a new policy publishes its version on `<prefix>:policy` and stores it in
`<prefix>:policy:version`. Every replica listens; one whose version differs reloads its own copy
of the policy file (all replicas mount the same file, e.g. a ConfigMap). A replica that was
disconnected reads the stored version when it resubscribes, so no announcement is lost for good.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from typing import TYPE_CHECKING

from gateway.state.protocols import OnVersion, PolicyBroadcaster
from kernel.errors import PolicyError
from policies.loader import LoadedPolicy
from policies.store import PolicyStore

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger(__name__)

_RETRY_S = 1.0
_RESYNC_EVERY = 30  # one-second reads between re-reads of the stored version
_RESYNC_TIMEOUT_S = 2.0


class RedisBroadcaster:
    """Publishes and listens on one channel. `redis` must not have a read timeout (it blocks)."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self._redis = redis
        self._channel = f"{prefix}:policy"
        self._key = f"{prefix}:policy:version"

    async def publish(self, version: str) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(self._key, version)
            pipe.publish(self._channel, version)
            await pipe.execute()

    async def listen(self, on_version: OnVersion) -> None:
        from redis.exceptions import RedisError

        while True:
            try:
                await self._listen_once(on_version)
            except (RedisError, OSError, TimeoutError) as exc:
                log.warning("policy broadcast: Redis unreachable (%s)", type(exc).__name__)
                await asyncio.sleep(_RETRY_S)

    async def _listen_once(self, on_version: OnVersion) -> None:
        async with self._redis.pubsub() as pubsub:
            await pubsub.subscribe(self._channel)
            while True:
                # Catch up on (re)subscribe, then now and then: a silently dropped subscription
                # never errors, but this read times out and the loop reconnects.
                async with asyncio.timeout(_RESYNC_TIMEOUT_S):  # wait_for can lose a cancel
                    stored = await self._redis.get(self._key)
                if stored is not None:
                    await on_version(_text(stored))
                for _ in range(_RESYNC_EVERY):
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                    _raise_if_cancelled()
                    if message is not None and message.get("type") == "message":
                        await on_version(_text(message["data"]))


def _raise_if_cancelled() -> None:
    """redis-py's read timeout can swallow a cancellation; honour it here, or shutdown hangs."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


def _publish_errors() -> tuple[type[Exception], ...]:
    """What a failed publish raises: OSError, and redis-py's errors once redis is loaded (only a
    Redis broadcaster raises them; without one, redis is never imported, ~6 MiB per worker)."""
    redis_exceptions = sys.modules.get("redis.exceptions")
    return (OSError,) if redis_exceptions is None else (redis_exceptions.RedisError, OSError)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class PolicySync:
    """Connects a `PolicyStore` to a broadcaster, both ways, for the life of the process."""

    def __init__(
        self,
        store: PolicyStore,
        broadcaster: PolicyBroadcaster,
        *,
        attempts: int = 30,
    ) -> None:
        self._store = store
        self._broadcaster = broadcaster
        self._attempts = attempts
        self._pending: set[asyncio.Task[None]] = set()
        self._following: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> asyncio.Task[None]:
        """Subscribe to the store and start listening; returns the listener task."""
        self._loop = asyncio.get_running_loop()
        self._store.subscribe(self._announce)
        return asyncio.create_task(self._broadcaster.listen(self._heard))

    def _announce(self, loaded: LoadedPolicy) -> None:
        # Store listeners are synchronous and may run on another thread (a file watcher).
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._spawn, loaded.version)

    def _spawn(self, version: str) -> None:
        task = asyncio.create_task(self._publish(version))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _publish(self, version: str) -> None:
        try:
            await self._broadcaster.publish(version)
        except _publish_errors() as exc:
            log.warning("policy %s not broadcast: %s", version, type(exc).__name__)

    async def _heard(self, version: str) -> None:
        if version == self._store.current.version:
            return
        if self._following is not None:
            self._following.cancel()  # a newer announcement supersedes the one being followed
        self._following = asyncio.create_task(self._follow(version))

    async def _follow(self, version: str) -> None:
        """Reload until our version is `version`: the shared file may lag (ConfigMap sync)."""
        for attempt in range(self._attempts):
            if self._store.current.version == version:
                return
            # On a bad file the store logs, counts and keeps the old policy.
            with contextlib.suppress(PolicyError):
                self._store.reload()
            if self._store.current.version == version or attempt == self._attempts - 1:
                break
            await asyncio.sleep(_RETRY_S)
        if self._store.current.version != version:
            log.warning(
                "policy %s announced but this replica's file still gives %s",
                version,
                self._store.current.version,
            )

    def stop(self) -> None:
        """Cancel a reload being followed and publishes not yet sent."""
        for task in [*self._pending, self._following]:
            if task is not None:
                task.cancel()
