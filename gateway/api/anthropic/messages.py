"""POST /v1/messages and /v1/messages/count_tokens — the Anthropic Messages dialect."""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response

from gateway.api.anthropic.stream import message_events
from gateway.api.anthropic.translate import to_chat_request, to_message
from gateway.api.anthropic.wire import CountTokensRequest, MessagesRequest
from gateway.api.body import parse_model, read_body
from gateway.api.deps import ServicesDep
from gateway.api.edge import new_request_id, open_exchange, route_headers
from gateway.api.streaming import RelayedResponse
from gateway.auth import Caller, authenticate, authenticate_key
from kernel.text import estimate_prompt_tokens
from policies.schema import PolicyDocument

router = APIRouter()

PREFIX = "/v1/messages"


def authenticate_anthropic(policy: PolicyDocument, request: Request) -> Caller:
    """`x-api-key` (the anthropic SDK's way), else `Authorization: Bearer`."""
    key = request.headers.get("x-api-key")
    if key:
        return authenticate_key(policy, key.strip())
    return authenticate(policy, request.headers.get("authorization"))


@router.post(PREFIX)
async def messages(request: Request, services: ServicesDep) -> Response:
    request_id = new_request_id(request)
    policy = services.policies.current
    caller = authenticate_anthropic(policy.document, request)
    raw = await read_body(request, services.settings.max_body_bytes)
    wire = parse_model(MessagesRequest, raw)
    req = to_chat_request(wire)
    ex = open_exchange(services, request_id, caller, policy, req)
    ignored = {"x-gateway-ignored-params": "top_k"} if wire.top_k is not None else {}
    message_id = f"msg_{request_id}"
    if req.stream:
        streamed = await services.pipeline.stream(ex)
        target = streamed.route.target
        events = message_events(
            streamed.chunks,
            message_id,
            target.model if target else req.model,
            estimate_prompt_tokens(req),
        )
        return RelayedResponse(streamed, events, {**route_headers(streamed.route), **ignored})
    response, route = await services.pipeline.complete(ex)
    return Response(
        orjson.dumps(to_message(response, message_id)),
        media_type="application/json",
        headers={**route_headers(route), **ignored},
    )


@router.post(f"{PREFIX}/count_tokens")
async def count_tokens(request: Request, services: ServicesDep) -> dict[str, int]:
    """The gateway's estimate (about four characters a token), not a provider's exact count."""
    policy = services.policies.current
    authenticate_anthropic(policy.document, request)
    raw = await read_body(request, services.settings.max_body_bytes)
    req = to_chat_request(parse_model(CountTokensRequest, raw))
    return {"input_tokens": estimate_prompt_tokens(req)}
