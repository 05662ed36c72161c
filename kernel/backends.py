"""The catalogue of backend kinds a policy may name, and the tier each one is fixed to.

Policies are validated against it (`router.policy.ModelTarget.backend`); the gateway's registry
(`gateway.backends.BACKENDS`) maps each kind to its factory, and a test keeps the two equal.
Adding a backend: its factory in `local_backends/` or `cloud_backends/`, one line here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from kernel.types import Tier

BACKEND_KINDS: MappingProxyType[str, Tier | None] = MappingProxyType(
    {
        "llamacpp": "local",  # in-process llama.cpp
        "openai_compat": None,  # any OpenAI-compatible server, local or cloud, without litellm
        "litellm": "cloud",  # every cloud provider litellm knows
    }
)


@dataclass(frozen=True, slots=True)
class LocalDefaults:
    """Process-wide backend settings (from the gateway's Settings), given to every factory."""

    model_path: Path | None = None
    threads: int = 2
    n_ctx: int = 4096
    max_queue: int = 8
    max_tokens: int = 512
