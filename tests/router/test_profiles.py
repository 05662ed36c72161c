"""Local-model profiles: the registry, the policy field, the fake's keys."""

from __future__ import annotations

import pytest

from policies.loader import PolicyFileError, default_policy_path, parse_policy
from router.fakes import FakeClassifier
from router.profiles import DEFAULT_PROFILE, HEADS, PROFILES, difficulty_key, require_profile


def _policy(extra: str) -> bytes:
    return default_policy_path().read_bytes() + extra.encode()


def test_registry_ships_the_two_profiles_and_their_heads() -> None:
    assert {"smollm2-135m", "7b-class"} <= set(PROFILES)
    assert DEFAULT_PROFILE == "smollm2-135m"
    assert HEADS[-1] == "sensitivity"
    assert difficulty_key("7b-class") in HEADS


def test_policy_defaults_to_the_embedded_profile() -> None:
    assert parse_policy(_policy(""), "p.yaml").document.router_profile == DEFAULT_PROFILE


def test_policy_accepts_a_shipped_profile() -> None:
    doc = parse_policy(_policy("router_profile: 7b-class\n"), "p.yaml").document
    assert doc.router_profile == "7b-class"


def test_policy_rejects_an_unknown_profile_naming_the_shipped_ones() -> None:
    with pytest.raises(PolicyFileError) as err:
        parse_policy(_policy("router_profile: gpt-5-local\n"), "p.yaml")
    assert "7b-class" in str(err.value) and "router_profile" in str(err.value)


def test_require_profile() -> None:
    assert require_profile("7b-class").name == "7b-class"
    with pytest.raises(ValueError, match="smollm2-135m"):
        require_profile("nope")


def test_fake_classifier_returns_every_profile_key() -> None:
    scores = FakeClassifier(difficulty=0.7, sensitivity=0.1).score("x")
    assert scores["difficulty"] == scores[difficulty_key("7b-class")] == 0.7
    assert set(HEADS) <= set(scores)
