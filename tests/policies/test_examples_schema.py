"""The shipped example policies load, point editors at the committed JSON Schema, and that schema
is the one the code generates (`hybridgw policy schema --out policies/policy.schema.json`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.cli.policy_cmd import schema_text
from policies.loader import default_policy_path, load_policy

EXAMPLES = sorted(default_policy_path().parent.glob("*.yaml"))
SCHEMA = default_policy_path().parent.parent / "policy.schema.json"
MODELINE = "# yaml-language-server: $schema=../policy.schema.json"


def test_the_three_examples_ship():
    assert {p.name for p in EXAMPLES} >= {"default.yaml", "bank.yaml", "hospital.yaml"}


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_loads_and_references_the_schema(path: Path):
    loaded = load_policy(path)
    assert loaded.document.version == 1
    assert path.read_text().splitlines()[0] == MODELINE


def test_committed_schema_is_current():
    assert SCHEMA.read_text() == schema_text(), (
        "regenerate: hybridgw policy schema --out policies/policy.schema.json"
    )


def test_schema_forbids_unknown_keys_and_lists_actions():
    schema = json.loads(SCHEMA.read_text())
    assert schema["additionalProperties"] is False
    rule = schema["$defs"]["Rule"]
    assert rule["additionalProperties"] is False
    assert set(rule["properties"]["action"]["enum"]) == {
        "local",
        "cloud",
        "cloud_redacted",
        "block",
    }
