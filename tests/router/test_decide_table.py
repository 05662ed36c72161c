"""`decide()` is pure and total: a table of features → (rule, action, target, redact)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from kernel.errors import ModelNotFound
from router.decision import Features, decide
from router.policy import RoutingPolicy

MODELS = {
    "local": {"tier": "local", "backend": "llamacpp", "model": "smollm2"},
    "local2": {"tier": "local", "backend": "openai_compat", "model": "q", "api_base": "http://x"},
    "cloud": {"tier": "cloud", "backend": "litellm", "model": "openai/gpt-4o-mini"},
}


def policy(**overrides) -> RoutingPolicy:
    doc = {
        "models": MODELS,
        "protect": [
            {
                "name": "secrets-local",
                "when": {"pii_any": ["SECRET"]},
                "action": "local",
                "target": "local",
                "fallbacks": ["local2"],
            },
            {
                "name": "sensitive-local",
                "when": {"sensitivity_gte": 0.8},
                "action": "local",
                "target": "local",
            },
            {
                "name": "hr-blocked",
                "when": {"apps": ["hr"], "pii_present": True},
                "action": "block",
                "message": "HR data may not be processed here.",
            },
        ],
        "route": [
            {
                "name": "hard",
                "when": {"difficulty_gte": 0.7},
                "action": "cloud_redacted",
                "target": "cloud",
                "fallbacks": ["local"],
            },
            {
                "name": "long-raw",
                "when": {"prompt_tokens_gte": 3000, "pii_present": False},
                "action": "cloud",
                "target": "cloud",
            },
        ],
        "default": {"action": "local", "target": "local", "fallbacks": ["cloud"]},
        "soft_budget_target": "local2",
    }
    doc.update(overrides)
    return RoutingPolicy.model_validate(doc)


P = policy()
CASES = [
    # features, rule, action, target alias, redact
    (Features(), "default", "local", "local", False),
    (Features(difficulty=0.9), "hard", "cloud_redacted", "cloud", True),
    (
        Features(difficulty=0.9, pii_types=frozenset({"EMAIL_ADDRESS"})),
        "hard",
        "cloud_redacted",
        "cloud",
        True,
    ),
    # protect beats cost, whatever the difficulty
    (Features(difficulty=0.99, sensitivity=0.85), "sensitive-local", "local", "local", False),
    (
        Features(difficulty=0.99, pii_types=frozenset({"SECRET"})),
        "secrets-local",
        "local",
        "local",
        True,
    ),
    (Features(app="hr", pii_types=frozenset({"PERSON"})), "hr-blocked", "block", None, False),
    (Features(app="hr"), "default", "local", "local", False),
    # a raw-cloud rule only fires without PII
    (Features(prompt_tokens=5000), "long-raw", "cloud", "cloud", False),
    (
        Features(prompt_tokens=5000, pii_types=frozenset({"PERSON"})),
        "default",
        "local",
        "local",
        True,
    ),
    # pinning comes after protect, before route
    (Features(requested_model="cloud"), "pinned:cloud", "cloud_redacted", "cloud", True),
    (
        Features(requested_model="cloud", sensitivity=0.9),
        "sensitive-local",
        "local",
        "local",
        False,
    ),
    (Features(requested_model="local2", difficulty=0.9), "pinned:local2", "local", "local2", False),
    # a soft budget turns cloud choices local, never touches protect decisions
    (
        Features(difficulty=0.9, over_soft_budget=True),
        "budget:soft-limit",
        "local",
        "local2",
        False,
    ),
    (Features(over_soft_budget=True), "default", "local", "local", False),
]


@pytest.mark.parametrize(("features", "rule", "action", "target", "redact"), CASES)
def test_decision_table(features, rule, action, target, redact):
    decision = decide(features, P)
    assert decision.rule == rule
    assert decision.action == action
    assert (decision.target.alias if decision.target else None) == target
    assert decision.redact is redact


def test_fallbacks_follow_the_rule_and_skip_the_target():
    decision = decide(Features(difficulty=0.9), P)
    assert [t.alias for t in decision.fallbacks] == ["local"]
    assert [t.alias for t in decision.candidates()] == ["cloud", "local"]


def test_reason_explains_the_clause():
    assert decide(Features(difficulty=0.72), P).reason == "difficulty 0.72 >= 0.70"
    assert decide(Features(), P).reason == "no rule matched"


def test_unknown_pinned_model_is_model_not_found():
    with pytest.raises(ModelNotFound):
        decide(Features(requested_model="gpt-9"), P)


def test_pinning_can_be_disabled():
    decision = decide(Features(requested_model="cloud"), policy(allow_pinning=False))
    assert decision.rule == "default"


def test_decide_is_deterministic():
    f = Features(difficulty=0.5, sensitivity=0.3, pii_types=frozenset({"PERSON"}))
    assert decide(f, P) == decide(f, P)


INVALID = [
    (
        {
            "route": [
                {
                    "name": "raw",
                    "when": {"difficulty_gte": 0.5},
                    "action": "cloud",
                    "target": "cloud",
                }
            ]
        },
        "must require `pii_present: false`",
    ),
    (
        {"protect": [{"name": "p", "when": {}, "action": "cloud", "target": "cloud"}]},
        "cannot send raw text",
    ),
    (
        {"protect": [{"name": "p", "action": "local", "target": "local", "fallbacks": ["cloud"]}]},
        "must be local too",
    ),
    (
        {"route": [{"name": "x", "action": "cloud_redacted", "target": "local"}]},
        "needs a cloud model",
    ),
    (
        {"route": [{"name": "x", "action": "local", "target": "nowhere"}]},
        "unknown model alias 'nowhere'",
    ),
    (
        {"route": [{"name": "hard", "action": "local", "target": "local"}] * 2},
        "duplicate rule name 'hard'",
    ),
    ({"route": [{"name": "x", "action": "block", "target": "local"}]}, "takes no target"),
    (
        {
            "route": [
                {"name": "x", "when": {"difficulty_gte": 1.5}, "action": "local", "target": "local"}
            ]
        },
        "less than or equal to 1",
    ),
]


@pytest.mark.parametrize(("override", "message"), INVALID)
def test_invalid_policies_are_refused(override, message):
    doc = {"route": [{"name": "hard", "action": "local", "target": "local"}], **override}
    with pytest.raises(ValidationError, match=message):
        policy(**doc)
