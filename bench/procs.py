"""Processes for the benchmarks: start in their own process group, wait, measure memory, stop.

Every server a benchmark starts goes through `Processes`, a context manager that kills each
process group it started on exit, even when the benchmark fails half-way.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

# Anything that tries to leave 127.0.0.1 through an HTTP client honouring proxy variables is
# sent to a closed local port instead (the benchmarks must never touch the network).
OFFLINE_ENV = {
    "HTTP_PROXY": "http://127.0.0.1:9",
    "HTTPS_PROXY": "http://127.0.0.1:9",
    "http_proxy": "http://127.0.0.1:9",
    "https_proxy": "http://127.0.0.1:9",
    "NO_PROXY": "127.0.0.1,localhost",
    "no_proxy": "127.0.0.1,localhost",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This environment minus database/redis/gateway settings, plus OFFLINE_ENV and `extra`."""
    drop = ("HYBRIDGW_", "DATABASE_URL", "REDIS_URL", "LITELLM_", "OPENAI_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env.update(OFFLINE_ENV)
    env.update(extra or {})
    return env


@dataclass
class Started:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


class Processes:
    """Starts processes in new sessions; `__exit__` terminates every group (then kills it)."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.started: list[Started] = []

    def __enter__(self) -> Processes:
        # A SIGTERM (run_all's timeout, `timeout`, kill) unwinds like Ctrl-C, so `__exit__`
        # still stops every server this benchmark started.
        signal.signal(signal.SIGTERM, _raise_exit)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for proc in reversed(self.started):
            stop(proc)

    def start(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> Started:
        log = self.log_dir / f"{name}.log"
        with log.open("wb") as out:
            popen = subprocess.Popen(
                list(argv),
                env=dict(env) if env is not None else None,
                cwd=cwd,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        proc = Started(name, popen, log)
        self.started.append(proc)
        return proc


def _raise_exit(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def stop(proc: Started, grace_s: float = 10.0) -> None:
    """SIGTERM the process group, then SIGKILL what is left after `grace_s`."""
    if proc.popen.poll() is None:
        _signal_group(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.popen.wait(grace_s)
    _signal_group(proc.pid, signal.SIGKILL)  # workers that outlived their parent
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.popen.wait(5)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def wait_http(
    url: str, proc: Started, *, timeout_s: float = 120.0, headers: Mapping[str, str] | None = None
) -> float:
    """Poll `url` until it answers 2xx; returns seconds waited. Raises if the process exits."""
    started = time.monotonic()
    request = urllib.request.Request(url, headers=dict(headers or {}))
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    while True:
        if proc.popen.poll() is not None:
            raise RuntimeError(f"{proc.name} exited ({proc.popen.returncode}):\n{proc.tail()}")
        try:
            with opener.open(request, timeout=2) as response:
                if 200 <= response.status < 300:
                    return time.monotonic() - started
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        if time.monotonic() - started > timeout_s:
            raise TimeoutError(f"{proc.name} not ready after {timeout_s:.0f}s:\n{proc.tail()}")
        time.sleep(0.25)


def descendants(pid: int) -> list[int]:
    """`pid` and every process below it, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        todo.extend(children.get(current, []))
    return out


@dataclass(frozen=True, slots=True)
class Memory:
    """Sum over a process tree, in MiB. RSS counts shared pages once per process; PSS splits
    them between the processes sharing them (so forked workers are not double-counted)."""

    rss_mib: float
    pss_mib: float
    processes: int


def tree_memory(pid: int) -> Memory:
    rss = pss = 0
    pids = descendants(pid)
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines():
                if line.startswith("Rss:"):
                    rss += int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss += int(line.split()[1])
        except OSError:
            continue
    return Memory(rss / 1024, pss / 1024, len(pids))


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU time of the live processes under `pid` (from /proc/<pid>/stat)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for p in descendants(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def wait_idle(pid: int, *, cpu_share: float = 0.1, timeout_s: float = 90.0) -> float:
    """Wait until the tree under `pid` uses under `cpu_share` of a core for two seconds in a row
    (start-up work such as loading models is done); returns seconds waited."""
    started = time.monotonic()
    quiet = 0
    before = tree_cpu_seconds(pid)
    while time.monotonic() - started < timeout_s and quiet < 2:
        time.sleep(1.0)
        now = tree_cpu_seconds(pid)
        quiet = quiet + 1 if now - before < cpu_share else 0
        before = now
    return time.monotonic() - started
