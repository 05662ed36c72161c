"""Judges for shadow evaluation: is a local answer as good as the reference model's?

* `ModelJudge`: the cloud reference model grades with one fixed rubric, answering PASS or FAIL;
* `ExactMatchJudge`: both answers are compared with the gold answer the app supplied.

`JUDGES` maps the policy's `shadow.judge` value to a factory; tests register scripted judges
there. A judge returns `None` when it cannot decide (unparseable reply): no verdict is kept.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from kernel.protocols import Backend
from kernel.types import ChatRequest, Message, Usage

RUBRIC = (
    "You grade answers to one user request. Answer A comes from a small model, answer B from a "
    "large reference model. Reply with exactly one word: PASS if answer A is as correct and as "
    "useful as answer B (shorter or differently worded is fine), FAIL otherwise."
)
_VERDICT = re.compile(r"\b(PASS|FAIL)\b")


@dataclass(frozen=True, slots=True)
class Case:
    """What a judge sees. Held in memory only while grading; never stored or logged."""

    request: ChatRequest
    local_answer: str
    reference_answer: str
    gold: str | None = None


@dataclass(frozen=True, slots=True)
class Grade:
    local_ok: bool
    reference_ok: bool | None = None
    usage: Usage = field(
        default_factory=Usage
    )  # what the judge's own call used (priced on the judge's model)


class Judge(Protocol):
    async def grade(self, case: Case) -> Grade | None: ...


def prompt_text(req: ChatRequest) -> str:
    return "\n\n".join(f"{m.role}: {m.text()}" for m in req.messages)


class ModelJudge:
    """The reference model, asked with `RUBRIC` (temperature 0, a few tokens)."""

    def __init__(self, backend: Backend, model: str) -> None:
        self._backend = backend
        self._model = model

    async def grade(self, case: Case) -> Grade | None:
        content = (
            f"Request:\n<<<\n{prompt_text(case.request)}\n>>>\n\n"
            f"Answer A:\n<<<\n{case.local_answer}\n>>>\n\n"
            f"Answer B:\n<<<\n{case.reference_answer}\n>>>"
        )
        ask = ChatRequest(
            model=self._model,
            messages=[
                Message(role="system", content=RUBRIC),
                Message(role="user", content=content),
            ],
            temperature=0,
            max_tokens=4,
        )
        reply = await self._backend.complete(ask, model=self._model)
        text = (reply.choices[0].message.content or "").upper() if reply.choices else ""
        found = _VERDICT.search(text)
        if found is None:
            return None
        return Grade(found.group(1) == "PASS", usage=reply.usage or Usage())


def normalise(text: str) -> str:
    """Case, accents-as-typed, surrounding punctuation and whitespace runs do not matter."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(folded.split()).strip(" .!?;:\"'")


class ExactMatchJudge:
    """Local and reference answers against the gold answer; no model call of its own."""

    async def grade(self, case: Case) -> Grade | None:
        if case.gold is None:
            return None
        gold = normalise(case.gold)
        local_ok = normalise(case.local_answer) == gold
        reference_ok = normalise(case.reference_answer) == gold
        # "as good as the reference": right, or the reference was wrong as well
        return Grade(local_ok or not reference_ok, reference_ok)


JudgeFactory = Callable[[Backend, str], Judge]
JUDGES: dict[str, JudgeFactory] = {
    "model": ModelJudge,
    "exact_match": lambda backend, model: ExactMatchJudge(),
}
