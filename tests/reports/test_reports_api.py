"""GET /admin/reports and `hybridgw report`: roles, JSON and CSV, and the same numbers both ways."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import math
from datetime import UTC, datetime, timedelta

from support import AUTH, chat_body
from typer.testing import CliRunner

from gateway.cli import app as cli
from gateway.ledger.sqlite import SqliteLedger
from gateway.reports.build import parse_moment, window

FINANCE = {"authorization": "Bearer fin-key"}
KEYS = {"admin_key": "adm-key", "finance_key": "fin-key"}


async def traffic(gw) -> None:
    for difficulty, text in [(0.1, "Say hi."), (0.9, "Prove it."), (0.1, "Ok?"), (0.9, "Why?")]:
        gw.classifier._default["difficulty"] = difficulty
        r = await gw.client.post("/v1/chat/completions", json=chat_body(text), headers=AUTH)
        assert r.status_code == 200, r.text


async def test_report_needs_the_finance_or_admin_key(gateway):
    async with gateway(**KEYS) as gw:
        assert (await gw.client.get("/admin/reports")).status_code == 401
        assert (await gw.client.get("/admin/reports", headers=AUTH)).status_code == 403
        for key in ("fin-key", "adm-key"):
            headers = {"authorization": f"Bearer {key}"}
            assert (await gw.client.get("/admin/reports", headers=headers)).status_code == 200


async def test_json_totals_equal_the_ledger_entries(gateway):
    async with gateway(**KEYS) as gw:
        await traffic(gw)
        r = await gw.client.get("/admin/reports?group_by=tier", headers=FINANCE)
    assert r.status_code == 200, r.text
    body = r.json()
    entries = gw.ledger.entries
    total = body["total"]
    assert total["requests"] == len(entries) == 4
    assert total["cost_usd"] == math.fsum(e.cost_usd for e in entries) > 0
    assert total["counterfactual_cost_usd"] == math.fsum(e.counterfactual_cost_usd for e in entries)
    assert {row["group"]: row["requests"] for row in body["rows"]} == {"cloud": 2, "local": 2}
    assert total["local_share"] == 0.5
    assert body["basis"]["local_cost_modes"] == ["local-zero"]
    assert body["basis"]["latency_reference_basis"] == "estimated"  # 2 samples < 10


async def test_csv_has_one_line_per_group_and_a_total(gateway):
    async with gateway(**KEYS) as gw:
        await traffic(gw)
        r = await gw.client.get("/admin/reports?group_by=rule&format=csv", headers=FINANCE)
    assert r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [row["group"] for row in rows] == ["default", "hard", "TOTAL"]
    assert float(rows[-1]["cost_usd"]) == math.fsum(e.cost_usd for e in gw.ledger.entries)


async def test_bad_window_is_a_400(gateway):
    async with gateway(**KEYS) as gw:
        r = await gw.client.get("/admin/reports?since=2026-02-01&until=2026-01-01", headers=FINANCE)
        assert r.status_code == 400
        r = await gw.client.get("/admin/reports?group_by=colour", headers=FINANCE)
        assert r.status_code in (400, 422)


def test_window_days_are_inclusive_utc():
    since, until = window("2026-11-01", "2026-11-03")
    assert since == datetime(2026, 11, 1, tzinfo=UTC)
    assert until == datetime(2026, 11, 4, tzinfo=UTC)
    assert parse_moment("2026-11-01T10:00:00", end=True) == datetime(2026, 11, 1, 10, tzinfo=UTC)


def test_cli_report_matches_the_http_report(gateway, tmp_path, monkeypatch):
    db = tmp_path / "ledger.db"

    async def serve_and_copy() -> dict:
        async with gateway(**KEYS) as gw:
            await traffic(gw)
            api = (await gw.client.get("/admin/reports?group_by=app", headers=FINANCE)).json()
        ledger = await SqliteLedger.open(db)
        for entry in gw.ledger.entries:
            await ledger.record(entry)
        await ledger.aclose()
        return api

    api = asyncio.run(serve_and_copy())  # the CLI runs its own event loop: none may be running
    monkeypatch.setenv("HYBRIDGW_DATABASE_URL", f"sqlite:///{db}")
    today = datetime.now(UTC).date()
    args = ["report", "--group-by", "app", "--format", "json"]
    args += ["--since", str(today - timedelta(days=29)), "--until", str(today)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["total"] == api["total"]
    table = CliRunner().invoke(cli, ["report", "--group-by", "tier"])
    assert table.exit_code == 0 and "TOTAL" in table.output and "estimated" in table.output
