"""The gateway's one exception tree. Only the web layer turns these into HTTP responses.

    GatewayError                      500 api_error            (never shows internals)
    ├── InvalidRequest                400 invalid_request_error
    │   ├── UnsupportedMediaType      415
    │   ├── PayloadTooLarge           413
    │   └── ModelNotFound             404 model_not_found
    ├── AuthenticationFailed          401 invalid_api_key
    ├── PermissionDenied              403 permission_denied
    ├── PolicyBlocked                 403 policy_blocked       (a rule's `block` action)
    ├── RateLimited                   429 rate_limit_exceeded  (carries retry_after seconds)
    │   └── BudgetExceeded            429 budget_exceeded
    ├── BackendError                  502 upstream_error       (the backend failed)
    │   ├── BackendTimeout            504 upstream_timeout
    │   ├── BackendUnavailable        503 backend_unavailable  (down, or no allowed tier left)
    │   ├── BackendBusy               429 queue_full           (also a RateLimited: Retry-After)
    │   ├── ContextLengthExceeded     400 context_length_exceeded (prompt over this model's window)
    │   ├── UnsupportedByModel        400 unsupported_by_model (a feature this model lacks)
    │   └── UpstreamRateLimited       429 upstream_rate_limited
    └── PolicyError                   500 policy_error         (refused at load)

`BackendError` and its subclasses are the failures a fallback may recover from when they happen
before the first byte of the answer; everything else is final. A busy local queue and a prompt
too long for one model are backend errors too: the next candidate may well take the request, and
when none is left the client sees the last one (429 with Retry-After, or 400).
"""

from __future__ import annotations


class GatewayError(Exception):
    """Base of every error the gateway raises on purpose."""

    status: int = 500
    type: str = "api_error"
    code: str = "internal_error"

    def __init__(self, message: str, *, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param


class InvalidRequest(GatewayError):
    status = 400
    type = "invalid_request_error"
    code = "invalid_request"


class UnsupportedMediaType(InvalidRequest):
    status = 415
    code = "unsupported_media_type"


class PayloadTooLarge(InvalidRequest):
    status = 413
    code = "payload_too_large"


class ModelNotFound(InvalidRequest):
    status = 404
    code = "model_not_found"


class AuthenticationFailed(GatewayError):
    status = 401
    type = "authentication_error"
    code = "invalid_api_key"


class PermissionDenied(GatewayError):
    status = 403
    type = "permission_error"
    code = "permission_denied"


class PolicyBlocked(GatewayError):
    status = 403
    type = "permission_error"
    code = "policy_blocked"


class RateLimited(GatewayError):
    status = 429
    type = "rate_limit_error"
    code = "rate_limit_exceeded"

    def __init__(self, message: str, *, retry_after: float = 1.0, param: str | None = None):
        super().__init__(message, param=param)
        self.retry_after = retry_after


class BudgetExceeded(RateLimited):
    code = "budget_exceeded"


class BackendError(GatewayError):
    status = 502
    type = "api_error"
    code = "upstream_error"


class BackendTimeout(BackendError):
    status = 504
    code = "upstream_timeout"


class BackendUnavailable(BackendError):
    status = 503
    code = "backend_unavailable"


class BackendBusy(BackendError, RateLimited):
    """A local model's queue is full: try the next candidate, else 429 with Retry-After."""

    status = 429
    type = "rate_limit_error"
    code = "queue_full"


class ContextLengthExceeded(BackendError):
    """The prompt does not fit this model's context window (checked before any upstream call)."""

    status = 400
    type = "invalid_request_error"
    code = "context_length_exceeded"


class UnsupportedByModel(BackendError):
    """The request needs something this backend cannot do (another candidate may)."""

    status = 400
    type = "invalid_request_error"
    code = "unsupported_by_model"


class UpstreamRateLimited(BackendError):
    status = 429
    type = "rate_limit_error"
    code = "upstream_rate_limited"


class PolicyError(GatewayError):
    """A policy file is invalid. Raised at load; the message names file, line and column."""

    code = "policy_error"
