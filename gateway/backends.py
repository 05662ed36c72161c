"""The live backends, one per distinct configuration, looked up by model alias.

Built from the policy's `models:` section through the local and cloud registries. A policy
reload reuses every backend whose configuration did not change (a GGUF is never loaded twice);
backends a reload drops are closed at shutdown, since requests may still be using them.

Every alias gets its own `GuardedBackend` (circuit breaker, in-flight cap, time bound), and every
HTTP alias its own backend instance — so its own connection pool: a model that hangs holds only
its own connections and slots, never those of a healthy alias on the same server.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from cloud_backends.registry import CLOUD_BACKENDS
from gateway.circuit import Circuit, CircuitConfig
from gateway.guarded_backend import GuardedBackend
from kernel.backends import LocalDefaults
from kernel.errors import ModelNotFound
from kernel.protocols import Backend
from local_backends.llamacpp import LlamaCppBackend
from local_backends.registry import LOCAL_BACKENDS, BackendFactory, gguf_path
from router.policy import ModelTarget

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

    def local_models(self) -> list[LlamaCppBackend]:
        found = {id(g.inner): g.inner for g in self._by_alias.values()}
        return [b for b in found.values() if isinstance(b, LlamaCppBackend)]

    async def start_local(self) -> None:
        """Load every in-process model now, so the first request does not pay for it."""
        for backend in self.local_models():
            await backend.start()

    def ready(self) -> dict[str, bool]:
        """Per alias: can it serve now? (In-process models must be loaded.)"""
        return {
            alias: (guard.inner.ready if isinstance(guard.inner, LlamaCppBackend) else True)
            for alias, guard in self._by_alias.items()
        }

    def queue_depth(self) -> int:
        return sum(b.queue_depth for b in self.local_models())

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
