"""Admin API (admin key only): inspect and reload the policy, explain a routing decision.

GET  /admin/policy          version, path, loaded_at, last_error, reload_failures
POST /admin/policy/reload   re-read the file; 422 with file:line:col errors, old policy kept
POST /admin/explain         {"prompt" | "messages", "app"?, "model"?} → the explain JSON
POST /admin/policy/whatif   body: a draft policy's YAML text (?since=&until=) → the what-if
                            JSON of `hybridgw policy whatif`; 422 with draft.yaml:line:col errors
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from gateway.api.body import parse_model, read_body
from gateway.api.deps import ServicesDep
from gateway.api.openai.errors import error_body
from gateway.api.roles import require_role
from gateway.explain import ExplainRequest, explain
from gateway.reports.build import window
from gateway.whatif import what_if_window
from kernel.errors import InvalidRequest, PayloadTooLarge, PolicyError, UnsupportedMediaType
from policies.loader import parse_policy

_YAML_TYPES = {"application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml", "text/plain"}

router = APIRouter(prefix="/admin")


@router.get("/policy")
async def policy_status(request: Request, services: ServicesDep) -> dict[str, Any]:
    """The active policy's version and source, and the outcome of the last reload."""
    require_role(request, services, "admin")
    status = services.policies.status()
    return {
        "version": status.version,
        "path": status.path,
        "loaded_at": status.loaded_at.isoformat(),
        "last_error": status.last_error,
        "last_error_at": status.last_error_at.isoformat() if status.last_error_at else None,
        "reload_failures": status.reload_failures,
    }


@router.post("/policy/reload", response_model=None)
async def reload_policy(request: Request, services: ServicesDep) -> dict[str, Any] | Response:
    """Reload the policy file now. A bad file is refused (422) and the old policy stays."""
    require_role(request, services, "admin")
    previous = services.policies.current.version
    try:
        loaded = services.policies.reload()
    except PolicyError as exc:
        body = error_body(exc.message, "invalid_request_error", exc.code, "policy_file")
        return Response(body, status_code=422, media_type="application/json")
    return {
        "version": loaded.version,
        "previous_version": previous,
        "changed": loaded.version != previous,
    }


@router.post("/explain")
async def explain_prompt(request: Request, services: ServicesDep) -> dict[str, Any]:
    """What the gateway would do with a prompt: scores, PII spans, rule, target, fallbacks."""
    require_role(request, services, "admin")
    raw = await read_body(request, services.settings.max_body_bytes)
    body = parse_model(ExplainRequest, raw)
    return await explain(services, body)


@router.post("/policy/whatif", response_model=None)
async def policy_whatif(
    request: Request,
    services: ServicesDep,
    since: str | None = None,
    until: str | None = None,
) -> dict[str, Any] | Response:
    """Replay the window's traffic under the draft policy (the body) and the current one."""
    require_role(request, services, "admin")
    try:
        start, end = window(since, until)
    except ValueError as exc:
        raise InvalidRequest(f"Bad what-if window: {exc}") from None
    raw = await _read_yaml(request, services.settings.max_body_bytes)
    try:
        draft = parse_policy(raw, "draft.yaml").document
    except PolicyError as exc:
        body = error_body(exc.message, "invalid_request_error", exc.code, "policy")
        return Response(body, status_code=422, media_type="application/json")
    result = await what_if_window(
        services.ledger,
        services.policies.current.document,
        draft,
        since=start,
        until=end,
        settings=services.settings,
    )
    return result.to_json()


async def _read_yaml(request: Request, limit: int) -> bytes:
    """The raw YAML body (a text or YAML content type), refused over `limit` bytes."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in _YAML_TYPES:
        raise UnsupportedMediaType(
            f"Send the draft policy as YAML text (Content-Type application/yaml or text/plain), "
            f"not '{content_type or 'missing'}'."
        )
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"Request body exceeds the limit of {limit} bytes.")
        chunks.append(chunk)
    return b"".join(chunks)
