"""Escalation: a local answer whose own confidence is low is replaced by the cloud's.

The decision says whether a request may escalate (`RouteDecision.escalation`: never for
protected traffic, never when the PII facts withhold the cloud). The local first choice is then
asked for token log-probabilities; confidence is their geometric mean (exp of the mean logprob
over the answer's tokens). Below the policy's `min_confidence` the escalation target gets the
redacted copy; if it fails, the local answer stands. Non-streamed requests only.
"""

from __future__ import annotations

import math

from gateway.pipeline.planning import Plan
from kernel.types import ChatRequest, ChatResponse
from router.decision import Target


def asks_confidence(plan: Plan, target: Target) -> bool:
    """True when `target`'s (non-streamed) answer may be escalated, so it needs logprobs."""
    escalation = plan.decision.escalation
    return escalation is not None and target.tier == "local" and target == plan.decision.target


def with_logprobs(req: ChatRequest) -> ChatRequest:
    return req if req.logprobs else req.model_copy(update={"logprobs": True})


def confidence(response: ChatResponse) -> float | None:
    """Geometric mean of the answer's token probabilities; None without logprobs."""
    if not response.choices or not response.choices[0].logprobs:
        return None
    content = response.choices[0].logprobs.get("content") or []
    values = [float(e["logprob"]) for e in content if isinstance(e, dict) and "logprob" in e]
    if not values:
        return None
    return math.exp(sum(values) / len(values))


def without_logprobs(response: ChatResponse) -> ChatResponse:
    """The answer as a client that did not ask for logprobs expects it."""
    choices = [c.model_copy(update={"logprobs": None}) for c in response.choices]
    return response.model_copy(update={"choices": choices})


def should_escalate(plan: Plan, response: ChatResponse) -> bool:
    escalation = plan.decision.escalation
    if escalation is None:
        return False
    measured = confidence(response)
    return measured is not None and measured < escalation.min_confidence
