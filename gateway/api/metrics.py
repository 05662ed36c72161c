"""GET /metrics — Prometheus exposition (unauthenticated: scrape it from inside the cluster)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from gateway.metrics import CONTENT_TYPE
from gateway.services import Services

router = APIRouter()


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    services: Services = request.app.state.services
    body = services.metrics.render(
        queue_depth=services.backends.queue_depth(),
        reload_failures=services.policies.reload_failures,
        journal_pending=services.journal_pending(),
    )
    return Response(body, media_type=CONTENT_TYPE)
