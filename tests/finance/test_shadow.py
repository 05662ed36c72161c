"""Shadow evaluation with a scripted judge: verdicts recorded (no text), quality in the report."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from support import policy_yaml
from typer.testing import CliRunner

from gateway.auth import Caller
from gateway.cli import app as cli
from gateway.ledger.sqlite import SqliteLedger
from gateway.pipeline import Exchange
from gateway.pipeline.judges import JUDGES, Case, ExactMatchJudge, Grade, ModelJudge
from gateway.pipeline.shadow import sampled
from gateway.reports.build import build_report
from gateway.reports.quality import wilson
from gateway.services import build_services
from gateway.settings import Settings
from kernel.types import ChatRequest, ChatResponse, Message
from router.fakes import FakeClassifier

SENTINEL = "ZEBRA-SHADOW-7781"
SHADOW = (
    "shadow: {{sample_rate: 1.0, daily_budget_usd: {budget}, judge: model, max_concurrency: {c}}}\n"
)
PII = "pii:\n  entities: {EMAIL_ADDRESS: placeholder}\n"


class ScriptedJudge:
    """Grades by the prompt: answers to prompts containing 'hard' are judged worse."""

    def __init__(self, gate: asyncio.Event | None = None) -> None:
        self.cases: list[Case] = []
        self.gate = gate

    async def grade(self, case: Case) -> Grade | None:
        if self.gate is not None:
            await self.gate.wait()
        self.cases.append(case)
        return Grade(local_ok="hard" not in case.request.messages[-1].text())


@pytest.fixture(autouse=True)
def _cloud_key(monkeypatch):
    monkeypatch.setenv("HYBRIDGW_TEST_CLOUD_KEY", "sk-cloud-secret")


@pytest.fixture
def scripted(monkeypatch):
    judge = ScriptedJudge()
    monkeypatch.setitem(JUDGES, "model", lambda backend, model: judge)
    return judge


async def start(write_policy, cloud_mock, local_mock, tmp_path, *, budget=1.0, concurrency=4):
    extra = SHADOW.format(budget=budget, c=concurrency) + PII
    path = write_policy(policy_yaml(cloud_mock.base_url, local_mock.base_url, extra))
    classifier = FakeClassifier(0.1, 0.0, by_text={f"delicate {SENTINEL}": {"sensitivity": 0.9}})
    ledger = await SqliteLedger.open(tmp_path / "ledger.db")
    settings = Settings(policy_file=path, classifier="fake", load_local_on_start=False)
    services = await build_services(settings, classifier=classifier, ledger=ledger)
    return services, ledger


async def answer(services, text: str) -> None:
    """One request through the pipeline, whose orchestrator hands local answers to the shadow."""
    req = ChatRequest(model="auto", messages=[Message(role="user", content=text)])
    ex = Exchange(uuid.uuid4().hex, Caller("t1", "app1"), services.policies.current, req)
    await services.pipeline.complete(ex)


async def test_verdicts_recorded_and_reported(
    write_policy, cloud_mock, local_mock, tmp_path, scripted, monkeypatch
):
    services, ledger = await start(write_policy, cloud_mock, local_mock, tmp_path)
    evaluator = services.pipeline.shadow
    try:
        for text in (
            f"easy one {SENTINEL}",
            f"easy two {SENTINEL}",
            f"a hard one {SENTINEL}",
            f"mail me at jo@example.com {SENTINEL}",  # PII: never sampled
            f"delicate {SENTINEL}",  # sensitivity 0.9: never sampled
        ):
            await answer(services, text)
        await evaluator.drain()
        now = datetime.now(UTC)
        verdicts = await ledger.fetch_verdicts(since=now - timedelta(1), until=now + timedelta(1))
        report = await build_report(
            ledger,
            since=now - timedelta(1),
            until=now + timedelta(1),
            group_by="day",
            tenant=None,
            reference_estimate_ms=1500,
        )
    finally:
        await services.aclose()
    assert sorted(v.local_ok for v in verdicts) == [False, True, True]
    assert {v.reference_model for v in verdicts} == {"cloud"} and all(
        v.cost_usd > 0 for v in verdicts
    )
    assert evaluator.skipped["ineligible"] == 2
    # the reference model was asked exactly the three sampled prompts, none with PII
    shadow_asks = [r for r in cloud_mock.requests if SENTINEL.encode() in r.body]
    assert len(shadow_asks) == 3 and not any(b"example.com" in r.body for r in shadow_asks)
    assert [c.reference_answer.startswith("echo:") for c in scripted.cases] == [True] * 3
    q = report.quality
    assert q is not None and (q.samples, q.as_good) == (3, 2)
    assert (q.ci_low, q.ci_high) == wilson(2, 3) and q.ci_low < 2 / 3 < q.ci_high
    assert report.to_json()["quality"]["retained"] == pytest.approx(2 / 3)
    assert "quality_retained" in report.to_csv().splitlines()[0]
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("ledger.db*"))
    assert SENTINEL.encode() not in raw and b"echo:" not in raw  # verdicts hold no text
    monkeypatch.setenv("HYBRIDGW_DATABASE_URL", f"sqlite:///{tmp_path / 'ledger.db'}")
    out = await asyncio.to_thread(CliRunner().invoke, cli, ["report"])
    assert out.exit_code == 0 and "Quality retained: 66.7% of 3 sampled" in out.output


async def test_background_bounded_and_budget_capped(
    write_policy, cloud_mock, local_mock, tmp_path, monkeypatch
):
    gate = asyncio.Event()
    judge = ScriptedJudge(gate)
    monkeypatch.setitem(JUDGES, "model", lambda backend, model: judge)
    services, _ledger = await start(
        write_policy, cloud_mock, local_mock, tmp_path, budget=1e-9, concurrency=1
    )
    evaluator = services.pipeline.shadow
    try:
        await answer(services, "first")  # returns while the judge waits
        await answer(services, "second")  # one in flight: skipped
        assert judge.cases == [] and evaluator.skipped["busy"] == 1
        gate.set()
        await evaluator.drain()
        await answer(services, "third")  # the day's budget is spent
        await evaluator.drain()
    finally:
        await services.aclose()
    assert len(judge.cases) == 1 and evaluator.skipped["budget"] == 1


def test_sampling_is_by_request_id():
    ids = [uuid.uuid4().hex for _ in range(2000)]
    share = sum(sampled(i, 0.25) for i in ids) / len(ids)
    assert 0.2 < share < 0.3
    assert all(sampled(i, 1.0) for i in ids) and not any(sampled(i, 0.0) for i in ids)
    assert [sampled(i, 0.25) for i in ids] == [sampled(i, 0.25) for i in ids]


def test_wilson_interval_known_values():
    low, high = wilson(8, 10)
    assert low == pytest.approx(0.4902, abs=1e-4) and high == pytest.approx(0.9433, abs=1e-4)
    assert wilson(0, 5)[0] == 0.0 and wilson(5, 5)[1] == pytest.approx(1.0)


class FakeJudgeBackend:
    name = "fake"

    def __init__(self, reply: str) -> None:
        self.reply = reply
        self.asked: list[ChatRequest] = []

    async def complete(self, req, *, model):
        self.asked.append(req)
        return ChatResponse.model_validate(
            {"id": "x", "model": model, "created": 0,
             "choices": [{"index": 0, "message": {"role": "assistant", "content": self.reply},
                          "finish_reason": "stop"}]}
        )  # fmt: skip


@pytest.mark.parametrize("reply, expected", [("PASS", True), ("fail.", False), ("unsure", None)])
async def test_model_judge_rubric(reply, expected):
    backend = FakeJudgeBackend(reply)
    req = ChatRequest(model="auto", messages=[Message(role="user", content="2+2?")])
    grade = await ModelJudge(backend, "m").grade(Case(req, "4", "Four."))
    assert (grade.local_ok if grade else None) == expected
    [ask] = backend.asked
    assert ask.temperature == 0 and "Answer A:\n<<<\n4\n>>>" in ask.messages[1].text()


async def test_exact_match_judge():
    req = ChatRequest(model="auto", messages=[Message(role="user", content="Capital of France?")])
    judge = ExactMatchJudge()
    assert await judge.grade(Case(req, "paris.", "Paris", gold="Paris")) == Grade(True, True)
    assert await judge.grade(Case(req, "Lyon", "Paris", gold="Paris")) == Grade(False, True)
    assert await judge.grade(Case(req, "Lyon", "Nice", gold="Paris")) == Grade(True, False)
    assert await judge.grade(Case(req, "Lyon", "Paris")) is None
