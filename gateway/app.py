"""`create_app(settings)`: the FastAPI application. Importing this module builds nothing."""

from __future__ import annotations

import logging
import queue
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from logging.handlers import QueueHandler, QueueListener

from fastapi import FastAPI

from gateway.api.errors import install_error_handlers
from gateway.settings import Settings
from kernel.protocols import Classifier, Ledger


def create_app(
    settings: Settings | None = None,
    *,
    classifier: Classifier | None = None,
    ledger: Ledger | None = None,
) -> FastAPI:
    """Build the app. Services start in the lifespan; `classifier`/`ledger` override settings."""
    from gateway.api import admin, dashboard, health, metrics, reports
    from gateway.api.openai import chat, models
    from gateway.services import build_services

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        active = settings or Settings()
        stop_logging = _configure_logging(active.log_level)
        try:
            services = await build_services(active, classifier=classifier, ledger=ledger)
            app.state.services = services
            try:
                yield
            finally:
                await services.aclose()
        finally:
            stop_logging()

    app = FastAPI(
        title="hybrid-gateway",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    install_error_handlers(app, {})
    for module in (chat, models, health, metrics, reports, dashboard, admin):
        app.include_router(module.router)
    return app


def _configure_logging(level: str) -> Callable[[], None]:
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
    listener = QueueListener(lines, handler)
    listener.start()

    def stop() -> None:
        listener.stop()
        gateway_log.removeHandler(to_queue)

    return stop
