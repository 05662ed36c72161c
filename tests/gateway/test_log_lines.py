"""The gateway's log lines: every line written, in order, and all of them by `stop()`."""

from __future__ import annotations

import io
import logging
import queue
from logging.handlers import QueueHandler

from gateway.log_lines import BatchingListener


def test_every_line_is_written_in_order_and_stop_flushes_what_is_queued():
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    lines: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    log = logging.getLogger("test_log_lines")
    log.propagate = False
    log.setLevel(logging.INFO)
    to_queue = QueueHandler(lines)
    log.addHandler(to_queue)
    listener = BatchingListener(lines, handler, interval=0.01)
    listener.start()
    try:
        for i in range(500):
            log.info("request %d", i)
    finally:
        listener.stop()
        log.removeHandler(to_queue)
    assert out.getvalue().splitlines() == [f"request {i}" for i in range(500)]
    assert lines.empty()
