"""POST /v1/responses — the OpenAI Responses dialect (stateless; errors in OpenAI's format)."""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response

from gateway.api.body import parse_model, read_body
from gateway.api.deps import ServicesDep
from gateway.api.edge import new_request_id, open_exchange, route_headers
from gateway.api.responses.stream import ResponseEvents, response_events
from gateway.api.responses.translate import to_chat_request, to_response
from gateway.api.responses.wire import ResponsesRequest
from gateway.api.streaming import RelayedResponse
from gateway.auth import authenticate

router = APIRouter()


@router.post("/v1/responses")
async def create_response(request: Request, services: ServicesDep) -> Response:
    request_id = new_request_id(request)
    policy = services.policies.current
    caller = authenticate(policy.document, request.headers.get("authorization"))
    raw = await read_body(request, services.settings.max_body_bytes)
    wire = parse_model(ResponsesRequest, raw)
    req = to_chat_request(wire)
    ex = open_exchange(services, request_id, caller, policy, req)
    ignored = wire.ignored()
    extra = {"x-gateway-ignored-params": ",".join(ignored)} if ignored else {}
    if req.stream:
        streamed = await services.pipeline.stream(ex)
        target = streamed.route.target
        events = ResponseEvents(wire, request_id, target.model if target else req.model)
        encoded = response_events(streamed.chunks, events)
        return RelayedResponse(streamed, encoded, {**route_headers(streamed.route), **extra})
    response, route = await services.pipeline.complete(ex)
    return Response(
        orjson.dumps(to_response(wire, response, request_id)),
        media_type="application/json",
        headers={**route_headers(route), **extra},
    )
