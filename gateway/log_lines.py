"""The gateway's own log lines: written to stderr by one listener thread, in batches.

One line per request would otherwise wake the listener once per request: at c=1 on a busy
2-core machine that wake-up (and the core change that follows it) cost about as much as the
line itself. After each wake-up the listener sleeps `BATCH_S` before it blocks again, so under
steady traffic the event loop's `put` finds no waiter to wake and the thread wakes at most
`1 / BATCH_S` times a second; an idle gateway's listener blocks (no polling). A line reaches
stderr at most `BATCH_S` after it was logged; `stop()` writes everything queued.
"""

from __future__ import annotations

import logging
import queue
import time
from collections.abc import Callable
from logging.handlers import QueueHandler, QueueListener

BATCH_S = 0.05


class BatchingListener(QueueListener):
    """A `QueueListener` that lets records gather for `interval` seconds after each batch."""

    def __init__(
        self,
        lines: queue.SimpleQueue[logging.LogRecord],
        *handlers: logging.Handler,
        interval: float = BATCH_S,
    ) -> None:
        super().__init__(lines, *handlers)
        self._lines = lines
        self._interval = interval

    def dequeue(self, block: bool) -> logging.LogRecord:
        if block and self._lines.empty():
            time.sleep(self._interval)  # records logged meanwhile are drained without waking us
        return self._lines.get(block)


def configure(level: str) -> Callable[[], None]:
    """Give the gateway's loggers a handler when the host process set none (uvicorn sets up
    only its own): one line per request — ids, route, counts, timings, never text.

    The lines are written to stderr by a listener thread, not by the event loop: a write that
    blocks (a slow disk or a full pipe) must not stall every request. Returns what undoes this
    at shutdown: write what is queued, stop the thread, detach the handler."""
    gateway_log = logging.getLogger("gateway")
    gateway_log.setLevel(level.upper())
    if logging.getLogger().handlers or gateway_log.handlers:
        return lambda: None
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    lines: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    to_queue = QueueHandler(lines)
    gateway_log.addHandler(to_queue)
    listener = BatchingListener(lines, handler)
    listener.start()

    def stop() -> None:
        listener.stop()
        gateway_log.removeHandler(to_queue)

    return stop
