"""The web layer's only error translation: `GatewayError` → the error format of the caller's
dialect (chosen by path; OpenAI's by default).

Anything else that escapes a handler becomes a bare 500 with a request id and no internals; the
traceback goes to the log, never to the client.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from gateway.api.openai.errors import error_response as openai_error
from kernel.errors import GatewayError, InvalidRequest

log = logging.getLogger(__name__)

ErrorRenderer = Callable[[GatewayError, "dict[str, str] | None"], Response]


class _HttpError(GatewayError):
    """A framework-level HTTP error (unknown route, wrong method), rendered like ours."""

    type = "invalid_request_error"

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = {404: "not_found", 405: "method_not_allowed"}.get(status, "http_error")


def install_error_handlers(app: FastAPI, renderers: dict[str, ErrorRenderer]) -> None:
    """`renderers`: path prefix → renderer; paths no prefix matches get OpenAI's format."""

    def render(request: Request, exc: GatewayError) -> Response:
        request_id = getattr(request.state, "request_id", None)
        headers = {"x-request-id": request_id} if request_id else None
        path = request.url.path
        renderer = next((r for p, r in renderers.items() if path.startswith(p)), openai_error)
        return renderer(exc, headers)

    @app.exception_handler(GatewayError)
    async def _gateway_error(request: Request, exc: GatewayError) -> Response:
        return render(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        param = ".".join(str(p) for p in first["loc"] if p != "body") or None
        return render(request, InvalidRequest(f"{param}: {first['msg']}", param=param))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return render(request, _HttpError(exc.status_code, str(exc.detail)))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        request_id = getattr(request.state, "request_id", None)
        log.exception("unhandled error in request %s", request_id)
        return render(request, GatewayError(f"Internal error (request id {request_id})."))
