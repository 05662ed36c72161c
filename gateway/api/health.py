"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from gateway.services import Services

router = APIRouter()


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up and serving HTTP."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """Ready when every in-process model is loaded and a policy with backends is active.

    Lists every circuit breaker's state. An open circuit leaves the gateway ready (it falls back,
    fails open or spools) — except Redis in fail-closed mode, where every request would be refused.
    """
    services: Services = request.app.state.services
    backends = services.backends.ready()
    circuits = services.circuits()
    refusing = services.state.fail_closed and any(
        c.name == "redis" and c.state == "open" for c in circuits
    )
    ready = bool(backends) and all(backends.values()) and not refusing
    body = {
        "status": "ready" if ready else ("refusing" if refusing else "loading"),
        "policy_version": services.policies.current.version,
        "backends": backends,
        "circuits": {c.name: c.state for c in circuits},
    }
    return JSONResponse(body, status_code=200 if ready else 503)
