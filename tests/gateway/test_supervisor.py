"""`hybridgw serve --workers 2` runs `gateway.supervisor`: real processes on 127.0.0.1.

The supervisor binds the socket and forks the workers; these tests read its children from
/proc, kill them, signal it and check what is left. Every wait is a bounded poll; nothing
asserts on timings. The policy's only model is an unreachable `openai_compat` upstream (no
request here reaches it), the classifier is the fake one, the ledger a SQLite file in tmp.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from support import AUTH, TEST_KEY, wait_healthy

ROOT = Path(__file__).resolve().parents[2]
POLICY = textwrap.dedent("""\
    version: 1
    reference_model: up
    models:
      up: {tier: cloud, backend: openai_compat, model: m, api_base: "http://127.0.0.1:9/v1",
           input_cost_per_token: 0.000001, output_cost_per_token: 0.000002}
    apps: [{name: app1, tenant: t1, key_sha256: DIGEST}]
    default: {action: cloud_redacted, target: up}
    """).replace("DIGEST", hashlib.sha256(TEST_KEY.encode()).hexdigest())


class Served:
    def __init__(self, proc: subprocess.Popen[bytes], url: str, log: Path) -> None:
        self.proc, self.url, self.log = proc, url, log

    def workers(self) -> set[int]:
        return children(self.proc.pid)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def children(pid: int) -> set[int]:
    """Live (not zombie) processes whose parent is `pid`, from /proc."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                found.add(int(entry.name))
    return found


def gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state == "Z"


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for {pid}")


def poll(check: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout_s:g} s: {what}")
        time.sleep(0.1)


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., Served]]:
    """Factory: `serve(**env)` starts `hybridgw serve --workers 2` (not waiting for it)."""
    started: list[subprocess.Popen[bytes]] = []

    def start(**extra_env: str) -> Served:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        policy = tmp_path / "policy.yaml"
        policy.write_text(POLICY)
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),  # this checkout's gateway, not an installed one
            "HYBRIDGW_CLASSIFIER": "fake",
            "HYBRIDGW_LOAD_LOCAL_ON_START": "false",
            "HYBRIDGW_DATABASE_URL": f"sqlite:///{tmp_path / 'ledger.db'}",
            **extra_env,
        }
        argv = [sys.executable, "-c", "from gateway.cli import main; main()", "serve"]
        argv += ["--host", "127.0.0.1", "--port", str(port), "--workers", "2"]
        argv += ["--policy", str(policy)]
        log = tmp_path / "gateway.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(argv, env=env, cwd=tmp_path, stdout=out, stderr=out)
        started.append(proc)
        return Served(proc, f"http://127.0.0.1:{port}", log)

    yield start
    for proc in started:
        if proc.poll() is None:
            workers = children(proc.pid)
            proc.kill()
            proc.wait(30)
            for pid in workers:  # they would leave by themselves; do not wait for it here
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)


def started(served: Served) -> set[int]:
    wait_healthy(served.url, served.proc)
    poll(lambda: len(served.workers()) == 2, 60, "two workers")
    return served.workers()


def test_serve_two_workers_under_a_small_stdlib_supervisor(serve: Callable[..., Served]) -> None:
    served = serve()
    workers = started(served)
    assert len(workers) == 2
    supervisor = served.proc.pid  # `serve` exec'd the supervisor: same pid
    assert b"gateway.supervisor" in Path(f"/proc/{supervisor}/cmdline").read_bytes()

    def web_stack_loaded(pid: int) -> bool:
        maps = Path(f"/proc/{pid}/maps").read_text()
        return "pydantic_core" in maps and "uvloop" in maps

    # the workers load the web stack (the second may still be importing when the first
    # answers /healthz on a busy machine) …
    poll(lambda: all(web_stack_loaded(pid) for pid in workers), 60, "workers with the web stack")
    maps = Path(f"/proc/{supervisor}/maps").read_text()  # … the supervisor none of it
    for library in ("pydantic_core", "uvloop", "httptools", "onnxruntime", "_ssl"):
        assert library not in maps, library
    assert rss_kib(supervisor) < min(rss_kib(pid) for pid in workers)
    assert httpx.get(f"{served.url}/readyz", timeout=10).status_code == 200


def test_a_killed_worker_is_replaced(serve: Callable[..., Served]) -> None:
    served = serve()
    workers = started(served)
    victim = min(workers)
    os.kill(victim, signal.SIGKILL)
    poll(
        lambda: len(now := served.workers()) == 2 and victim not in now,
        60,
        "a new worker in place of the killed one",
    )
    assert served.workers() & workers == workers - {victim}
    with httpx.Client(timeout=10) as client:  # new connections each: both workers may answer
        for _ in range(20):
            resp = client.get(f"{served.url}/healthz", headers={"connection": "close"})
            assert resp.status_code == 200
    assert f"worker {victim} killed by SIGKILL" in served.log_text()


def test_sigterm_stops_every_process_and_exits_0(serve: Callable[..., Served]) -> None:
    served = serve()
    workers = started(served)
    served.proc.send_signal(signal.SIGTERM)
    assert served.proc.wait(60) == 0
    poll(lambda: all(gone(pid) for pid in workers), 10, "no worker left")
    assert "SIGTERM: stopping 2 workers" in served.log_text()


def test_workers_leave_when_the_supervisor_is_killed(serve: Callable[..., Served]) -> None:
    served = serve()
    workers = started(served)
    served.proc.kill()
    served.proc.wait(30)
    poll(lambda: all(gone(pid) for pid in workers), 60, "no orphaned worker")


def test_a_worker_that_cannot_start_makes_the_supervisor_give_up(
    serve: Callable[..., Served], tmp_path: Path
) -> None:
    # Passes `serve`'s checks (settings, policy); fails in each worker's start-up.
    served = serve(
        HYBRIDGW_CLASSIFIER="onnx",
        HYBRIDGW_CLASSIFIER_MODEL_PATH=str(tmp_path / "missing.onnx"),
    )
    try:
        code = served.proc.wait(180)
    except subprocess.TimeoutExpired:
        raise AssertionError("the supervisor kept restarting a worker that cannot start") from None
    log = served.log_text()
    assert code != 0, log
    assert "giving up: 5 workers in a row died" in log
    forked = [int(line.rsplit(" ", 1)[1]) for line in log.splitlines() if "started worker" in line]
    assert len(forked) < 10  # bounded, not a fork loop
    poll(lambda: all(gone(pid) for pid in forked), 10, "no worker left")


def test_serve_runs_uvicorn_alone_for_one_worker_and_the_supervisor_for_more() -> None:
    from gateway.cli.core import serve_argv
    from gateway.settings import Settings

    one = serve_argv(Settings(workers=1, host="127.0.0.1", port=9001))
    assert one[1:5] == ["-P", "-m", "uvicorn", "gateway.app:create_app"]
    assert "--workers" not in one and {"--loop", "uvloop", "--http", "httptools"} <= set(one)
    two = serve_argv(Settings(workers=2, host="127.0.0.1", port=9001, log_level="warning"))
    assert two[1:4] == ["-P", "-m", "gateway.supervisor"]
    where = ["--host", "127.0.0.1", "--port", "9001"]
    assert two[4:] == [*where, "--workers", "2", "--log-level", "warning"]


def test_rows_a_killed_worker_journaled_reach_the_ledger_through_its_replacement(
    serve: Callable[..., Served], tmp_path: Path
) -> None:
    """Each answer's row is in its worker's journal before the answer leaves; a worker killed
    right after answering leaves its segment, and the worker forked in its place commits it
    (the upstream is unreachable, so every answer is a 503, each recorded like any other)."""
    served = serve()
    workers = started(served)
    ids = []
    with httpx.Client(timeout=30) as client:  # new connections: both workers answer
        for i in range(30):
            body = {"model": "auto", "messages": [{"role": "user", "content": f"ping {i}"}]}
            resp = client.post(
                f"{served.url}/v1/chat/completions",
                json=body,
                headers={**AUTH, "connection": "close"},
            )
            assert resp.status_code == 503, resp.text
            ids.append(resp.headers["x-request-id"])
    for pid in workers:
        os.kill(pid, signal.SIGKILL)
    poll(lambda: not served.workers() & workers, 60, "both killed workers replaced")

    def stored() -> set[str]:
        with contextlib.closing(sqlite3.connect(tmp_path / "ledger.db")) as conn:
            return {row[0] for row in conn.execute("SELECT request_id FROM ledger")}

    # The killed workers' segments are never deleted while they live (not full): the workers
    # forked in their place always take them over, whether or not the rows were committed.
    poll(
        lambda: "records committed" in served.log_text(),
        60,
        "the dead workers' journals taken over",
    )
    poll(lambda: set(ids) <= stored(), 60, "every answered request in the ledger")
