"""What one cloud model can take, from litellm's bundled tables (no network, cached per model).

- `forwarded`: the client's parameters litellm passes to this provider (the rest are reported
  as ignored, never sent: litellm would otherwise drop them silently or, for `metadata`, read
  them as its own logging metadata);
- `check_context`: a prompt over `max_input_tokens` fails before any upstream call, so the
  dispatch loop tries the next candidate;
- `key_problem`: why the model cannot be called now (an unset API key variable).
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

from kernel.errors import ContextLengthExceeded
from kernel.types import ChatRequest

_ALWAYS_SENT = frozenset({"stream_options"})  # set by the backend itself


@cache
def supported_params(litellm: Any, model: str) -> frozenset[str] | None:
    """OpenAI parameters litellm maps for `model`, or None when it does not know the provider."""
    try:
        bare, provider, _, _ = litellm.get_llm_provider(model)
        names = litellm.get_supported_openai_params(model=bare, custom_llm_provider=provider)
    except Exception:
        return None
    return None if names is None else frozenset(names)


@cache
def context_window(litellm: Any, model: str) -> int | None:
    try:
        limit = litellm.get_model_info(model).get("max_input_tokens")
    except Exception:  # litellm raises for models it has no entry for
        return None
    return int(limit) if limit else None


def forwarded(litellm: Any, req: ChatRequest, model: str) -> tuple[dict[str, Any], frozenset[str]]:
    """(kwargs to pass on, names of the client's parameters this model does not take)."""
    given = req.passthrough_params()
    supported = supported_params(litellm, model)
    if supported is None:
        supported = frozenset(given) - {"metadata"}
    kept = {name: value for name, value in given.items() if name in supported}
    ignored = {name for name in given if name not in supported}
    ignored |= {n for n in req.sampling_params() if n not in supported and n != "max_tokens"}
    if req.stream_options and req.stream_options.include_obfuscation is not None:
        ignored.add("stream_options.include_obfuscation")
    return kept, frozenset(ignored - _ALWAYS_SENT)


def check_context(litellm: Any, req: ChatRequest, model: str, messages: list[Any]) -> None:
    """Raise `ContextLengthExceeded` when the prompt is over the model's input window."""
    limit = context_window(litellm, model)
    if limit is None:
        return
    size = sum(len(m.text().encode()) for m in req.messages)
    if size <= limit:  # a token is at least one byte: no need to count
        return
    tokens = int(litellm.token_counter(model=model, messages=messages))
    if tokens > limit:
        raise ContextLengthExceeded(
            f"The prompt ({tokens} tokens) is longer than the context window of {model} "
            f"({limit} tokens).",
            param="messages",
        )


def key_problem(
    litellm: Any, model: str | None, api_base: str | None, api_key_env: str | None
) -> str | None:
    """Why `model` cannot be called now (None: it can, or `model` is None and it may)."""
    if api_key_env:
        if os.environ.get(api_key_env):
            return None
        return f"the API key variable {api_key_env} is not set"
    if api_base or model is None:
        return None  # keyless OpenAI-compatible endpoint, or nothing to look up
    try:
        missing = litellm.validate_environment(model).get("missing_keys") or []
    except Exception:
        return None
    return f"the API key variable {', '.join(missing)} is not set" if missing else None
