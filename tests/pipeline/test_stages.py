"""Each pipeline stage on scripted in-process backends (no sockets)."""

from __future__ import annotations

import asyncio

import pytest
from stages_support import rig

from gateway.pipeline.admission import Admission
from kernel.errors import BackendTimeout, BackendUnavailable
from kernel.fakes import ScriptedBackend

NAMED = "Please forward this to Margaret Thompson before Friday."


async def test_planning_finishes_the_scan_before_any_backend_is_called(tmp_path):
    r = rig(tmp_path, difficulty=0.1)  # local first, cloud fallback
    plan = await r.pipeline._planner.plan(r.exchange(NAMED), Admission())
    assert "PERSON" in plan.features.pii_types
    assert [t.alias for t in plan.decision.candidates()] == ["local", "cloud"]
    cloud = plan.decision.candidates()[1]
    outgoing = plan.protection.outgoing(cloud).messages[0].text()
    assert "Margaret" not in outgoing and "<PERSON_1>" in outgoing  # the fallback copy is ready
    assert plan.protection.outgoing(plan.decision.candidates()[0]).messages[0].text() == NAMED
    assert not r.local.received and not r.cloud.received


async def test_dispatch_tries_candidates_in_order_and_marks_the_fallback(tmp_path):
    r = rig(tmp_path, difficulty=0.1, local=ScriptedBackend.failing(BackendUnavailable("down")))
    response, route = await r.pipeline.complete(r.exchange("Say hello."))
    assert route.target is not None and route.target.alias == "cloud" and route.fallback_used
    assert response.choices[0].message.content == "Say hello."
    assert len(r.local.received) == 1 and len(r.cloud.received) == 1


async def test_dispatch_bounds_a_hanging_backend_by_the_request_deadline(tmp_path):
    class Hanging(ScriptedBackend):
        async def complete(self, req, *, model):  # type: ignore[no-untyped-def]
            await asyncio.sleep(30)
            raise AssertionError("unreachable")

    hang = Hanging(lambda req, model: "", name="hang")
    r = rig(
        tmp_path, difficulty=0.9, cloud=hang, local=ScriptedBackend.failing(BackendTimeout("x"))
    )
    r.pipeline._dispatcher._timeout_s = 0.2
    with pytest.raises(BackendTimeout):
        await r.pipeline.complete(r.exchange("Prove Fermat's last theorem."))
    assert r.ledger.entries[0].status == 504


async def test_streamed_and_plain_answers_count_tokens_the_same_way(tmp_path):
    r = rig(tmp_path)
    plain, _ = await r.pipeline.complete(r.exchange("Count these tokens for me, please."))
    streamed = await r.pipeline.stream(
        r.exchange("Count these tokens for me, please.", stream=True)
    )
    _ = [c async for c in streamed.chunks]
    first, second = r.ledger.entries
    assert (first.prompt_tokens, first.completion_tokens) == (
        second.prompt_tokens,
        second.completion_tokens,
    )
    assert plain.usage.completion_tokens == first.completion_tokens > 0


async def test_outcome_writes_one_entry_per_request_without_text(tmp_path):
    r = rig(tmp_path, difficulty=0.9)
    await r.pipeline.complete(r.exchange(NAMED))
    (entry,) = r.ledger.entries
    assert entry.tier == "cloud" and entry.pii_redacted and entry.pii_counts == {"PERSON": 1}
    assert "Margaret" not in repr(entry) and "forward" not in repr(entry)
