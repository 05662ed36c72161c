"""GET /v1/models — the model aliases clients may name (plus `auto`)."""

from __future__ import annotations

import time

from fastapi import APIRouter, Request

from gateway.api.deps import ServicesDep
from gateway.auth import authenticate
from router.decision import AUTO_MODEL

router = APIRouter()

_CREATED = int(time.time())


@router.get("/v1/models")
async def list_models(request: Request, services: ServicesDep) -> dict[str, object]:
    policy = services.policies.current.document
    authenticate(policy, request.headers.get("authorization"))
    data = [
        {"id": AUTO_MODEL, "object": "model", "created": _CREATED, "owned_by": "hybrid-gateway"}
    ]
    data += [
        {"id": alias, "object": "model", "created": _CREATED, "owned_by": spec.tier}
        for alias, spec in policy.models.items()
    ]
    return {"object": "list", "data": data}
