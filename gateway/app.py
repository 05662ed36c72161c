"""`create_app(settings)`: the FastAPI application. Importing this module builds nothing."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

from fastapi import FastAPI

from gateway import log_lines, tracing
from gateway.api.errors import install_error_handlers
from gateway.api.fast_lane import GatewayApp
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
        stop_logging = log_lines.configure(active.log_level)
        try:
            services = await build_services(
                active, classifier=classifier, ledger=ledger, backends=backends
            )
            app.state.services = services
            application.enable_fast_lane(
                {"/v1/chat/completions": chat.chat_completions}, tracing=tracing.enabled()
            )
            if active.gc_freeze:
                gc.collect()  # start-up's garbage goes first, what stays is frozen
                gc.freeze()
            _return_free_heap()
            try:
                yield
            finally:
                await services.aclose()
        finally:
            stop_logging()

    application = GatewayApp(
        title="hybrid-gateway",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    install_error_handlers(application, {messages.PREFIX: anthropic_error})
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
        application.include_router(module.router)
    _allow_browsers(application, active.cors_origin_list())
    return application


def _return_free_heap() -> None:
    """Give the pages start-up freed back to the OS (glibc's `malloc_trim`; a no-op elsewhere).

    Loading the models frees large temporaries (the ONNX protobuf, the tokenizer's parsed JSON)
    in the middle of malloc's heaps, where glibc keeps them resident: ~2.3 MiB RSS per worker.
    """
    import ctypes

    trim = getattr(ctypes.CDLL(None), "malloc_trim", None)
    if trim is not None:
        trim(0)


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
