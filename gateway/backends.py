"""The live backends, one per distinct configuration, looked up by model alias.

Built from the policy's `models:` section through the local and cloud registries. A policy
reload reuses every backend whose configuration did not change (a GGUF is never loaded twice);
backends a reload drops are closed at shutdown, since requests may still be using them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from cloud_backends.registry import CLOUD_BACKENDS
from kernel.errors import ModelNotFound
from kernel.protocols import Backend, BackendStatus
from local_backends.registry import LOCAL_BACKENDS, LocalDefaults, gguf_path
from router.policy import ModelTarget

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Key:
    backend: str
    location: str
    api_key_env: str | None
    timeout_s: float


class BackendPool:
    """Alias → `Backend`, rebuilt incrementally on policy reload."""

    def __init__(self, local_defaults: LocalDefaults) -> None:
        self._defaults = local_defaults
        self._instances: dict[_Key, Backend] = {}
        self._by_alias: dict[str, Backend] = {}

    def configure(self, models: Mapping[str, ModelTarget]) -> None:
        """Point every alias at a backend, creating only the ones not built before."""
        by_alias: dict[str, Backend] = {}
        for alias, spec in models.items():
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
        self._by_alias.clear()

    def _key(self, spec: ModelTarget) -> _Key:
        if spec.backend == "llamacpp":
            location = str(gguf_path(spec, self._defaults))
        else:
            location = spec.api_base or ""
        return _Key(spec.backend, location, spec.api_key_env, spec.timeout_s)

    def _build(self, spec: ModelTarget) -> Backend:
        if spec.backend in CLOUD_BACKENDS:
            return CLOUD_BACKENDS[spec.backend](spec)
        return LOCAL_BACKENDS[spec.backend](spec, self._defaults)
