"""The llama.cpp backend knows its limits: a model that does not load, a full queue, a prompt
over `n_ctx` — each a `BackendError` raised before any generation, so dispatch can move on."""

from __future__ import annotations

import asyncio

import pytest
import pytest_asyncio

from kernel.errors import BackendBusy, BackendUnavailable, ContextLengthExceeded, RateLimited
from kernel.types import ChatRequest
from local_backends.llamacpp import LlamaCppBackend, LlamaCppConfig
from local_backends.registry import default_gguf_path


def _ask(text: str, **params) -> ChatRequest:
    return ChatRequest(model="local", messages=[{"role": "user", "content": text}], **params)


@pytest.mark.parametrize("content", [None, b"GGUF this is not a model" * 10])
async def test_a_model_that_does_not_load_is_unavailable_with_its_reason(tmp_path, content):
    path = tmp_path / "model.gguf"
    if content is not None:
        path.write_bytes(content)
    backend = LlamaCppBackend(LlamaCppConfig(model_path=str(path)))
    assert backend.status().starting
    await backend.start()
    status = backend.status()
    assert not status.ready and not status.starting
    assert "failed to load" in (status.reason or "")
    with pytest.raises(BackendUnavailable, match="failed to load"):
        await backend.complete(_ask("hi"), model="m")
    with pytest.raises(BackendUnavailable):
        await anext(aiter(backend.stream(_ask("hi"), model="m")))
    await backend.aclose()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def small():
    llm = LlamaCppBackend(
        LlamaCppConfig(model_path=str(default_gguf_path()), n_threads=2, n_ctx=256, max_queue=0)
    )
    await llm.start()
    yield llm
    await llm.aclose()


@pytest.mark.slow
@pytest.mark.asyncio(loop_scope="module")
async def test_a_prompt_over_n_ctx_fails_before_generating(small):
    with pytest.raises(ContextLengthExceeded) as caught:
        await small.complete(_ask("word " * 400, max_tokens=4), model="m")
    assert "256" in caught.value.message and caught.value.status == 400
    with pytest.raises(ContextLengthExceeded):  # fits, but not with the tokens asked for
        await small.complete(_ask("word " * 150, max_tokens=200), model="m")
    assert small.status().queue_depth == 0


@pytest.mark.slow
@pytest.mark.asyncio(loop_scope="module")
async def test_a_full_queue_is_busy_with_retry_after(small):
    first = asyncio.create_task(small.complete(_ask("Count to ten.", max_tokens=8), model="m"))
    await asyncio.sleep(0)  # the first request takes the only slot
    with pytest.raises(BackendBusy) as caught:
        await small.complete(_ask("Hello", max_tokens=2), model="m")
    assert isinstance(caught.value, RateLimited) and caught.value.retry_after >= 1
    assert (await first).choices[0].message.content
    assert small.status().queue_depth == 0
