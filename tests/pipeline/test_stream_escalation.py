"""Streamed cascade escalation: the local stream's first tokens are held back and judged; a low
confidence switches the client to the cloud's stream (redacted, restored), never for protected
traffic; a failing cloud leaves the local answer whole."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator

import pytest
from stages_support import POLICY, rig
from test_escalation import ESCALATING, NAMED

from gateway.pipeline import Streamed
from kernel.errors import BackendError, BackendUnavailable
from kernel.fakes import ScriptedBackend
from kernel.types import ChatChunk, ChatRequest
from policies.loader import PolicyFileError

LONG = "a local answer that goes on for quite a few chunks beyond the window"
UNSURE, SURE = math.log(0.05), math.log(0.9)


class ClosableBackend(ScriptedBackend):
    """A scripted backend that notes whether its stream was closed before it ended."""

    closed_early = False

    async def stream(self, req: ChatRequest, *, model: str) -> AsyncIterator[ChatChunk]:
        ended = False
        try:
            async for chunk in super().stream(req, model=model):
                yield chunk
            ended = True
        finally:
            self.closed_early = not ended


class BreakingBackend(ScriptedBackend):
    """Streams two chunks of its answer, then fails."""

    async def stream(self, req: ChatRequest, *, model: str) -> AsyncIterator[ChatChunk]:
        chunks = aiter(super().stream(req, model=model))
        for _ in range(2):
            yield await anext(chunks)
        raise BackendError("the local model failed to generate an answer")


def local(logprob: float | None, answer: str = LONG) -> ClosableBackend:
    return ClosableBackend(lambda req, model: answer, name="local", logprob=logprob)


def window(tokens: int) -> str:
    return ESCALATING.replace(
        "escalate: {min_confidence: 0.5}",
        f"escalate: {{min_confidence: 0.5, hold_back_tokens: {tokens}}}",
    )


async def read(streamed: Streamed) -> tuple[str, list[ChatChunk]]:
    chunks = [c async for c in streamed.chunks]
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    return text, chunks


async def test_a_low_confidence_stream_is_replaced_by_the_clouds(tmp_path):
    r = rig(tmp_path, local=local(UNSURE), policy=ESCALATING)
    streamed = await r.pipeline.stream(r.exchange(NAMED, stream=True))
    text, chunks = await read(streamed)
    assert text == NAMED  # only the cloud's answer (an echo), the name restored in the stream
    assert r.local.received[0].request.logprobs is True  # asked, to judge the window
    assert r.local.closed_early  # the local generation was stopped
    assert streamed.route.escalated and streamed.route.target.alias == "cloud"
    assert "Margaret" not in r.cloud.texts() and r.cloud.received[0].stream
    assert all(c.logprobs is None for chunk in chunks for c in chunk.choices)
    entry = r.ledger.entries[-1]
    assert (entry.tier, entry.status) == ("cloud", 200)


async def test_a_confident_stream_passes_through_unchanged(tmp_path):
    r = rig(tmp_path, local=local(SURE), policy=ESCALATING)
    streamed = await r.pipeline.stream(r.exchange("Say something.", stream=True))
    text, chunks = await read(streamed)
    assert text == LONG and len(chunks) == math.ceil(len(LONG) / 3) + 1  # every chunk, in order
    assert not streamed.route.escalated and streamed.route.target.alias == "local"
    assert not r.cloud.received and not r.local.closed_early
    assert all(c.logprobs is None for chunk in chunks for c in chunk.choices)  # not asked
    assert r.ledger.entries[-1].tier == "local"


async def test_a_client_asking_for_logprobs_keeps_them_on_every_chunk(tmp_path):
    r = rig(tmp_path, local=local(SURE), policy=ESCALATING)
    streamed = await r.pipeline.stream(r.exchange("Say it.", stream=True, logprobs=True))
    text, chunks = await read(streamed)
    tokens = [
        e["token"]
        for c in chunks
        for ch in c.choices
        for e in (ch.logprobs or {}).get("content", [])
    ]
    assert "".join(tokens) == text == LONG


@pytest.mark.parametrize(("logprob", "escalated"), [(SURE, False), (UNSURE, True)])
async def test_an_answer_shorter_than_the_window_is_judged_whole(tmp_path, logprob, escalated):
    r = rig(tmp_path, local=local(logprob, "short"), policy=window(256))
    text, _ = await read(await r.pipeline.stream(r.exchange("Hi there.", stream=True)))
    assert text == ("Hi there." if escalated else "short")


async def test_a_failing_escalation_keeps_the_whole_local_answer(tmp_path):
    cloud = ScriptedBackend.failing(BackendUnavailable("down"), name="cloud")
    r = rig(tmp_path, local=local(UNSURE), cloud=cloud, policy=window(4))
    streamed = await r.pipeline.stream(r.exchange("Say something.", stream=True))
    text, chunks = await read(streamed)
    assert text == LONG and not streamed.route.escalated and not r.local.closed_early
    assert all(c.logprobs is None for chunk in chunks for c in chunk.choices)
    assert r.cloud.received and r.ledger.entries[-1].tier == "local"


async def test_a_local_failure_within_the_window_reaches_the_client_after_the_held_text(tmp_path):
    broken = BreakingBackend(lambda req, model: LONG, name="local", logprob=SURE)
    r = rig(tmp_path, local=broken, policy=ESCALATING)
    streamed = await r.pipeline.stream(r.exchange("Say something.", stream=True))
    seen = []
    with pytest.raises(BackendError):
        async for chunk in streamed.chunks:
            seen.append(chunk.choices[0].delta.content)
    assert "".join(seen) == LONG[:6] and not r.cloud.received
    assert r.ledger.entries[-1].status == BackendError.status


async def test_a_stream_without_logprobs_is_never_escalated(tmp_path):
    r = rig(tmp_path, local=local(None), policy=ESCALATING)  # e.g. tool calls, decoded whole
    text, _ = await read(await r.pipeline.stream(r.exchange("Say something.", stream=True)))
    assert text == LONG and not r.cloud.received


async def test_protected_traffic_never_escalates_on_a_stream(tmp_path):
    r = rig(tmp_path, local=local(UNSURE), policy=ESCALATING)
    secret = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
    streamed = await r.pipeline.stream(r.exchange(f"Why does {secret} fail?", stream=True))
    text, _ = await read(streamed)
    assert streamed.route.decision.escalation is None  # withheld with the cloud
    assert text == LONG and not streamed.route.escalated and not r.cloud.received
    assert not r.local.received[0].request.logprobs


async def test_without_an_escalation_a_stream_is_not_held_or_judged(tmp_path):
    r = rig(tmp_path, local=local(UNSURE), policy=POLICY)
    text, _ = await read(await r.pipeline.stream(r.exchange("Say something.", stream=True)))
    assert text == LONG and not r.cloud.received and not r.local.received[0].request.logprobs


@pytest.mark.parametrize(
    ("tokens", "bound"), [(0, "greater than or equal to 1"), (257, "less than or equal to 256")]
)
def test_the_window_is_bounded(tmp_path, tokens, bound):
    with pytest.raises(PolicyFileError) as caught:
        rig(tmp_path, policy=window(tokens))
    expected = f"default.escalate.hold_back_tokens: Input should be {bound} (got {tokens})"
    assert caught.value.message.endswith(f".yaml:15:111: {expected}")


class SlowFirstChunk(ScriptedBackend):
    """Never yields: the first chunk is still being generated when the client leaves."""

    async def stream(self, req: ChatRequest, *, model: str) -> AsyncIterator[ChatChunk]:
        await asyncio.Event().wait()
        yield ChatChunk(id="never", model=model)  # pragma: no cover


@pytest.mark.parametrize("policy", [POLICY, ESCALATING])
async def test_a_client_leaving_before_the_first_byte_is_recorded(tmp_path, policy) -> None:
    """Cancelled while waiting for the first chunk (or inside the hold-back window): one ledger
    row with status 499, as the relay records a client leaving later on."""
    slow = SlowFirstChunk(lambda req, model: LONG, name="local", logprob=SURE)
    r = rig(tmp_path, local=slow, policy=policy)
    task = asyncio.ensure_future(r.pipeline.stream(r.exchange("hello", stream=True)))
    for _ in range(100):  # bounded: until the backend has been called
        if slow.received:
            break
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert [(e.status, e.error_code) for e in r.ledger.entries] == [(499, "client_closed_request")]
