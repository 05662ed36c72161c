"""Circuit breakers: stop calling a dependency that keeps failing, and probe it with backoff.

A `Circuit` is *closed* (calls go through) until `failures` consecutive calls fail or time out;
it then *opens* (calls are skipped at once) for `backoff_s`. After that it is *half-open*: one
call at a time goes through as a probe. A probe that succeeds closes the circuit; one that fails
opens it again for twice as long, up to `max_backoff_s`. Pure state and a clock, no I/O: the
callers (Redis guard, backend wrapper, ledger) decide what "skipped" means for them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from gateway.settings import Settings

CircuitState = Literal["closed", "open", "half_open"]
STATE_VALUES: dict[CircuitState, int] = {"closed": 0, "half_open": 1, "open": 2}


@dataclass(frozen=True, slots=True)
class CircuitConfig:
    failures: int = 5
    backoff_s: float = 1.0
    max_backoff_s: float = 30.0


@dataclass(frozen=True, slots=True)
class CircuitView:
    """One circuit as /readyz and /metrics show it."""

    name: str
    state: CircuitState
    consecutive_failures: int
    opened: int
    retry_in_s: float


class Circuit:
    def __init__(
        self,
        name: str,
        config: CircuitConfig = CircuitConfig(),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self._config = config
        self._clock = clock
        self._failures = 0
        self._backoff = config.backoff_s
        self._retry_at = 0.0
        self._open = False
        self._probing = False
        self.opened = 0  # times it tripped, for /metrics

    @property
    def state(self) -> CircuitState:
        if not self._open:
            return "closed"
        return "half_open" if self._clock() >= self._retry_at or self._probing else "open"

    def allow(self) -> bool:
        """May a call go through now? In half-open state only one caller at a time gets True."""
        if not self._open:
            return True
        if self._probing or self._clock() < self._retry_at:
            return False
        self._probing = True
        return True

    def succeeded(self) -> None:
        self._failures = 0
        self._open = self._probing = False
        self._backoff = self._config.backoff_s

    def failed(self) -> None:
        self._failures += 1
        if self._open and not self._probing:
            return  # a call that began before the circuit opened: the verdict is in already
        if self._open:  # a failed probe: back off further
            self._backoff = min(self._backoff * 2, self._config.max_backoff_s)
        elif self._failures < self._config.failures:
            return
        else:
            self._open = True
            self.opened += 1
        self._probing = False
        self._retry_at = self._clock() + self._backoff

    def abandoned(self) -> None:
        """The call ended without a verdict (cancelled): free the probe slot, change nothing."""
        self._probing = False

    def view(self) -> CircuitView:
        retry_in = max(0.0, self._retry_at - self._clock()) if self._open else 0.0
        return CircuitView(self.name, self.state, self._failures, self.opened, retry_in)


def views(circuits: Iterable[Circuit]) -> list[CircuitView]:
    return sorted((c.view() for c in circuits), key=lambda v: v.name)


def circuit_config(settings: Settings) -> CircuitConfig:
    return CircuitConfig(
        settings.circuit_failures, settings.circuit_backoff_s, settings.circuit_max_backoff_s
    )
