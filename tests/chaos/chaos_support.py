"""Helpers shared by the chaos tests (a module of its own: conftest names are ambiguous)."""

from __future__ import annotations

import asyncio
import os
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import psycopg

from gateway.ledger.journal import SUFFIX, read
from kernel.protocols import LedgerEntry


def pg_url(port: int, schema: str) -> str:
    return f"postgresql://postgres@127.0.0.1:{port}/test?options=-csearch_path%3D{schema}"


def stored_ids(schema: str) -> set[str]:
    """Request ids in the schema's ledger, read directly (not through any proxy)."""
    with psycopg.connect(pg_url(5432, schema)) as conn:
        return {r for (r,) in conn.execute("SELECT request_id FROM ledger")}


def spooled(path: Path) -> int:
    """Rows waiting in a spool file."""
    return len(spooled_ids(path))


def spooled_ids(path: Path) -> set[str]:
    """The request ids of the rows waiting in a spool file."""
    with sqlite3.connect(path) as conn:
        return {str(r[0]) for r in conn.execute("SELECT request_id FROM ledger")}


def journaled_ids(folder: Path) -> set[str]:
    """The request ids in the ledger journal segments left in `folder`."""
    return {e.request_id for path in folder.glob(f"*{SUFFIX}") for e in read(path)}


def entry(request_id: str) -> LedgerEntry:
    return LedgerEntry(
        request_id=request_id,
        timestamp=datetime.now(UTC),
        tenant="t1",
        app="app1",
        policy_version="v1",
        rule="default",
        tier="local",
        backend="openai_compat",
        model="local",
        status=200,
        prompt_tokens=3,
        completion_tokens=5,
    )


async def wait_until(check: Callable[[], bool], timeout_s: float, what: str) -> None:
    """Poll `check` (in a thread, so the loop keeps running) until true; fail after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while not await asyncio.to_thread(check):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout_s:g} s")
        await asyncio.sleep(0.1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_gateway(
    env: dict[str, str], cwd: Path, log: IO[bytes]
) -> tuple[str, subprocess.Popen[bytes]]:
    """A real gateway process (uvicorn) on a free 127.0.0.1 port: (base URL, process)."""
    port = free_port()
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "uvicorn", "gateway.app:create_app", "--factory"),
            *("--host", "127.0.0.1", "--port", str(port), "--no-access-log"),
        ],
        env={**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True", **env},
        cwd=cwd,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    return f"http://127.0.0.1:{port}", proc
