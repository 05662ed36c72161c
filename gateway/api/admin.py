"""Admin API (admin key only): inspect and reload the policy, explain a routing decision.

GET  /admin/policy          version, path, loaded_at, last_error, reload_failures
POST /admin/policy/reload   re-read the file; 422 with file:line:col errors, old policy kept
POST /admin/explain         {"prompt" | "messages", "app"?, "model"?} → the explain JSON
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
from kernel.errors import PolicyError

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
