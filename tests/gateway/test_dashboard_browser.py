"""/dashboard in a real headless Chromium: no console errors, charts drawn, numbers = the JSON API.

Needs Debian's `chromium` (apt-get install -y chromium) and the `playwright` Python package
(never `playwright install`: we drive the system browser). Takes a screenshot; set
HYBRIDGW_WRITE_SCREENSHOT=1 to refresh the one kept in docs/dashboard.png.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from support import wait_healthy

from gateway.ledger.sqlite import SqliteLedger
from kernel.protocols import LedgerEntry

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
FINANCE_KEY = "fin-dashboard-key"
ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Debian chromium: apt-get install -y chromium"
)


def history(n: int = 240) -> list[LedgerEntry]:
    """Two weeks of mixed traffic ending now: two tenants, four apps, local and cloud."""
    rng = random.Random(3)
    now = datetime.now(UTC)
    out = []
    for i in range(n):
        local = rng.random() < 0.65
        prompt, completion = rng.randint(20, 800), rng.randint(10, 300)
        counterfactual = prompt * 2.5e-6 + completion * 1e-5
        out.append(
            LedgerEntry(
                request_id=f"dash-{i:04d}",
                timestamp=now - timedelta(minutes=rng.randint(1, 14 * 24 * 60)),
                tenant=rng.choice(["acme", "globex"]),
                app=rng.choice(["helpdesk", "search", "hr-assistant", "analyst-copilot"]),
                policy_version="v1",
                rule="default" if local else "hard-to-cloud",
                tier="local" if local else "cloud",
                backend="llamacpp" if local else "litellm",
                model="local" if local else "gpt-4o-mini",
                status=200,
                prompt_tokens=prompt,
                completion_tokens=completion,
                cost_usd=0.0 if local else prompt * 1.5e-7 + completion * 6e-7,
                counterfactual_cost_usd=counterfactual,
                latency_ms=rng.uniform(300, 1500) if local else rng.uniform(700, 4000),
                fallback_used=rng.random() < 0.03,
                pii_redacted=not local and rng.random() < 0.3,
                reference_model="gpt-4o",
                price_source="local-zero" if local else "litellm",
            )
        )
    return out


async def fill(db: Path) -> None:
    ledger = await SqliteLedger.open(db)
    for entry in history():
        await ledger.record(entry)
    await ledger.aclose()


@pytest.fixture
def served(write_policy, tmp_path):
    """A real gateway process on the filled ledger: yields its base URL."""
    db = tmp_path / "ledger.db"
    asyncio.run(fill(db))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        **os.environ,
        "HYBRIDGW_POLICY_FILE": str(write_policy()),
        "HYBRIDGW_CLASSIFIER": "fake",
        "HYBRIDGW_LOAD_LOCAL_ON_START": "false",
        "HYBRIDGW_DATABASE_URL": f"sqlite:///{db}",
        "HYBRIDGW_FINANCE_KEY": FINANCE_KEY,
    }
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "uvicorn", "gateway.app:create_app", "--factory"),
            *("--host", "127.0.0.1", "--port", str(port), "--no-access-log"),
        ],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, proc)
        yield base
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def api(base: str, **params: str) -> dict:
    today = datetime.now(UTC).date()
    query = {"since": str(today - timedelta(days=29)), "until": str(today), **params}
    r = httpx.get(
        f"{base}/admin/reports",
        params=query,
        headers={"authorization": f"Bearer {FINANCE_KEY}"},
        timeout=30,
    )
    r.raise_for_status()
    return r.json() if params.get("format", "json") == "json" else {"text": r.text}


def kpis(page) -> dict[str, str]:
    return page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('.kpi strong')]
              .map(el => [el.id, el.dataset.value]))"""
    )


def chart_data(page, chart_id: str) -> list[list[float]]:
    return page.evaluate("(id) => Chart.getChart(id).data.datasets.map(d => d.data)", chart_id)


def expected_kpis(total: dict) -> dict[str, str]:
    def js(value: float | int | None) -> str:
        return "" if value is None else repr(value) if isinstance(value, float) else str(value)

    return {
        "kpi-requests": str(total["requests"]),
        "kpi-cost": js(total["cost_usd"]),
        "kpi-counterfactual": js(total["counterfactual_cost_usd"]),
        "kpi-savings": js(total["savings_usd"]),
        "kpi-savings-pct": js(total["savings_pct"]),
        "kpi-local-share": js(total["local_share"]),
    }


def test_dashboard_renders_the_api_numbers(served, tmp_path):
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1400}, accept_downloads=True)
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on(
            "request",
            lambda req: (
                errors.append(f"off-origin request {req.url}")
                if not req.url.startswith((served, "data:", "blob:"))
                else None
            ),
        )
        page.goto(f"{served}/dashboard")
        page.fill("#key", FINANCE_KEY)
        page.click("#login-form button")
        page.wait_for_selector("body[data-loaded=true]", timeout=30_000)

        days = api(served, group_by="day")
        apps = api(served, group_by="app")
        tiers = api(served, group_by="tier")
        assert days["total"]["requests"] == 240
        assert kpis(page) == expected_kpis(days["total"])
        cost, counterfactual = chart_data(page, "chart-cost")
        assert cost == [r["cost_usd"] for r in days["rows"]]
        assert counterfactual == [r["counterfactual_cost_usd"] for r in days["rows"]]
        [cumulative] = chart_data(page, "chart-cumulative")
        assert cumulative[-1] == pytest.approx(days["total"]["savings_usd"], rel=1e-9)
        [local_share] = chart_data(page, "chart-local-share")
        assert local_share == [r["local_share"] * 100 for r in days["rows"]]
        p50, p95, _ = chart_data(page, "chart-latency")
        by_tier = {r["group"]: r for r in tiers["rows"]}
        assert p50 == [
            by_tier["cloud"]["latency_p50_ms_cloud"],
            by_tier["local"]["latency_p50_ms_local"],
        ]
        assert p95 == [
            by_tier["cloud"]["latency_p95_ms_cloud"],
            by_tier["local"]["latency_p95_ms_local"],
        ]
        [spend] = chart_data(page, "chart-apps")
        assert spend == sorted((r["cost_usd"] for r in apps["rows"]), reverse=True)
        assert page.evaluate(
            "(id) => { const c = document.getElementById(id); return c.width > 0 && c.height > 0 }",
            "chart-cost",
        )
        assert "TOTAL" in page.inner_text("#days")
        shot = ROOT / "docs" if os.environ.get("HYBRIDGW_WRITE_SCREENSHOT") else tmp_path
        page.screenshot(path=str(shot / "dashboard.png"), full_page=True)

        page.select_option("#tenant", "acme")
        page.evaluate("document.body.dataset.loaded = 'false'")
        page.click("#filters button[type=submit]")
        page.wait_for_selector("body[data-loaded=true]", timeout=30_000)
        acme = api(served, group_by="day", tenant="acme")
        assert 0 < acme["total"]["requests"] < 240
        assert kpis(page) == expected_kpis(acme["total"])

        with page.expect_download() as download:
            page.click("#csv")
        path = tmp_path / "report.csv"
        download.value.save_as(path)
        assert (
            path.read_bytes().decode()
            == api(served, group_by="day", tenant="acme", format="csv")["text"]
        )
        browser.close()
    assert errors == []
