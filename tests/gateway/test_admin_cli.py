"""`hybridgw policy check | explain | schema` and `hybridgw pii redact`, run in-process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gateway.cli import app
from policies.loader import default_policy_path

CONF = Path(__file__).resolve().parents[1] / "conf"
EXAMPLES = sorted(default_policy_path().parent.glob("*.yaml"))


@pytest.fixture
def run():
    runner = CliRunner()

    def invoke(*args: str, stdin: str | None = None):
        return runner.invoke(app, list(args), input=stdin)

    return invoke


def test_check_passes_every_example(run):
    result = run("policy", "check", *map(str, EXAMPLES))
    assert result.exit_code == 0, result.output
    assert result.output.count("ok ") == len(EXAMPLES)


def test_check_fails_with_file_line_column(run):
    good, bad = EXAMPLES[0], CONF / "unknown_alias.yaml"
    result = run("policy", "check", str(good), str(bad))
    assert result.exit_code == 1
    assert f"error {bad}:15:13: route.0.target: rule 'hard': unknown model alias" in result.output
    assert f"ok {good}" in result.output


def test_schema_prints_json_schema(run, tmp_path: Path):
    printed = run("policy", "schema")
    out = tmp_path / "schema.json"
    written = run("policy", "schema", "--out", str(out))
    assert printed.exit_code == written.exit_code == 0
    assert json.loads(printed.stdout)["title"] == "hybrid-gateway routing policy"
    assert out.read_text() == printed.stdout


@pytest.fixture
def patterns_only_policy(tmp_path: Path) -> Path:
    """The default policy without the NER model (it takes seconds to load)."""
    path = tmp_path / "default.yaml"
    text = default_policy_path().read_text().replace("pii:\n", "pii:\n  scan_model: false\n", 1)
    path.write_text(text)
    return path


def test_explain_json_matches_the_admin_api_shape(run, monkeypatch, patterns_only_policy):
    monkeypatch.setenv("HYBRIDGW_CLASSIFIER", "fake")
    monkeypatch.setenv("HYBRIDGW_FAKE_DIFFICULTY", "0.9")
    prompt = "Email ada@example.com a proof of Fermat's little theorem."
    policy = str(patterns_only_policy)
    result = run("policy", "explain", prompt, "--app", "dev", "--json", "--policy", policy)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert set(report) == {"policy_version", "scores", "request", "pii", "decision"}
    assert report["decision"]["rule"] == "hard-to-cloud" and report["decision"]["redact"]
    assert [f["type"] for f in report["pii"]["findings"]] == ["EMAIL_ADDRESS"]
    assert "ada@example.com" not in result.stdout


def test_explain_table_and_unknown_app(run, monkeypatch):
    monkeypatch.setenv("HYBRIDGW_CLASSIFIER", "fake")
    shown = run("policy", "explain", "Say hello.")
    unknown = run("policy", "explain", "Say hello.", "--app", "nope")
    assert shown.exit_code == 0, shown.output
    assert "default — no rule matched" in shown.stdout
    assert unknown.exit_code == 1 and "no app named 'nope'" in unknown.output


def test_pii_redact_prints_what_the_cloud_would_receive(run):
    text = "Mail ada@example.com, card 4111 1111 1111 1111.\n"
    result = run("pii", "redact", "--no-names", stdin=text)
    assert result.exit_code == 0, result.output
    assert result.stdout == "Mail <EMAIL_ADDRESS_1>, card **** **** **** 1111.\n"


def test_pii_redact_refuses_a_blocked_type_naming_only_the_type(run):
    policy = default_policy_path().parent / "bank.yaml"
    secret = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
    result = run("pii", "redact", "--no-names", "--policy", str(policy), stdin=f"token {secret}")
    assert result.exit_code == 1
    assert "blocked" in result.output and secret not in result.output
