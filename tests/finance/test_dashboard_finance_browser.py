"""/dashboard in headless Chromium: the savings split, the reference model, quality retained and
the what-if tab show what the JSON APIs return. Needs Debian's `chromium` (as
tests/gateway/test_dashboard_browser.py)."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from support import policy_yaml, wait_healthy

from gateway.ledger.sqlite import SqliteLedger
from gateway.ledger.verdicts import Verdict
from kernel.protocols import LedgerEntry

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run"]
FINANCE, ADMIN = "fin-key-2", "adm-key-2"
PII = "pii:\n  entities: {EMAIL_ADDRESS: placeholder}\n"

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium")


def rows() -> list[LedgerEntry]:
    now = datetime.now(UTC) - timedelta(hours=2)
    out = []
    for i, difficulty in enumerate([0.1, 0.3, 0.55, 0.6, 0.8, 0.9] * 5):
        cloud = difficulty >= 0.7
        base = LedgerEntry(
            f"d{i:03d}", now + timedelta(seconds=i), "t1", "app1", "v1",
            "hard" if cloud else "default", "cloud" if cloud else "local",
            "litellm" if cloud else "openai_compat", "cloud" if cloud else "local", 200,
            prompt_tokens=100, completion_tokens=50, cost_usd=2e-4 if cloud else 0.0,
            counterfactual_cost_usd=5e-4, latency_ms=900.0 if cloud else 120.0,
            reference_model="cloud-big",
        )  # fmt: skip
        out.append(
            replace(
                base,
                baseline_model="cloud",
                baseline_cost_usd=2e-4,
                difficulty=difficulty,
                requested_model="auto",
                routed_prompt_tokens=20,
            )
        )
    return out


async def fill(db: Path) -> None:
    ledger = await SqliteLedger.open(db)
    for entry in rows():
        await ledger.record(entry)
        if entry.tier == "local":
            await ledger.record_verdict(
                Verdict(
                    entry.request_id,
                    entry.timestamp,
                    "t1",
                    "app1",
                    "v1",
                    "local",
                    "cloud",
                    "model",
                    entry.difficulty < 0.5,
                    difficulty=entry.difficulty,
                )
            )
    await ledger.aclose()


@pytest.fixture
def served(write_policy, tmp_path, cloud_mock, local_mock):
    db = tmp_path / "ledger.db"
    asyncio.run(fill(db))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        **os.environ,
        "HYBRIDGW_POLICY_FILE": str(
            write_policy(policy_yaml(cloud_mock.base_url, local_mock.base_url, PII))
        ),
        "HYBRIDGW_CLASSIFIER": "fake",
        "HYBRIDGW_LOAD_LOCAL_ON_START": "false",
        "HYBRIDGW_DATABASE_URL": f"sqlite:///{db}",
        "HYBRIDGW_FINANCE_KEY": FINANCE,
        "HYBRIDGW_ADMIN_KEY": ADMIN,
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "gateway.app:create_app", "--factory",
         "--host", "127.0.0.1", "--port", str(port), "--no-access-log"],
        env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, proc)
        yield base, policy_yaml(cloud_mock.base_url, local_mock.base_url, PII)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def test_split_quality_and_whatif_tab(served):
    from playwright.sync_api import sync_playwright

    base, policy = served
    today = datetime.now(UTC).date()
    window = {"since": str(today - timedelta(days=29)), "until": str(today)}
    finance = {"authorization": f"Bearer {FINANCE}"}
    params = {**window, "group_by": "day"}
    report = httpx.get(f"{base}/admin/reports", params=params, headers=finance, timeout=30).json()
    draft = policy.replace("difficulty_gte: 0.7", "difficulty_gte: 0.5")
    admin = {"authorization": f"Bearer {ADMIN}", "content-type": "application/yaml"}
    url = f"{base}/admin/policy/whatif"
    whatif = httpx.post(url, params=window, content=draft, headers=admin, timeout=30).json()
    assert whatif["changed"] == 10
    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1400})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{base}/dashboard")
        page.fill("#key", FINANCE)
        page.click("#login-form button")
        page.wait_for_selector("body[data-loaded=true]", timeout=30_000)
        value = lambda sel: page.get_attribute(sel, "data-value")  # noqa: E731
        total, quality = report["total"], report["quality"]
        assert value("#stat-savings-local") == repr(total["savings_local_usd"])
        assert value("#stat-savings-choice") == repr(total["savings_cloud_choice_usd"])
        assert page.inner_text("#reference-model") == "cloud-big"
        assert value("#stat-quality") == repr(quality["retained"]) and quality["samples"] == 20
        assert f"{quality['samples']} sampled" in page.inner_text("#stat-quality-detail")

        page.click("#tab-whatif")
        page.fill("#whatif-draft", draft)
        page.fill("#whatif-key", ADMIN)
        page.click("#whatif-form button")
        page.wait_for_selector("body[data-whatif=done]", timeout=30_000)
        assert page.get_attribute("#whatif-summary", "data-changed") == str(whatif["changed"])
        shares = page.eval_on_selector_all(
            "#whatif-policies tbody tr", "rows => rows.map(r => r.dataset.localShare)"
        )
        assert shares == [
            repr(whatif["current"]["local_share"]),
            repr(whatif["draft"]["local_share"]),
        ]
        page.fill("#whatif-draft", draft.replace("target: cloud\n", "target: nope\n", 1))
        page.click("#whatif-form button")
        page.wait_for_selector("#whatif-error:not([hidden])", timeout=30_000)
        assert "draft.yaml:" in page.inner_text("#whatif-error")
        browser.close()
    assert errors == [] or all("422" in e for e in errors)  # the refused draft's HTTP 422
