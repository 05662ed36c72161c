"""Escalation: a local answer whose own confidence is low is replaced by the cloud's.

The decision says whether a request may escalate (`RouteDecision.escalation`: never for
protected traffic, never when the PII facts withhold the cloud). The local first choice is then
asked for token log-probabilities; confidence is their geometric mean (exp of the mean logprob
over the answer's tokens). Below the policy's `min_confidence` the escalation target gets the
redacted copy; if it fails, the local answer stands. A stream is judged on its first tokens,
held back meanwhile (`holdback`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from gateway.pipeline.planning import Plan
from kernel.types import ChatChunk, ChatRequest, ChatResponse
from router.decision import Target


def asks_confidence(plan: Plan, target: Target) -> bool:
    """True when `target`'s answer may be escalated, so it needs logprobs."""
    escalation = plan.decision.escalation
    return escalation is not None and target.tier == "local" and target == plan.decision.target


def with_logprobs(req: ChatRequest) -> ChatRequest:
    return req if req.logprobs else req.model_copy(update={"logprobs": True})


def confidence(response: ChatResponse) -> float | None:
    """Geometric mean of the answer's token probabilities; None without logprobs."""
    if not response.choices:
        return None
    return _mean_confidence(_entries(response.choices[0].logprobs))


def stream_confidence(chunks: Sequence[ChatChunk]) -> float | None:
    """The same over streamed chunks; None when a chunk with text has no logprobs."""
    entries: list[object] = []
    for chunk in chunks:
        for choice in chunk.choices:
            if not choice.delta.content:
                continue
            given = _entries(choice.logprobs)
            if not given:
                return None
            entries += given
    return _mean_confidence(entries)


def _mean_confidence(entries: Sequence[object]) -> float | None:
    values = [float(e["logprob"]) for e in entries if isinstance(e, dict) and "logprob" in e]
    if not values:
        return None
    return math.exp(sum(values) / len(values))


def _entries(logprobs: Mapping[str, Any] | None) -> list[object]:
    return list((logprobs or {}).get("content") or [])


def without_logprobs(response: ChatResponse) -> ChatResponse:
    """The answer as a client that did not ask for logprobs expects it (itself when it has
    none: no copy on the common path)."""
    if all(c.logprobs is None for c in response.choices):
        return response
    choices = [c.model_copy(update={"logprobs": None}) for c in response.choices]
    return response.model_copy(update={"choices": choices})


def chunk_without_logprobs(chunk: ChatChunk) -> ChatChunk:
    """A streamed chunk as a client that did not ask for logprobs expects it."""
    if all(c.logprobs is None for c in chunk.choices):
        return chunk
    choices = [c.model_copy(update={"logprobs": None}) for c in chunk.choices]
    return chunk.model_copy(update={"choices": choices})


def should_escalate(plan: Plan, response: ChatResponse) -> bool:
    return below_threshold(plan, confidence(response))


def below_threshold(plan: Plan, measured: float | None) -> bool:
    """True when the decision escalates and `measured` confidence is known and too low."""
    escalation = plan.decision.escalation
    if escalation is None:
        return False
    return measured is not None and measured < escalation.min_confidence
