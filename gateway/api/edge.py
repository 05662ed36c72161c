"""What every dialect's edge does the same way: pin the policy, open the exchange, set headers."""

from __future__ import annotations

import uuid

from fastapi import Request

from gateway.auth import Caller
from gateway.pipeline import Exchange, Route
from gateway.services import Services
from kernel.errors import InvalidRequest, ModelNotFound
from kernel.types import ChatRequest
from policies.loader import LoadedPolicy


def new_request_id(request: Request) -> str:
    """A fresh id, remembered on the request so error responses carry it too."""
    request_id = uuid.uuid4().hex
    request.state.request_id = request_id
    return request_id


def open_exchange(
    services: Services,
    request_id: str,
    caller: Caller,
    policy: LoadedPolicy,
    req: ChatRequest,
) -> Exchange:
    """The immutable exchange the pipeline runs on, after the edge's own size check."""
    limit = services.settings.max_prompt_chars
    if sum(len(m.text()) for m in req.messages) > limit:
        raise InvalidRequest(f"The prompt exceeds {limit} characters.", param="messages")
    return Exchange(request_id, caller, policy, req)


def ignored_params(services: Services, route: Route, req: ChatRequest) -> frozenset[str]:
    """The client's parameters the backend that answered did not honour (none on a cache hit)."""
    target = route.target
    if target is None or route.cache_hit:
        return frozenset()
    try:
        backend = services.backends.get(target.alias)
    except ModelNotFound:  # a policy reload dropped the alias meanwhile
        return frozenset()
    return backend.ignored_params(req, model=target.model)


def route_headers(route: Route, ignored: frozenset[str] = frozenset()) -> dict[str, str]:
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
    if route.escalated:
        headers["x-route-escalated"] = "true"
    if ignored:
        headers["x-hybridgw-ignored-params"] = ",".join(sorted(ignored))
    return headers
