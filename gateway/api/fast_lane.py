"""`GatewayApp`: the FastAPI app, with its hottest route served past the framework's stack.

FastAPI 0.165 puts seven layers between the server and a route (error, telemetry, body-limit,
exception and exit-stack middleware, the router, the included router); for the chat route they
cost ~50 µs of CPU per request here, ~4 % of the whole request (`bench/bench_ab.py`, issue 17).
When none of them has work to do on that route — no user middleware (CORS off), no
OpenTelemetry provider, no root path — `enable_fast_lane` hands it straight to its endpoint.
Errors still go through the app's own exception handlers, found the way Starlette finds them
(the exception's class hierarchy); an unexpected error is answered with the `Exception`
handler's 500 and then re-raised for the server to log, as Starlette's error middleware does.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from fastapi import FastAPI, Request
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

Endpoint = Callable[[Request], Awaitable[Response]]
Handler = Callable[[Request, Any], Response | Awaitable[Response]]


class GatewayApp(FastAPI):
    """FastAPI, plus POST routes that may bypass the middleware stack (`enable_fast_lane`)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._fast_lane: dict[str, Endpoint] = {}

    def enable_fast_lane(self, routes: Mapping[str, Endpoint], *, tracing: bool) -> bool:
        """Serve `routes` (path → endpoint of a plain POST route) directly, unless a layer of
        the stack would do something for them. Returns whether the lane is on."""
        self._fast_lane = {} if tracing or self.user_middleware else dict(routes)
        return bool(self._fast_lane)

    @property
    def fast_lane(self) -> frozenset[str]:
        """The paths the lane serves now."""
        return frozenset(self._fast_lane)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        endpoint = None
        if scope["type"] == "http" and scope["method"] == "POST" and not scope.get("root_path"):
            endpoint = self._fast_lane.get(scope["path"])
        if endpoint is None:
            await super().__call__(scope, receive, send)
            return
        scope["app"] = self
        await self._serve(endpoint, scope, receive, send)

    async def _serve(self, endpoint: Endpoint, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def sender(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        request = Request(scope, receive, sender)
        try:
            response = await endpoint(request)
            await response(scope, receive, sender)
        except Exception as exc:
            handler = self._handler_for(exc)
            if handler is None or started:
                raise
            answer = handler(request, exc)
            response = await answer if inspect.isawaitable(answer) else answer
            await response(scope, receive, sender)
            if handler is self.exception_handlers.get(Exception):
                raise  # for the server to log, as behind Starlette's ServerErrorMiddleware

    def _handler_for(self, exc: Exception) -> Handler | None:
        handlers = self.exception_handlers
        if isinstance(exc, HTTPException) and exc.status_code in handlers:
            return handlers[exc.status_code]
        return next((handlers[c] for c in type(exc).__mro__ if c in handlers), None)
