"""OpenAI's error JSON: `{"error": {"message", "type", "param", "code"}}`."""

from __future__ import annotations

import orjson
from fastapi.responses import Response

from kernel.errors import GatewayError, RateLimited


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
