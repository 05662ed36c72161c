"""The web layer's only error translation: `GatewayError` → OpenAI-style error JSON.

Anything else that escapes a handler becomes a bare 500 with a request id and no internals; the
traceback goes to the log, never to the client.
"""

from __future__ import annotations

import logging

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from kernel.errors import GatewayError, InvalidRequest, RateLimited

log = logging.getLogger(__name__)


def error_body(message: str, type_: str, code: str | None, param: str | None = None) -> bytes:
    return orjson.dumps(
        {"error": {"message": message, "type": type_, "param": param, "code": code}}
    )


def error_response(exc: GatewayError, headers: dict[str, str] | None = None) -> Response:
    all_headers = dict(headers or {})
    if isinstance(exc, RateLimited):
        all_headers["retry-after"] = str(max(1, round(exc.retry_after)))
    return Response(
        error_body(exc.message, exc.type, exc.code, exc.param),
        status_code=exc.status,
        media_type="application/json",
        headers=all_headers,
    )


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(GatewayError)
    async def _gateway_error(request: Request, exc: GatewayError) -> Response:
        request_id = getattr(request.state, "request_id", None)
        return error_response(exc, {"x-request-id": request_id} if request_id else None)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        param = ".".join(str(p) for p in first["loc"] if p != "body") or None
        return error_response(InvalidRequest(f"{param}: {first['msg']}", param=param))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        code = "not_found" if exc.status_code == 404 else "http_error"
        if exc.status_code == 405:
            code = "method_not_allowed"
        return Response(
            error_body(str(exc.detail), "invalid_request_error", code),
            status_code=exc.status_code,
            media_type="application/json",
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        request_id = getattr(request.state, "request_id", None)
        log.exception("unhandled error in request %s", request_id)
        return Response(
            error_body(f"Internal error (request id {request_id}).", "api_error", "internal_error"),
            status_code=500,
            media_type="application/json",
        )
