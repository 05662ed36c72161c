"""POST /v1/chat/completions — the OpenAI-compatible entry point."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from gateway.api.body import parse_model, read_body
from gateway.auth import authenticate
from gateway.plan import Route
from gateway.services import Services
from gateway.sse import sse_events
from kernel.errors import InvalidRequest
from kernel.types import ChatRequest

router = APIRouter()


def route_headers(route: Route) -> dict[str, str]:
    target = route.target
    headers = {
        "x-request-id": route.request_id,
        "x-route-rule": route.decision.rule,
        "x-route-policy": route.policy_version,
    }
    if target is not None:
        headers["x-route-tier"] = target.tier
        headers["x-route-model"] = target.alias
    if route.fallback_used:
        headers["x-route-fallback"] = "true"
    if route.cache_hit:
        headers["x-cache"] = "hit"
    return headers


@router.post("/v1/chat/completions")
async def chat_completions(request: Request) -> Response:
    services: Services = request.app.state.services
    request_id = uuid.uuid4().hex
    request.state.request_id = request_id
    caller = authenticate(services.policies.current.document, request.headers.get("authorization"))
    raw = await read_body(request, services.settings.max_body_bytes)
    req = parse_model(ChatRequest, raw)
    if sum(len(m.text()) for m in req.messages) > services.settings.max_prompt_chars:
        raise InvalidRequest(
            f"The prompt exceeds {services.settings.max_prompt_chars} characters.",
            param="messages",
        )
    if req.stream:
        streamed = await services.pipeline.stream(req, caller, request_id)
        return StreamingResponse(
            sse_events(streamed.chunks),
            media_type="text/event-stream",
            headers={**route_headers(streamed.route), "cache-control": "no-cache"},
        )
    response, route = await services.pipeline.complete(req, caller, request_id)
    return Response(
        response.model_dump_json(), media_type="application/json", headers=route_headers(route)
    )
