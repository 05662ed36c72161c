"""Golden decisions: each example policy against a table of features (tests/policies/golden).

Also pins the evaluation order: protection first, whatever order the file lists its sections in.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from policies.loader import default_policy_path, load_policy, parse_policy
from policies.schema import PolicyDocument
from router.decision import Features, decide

EXAMPLES = default_policy_path().parent
GOLDEN = Path(__file__).parent / "golden"
GOLDEN_FILES = sorted(GOLDEN.glob("*.yaml"))


def golden_cases() -> list[Any]:
    cases = []
    for path in GOLDEN_FILES:
        spec = yaml.safe_load(path.read_text())
        for case in spec["cases"]:
            cases.append(pytest.param(spec["policy"], case, id=f"{path.stem}: {case['name']}"))
    return cases


def features(raw: dict[str, Any]) -> Features:
    return Features(**{**raw, "pii_types": frozenset(raw.get("pii_types", ()))})


def outcome(document: PolicyDocument, raw: dict[str, Any]) -> dict[str, Any]:
    decision = decide(features(raw), document)
    return {
        "rule": decision.rule,
        "action": decision.action,
        "target": decision.target.alias if decision.target else None,
        "tier": decision.target.tier if decision.target else None,
        "redact": decision.redact,
        "fallbacks": [t.alias for t in decision.fallbacks],
    }


@cache
def example(policy: str) -> PolicyDocument:
    return load_policy(EXAMPLES / policy).document


@cache
def sections_reversed(policy: str) -> PolicyDocument:
    """The same policy with its top-level sections written in reverse order (route before
    protect, default first …)."""
    path = EXAMPLES / policy
    data = yaml.safe_load(path.read_text())
    reordered = dict(reversed(list(data.items())))
    return parse_policy(yaml.safe_dump(reordered, sort_keys=False).encode(), str(path)).document


def test_every_example_policy_has_a_golden_file():
    assert {p.name for p in GOLDEN_FILES} == {p.name for p in EXAMPLES.glob("*.yaml")}


@pytest.mark.parametrize(("policy", "case"), golden_cases())
def test_golden_decision(policy: str, case: dict[str, Any]):
    got = outcome(example(policy), case["features"])
    expected = case["expect"]
    assert {key: got[key] for key in expected} == expected


@pytest.mark.parametrize(("policy", "case"), golden_cases())
def test_section_order_in_the_file_never_changes_a_decision(policy: str, case: dict[str, Any]):
    reordered = sections_reversed(policy)
    assert outcome(reordered, case["features"]) == outcome(example(policy), case["features"])


def test_protect_rule_beats_a_route_rule_listed_first_that_matches_everything():
    text = (EXAMPLES / "default.yaml").read_text()
    catch_all = (
        "route:\n  - name: everything-to-cloud\n    action: cloud_redacted\n    target: gpt-4o\n"
    )
    text = text.replace("route:\n", catch_all, 1)
    document = parse_policy(text.encode(), "catch-all.yaml").document
    assert document.route[0].name == "everything-to-cloud"
    assert outcome(document, {"sensitivity": 0.9})["rule"] == "sensitive-stays-local"
    assert outcome(document, {"pii_types": ["API_KEY"]})["rule"] == "credentials-stay-local"
    assert outcome(document, {"difficulty": 0.1})["rule"] == "everything-to-cloud"
