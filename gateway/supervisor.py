"""`python -m gateway.supervisor`: bind the listening socket once, fork N uvicorn workers on it.

What `hybridgw serve --workers N` (N ≥ 2) runs in place of uvicorn's multiprocess mode, whose
supervisor (uvicorn, click, multiprocessing and its resource tracker: two processes, ~40 MiB
RSS) did nothing but this. This process imports only the standard library; each worker, once
forked, imports uvicorn and the gateway and serves `gateway.app:create_app` (settings from
the `HYBRIDGW_*` environment, as with one worker) on the inherited socket.

- A worker that dies while we are not stopping is forked again. One that dies within
  `STABLE_S` of its start counts as a fast failure; the next fork waits a back-off that
  doubles with each one in a row (up to `MAX_BACKOFF_S`), and after `MAX_FAST_FAILURES` in a
  row the supervisor stops the other workers and exits 1 (a worker that cannot start must not
  fork-loop). The count starts again once every worker has lived `STABLE_S`, or when one
  that had dies.
- SIGTERM or SIGINT: every worker gets SIGTERM (uvicorn's graceful shutdown), up to
  `GRACE_S` to exit, then SIGKILL. Exit status 0 if all exited in time, else 1.
- No orphans: every worker holds the read end of a pipe whose only write end is ours; a
  thread in the worker blocks reading it and gets end-of-file when the supervisor is gone
  (however it died, kill -9 included), then sends its own process SIGTERM and, should the
  graceful shutdown hang, exits after `GRACE_S`. No polling, nothing outside the stdlib
  (`prctl(PR_SET_PDEATHSIG)` would need ctypes and is Linux-only).
- Signals only set flags and wake the loop (`signal.set_wakeup_fd`); reaping, forking and
  logging happen in the loop, never in a handler. The loop is single-threaded, so forking is
  safe.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import select
import signal
import socket
import sys
import threading
import time
import traceback
from collections.abc import Sequence

BACKLOG = 2048  # uvicorn's default
GRACE_S = 30.0  # uvicorn's own graceful shutdown has no limit (the gateway sets none)
STABLE_S = 30.0
MAX_FAST_FAILURES = 5
MAX_BACKOFF_S = 8.0
SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGCHLD)

log = logging.getLogger("gateway.supervisor")


class Supervisor:
    """Keeps `workers` uvicorn processes serving on `sock` until told to stop."""

    def __init__(self, sock: socket.socket, workers: int, log_level: str) -> None:
        self.sock = sock
        self.workers = workers
        self.log_level = log_level
        self.started: dict[int, float] = {}  # pid → monotonic start
        self.fast_failures = 0
        self.next_fork = 0.0  # monotonic time before which no worker is forked
        self.stop_signal: int | None = None
        self.alive_r, self.alive_w = os.pipe()
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_r, False)
        os.set_blocking(self.wake_w, False)

    def run(self) -> int:
        """Serve until a stop signal (→ 0 after a clean shutdown) or too many fast failures."""
        signal.set_wakeup_fd(self.wake_w)
        for sig in SIGNALS:
            signal.signal(sig, self._on_signal)
        gave_up = False
        while self.stop_signal is None and not gave_up:
            now = time.monotonic()
            full = len(self.started) == self.workers
            if self.fast_failures and full and now - max(self.started.values()) > STABLE_S:
                self.fast_failures = 0  # every worker has stayed up: the trouble is over
            while len(self.started) < self.workers and now >= self.next_fork:
                self._fork()
            self._wait(max(0.0, self.next_fork - now) if len(self.started) < self.workers else 5)
            gave_up = self._reap(stopping=False)
        if self.stop_signal is not None:
            name = signal.Signals(self.stop_signal).name
            log.info("%s: stopping %d workers", name, len(self.started))
        clean = self._stop_all()
        self.sock.close()
        return 1 if gave_up or not clean else 0

    def _on_signal(self, signum: int, frame: object) -> None:
        if signum != signal.SIGCHLD and self.stop_signal is None:
            self.stop_signal = signum

    def _wait(self, timeout_s: float) -> None:
        """Sleep until a signal arrives or `timeout_s` passes."""
        try:
            select.select([self.wake_r], [], [], timeout_s)
            while os.read(self.wake_r, 512):
                pass
        except (BlockingIOError, InterruptedError):
            pass

    def _reap(self, *, stopping: bool) -> bool:
        """Collect exited workers; True once fast failures in a row reached the limit."""
        while self.started:
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                return False
            started = self.started.pop(pid, None)
            if started is None or stopping or self.stop_signal is not None:
                continue
            lived = time.monotonic() - started
            log.warning("worker %d %s after %.1f s", pid, _describe(status), lived)
            if lived >= STABLE_S:
                self.fast_failures = 0
                continue
            self.fast_failures += 1
            if self.fast_failures >= MAX_FAST_FAILURES:
                log.error(
                    "giving up: %d workers in a row died within %.0f s of starting",
                    self.fast_failures,
                    STABLE_S,
                )
                return True
            backoff = min(MAX_BACKOFF_S, 0.5 * 2 ** (self.fast_failures - 1))
            self.next_fork = max(self.next_fork, time.monotonic() + backoff)
        return False

    def _stop_all(self) -> bool:
        """SIGTERM every worker, SIGKILL what is left after `GRACE_S`; True if none was."""
        for pid in self.started:
            _kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + GRACE_S
        while self.started and time.monotonic() < deadline:
            self._wait(min(1.0, deadline - time.monotonic()))
            self._reap(stopping=True)
        if not self.started:
            return True
        log.error("%d workers still running after %.0f s: killing them", len(self.started), GRACE_S)
        for pid in self.started:
            _kill(pid, signal.SIGKILL)
        for pid in list(self.started):
            os.waitpid(pid, 0)
            del self.started[pid]
        return False

    def _fork(self) -> None:
        # A signal in between would reach the child's copy of our handler and be lost: hold
        # them until the child has reset its handlers (uvicorn installs its own later).
        signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS)
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                self._become_worker()
                signal.pthread_sigmask(signal.SIG_UNBLOCK, SIGNALS)
                code = _serve(self.sock, self.log_level)
            except SystemExit as exc:
                code = 0 if exc.code is None else exc.code if isinstance(exc.code, int) else 1
            except BaseException:
                traceback.print_exc()
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, SIGNALS)
        self.started[pid] = time.monotonic()
        log.info("started worker %d", pid)

    def _become_worker(self) -> None:
        """In the child: drop the supervisor's signal plumbing, watch for its death."""
        signal.set_wakeup_fd(-1)
        for sig in SIGNALS:
            signal.signal(sig, signal.SIG_DFL)
        for fd in (self.alive_w, self.wake_r, self.wake_w):
            os.close(fd)
        for handler in list(log.handlers):
            log.removeHandler(handler)  # the worker's logging is uvicorn's and the gateway's
        threading.Thread(
            target=_exit_with_parent, args=(self.alive_r,), name="hybridgw-parent", daemon=True
        ).start()


def _serve(sock: socket.socket, log_level: str) -> int:
    """Run uvicorn with the production HTTP settings on the inherited socket."""
    import uvicorn

    config = uvicorn.Config(
        "gateway.app:create_app",
        factory=True,
        loop="uvloop",
        http="httptools",
        ws="none",  # no WebSocket routes: do not import the websockets package (~1 MiB)
        access_log=False,
        log_level=log_level,
        backlog=BACKLOG,
    )
    server = uvicorn.Server(config)
    server.run(sockets=[sock])  # re-raises a stop signal it handled: SIGTERM ends us here
    return 0 if server.started else 3  # 3: uvicorn's STARTUP_FAILURE


def _exit_with_parent(alive_r: int) -> None:
    """Block until the supervisor's end of the pipe closes, then shut this worker down."""
    while os.read(alive_r, 1):
        pass
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(GRACE_S)
    os._exit(1)


def _kill(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exited with status {os.waitstatus_to_exitcode(status)}"


def bind(host: str, port: int) -> socket.socket:
    """The listening socket, as uvicorn binds it (SO_REUSEADDR, backlog 2048)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(BACKLOG)
    return sock


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gateway.supervisor", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(args.log_level.upper())
    log.propagate = False
    try:
        sock = bind(args.host, args.port)
    except OSError as exc:
        log.error("cannot listen on %s:%d: %s", args.host, args.port, exc.strerror)
        return 1
    where = f"[{args.host}]" if ":" in args.host else args.host
    log.info("listening on http://%s:%d, %d workers", where, args.port, args.workers)
    return Supervisor(sock, args.workers, args.log_level).run()


if __name__ == "__main__":
    sys.exit(main())
