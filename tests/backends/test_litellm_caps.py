"""What a cloud model takes, from litellm's bundled tables: forwarded parameters, the input
window (checked before any call) and the API key variable."""

from __future__ import annotations

import pytest

from cloud_backends.litellm_backend import LiteLLMBackend, import_litellm
from cloud_backends.litellm_caps import check_context, forwarded, key_problem
from kernel.errors import BackendError, BackendUnavailable, ContextLengthExceeded
from kernel.types import ChatRequest

litellm = import_litellm()


def _req(text: str = "hi", **params) -> ChatRequest:
    return ChatRequest(model="m", messages=[{"role": "user", "content": text}], **params)


def test_supported_parameters_are_forwarded_and_the_rest_reported():
    req = _req(store=True, metadata={"k": "v"}, prompt_cache_key="p", verbosity="low", seed=1)
    kept, ignored = forwarded(litellm, req, "openai/gpt-4o-mini")
    assert kept == {"store": True, "prompt_cache_key": "p"}
    assert "metadata" in ignored and "store" not in ignored and "seed" not in ignored


def test_a_prompt_over_the_input_window_is_refused_before_any_call():
    check_context(litellm, _req("hello " * 100), "openai/gpt-4", [])  # 8192 tokens: fits
    long = _req("hello world " * 6000)
    with pytest.raises(ContextLengthExceeded) as caught:
        check_context(litellm, long, "openai/gpt-4", [m.wire() for m in long.messages])
    assert isinstance(caught.value, BackendError) and "8192" in caught.value.message
    check_context(litellm, long, "openai/not-a-known-model", [])  # no table entry: no check


def test_an_unset_key_variable_makes_the_alias_unusable(monkeypatch):
    monkeypatch.delenv("HYBRIDGW_NO_SUCH_KEY", raising=False)
    backend = LiteLLMBackend(api_key_env="HYBRIDGW_NO_SUCH_KEY")
    status = backend.status()
    assert not status.ready and "HYBRIDGW_NO_SUCH_KEY" in (status.reason or "")
    with pytest.raises(BackendUnavailable, match="HYBRIDGW_NO_SUCH_KEY"):
        backend._kwargs(_req(), "openai/gpt-4o-mini", stream=False)
    monkeypatch.setenv("HYBRIDGW_NO_SUCH_KEY", "sk-x")
    assert backend.status().ready
    assert key_problem(litellm, None, "http://127.0.0.1:9/v1", None) is None
