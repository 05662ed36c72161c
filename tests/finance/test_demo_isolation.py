"""`hybridgw demo` writes to its own ledger file, marks its rows, and leaves the default empty."""

from __future__ import annotations

import sqlite3

from typer.testing import CliRunner

from gateway.cli import app as cli
from gateway.ledger.factory import DEFAULT_SQLITE


def test_demo_leaves_the_default_ledger_empty(write_policy, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HYBRIDGW_POLICY_FILE", str(write_policy()))
    monkeypatch.setenv("HYBRIDGW_CLASSIFIER", "fake")
    monkeypatch.setenv("HYBRIDGW_FAKE_DIFFICULTY", "0.5")
    monkeypatch.delenv("HYBRIDGW_DATABASE_URL", raising=False)
    result = CliRunner().invoke(cli, ["demo", "-n", "5", "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert "hybridgw-demo.db" in result.output
    assert not (tmp_path / DEFAULT_SQLITE).exists()  # the gateway's default ledger is untouched
    with sqlite3.connect(tmp_path / "hybridgw-demo.db") as conn:
        origins = [o for (o,) in conn.execute("SELECT origin FROM ledger")]
    assert origins == ["demo"] * 5
    assert "by local serving" in result.output
