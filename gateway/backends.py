"""The live backends, one per distinct configuration, looked up by model alias.

Built from the policy's `models:` section through the local and cloud registries. A policy
reload reuses every backend whose configuration did not change (a GGUF is never loaded twice);
backends a reload drops are closed at shutdown, since requests may still be using them.

Every alias gets its own `GuardedBackend` (circuit breaker, in-flight cap, time bound), and every
HTTP alias its own backend instance — so its own connection pool: a model that hangs holds only
its own connections and slots, never those of a healthy alias on the same server.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace

from cloud_backends.registry import CLOUD_BACKENDS
from gateway.circuit import Circuit, CircuitConfig
from gateway.guarded_backend import GuardedBackend
from kernel.backends import LocalDefaults
from kernel.errors import ModelNotFound
from kernel.protocols import Backend, BackendStatus
from local_backends.registry import LOCAL_BACKENDS, BackendFactory, gguf_path
from router.policy import ModelTarget

log = logging.getLogger(__name__)

BACKENDS: dict[str, BackendFactory] = {**LOCAL_BACKENDS, **CLOUD_BACKENDS}
"""The one backend registry: kind (`kernel.backends.BACKEND_KINDS`) → factory(spec, defaults)."""


@dataclass(frozen=True, slots=True)
class _Key:
    backend: str
    location: str
    api_key_env: str | None
    timeout_s: float
    alias: str = ""  # HTTP backends: one instance (one connection pool) per alias


class BackendPool:
    """Alias → `Backend`, rebuilt incrementally on policy reload."""

    def __init__(
        self,
        local_defaults: LocalDefaults,
        *,
        overrides: Mapping[str, Backend] | None = None,
        circuit: CircuitConfig = CircuitConfig(),  # noqa: B008 (frozen)
        max_in_flight: int = 64,
    ) -> None:
        self._defaults = local_defaults
        self._overrides = dict(overrides or {})  # alias → a ready backend (e.g. a scripted fake)
        self._circuit = circuit
        self._max_in_flight = max_in_flight
        self._instances: dict[_Key, Backend] = {}
        self._guards: dict[_Key, GuardedBackend] = {}
        self._by_alias: dict[str, GuardedBackend] = {}

    def configure(self, models: Mapping[str, ModelTarget]) -> None:
        """Point every alias at a backend, creating only the ones not built before."""
        by_alias: dict[str, GuardedBackend] = {}
        for alias, spec in models.items():
            key = self._key(spec, alias)
            if alias in self._overrides:
                self._instances.setdefault(key, self._overrides[alias])
            if key not in self._instances:
                self._instances[key] = self._build(spec)
            guard_key = replace(key, alias=alias)
            if guard_key not in self._guards:
                self._guards[guard_key] = GuardedBackend(
                    self._instances[key],
                    Circuit(f"backend:{alias}", self._circuit),
                    max_in_flight=self._max_in_flight,
                    timeout_s=None if spec.backend == "llamacpp" else spec.timeout_s,
                )
            by_alias[alias] = self._guards[guard_key]
        self._by_alias = by_alias

    def get(self, alias: str) -> Backend:
        try:
            return self._by_alias[alias]
        except KeyError:
            raise ModelNotFound(f"The model '{alias}' is not configured", param="model") from None

    def circuits(self) -> list[Circuit]:
        return [guard.circuit for guard in self._by_alias.values()]

    async def start_local(self) -> None:
        """Start every backend now (loads in-process models, so the first request does not pay
        for it), then warn about each alias that cannot serve and why."""
        for backend in {id(b): b for b in self._by_alias.values()}.values():
            await backend.start()
        for alias, status in self.status().items():
            if not status.ready:
                log.warning("model alias '%s' is not usable: %s", alias, status.reason)

    def status(self) -> dict[str, BackendStatus]:
        """Per alias: can it serve now, and if not, why."""
        return {alias: backend.status() for alias, backend in self._by_alias.items()}

    def queue_depth(self) -> int:
        distinct = {id(b): b for b in self._by_alias.values()}.values()
        return sum(backend.status().queue_depth for backend in distinct)

    async def aclose(self) -> None:
        for backend in self._instances.values():
            await backend.aclose()
        self._instances.clear()
        self._guards.clear()
        self._by_alias.clear()

    def _key(self, spec: ModelTarget, alias: str) -> _Key:
        if spec.backend == "llamacpp":  # in process: one loaded model, however many aliases
            return _Key(spec.backend, str(gguf_path(spec, self._defaults)), None, spec.timeout_s)
        return _Key(spec.backend, spec.api_base or "", spec.api_key_env, spec.timeout_s, alias)

    def _build(self, spec: ModelTarget) -> Backend:
        return BACKENDS[spec.backend](spec, self._defaults)
