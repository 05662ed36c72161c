"""`create_app(settings)`: the FastAPI application. Importing this module builds nothing."""

from __future__ import annotations

import logging
import queue
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from logging.handlers import QueueHandler, QueueListener

from fastapi import FastAPI

from gateway.api.errors import install_error_handlers
from gateway.settings import Settings
from kernel.protocols import Backend, Classifier, Ledger


def create_app(
    settings: Settings | None = None,
    *,
    classifier: Classifier | None = None,
    ledger: Ledger | None = None,
    backends: Mapping[str, Backend] | None = None,
) -> FastAPI:
    """Build the app. Services start in the lifespan; `classifier`, `ledger` and `backends`
    (alias → a ready `Backend`, e.g. `kernel.fakes.ScriptedBackend`) override settings."""
    from gateway.api import admin, completions, dashboard, health, metrics, reports
    from gateway.api.anthropic import messages
    from gateway.api.anthropic.errors import error_response as anthropic_error
    from gateway.api.embeddings import create as embeddings
    from gateway.api.openai import chat, models
    from gateway.api.responses import create as responses
    from gateway.services import build_services

    active = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        stop_logging = _configure_logging(active.log_level)
        try:
            services = await build_services(
                active, classifier=classifier, ledger=ledger, backends=backends
            )
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
    install_error_handlers(app, {messages.PREFIX: anthropic_error})
    for module in (
        chat,
        completions,
        messages,
        responses,
        embeddings,
        models,
        health,
        metrics,
        reports,
        dashboard,
        admin,
    ):
        app.include_router(module.router)
    _allow_browsers(app, active.cors_origin_list())
    return app


def _allow_browsers(app: FastAPI, origins: list[str]) -> None:
    """CORS for browser clients, off unless origins are configured. Keys travel in headers
    (never cookies), so credentials stay off; the route headers are readable by the page."""
    if not origins:
        return
    from fastapi.middleware.cors import CORSMiddleware

    app.add_middleware(
        CORSMiddleware,
        allow_origins=origins,
        allow_methods=["GET", "POST", "OPTIONS"],
        allow_headers=["*"],
        expose_headers=[
            "x-request-id",
            "x-route-rule",
            "x-route-tier",
            "x-route-model",
            "x-route-policy",
            "x-route-fallback",
            "retry-after",
        ],
        max_age=600,
    )


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
