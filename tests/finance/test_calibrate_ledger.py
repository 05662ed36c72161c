"""`router calibrate --from-ledger`: the threshold refitted from shadow verdicts and traffic."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from gateway.cli import app as cli
from gateway.ledger.sqlite import SqliteLedger
from gateway.ledger.verdicts import Verdict
from gateway.reports.calibrate import fit, quality_floor_threshold
from gateway.reports.quality import wilson
from kernel.protocols import LedgerEntry

# graded local answers: fine below 0.4, mostly wrong from 0.4 up (the current threshold 0.64)
GRADED = [(0.05 * i, True) for i in range(8)] + [(0.4, False), (0.45, True), (0.5, False),
                                                  (0.55, False), (0.6, False)]  # fmt: skip


def test_quality_floor_threshold():
    assert quality_floor_threshold(GRADED, 1.0) == pytest.approx(0.375)  # below the first miss
    # 0.85 tolerates two misses in 13: keep up to and including 0.45
    assert quality_floor_threshold(GRADED, 0.85) == pytest.approx(0.475)
    assert quality_floor_threshold([(0.1, True), (0.2, True)], 0.9) == pytest.approx(0.2 + 1e-6)


def test_fit_reports_both_figures_and_caps():
    traffic = [0.01 * i for i in range(100)]
    result = fit(GRADED, traffic, quality_floor=1.0, target_local_share=None)
    assert result.threshold == pytest.approx(0.375) and result.quality == 1.0
    assert result.local_share == pytest.approx(0.38) and not result.capped
    assert result.quality_ci == wilson(13, 13)
    everything_fine = fit([(0.1, True), (0.3, True)], traffic, quality_floor=0.5,
                          target_local_share=None)  # fmt: skip
    assert everything_fine.capped and everything_fine.threshold == pytest.approx(0.3 + 1e-6)
    by_share = fit(GRADED, traffic, quality_floor=None, target_local_share=0.5)
    assert by_share.threshold == pytest.approx(0.495) and by_share.local_share == 0.5
    assert by_share.quality == pytest.approx(12 / 13)  # 0.4 and 0.45 stay local; 0.4 fails


def test_cli_from_ledger(tmp_path, monkeypatch):
    db = tmp_path / "ledger.db"
    now = datetime.now(UTC) - timedelta(hours=1)

    async def seed() -> None:
        ledger = await SqliteLedger.open(db)
        for i, (difficulty, ok) in enumerate(GRADED * 2):
            await ledger.record(
                LedgerEntry(
                    f"r{i}",
                    now,
                    "t",
                    "a",
                    "v",
                    "default",
                    "local",
                    "llamacpp",
                    "local",
                    200,
                    difficulty=difficulty,
                )
            )
            await ledger.record_verdict(
                Verdict(
                    f"r{i}",
                    now,
                    "t",
                    "a",
                    "v",
                    "local",
                    "cloud",
                    "model",
                    ok,
                    difficulty=difficulty,
                )
            )
        await ledger.aclose()

    asyncio.run(seed())
    monkeypatch.setenv("HYBRIDGW_DATABASE_URL", f"sqlite:///{db}")
    policy = tmp_path / "p.yaml"
    policy.write_text("route:\n  - when: {difficulty_gte: 0.64}\n")
    args = ["router", "calibrate", "--from-ledger", "--quality-floor", "1.0"]
    result = CliRunner().invoke(cli, [*args, "--policy", str(policy)])
    assert result.exit_code == 0, result.output
    assert "threshold 0.3750" in result.output and "26 shadow verdicts" in result.output
    assert "difficulty_gte: 0.3750" in policy.read_text()
    monkeypatch.setenv("HYBRIDGW_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    empty = CliRunner().invoke(cli, args)
    assert empty.exit_code == 1 and "only 0 shadow verdicts" in empty.output
