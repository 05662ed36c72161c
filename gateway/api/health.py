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
    """Ready when every in-process model is loaded and a policy with backends is active."""
    services: Services = request.app.state.services
    backends = services.backends.ready()
    ready = bool(backends) and all(backends.values())
    body = {
        "status": "ready" if ready else "loading",
        "policy_version": services.policies.current.version,
        "backends": backends,
    }
    return JSONResponse(body, status_code=200 if ready else 503)
