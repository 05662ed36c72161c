"""Broken policy files in tests/conf/: each names its expected `file:line:col` message on line 1."""

from __future__ import annotations

from pathlib import Path

import pytest

from policies.loader import PolicyFileError, load_policy, parse_policy

CONF = Path(__file__).resolve().parents[1] / "conf"
BROKEN = sorted(CONF.glob("*.yaml"))
EXPECT = "# expect: "


def expected_message(path: Path) -> str:
    first = path.read_text().splitlines()[0]
    assert first.startswith(EXPECT), f"{path.name} must start with '{EXPECT}…'"
    return f"{path}{first.removeprefix(EXPECT)}"


def test_there_are_broken_fixtures():
    assert len(BROKEN) >= 15


@pytest.mark.parametrize("path", BROKEN, ids=lambda p: p.stem)
def test_broken_policy_is_refused_with_file_line_column(path: Path):
    with pytest.raises(PolicyFileError) as caught:
        load_policy(path)
    assert caught.value.message == expected_message(path)
    [problem] = caught.value.problems
    assert problem.source == str(path)


def test_missing_file_is_an_error_naming_it(tmp_path: Path):
    missing = tmp_path / "nope.yaml"
    with pytest.raises(PolicyFileError, match=r"nope\.yaml:1:1: file: cannot read"):
        load_policy(missing)


def test_every_problem_is_reported_in_line_order():
    text = (CONF / "unknown_key.yaml").read_text()
    text = text.replace("backend: litellm", "backend: litellm, colour: blue")
    text = text.replace("    US_SSN: mask", "    US_SSN: shred")
    with pytest.raises(PolicyFileError) as caught:
        parse_policy(text.encode(), "p.yaml")
    lines = [str(p) for p in caught.value.problems]
    assert [line.split(": ", 1)[0] for line in lines] == [
        "p.yaml:6:42",
        "p.yaml:10:13",
        "p.yaml:13:12",
    ]
    assert "unknown key 'colour'" in lines[0]
    assert caught.value.message == "\n".join(lines)


def test_secret_group_expands_to_its_member_types():
    text = (CONF / "pii_type_not_scanned.yaml").read_text()
    text = text.replace("US_SSN: mask", "US_SSN: mask\n    SECRET: block\n    CREDIT_CARD: mask")
    text = text.replace("pii_any: [CREDIT_CARD]", "pii_any: [SECRET, CREDIT_CARD]")
    document = parse_policy(text.encode(), "p.yaml").document
    assert document.pii.entities["PASSWORD"] == "block"
    assert "SECRET" not in document.pii.entities
    assert document.protect[0].when.pii_any == [
        "API_KEY",
        "JWT",
        "PASSWORD",
        "PRIVATE_KEY",
        "CREDIT_CARD",
    ]


def test_a_type_named_on_its_own_beats_its_group():
    text = (CONF / "unknown_key.yaml").read_text().replace("difficulty_gt:", "difficulty_gte:")
    text = text.replace("US_SSN: mask", "US_SSN: mask\n    SECRET: block\n    JWT: hash")
    entities = parse_policy(text.encode(), "p.yaml").document.pii.entities
    assert (entities["JWT"], entities["API_KEY"]) == ("hash", "block")


def test_a_default_operator_scans_every_type():
    text = (CONF / "pii_type_not_scanned.yaml").read_text()
    text = text.replace("US_SSN: mask", "US_SSN: mask\n    DEFAULT: hash")
    document = parse_policy(text.encode(), "p.yaml").document
    assert document.protect[0].when.pii_any == ["CREDIT_CARD"]
    assert document.pii.entities["DEFAULT"] == "hash"


def test_version_is_the_content_hash():
    text = (CONF / "unknown_key.yaml").read_text().replace("difficulty_gt:", "difficulty_gte:")
    first = parse_policy(text.encode(), "a.yaml")
    again = parse_policy(text.encode(), "b.yaml")
    changed = parse_policy((text + "\n# comment\n").encode(), "a.yaml")
    assert first.version == again.version != changed.version
    assert len(first.version) == 12
