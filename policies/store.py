"""The active policy, swapped atomically on reload; a bad file never replaces a good one."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from policies.loader import LoadedPolicy, load_policy
from router.errors import PolicyError

log = logging.getLogger(__name__)

Listener = Callable[[LoadedPolicy], None]


class PolicyStore:
    """Holds the current `LoadedPolicy`. Readers take `current` once per request."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._current = load_policy(self.path)  # a bad file at start-up refuses to start
        self._listeners: list[Listener] = []
        self.last_error: str | None = None
        self.reload_failures = 0

    @property
    def current(self) -> LoadedPolicy:
        return self._current

    def subscribe(self, listener: Listener) -> None:
        """Call `listener` with every newly activated policy."""
        self._listeners.append(listener)

    def reload(self) -> LoadedPolicy:
        """Load the file again. On error the old policy stays active and `PolicyError` is raised."""
        try:
            loaded = load_policy(self.path)
        except PolicyError as exc:
            self.last_error = exc.message
            self.reload_failures += 1
            log.error(
                "policy reload rejected; keeping version %s: %s", self._current.version, exc.message
            )
            raise
        self.last_error = None
        if loaded.version != self._current.version:
            self._current = loaded
            log.info("policy version %s active", loaded.version)
            for listener in self._listeners:
                listener(loaded)
        return self._current
