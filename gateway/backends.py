"""The live backends, one per distinct configuration, looked up by model alias.

Built from the policy's `models:` section through the local and cloud registries. A policy
reload reuses every backend whose configuration did not change (a GGUF is never loaded twice);
backends a reload drops are closed at shutdown, since requests may still be using them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from cloud_backends.registry import CLOUD_BACKENDS
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


class BackendPool:
    """Alias → `Backend`, rebuilt incrementally on policy reload."""

    def __init__(
        self, local_defaults: LocalDefaults, overrides: Mapping[str, Backend] | None = None
    ) -> None:
        self._defaults = local_defaults
        self._overrides = dict(overrides or {})  # alias → a ready backend (tests, embedding)
        self._instances: dict[_Key, Backend] = {}
        self._by_alias: dict[str, Backend] = {}

    def configure(self, models: Mapping[str, ModelTarget]) -> None:
        """Point every alias at a backend, creating only the ones not built before."""
        by_alias: dict[str, Backend] = {}
        for alias, spec in models.items():
            if alias in self._overrides:
                by_alias[alias] = self._overrides[alias]
                continue
            key = self._key(spec)
            if key not in self._instances:
                self._instances[key] = self._build(spec)
            by_alias[alias] = self._instances[key]
        self._by_alias = by_alias

    def get(self, alias: str) -> Backend:
        try:
            return self._by_alias[alias]
        except KeyError:
            raise ModelNotFound(f"The model '{alias}' is not configured", param="model") from None

    def local_models(self) -> list[LlamaCppBackend]:
        return [b for b in self._by_alias.values() if isinstance(b, LlamaCppBackend)]

    async def start_local(self) -> None:
        """Load every in-process model now, so the first request does not pay for it."""
        for backend in self.local_models():
            await backend.start()

    def ready(self) -> dict[str, bool]:
        """Per alias: can it serve now? (In-process models must be loaded.)"""
        return {
            alias: (backend.ready if isinstance(backend, LlamaCppBackend) else True)
            for alias, backend in self._by_alias.items()
        }

    def queue_depth(self) -> int:
        return sum(b.queue_depth for b in self.local_models())

    async def aclose(self) -> None:
        for backend in self._instances.values():
            await backend.aclose()
        self._instances.clear()
        self._by_alias.clear()

    def _key(self, spec: ModelTarget) -> _Key:
        if spec.backend == "llamacpp":
            location = str(gguf_path(spec, self._defaults))
        else:
            location = spec.api_base or ""
        return _Key(spec.backend, location, spec.api_key_env, spec.timeout_s)

    def _build(self, spec: ModelTarget) -> Backend:
        return BACKENDS[spec.backend](spec, self._defaults)
