"""Anthropic's error JSON: `{"type": "error", "error": {"type", "message"}}`, typed by status."""

from __future__ import annotations

import orjson
from fastapi.responses import Response

from kernel.errors import GatewayError, RateLimited

_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    415: "invalid_request_error",
    429: "rate_limit_error",
    503: "overloaded_error",
}


def error_type(status: int) -> str:
    """Anthropic's error type for an HTTP status (5xx other than 503 → api_error)."""
    return _TYPES.get(status, "invalid_request_error" if status < 500 else "api_error")


def error_body(exc: GatewayError) -> bytes:
    return orjson.dumps(
        {"type": "error", "error": {"type": error_type(exc.status), "message": exc.message}}
    )


def error_response(exc: GatewayError, headers: dict[str, str] | None = None) -> Response:
    all_headers = dict(headers or {})
    if isinstance(exc, RateLimited):
        all_headers["retry-after"] = str(max(1, round(exc.retry_after)))
    return Response(
        error_body(exc), status_code=exc.status, media_type="application/json", headers=all_headers
    )
