"""An answered request's ledger record survives `kill -9` of the gateway right after the answer.

A real gateway process (uvicorn) on a free 127.0.0.1 port, local and cloud tiers on the mock
upstreams; N answered requests, SIGKILL straight after the last answer. With the ledger
journal (the default) every answered row is in the journal file before the answer leaves, and
the next gateway to start on the same folder commits it to the store before it serves; without
it (`HYBRIDGW_LEDGER_JOURNAL=false`) `record()` commits to the store before the answer, so the
store has every row at once (docs/ledger.md).
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import psycopg
import pytest
from support import AUTH, chat_body, wait_healthy

N = 25
PG_BASE = "postgresql://postgres@127.0.0.1:5432/test"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def gateway_env(database_url: str, policy: Path, journal: bool) -> dict[str, str]:
    return {
        **os.environ,
        "HYBRIDGW_POLICY_FILE": str(policy),
        "HYBRIDGW_CLASSIFIER": "fake",
        "HYBRIDGW_FAKE_DIFFICULTY": "0.5",
        "HYBRIDGW_LOAD_LOCAL_ON_START": "false",
        "HYBRIDGW_DATABASE_URL": database_url,
        "HYBRIDGW_TEST_CLOUD_KEY": "sk-cloud-secret",
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "HYBRIDGW_LEDGER_JOURNAL": str(journal).lower(),
    }


def start(env: dict[str, str], port: int, tmp_path: Path) -> subprocess.Popen[bytes]:
    log = (tmp_path / f"gateway-{port}.log").open("wb")
    return subprocess.Popen(
        [
            *(sys.executable, "-m", "uvicorn", "gateway.app:create_app", "--factory"),
            *("--host", "127.0.0.1", "--port", str(port), "--no-access-log"),
        ],
        env=env,
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def answered_then_killed(env: dict[str, str], tmp_path: Path) -> list[str]:
    """Start the gateway, get N answers, SIGKILL it at once; the answered request ids."""
    port = free_port()
    proc = start(env, port, tmp_path)
    ids: list[str] = []
    try:
        base = f"http://127.0.0.1:{port}"
        wait_healthy(base, proc)
        with httpx.Client(base_url=base, timeout=60) as client:
            for i in range(N):
                stream = i % 2 == 1
                r = client.post(
                    "/v1/chat/completions", json=chat_body(f"n{i}", stream=stream), headers=AUTH
                )
                assert r.status_code == 200, r.text
                if stream:
                    assert r.text.rstrip().endswith("data: [DONE]")
                ids.append(r.headers["x-request-id"])
        os.kill(proc.pid, signal.SIGKILL)  # straight after the last answer
        assert proc.wait(30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)
    return ids


def restarted(env: dict[str, str], tmp_path: Path) -> None:
    """Start the gateway on the same folder until it is healthy (it has taken over the dead
    one's journal by then), then stop it."""
    port = free_port()
    proc = start(env, port, tmp_path)
    try:
        wait_healthy(f"http://127.0.0.1:{port}", proc)
    finally:
        proc.terminate()
        proc.wait(30)


def journal_files(tmp_path: Path) -> list[Path]:
    return list(tmp_path.glob("*.journal/*.jsonl"))


@pytest.mark.parametrize("journal", [True, False], ids=["journal", "no-journal"])
def test_sqlite_records_survive_kill_9(journal, write_policy, tmp_path):
    db = tmp_path / "ledger.db"
    env = gateway_env(f"sqlite:///{db}", write_policy(), journal)
    ids = answered_then_killed(env, tmp_path)
    if journal:
        assert journal_files(tmp_path)  # the dead process's segment, left for the next one
        restarted(env, tmp_path)
        assert not journal_files(tmp_path)
    with sqlite3.connect(db) as conn:
        stored = {r for (r,) in conn.execute("SELECT request_id FROM ledger")}
    assert set(ids) <= stored and len(ids) == N


@pytest.mark.parametrize("journal", [True, False], ids=["journal", "no-journal"])
def test_postgres_records_survive_kill_9(journal, write_policy, tmp_path):
    schema = f"kill9_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_BASE, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    url = f"{PG_BASE}?options=-csearch_path%3D{schema}"
    try:
        env = gateway_env(url, write_policy(), journal)
        ids = answered_then_killed(env, tmp_path)
        if journal:
            restarted(env, tmp_path)
        with psycopg.connect(url) as conn:
            stored = {r for (r,) in conn.execute("SELECT request_id FROM ledger")}
        assert set(ids) <= stored and len(ids) == N
    finally:
        with psycopg.connect(PG_BASE, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")
