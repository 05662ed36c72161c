"""Cloud backends by name. litellm covers every provider; the factory is the only entry."""

from __future__ import annotations

from collections.abc import Callable

from kernel.backends import LocalDefaults
from kernel.protocols import Backend
from router.policy import ModelTarget


def _litellm(spec: ModelTarget, _defaults: LocalDefaults) -> Backend:
    from cloud_backends.litellm_backend import LiteLLMBackend  # litellm is heavy: import on use

    return LiteLLMBackend(
        api_base=spec.api_base, api_key_env=spec.api_key_env, timeout_s=spec.timeout_s
    )


CLOUD_BACKENDS: dict[str, Callable[[ModelTarget, LocalDefaults], Backend]] = {"litellm": _litellm}
