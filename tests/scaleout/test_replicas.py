"""Two real gateway processes sharing the real Redis and PostgreSQL on 127.0.0.1.

Configuration only (`HYBRIDGW_REDIS_URL`, `HYBRIDGW_DATABASE_URL`) turns each process into a
fleet member. Bounded load through both checks what only shared state can give: one global
rate limit, a budget overspent by at most the requests in flight, exactly one ledger row per
answered request, and a policy reload on one replica reaching the other.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest
import redis
from support import TEST_KEY, chat_body, policy_yaml, wait_healthy

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = "redis://127.0.0.1:6379/0"
DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/test"
ADMIN_KEY = "adm-" + uuid.uuid4().hex
BUDGET_KEY = "sk-budget-" + uuid.uuid4().hex[:8]
RPM = 40
BUDGET_USD = 2.0
CONCURRENCY = 16
URL = "/v1/chat/completions"


@dataclass
class Fleet:
    urls: list[str]
    tenant: str
    policy: Path
    processes: list[subprocess.Popen[bytes]]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fleet_policy(cloud: str, local: str, tenant: str) -> str:
    """Every request goes to the local mock (difficulty 0), priced by the local token rate."""
    digest = hashlib.sha256(TEST_KEY.encode()).hexdigest()
    budget_digest = hashlib.sha256(BUDGET_KEY.encode()).hexdigest()
    extra = f"""\
        limits: {{apps: {{app1: {{requests_per_minute: {RPM}}}}}}}
        budgets: {{apps: {{app2: {{monthly_usd: {{hard: {BUDGET_USD}}}}}}}}}
        """
    text = policy_yaml(cloud, local, extra).replace("tenant: t1,", f"tenant: {tenant},")
    app1 = f"  - {{name: app1, tenant: {tenant}, key_sha256: {digest}}}\n"
    return text.replace(
        app1, app1 + f"  - {{name: app2, tenant: {tenant}, key_sha256: {budget_digest}}}\n"
    )


@pytest.fixture(scope="module")
def fleet(cloud_mock, local_mock, tmp_path_factory) -> Iterator[Fleet]:
    for url in (REDIS_URL, DATABASE_URL):
        host_port = url.split("@")[-1].split("/")[2 if "redis" in url else 0].split(":")
        with socket.socket() as s:
            if s.connect_ex((host_port[0], int(host_port[1]))) != 0:
                pytest.fail(f"{url} is not reachable: start it (DESIGN.md §5)")
    run = uuid.uuid4().hex[:10]
    tenant, prefix = f"scaleout-{run}", f"hybridgw-test-{run}"
    policy = tmp_path_factory.mktemp("fleet") / "policy.yaml"
    policy.write_text(fleet_policy(cloud_mock.base_url, local_mock.base_url, tenant))
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "HYBRIDGW_POLICY_FILE": str(policy),
        "HYBRIDGW_POLICY_WATCH": "false",  # reloads must travel through Redis, not the file
        "HYBRIDGW_REDIS_URL": REDIS_URL,
        "HYBRIDGW_REDIS_KEY_PREFIX": prefix,
        "HYBRIDGW_DATABASE_URL": DATABASE_URL,
        "HYBRIDGW_CLASSIFIER": "fake",
        "HYBRIDGW_FAKE_DIFFICULTY": "0.0",
        # A local rate makes every answer cost money without importing litellm (slow to start).
        "HYBRIDGW_LOCAL_COST_PER_MILLION_TOKENS": "10000",
        "HYBRIDGW_LOAD_LOCAL_ON_START": "false",
        "HYBRIDGW_ADMIN_KEY": ADMIN_KEY,
        "HYBRIDGW_TEST_CLOUD_KEY": "sk-cloud-secret",
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    }
    ports = [free_port(), free_port()]
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "gateway.app:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port in ports
    ]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        for url, proc in zip(urls, processes, strict=True):
            wait_healthy(url, proc)
        yield Fleet(urls, tenant, policy, processes)
    finally:
        for proc in processes:
            proc.terminate()
        for proc in processes:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(match=f"{prefix}:*", count=500))
        if keys:
            client.delete(*keys)
        client.close()
        with psycopg.connect(DATABASE_URL, autocommit=True) as conn:
            conn.execute("DELETE FROM ledger WHERE tenant = %s", (tenant,))


async def load(fleet: Fleet, key: str, n: int) -> list[httpx.Response]:
    """`n` requests, `CONCURRENCY` at a time, alternating between the replicas."""
    gate = asyncio.Semaphore(CONCURRENCY)
    headers = {"authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(timeout=30) as client:

        async def one(i: int) -> httpx.Response:
            async with gate:
                url = fleet.urls[i % 2] + URL
                return await client.post(url, json=chat_body(f"Prove lemma {i}."), headers=headers)

        return await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(n))), timeout=120)


def ledger_rows(tenant: str, app: str) -> list[tuple[str, int, float]]:
    with psycopg.connect(DATABASE_URL) as conn:
        cur = conn.execute(
            "SELECT request_id, status, cost_usd FROM ledger WHERE tenant = %s AND app = %s",
            (tenant, app),
        )
        return [(str(r[0]), int(r[1]), float(r[2])) for r in cur.fetchall()]


async def test_the_global_rate_limit_holds_across_replicas(fleet: Fleet):
    started = time.monotonic()
    responses = await load(fleet, TEST_KEY, 200)
    elapsed = time.monotonic() - started
    ok = [r for r in responses if r.status_code == 200]
    refused = [r for r in responses if r.status_code == 429]
    assert len(ok) + len(refused) == 200, {r.status_code for r in responses}
    assert {r.json()["error"]["code"] for r in refused} == {"rate_limit_exceeded"}
    # One bucket for the whole fleet: the burst, plus what refilled while the load ran.
    assert RPM <= len(ok) <= RPM + int(elapsed * RPM / 60) + 1
    assert {str(r.url).split("/v1")[0] for r in ok} == set(fleet.urls)  # both replicas served
    rows = ledger_rows(fleet.tenant, "app1")
    assert sorted(r[0] for r in rows) == sorted(r.headers["x-request-id"] for r in ok)


async def test_a_budget_is_never_overspent_by_more_than_the_requests_in_flight(fleet: Fleet):
    responses = await load(fleet, BUDGET_KEY, 150)
    ok = [r for r in responses if r.status_code == 200]
    refused = [r for r in responses if r.status_code == 429]
    assert ok and refused and len(ok) + len(refused) == 150
    assert {r.json()["error"]["code"] for r in refused} == {"budget_exceeded"}
    rows = ledger_rows(fleet.tenant, "app2")
    assert sorted(r[0] for r in rows) == sorted(r.headers["x-request-id"] for r in ok)
    spent, largest = sum(r[2] for r in rows), max(r[2] for r in rows)
    assert spent >= BUDGET_USD
    assert spent <= BUDGET_USD + CONCURRENCY * largest


async def test_a_policy_reload_on_one_replica_reaches_the_other(fleet: Fleet):
    admin = {"authorization": f"Bearer {ADMIN_KEY}"}
    async with httpx.AsyncClient(timeout=10) as client:
        before = (await client.get(f"{fleet.urls[1]}/readyz")).json()["policy_version"]
        fleet.policy.write_text(fleet.policy.read_text() + "\n# scale-out edit\n")
        reloaded = await client.post(f"{fleet.urls[0]}/admin/policy/reload", headers=admin)
        if reloaded.status_code == 404:
            pytest.skip("POST /admin/policy/reload is not mounted in this build")
        assert reloaded.status_code == 200, reloaded.text
        new = reloaded.json()["version"]
        assert new != before
        seen = before
        for _ in range(50):  # bounded poll, 5 s at most; pub/sub normally takes milliseconds
            seen = (await client.get(f"{fleet.urls[1]}/readyz")).json()["policy_version"]
            if seen == new:
                break
            await asyncio.sleep(0.1)
    assert seen == new
