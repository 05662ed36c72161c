"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from gateway.api.deps import ServicesDep
from kernel.protocols import BackendStatus

router = APIRouter()


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up and serving HTTP."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(services: ServicesDep) -> JSONResponse:
    """Which model aliases can serve now and why not, and every circuit breaker's state.

    200 `ready` (every alias usable) or `degraded` (some are not: see their reasons; requests
    routed there fall back or get 503); 503 `loading` while an in-process model is still loading,
    `unavailable` when no alias can serve, or `refusing` when Redis is fail-closed and its circuit
    is open (every request would be refused). Other open circuits leave the gateway serving: it
    falls back, fails open or spools.
    """
    statuses = services.backends.status()
    circuits = services.circuits()
    refusing = services.state.fail_closed and any(
        c.name == "redis" and c.state == "open" for c in circuits
    )
    body = {
        "status": "refusing" if refusing else overall(statuses),
        "policy_version": services.policies.current.version,
        "backends": {alias: describe(status) for alias, status in statuses.items()},
        "circuits": {c.name: c.state for c in circuits},
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
