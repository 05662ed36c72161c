"""GET /v1/models and /v1/models/{id} — the aliases clients may name (plus `auto`), and whether
each can serve now (`ready`; `reason` says why not, e.g. an unset API key variable)."""

from __future__ import annotations

import time

from fastapi import APIRouter, Request

from gateway.api.deps import ServicesDep
from gateway.auth import authenticate
from gateway.services import Services
from kernel.errors import ModelNotFound
from router.decision import AUTO_MODEL

router = APIRouter()

_CREATED = int(time.time())


def _models(services: Services) -> list[dict[str, object]]:
    policy = services.policies.current.document
    statuses = services.backends.status()
    data: list[dict[str, object]] = [
        {
            "id": AUTO_MODEL,
            "object": "model",
            "created": _CREATED,
            "owned_by": "hybrid-gateway",
            "ready": any(s.ready for s in statuses.values()),
            "reason": None if any(s.ready for s in statuses.values()) else "no model can serve",
        }
    ]
    for alias, spec in policy.models.items():
        status = statuses.get(alias)
        data.append(
            {
                "id": alias,
                "object": "model",
                "created": _CREATED,
                "owned_by": spec.tier,
                "ready": bool(status and status.ready),
                "reason": status.reason if status else "not configured yet",
            }
        )
    return data


@router.get("/v1/models")
async def list_models(request: Request, services: ServicesDep) -> dict[str, object]:
    authenticate(services.policies.current.document, request.headers.get("authorization"))
    return {"object": "list", "data": _models(services)}


@router.get("/v1/models/{model_id:path}")
async def get_model(model_id: str, request: Request, services: ServicesDep) -> dict[str, object]:
    authenticate(services.policies.current.document, request.headers.get("authorization"))
    for model in _models(services):
        if model["id"] == model_id:
            return model
    raise ModelNotFound(f"The model '{model_id}' does not exist", param="model")
