"""The active policy, swapped atomically on reload; a bad file never replaces a good one.

Reloads come from three places, all ending in `PolicyStore.reload()`: the file watcher
(`watch()`, an asyncio task started with the app), `POST /admin/policy/reload`, and the Redis
broadcast of policy versions across replicas (a `subscribe()` listener announces new versions).
A rejected file is logged, counted (`reload_failures`, exported as a metric) and kept as
`last_error` for `GET /admin/policy`; the old policy stays active.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from kernel.errors import PolicyError
from policies.loader import LoadedPolicy, load_policy, parse_policy

log = logging.getLogger(__name__)

Listener = Callable[[LoadedPolicy], None]


@dataclass(frozen=True, slots=True)
class PolicyStatus:
    """What an admin sees about the active policy and the last reload attempt."""

    version: str
    path: str
    loaded_at: datetime
    last_error: str | None
    last_error_at: datetime | None
    reload_failures: int


class PolicyStore:
    """Holds the current `LoadedPolicy`. Readers take `current` once per request."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._current = load_policy(self.path)  # a bad file at start-up refuses to start
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()
        self.loaded_at = datetime.now(UTC)
        self.last_error: str | None = None
        self.last_error_at: datetime | None = None
        self.reload_failures = 0

    @property
    def current(self) -> LoadedPolicy:
        return self._current

    def status(self) -> PolicyStatus:
        return PolicyStatus(
            version=self._current.version,
            path=str(self.path),
            loaded_at=self.loaded_at,
            last_error=self.last_error,
            last_error_at=self.last_error_at,
            reload_failures=self.reload_failures,
        )

    def subscribe(self, listener: Listener) -> None:
        """Call `listener` with every newly activated policy."""
        self._listeners.append(listener)

    def reload(self) -> LoadedPolicy:
        """Load the file again. On error the old policy stays active and `PolicyError` is raised.

        An unchanged file (same content hash as the active policy) is not parsed again.
        """
        with self._lock:
            try:
                loaded = self._read_if_changed()
            except PolicyError as exc:
                self.last_error = exc.message
                self.last_error_at = datetime.now(UTC)
                self.reload_failures += 1
                log.error(
                    "policy reload rejected; keeping version %s:\n%s",
                    self._current.version,
                    exc.message,
                )
                raise
            self.last_error = self.last_error_at = None
            if loaded is None:
                return self._current
            self._current = loaded
            self.loaded_at = datetime.now(UTC)
            log.info("policy version %s active (%s)", loaded.version, loaded.path)
            listeners = list(self._listeners)
        for listener in listeners:
            listener(loaded)
        return loaded

    def _read_if_changed(self) -> LoadedPolicy | None:
        try:
            raw = self.path.read_bytes()
        except OSError:
            return load_policy(self.path)  # raises the located "cannot read" error
        if hashlib.sha256(raw).hexdigest()[:12] == self._current.version:
            return None
        return parse_policy(raw, str(self.path))

    async def watch(self, *, debounce_ms: int = 300) -> None:
        """Reload whenever the file changes, until cancelled. Errors are kept, never raised.

        Watches the file's directory, so editors that save by renaming a temporary file and
        Kubernetes ConfigMap updates (a `..data` symlink swap) are both seen.
        """
        from watchfiles import awatch

        target = self.path.absolute()  # not resolve(): a ConfigMap's target dir is replaced

        def relevant(_change: object, changed: str) -> bool:
            name = Path(changed).name
            return name == target.name or name.startswith("..")

        log.info("watching %s for policy changes", target)
        async for _changes in awatch(
            target.parent, watch_filter=relevant, debounce=debounce_ms, recursive=False
        ):
            if not self.path.exists():
                continue  # mid-save (delete, then create): wait for the new file
            # In the event loop, like every other reload, so listeners never race. A bad file
            # is logged, counted and kept as last_error by reload().
            with contextlib.suppress(PolicyError):
                self.reload()
