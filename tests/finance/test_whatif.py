"""Policy what-if on a synthetic ledger whose answer is known, through the library, CLI and API."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from support import policy_yaml
from typer.testing import CliRunner

from gateway.accounting import Accountant
from gateway.cli import app as cli
from gateway.ledger.sqlite import SqliteLedger
from gateway.whatif import what_if
from kernel.protocols import LedgerEntry
from policies.loader import parse_policy

BASE = "http://127.0.0.1:9/v1"
DAY = datetime(2026, 11, 10, tzinfo=UTC)
ADMIN = {"authorization": "Bearer adm-key"}


PII = "pii:\n  entities: {EMAIL_ADDRESS: placeholder}\n"


def current_text(pii: str = PII) -> str:
    return policy_yaml(BASE, BASE, pii)  # hard: difficulty >= 0.7 → cloud; default local


def draft_text() -> str:
    return current_text().replace("difficulty_gte: 0.7", "difficulty_gte: 0.5")


def row(
    i: int, difficulty: float, *, pii: tuple[str, ...] = (), inputs: bool = True
) -> LedgerEntry:
    cloud = difficulty >= 0.7
    return LedgerEntry(
        request_id=f"r{i}",
        timestamp=DAY + timedelta(minutes=i),
        tenant="t1",
        app="app1",
        policy_version="v1",
        rule="hard" if cloud else "default",
        tier="cloud" if cloud else "local",
        backend="litellm" if cloud else "openai_compat",
        model="cloud" if cloud else "local",
        status=200,
        prompt_tokens=100,
        completion_tokens=50,
        cost_usd=2e-4 if cloud else 0.0,
        latency_ms=1000.0 if cloud else 100.0,
        pii_counts={t: 1 for t in pii},
        difficulty=difficulty if inputs else None,
        sensitivity=0.0,
        pii_types=pii,
        requested_model="auto",
        routed_prompt_tokens=20,
    )


def synthetic() -> list[LedgerEntry]:
    rows = [row(i, d) for i, d in enumerate((0.1, 0.55, 0.6, 0.8, 0.9))]
    rows.append(row(5, 0.6, pii=("EMAIL_ADDRESS",)))
    rows.append(row(6, 0.65, inputs=False))  # recorded before inputs were kept
    return rows


def check_known_answer(body: dict) -> None:
    assert body["requests"] == 6 and body["skipped_without_inputs"] == 1
    assert body["changed"] == 3  # 0.55, 0.6, 0.6 (with PII) move from local to cloud
    assert body["transitions"] == [
        {"from_rule": "default", "from_route": "local", "to_rule": "hard", "to_route": "cloud",
         "requests": 3}
    ]  # fmt: skip
    cur, dr = body["current"], body["draft"]
    assert cur["local_share"] == pytest.approx(4 / 6) and dr["local_share"] == pytest.approx(1 / 6)
    # cloud is priced 1e-6 in / 2e-6 out in the policy: 100 + 50 tokens = 2e-4 per request
    assert cur["cost_usd"] == pytest.approx(2 * 2e-4) and dr["cost_usd"] == pytest.approx(5 * 2e-4)
    assert cur["pii_exposure"] == 0 and dr["pii_exposure"] == 1
    assert cur["latency_ms_mean"] == pytest.approx((4 * 100 + 2 * 1000) / 6)
    assert dr["latency_ms_mean"] == pytest.approx((100 + 5 * 1000) / 6)
    assert cur["latency_basis"] == dr["latency_basis"] == "measured"


def test_known_answer():
    current = parse_policy(current_text().encode(), "current.yaml").document
    draft = parse_policy(draft_text().encode(), "draft.yaml").document
    result = what_if(
        synthetic(),
        current,
        draft,
        since=DAY,
        until=DAY + timedelta(days=1),
        prices=Accountant(),
        latency_estimate_ms=1500,
    )
    check_known_answer(result.to_json())
    assert result.current.cost_usd == pytest.approx(result.recorded_cost_usd)  # same policy
    lines = result.to_csv().splitlines()
    assert lines[0].startswith("policy,changed,requests") and len(lines) == 3


def test_draft_pii_rules_and_pinned_models_are_replayed():
    current = parse_policy(current_text("").encode(), "current.yaml").document
    blocking = draft_text().replace("{EMAIL_ADDRESS: placeholder}", "{EMAIL_ADDRESS: block}")
    draft = parse_policy(blocking.encode(), "draft.yaml").document
    pinned = replace(row(9, 0.1), requested_model="cloud-slow")
    gone = parse_policy(
        draft_text().replace("  cloud-slow:", "  cloud-slow-renamed:").encode(), "d.yaml"
    ).document
    result = what_if(
        [row(5, 0.9, pii=("EMAIL_ADDRESS",)), pinned],
        current,
        draft,
        since=DAY,
        until=DAY + timedelta(days=1),
        prices=Accountant(),
        latency_estimate_ms=1500,
    )
    # current: the EMAIL type is not in current's pii.entities, so it is not a finding there
    assert result.current.pii_exposure == 0
    assert result.draft.blocked == 1  # `block` operator on a cloud-bound request refuses it
    again = what_if(
        [pinned], current, gone, since=DAY, until=DAY, prices=Accountant(), latency_estimate_ms=1
    )
    assert again.transitions[0].to_route == "rejected"  # the draft dropped the pinned alias


async def seeded_db(path) -> None:
    ledger = await SqliteLedger.open(path)
    for entry in synthetic():
        await ledger.record(entry)
    await ledger.aclose()


def test_cli_json(tmp_path, monkeypatch):
    db = tmp_path / "ledger.db"
    asyncio.run(seeded_db(db))
    (tmp_path / "current.yaml").write_text(current_text())
    (tmp_path / "draft.yaml").write_text(draft_text())
    monkeypatch.setenv("HYBRIDGW_DATABASE_URL", f"sqlite:///{db}")
    draft, current = str(tmp_path / "draft.yaml"), str(tmp_path / "current.yaml")
    args = ["policy", "whatif", draft, "--policy", current,
            "--since", "2026-11-10", "--until", "2026-11-10", "--format", "json"]  # fmt: skip
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    check_known_answer(json.loads(result.output))
    table = CliRunner().invoke(cli, args[:-2])
    assert table.exit_code == 0 and "3 of 6 requests change route" in table.output
    (tmp_path / "bad.yaml").write_text(draft_text().replace("target: cloud\n", "target: nope\n", 1))
    bad = CliRunner().invoke(cli, ["policy", "whatif", str(tmp_path / "bad.yaml")])
    assert bad.exit_code == 1 and "bad.yaml:" in bad.output


async def test_admin_endpoint(gateway, write_policy, cloud_mock, local_mock):
    text = policy_yaml(cloud_mock.base_url, local_mock.base_url, PII)
    draft = text.replace("difficulty_gte: 0.7", "difficulty_gte: 0.5")
    async with gateway(policy=write_policy(text), admin_key="adm-key") as gw:
        gw.ledger.entries.extend(synthetic())
        url = "/admin/policy/whatif?since=2026-11-10&until=2026-11-10"
        yaml_type = {"content-type": "application/yaml"}
        assert (await gw.client.post(url, content=draft, headers=yaml_type)).status_code == 401
        r = await gw.client.post(url, content=draft, headers={**ADMIN, **yaml_type})
        assert r.status_code == 200, r.text
        check_known_answer(r.json())
        broken = draft.replace("target: cloud\n", "target: nope\n", 1)
        r = await gw.client.post(url, content=broken, headers={**ADMIN, **yaml_type})
        assert r.status_code == 422 and "draft.yaml:" in r.json()["error"]["message"]
        r = await gw.client.post(url, content=draft, headers={**ADMIN, "content-type": "image/png"})
        assert r.status_code == 415
        r = await gw.client.post(url.replace("2026-11-10&", "2026-12-10&"), content=draft,
                                 headers={**ADMIN, **yaml_type})  # fmt: skip
        assert r.status_code == 400
