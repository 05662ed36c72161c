"""Shadow evaluation wired into the pipeline: a local answer over HTTP gets a verdict afterwards.

Runs once `Pipeline` owns a `ShadowEvaluator` (the one-line hook in orchestrator.py `complete`);
until then it is skipped, and tests/finance/test_shadow.py covers the evaluator itself.
"""

from __future__ import annotations

import pytest
from support import AUTH, chat_body, policy_yaml

from gateway.pipeline import Pipeline
from gateway.pipeline.judges import JUDGES, Case, Grade

WIRED = "_shadow" in Pipeline.__init__.__code__.co_names
SHADOW = "shadow: {sample_rate: 1.0, daily_budget_usd: 1.0, judge: model}\n"


class PassAll:
    def __init__(self) -> None:
        self.cases: list[Case] = []

    async def grade(self, case: Case) -> Grade | None:
        self.cases.append(case)
        return Grade(True)


@pytest.mark.skipif(not WIRED, reason="orchestrator.py does not call the shadow hook yet")
async def test_local_answer_is_graded_in_the_background(
    gateway, write_policy, cloud_mock, local_mock, monkeypatch
):
    judge = PassAll()
    monkeypatch.setitem(JUDGES, "model", lambda backend, model: judge)
    path = write_policy(policy_yaml(cloud_mock.base_url, local_mock.base_url, SHADOW))
    async with gateway(policy=path, difficulty=0.1) as gw:
        r = await gw.client.post(
            "/v1/chat/completions", json=chat_body("Name a colour."), headers=AUTH
        )
        assert r.status_code == 200 and r.headers["x-route-tier"] == "local"
        shadow = gw.app.state.services.pipeline._shadow
        await shadow.drain()
    [verdict] = gw.ledger.verdicts
    assert verdict.request_id == r.headers["x-request-id"] and verdict.local_ok
    assert judge.cases[0].local_answer == r.json()["choices"][0]["message"]["content"]
