"""`calibrate --local-model` pieces: grade a backend on the gradable sets, resume, fit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from kernel.types import AssistantMessage, ChatChunk, ChatRequest, ChatResponse, Choice
from training.router import calibrate_local
from training.router.gradable import CAPITALS


class CapitalsOnly:
    """A local model that knows capitals and nothing else."""

    name = "capitals"

    def __init__(self) -> None:
        self.calls = 0
        self.closed = False

    async def complete(self, req: ChatRequest, *, model: str) -> ChatResponse:
        self.calls += 1
        prompt = str(req.messages[-1].content)
        answer = next(
            (c for k, c in CAPITALS.items() if f"capital of {k}?" in prompt), "I do not know"
        )
        return ChatResponse(
            id="x", model=model, choices=[Choice(message=AssistantMessage(content=answer))]
        )

    def stream(self, req: ChatRequest, *, model: str) -> AsyncIterator[ChatChunk]:
        raise NotImplementedError

    async def aclose(self) -> None:
        self.closed = True


def test_measure_grades_resumes_and_fits(tmp_path: Path) -> None:
    items = calibrate_local.items_for(tmp_path, per_kind=3, gsm8k=0)
    answers = tmp_path / "answers.jsonl"
    backend = CapitalsOnly()
    assert calibrate_local.measure(items, backend, "m", answers) == len(items)
    assert backend.closed
    again = CapitalsOnly()
    assert calibrate_local.measure(items, again, "m", answers) == 0  # resumed: nothing new
    assert again.calls == 0
    result = calibrate_local.fit(
        answers, items, "smollm2-135m", alias="local", target_local_share=0.5, quality_floor=None
    )
    capitals = sum(i.kind == "capital" for i in items)
    assert result.items == len(items)
    assert result.local_ok_rate == pytest.approx(capitals / len(items))
    assert 0.0 <= result.fitted.threshold <= 1.0 + 1e-6
    assert result.fitted.local_share == pytest.approx(0.5, abs=0.15)
