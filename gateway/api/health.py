"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from gateway.services import Services
from kernel.protocols import BackendStatus

router = APIRouter()


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up and serving HTTP."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """Which model aliases can serve now, and why not.

    200 `ready` (every alias usable) or `degraded` (some are not: see their reasons; requests
    routed there fall back or get 503); 503 `loading` while an in-process model is still loading,
    or `unavailable` when no alias can serve.
    """
    services: Services = request.app.state.services
    statuses = services.backends.status()
    body = {
        "status": overall(statuses),
        "policy_version": services.policies.current.version,
        "backends": {alias: describe(status) for alias, status in statuses.items()},
    }
    return JSONResponse(body, status_code=200 if body["status"] in ("ready", "degraded") else 503)


def overall(statuses: dict[str, BackendStatus]) -> str:
    if any(s.starting for s in statuses.values()):
        return "loading"
    usable = [s.ready for s in statuses.values()]
    if not any(usable):
        return "unavailable"
    return "ready" if all(usable) else "degraded"


def describe(status: BackendStatus) -> dict[str, object]:
    return {"ready": status.ready, "reason": status.reason}
