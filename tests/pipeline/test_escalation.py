"""Cascade escalation: a low-confidence local answer is replaced by the cloud's, never for
protected traffic, and the cloud still sees only the redacted copy (streams:
test_stream_escalation)."""

from __future__ import annotations

import math

import pytest
from stages_support import POLICY, rig

from kernel.errors import BackendUnavailable
from kernel.fakes import ScriptedBackend
from policies.loader import PolicyFileError

ESCALATING = POLICY.replace(
    "default: {action: local, target: local, fallbacks: [cloud]}",
    "default: {action: local, target: local, fallbacks: [cloud], escalate: {min_confidence: 0.5}}",
)
NAMED = "Summarise what Margaret Thompson said in yesterday's meeting."


@pytest.mark.parametrize(("logprob", "escalated"), [(math.log(0.9), False), (math.log(0.1), True)])
async def test_the_local_answers_own_confidence_decides(tmp_path, logprob, escalated):
    local = ScriptedBackend(lambda req, model: "a local answer", name="local", logprob=logprob)
    r = rig(tmp_path, local=local, policy=ESCALATING)
    response, route = await r.pipeline.complete(r.exchange(NAMED))
    assert r.local.received[0].request.logprobs is True  # asked, to judge the answer
    assert route.escalated is escalated
    assert route.target is not None and route.target.alias == ("cloud" if escalated else "local")
    answer = response.choices[0].message.content or ""
    assert (answer == NAMED) if escalated else (answer == "a local answer")  # name restored
    assert response.choices[0].logprobs is None  # the client did not ask for them
    assert "Margaret" not in r.cloud.texts()
    assert r.ledger.entries[-1].tier == ("cloud" if escalated else "local")


async def test_a_failing_escalation_keeps_the_local_answer(tmp_path):
    local = ScriptedBackend(lambda req, model: "unsure", name="local", logprob=math.log(0.05))
    cloud = ScriptedBackend.failing(BackendUnavailable("down"))
    r = rig(tmp_path, local=local, cloud=cloud, policy=ESCALATING)
    response, route = await r.pipeline.complete(r.exchange("Say something."))
    assert not route.escalated and response.choices[0].message.content == "unsure"


async def test_protected_traffic_never_escalates(tmp_path):
    local = ScriptedBackend(lambda req, model: "unsure", name="local", logprob=math.log(0.05))
    r = rig(tmp_path, local=local, policy=ESCALATING)
    secret = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
    response, route = await r.pipeline.complete(r.exchange(f"Why does {secret} fail?"))
    assert not route.escalated and not r.cloud.received  # a block type withholds the cloud
    assert response.choices[0].message.content == "unsure"


def test_a_protect_rule_cannot_escalate(tmp_path):
    bad = ESCALATING + (
        "protect:\n  - {name: p, when: {sensitivity_gte: 0.9}, action: local, target: local,\n"
        "     escalate: {min_confidence: 0.5, to: cloud}}\n"
    )
    with pytest.raises(PolicyFileError, match="never escalates"):
        rig(tmp_path, policy=bad)
