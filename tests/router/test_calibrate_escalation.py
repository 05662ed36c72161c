"""`calibrate-escalation`: the local model's own confidence, fitted into `min_confidence`."""

from __future__ import annotations

import math
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kernel.types import AssistantMessage, ChatChunk, ChatRequest, ChatResponse, Choice
from training.router import calibrate_escalation, calibrate_local
from training.router.gradable import CAPITALS


class SureOfCapitals:
    """Right and confident on capitals; wrong and unsure on everything else."""

    def __init__(self) -> None:
        self.asked_logprobs: list[bool] = []

    async def complete(self, req: ChatRequest, *, model: str) -> ChatResponse:
        self.asked_logprobs.append(bool(req.logprobs))
        prompt = str(req.messages[-1].content)
        capital = next((c for k, c in CAPITALS.items() if f"capital of {k}?" in prompt), None)
        answer, p = (capital, 0.9) if capital else ("I do not know", 0.3)
        logprobs = {"content": [{"token": answer, "logprob": math.log(p), "bytes": None}]}
        choice = Choice(message=AssistantMessage(content=answer), logprobs=logprobs)
        return ChatResponse(id="x", model=model, choices=[choice])

    def stream(self, req: ChatRequest, *, model: str) -> AsyncIterator[ChatChunk]:
        raise NotImplementedError

    async def aclose(self) -> None:
        return None


def test_confidence_is_recorded_and_the_threshold_separates_right_from_wrong(
    tmp_path: Path,
) -> None:
    items = calibrate_local.items_for(tmp_path, per_kind=6, gsm8k=0)
    answers = tmp_path / "answers.jsonl"
    backend = SureOfCapitals()
    calibrate_local.measure(items, backend, "m", answers, confidence=True)  # type: ignore[arg-type]
    assert backend.asked_logprobs and all(backend.asked_logprobs)
    result = calibrate_escalation.fit(
        answers, {i.item_id for i in items}, target_escalation_share=None, quality_floor=1.0
    )
    assert result.roc_auc == pytest.approx(1.0)
    assert 0.3 < result.min_confidence <= 0.9  # escalates the unsure answers, keeps the sure
    assert result.held_quality == pytest.approx(1.0)
    capitals = sum(i.kind == "capital" for i in items) / len(items)
    assert result.held_escalated == pytest.approx(1.0 - capitals, abs=0.2)


def test_answers_without_logprobs_are_a_clear_error(tmp_path: Path) -> None:
    answers = tmp_path / "answers.jsonl"
    answers.write_text('{"id": "a", "local_ok": true, "confidence": null}\n')
    with pytest.raises(ValueError, match="logprobs"):
        calibrate_escalation.fit(answers, {"a"}, target_escalation_share=0.2, quality_floor=None)


def test_every_min_confidence_in_the_policy_is_rewritten(tmp_path: Path) -> None:
    policy = tmp_path / "p.yaml"
    policy.write_text("a:\n  escalate: {min_confidence: 0.4, to: cloud}  # keep me\n")
    assert calibrate_escalation.write_policy(policy, 0.1234) == 1
    assert policy.read_text() == "a:\n  escalate: {min_confidence: 0.1234, to: cloud}  # keep me\n"


def test_cli_measures_the_shipped_gguf_and_writes_the_policy(tmp_path: Path) -> None:
    """The real in-process SmolLM2 answers 10 gradable items with logprobs; the fitted value
    lands in the policy file."""
    from gateway.cli.router_cmd import app

    policy = tmp_path / "policy.yaml"
    policy.write_text(
        textwrap.dedent("""\
        version: 1
        reference_model: cloud
        models:
          local: {tier: local, backend: llamacpp, model: smollm2-135m-instruct}
          cloud: {tier: cloud, backend: litellm, model: openai/gpt-4o-mini,
                  api_base: "http://127.0.0.1:9/v1"}
        default: {action: local, target: local, fallbacks: [cloud],
                  escalate: {min_confidence: 0.5}}
        """)
    )
    result = CliRunner().invoke(
        app,
        [
            "calibrate-escalation", "--local-model", "local", "--policy", str(policy),
            "--target-escalation-share", "0.3", "--per-kind", "1", "--gsm8k", "0",
            "--checkpoint", str(tmp_path / "answers.jsonl"),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "updated 1 min_confidence value(s)" in result.output
    written = policy.read_text()
    assert "min_confidence: 0.5}" not in written
    rows = calibrate_local.read_labels(tmp_path / "answers.jsonl")
    assert len(rows) == 10 and all(0.0 < float(str(r["confidence"])) <= 1.0 for r in rows)
