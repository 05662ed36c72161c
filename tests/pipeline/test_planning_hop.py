"""A small request among a few being served is planned on the event loop; a large one, or one
among many, on the planner thread: the same plan either way."""

from __future__ import annotations

import threading
from contextlib import ExitStack

import pytest
from stages_support import rig

from gateway.pipeline.admission import Admission
from gateway.pipeline.planning import INLINE_CHARS, INLINE_SERVING, scanned_chars
from kernel.errors import BackendUnavailable
from kernel.fakes import ScriptedBackend
from kernel.types import ChatRequest, Message

NAMED = "Please forward this to Margaret Thompson before Friday. "


def test_scanned_chars_counts_every_scanned_text_and_stops_past_the_limit():
    req = ChatRequest(
        model="auto",
        user="u-7",
        messages=[Message(role="system", content="Be brief."), Message(role="user", content="Hi")],
    )
    assert scanned_chars(req) == len("u-7") + len("Be brief.") + len("Hi")
    long = ChatRequest(model="auto", messages=[Message(role="user", content="x" * 10)] * 1000)
    assert INLINE_CHARS < scanned_chars(long) <= INLINE_CHARS + 10


async def test_small_and_large_requests_get_the_same_plan_on_different_threads(
    tmp_path, monkeypatch
):
    r = rig(tmp_path, difficulty=0.1)
    planner = r.pipeline._planner
    threads: list[str] = []
    plan_now = planner.plan_now

    def recording(ex, admission):  # type: ignore[no-untyped-def]
        threads.append(threading.current_thread().name)
        return plan_now(ex, admission)

    monkeypatch.setattr(planner, "plan_now", recording)
    with planner.serving():
        small = await planner.plan(r.exchange(NAMED), Admission())
        large = await planner.plan(
            r.exchange(NAMED * (INLINE_CHARS // len(NAMED) + 1)), Admission()
        )
        with ExitStack() as others:  # a few more requests are being served meanwhile
            for _ in range(INLINE_SERVING - 1):
                others.enter_context(planner.serving())
            among_few = await planner.plan(r.exchange(NAMED), Admission())
            with planner.serving():  # one more: too many to hold the loop for a plan
                crowded = await planner.plan(r.exchange(NAMED), Admission())
    loop_thread = threading.current_thread().name
    assert threads[0] == loop_thread and threads[2] == loop_thread
    assert threads[1].startswith("hybridgw-plan") and threads[3].startswith("hybridgw-plan")
    for plan in (small, large, among_few, crowded):
        assert "PERSON" in plan.features.pii_types
        cloud = plan.decision.candidates()[1]
        assert "Margaret" not in plan.protection.outgoing(cloud).messages[0].text()
    assert small.decision.candidates() == large.decision.candidates()
    assert (small.features, small.decision) == (crowded.features, crowded.decision)


async def test_a_request_counts_as_served_until_it_ends_a_stream_until_its_last_chunk(tmp_path):
    r = rig(tmp_path)
    planner = r.pipeline._planner
    await r.pipeline.complete(r.exchange("Say hello."))
    assert planner._serving == 0
    streamed = await r.pipeline.stream(r.exchange("Say hello.", stream=True))
    assert planner._serving == 1  # relaying: it counts until its last chunk
    _ = [c async for c in streamed.chunks]
    assert planner._serving == 0


async def test_a_stream_that_fails_to_start_is_no_longer_counted(tmp_path):
    down = tmp_path / "down"
    down.mkdir()
    failing = rig(
        down,
        local=ScriptedBackend.failing(BackendUnavailable("down")),
        cloud=ScriptedBackend.failing(BackendUnavailable("down")),
    )
    with pytest.raises(BackendUnavailable):
        await failing.pipeline.stream(failing.exchange("Say hello.", stream=True))
    assert failing.pipeline._planner._serving == 0
