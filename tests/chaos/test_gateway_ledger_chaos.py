"""A real gateway whose PostgreSQL ledger hangs, then refuses, then the gateway is `kill -9`ed.

Answers must keep coming within the request time limit while the database is frozen or gone,
and every answered request must have its ledger row once the database is back — including the
rows of answers given during the outage by the process that was killed: they are in its spool
or journal, and the next process's ledger (built here as `hybridgw serve` builds it) commits
them.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time

import httpx
import pytest
from chaos_support import (
    journaled_ids,
    pg_url,
    spooled,
    spooled_ids,
    start_gateway,
    stored_ids,
    wait_until,
)
from support import AUTH, chat_body, wait_healthy

from gateway.ledger.factory import build_ledger
from gateway.settings import Settings

REQUEST_TIMEOUT_S = 3.0
PER_PHASE = 15


@pytest.mark.slow
def test_answers_flow_and_no_row_is_lost_through_hang_refusal_and_kill_9(
    write_policy, pg_proxy, pg_schema, tmp_path
):
    env = {
        "HYBRIDGW_POLICY_FILE": str(write_policy()),
        "HYBRIDGW_CLASSIFIER": "fake",
        "HYBRIDGW_LOAD_LOCAL_ON_START": "false",
        "HYBRIDGW_DATABASE_URL": pg_url(pg_proxy.port, pg_schema),
        "HYBRIDGW_LEDGER_SPOOL_PATH": str(tmp_path / "spool.db"),
        "HYBRIDGW_REQUEST_TIMEOUT_S": str(REQUEST_TIMEOUT_S),
        "HYBRIDGW_TEST_CLOUD_KEY": "sk-cloud-secret",
    }
    answered: list[str] = []
    in_outage: list[str] = []
    slowest = 0.0
    with (tmp_path / "gateway.log").open("wb") as log:
        base, proc = start_gateway(env, tmp_path, log)
        try:
            wait_healthy(base, proc)
            with httpx.Client(base_url=base, timeout=30) as client:
                for phase in ("pass", "hang", "refuse"):
                    pg_proxy.set(phase)
                    for i in range(PER_PHASE):
                        started = time.perf_counter()
                        body = chat_body(f"{phase} {i}", stream=i % 2 == 1)
                        r = client.post("/v1/chat/completions", json=body, headers=AUTH)
                        slowest = max(slowest, time.perf_counter() - started)
                        assert r.status_code == 200, r.text
                        answered.append(r.headers["x-request-id"])
                        if phase != "pass":
                            in_outage.append(r.headers["x-request-id"])
            os.kill(proc.pid, signal.SIGKILL)  # straight after the last answer, mid-outage
            assert proc.wait(30) == -signal.SIGKILL
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(30)
    assert slowest < REQUEST_TIMEOUT_S, f"an answer took {slowest:.2f} s"
    # the outage's rows waited on disk: in the spool once their commit timed out, else still in
    # the journal (how many reached the spool before the kill depends on the machine's speed)
    waiting = spooled_ids(tmp_path / "spool.db") | journaled_ids(tmp_path / "spool.journal")
    assert set(in_outage) <= waiting

    pg_proxy.set("pass")
    asyncio.run(drain_as_the_next_process(env, set(answered), pg_schema))
    assert len(answered) == 3 * PER_PHASE
    assert spooled(tmp_path / "spool.db") == 0


async def drain_as_the_next_process(env: dict[str, str], answered: set[str], schema: str) -> None:
    """What the next gateway on this spool does at start: open the ledger stack, which drains."""
    settings = Settings(
        database_url=env["HYBRIDGW_DATABASE_URL"],
        ledger_spool_path=env["HYBRIDGW_LEDGER_SPOOL_PATH"],
    )
    ledger = await build_ledger(settings)
    try:
        await wait_until(lambda: answered <= stored_ids(schema), 30, "every answer's row")
    finally:
        await ledger.aclose()
