"""POST /v1/chat/completions — the OpenAI Chat Completions dialect.

The hot path is a plain Starlette route, not a FastAPI one: it takes no injected parameters,
and FastAPI's dependency solving cost ~0.1 ms of CPU per request here (bench/bench_peers.py).
Errors still go through the app's exception handlers, as for every other route.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.routing import Route

from gateway.api.body import parse_model, read_body
from gateway.api.deps import services_of
from gateway.api.edge import ignored_params, new_request_id, open_exchange, route_headers
from gateway.api.openai.sse import sse_events
from gateway.api.streaming import RelayedResponse
from gateway.auth import authenticate
from kernel.types import ChatRequest


async def chat_completions(request: Request) -> Response:
    services = services_of(request)
    request_id = new_request_id(request)
    policy = services.policies.current  # pinned: every stage of this request sees this version
    caller = authenticate(policy.document, request.headers.get("authorization"))
    raw = await read_body(request, services.settings.max_body_bytes)
    req = parse_model(ChatRequest, raw)
    ex = open_exchange(services, request_id, caller, policy, req)
    if req.stream:
        streamed = await services.pipeline.stream(ex)
        ignored = ignored_params(services, streamed.route, req)
        headers = route_headers(streamed.route, ignored)
        return RelayedResponse(streamed, sse_events(streamed.chunks), headers)
    response, route = await services.pipeline.complete(ex)
    headers = route_headers(route, ignored_params(services, route, req))
    return Response(response.model_dump_json(), media_type="application/json", headers=headers)


router = APIRouter(routes=[Route("/v1/chat/completions", chat_completions, methods=["POST"])])
