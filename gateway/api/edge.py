"""What every dialect's edge does the same way: pin the policy, open the exchange, set headers."""

from __future__ import annotations

import os
import threading

from fastapi import Request

from gateway.auth import Caller
from gateway.pipeline import Exchange, Route
from gateway.services import Services
from kernel.errors import InvalidRequest, ModelNotFound
from kernel.types import ChatRequest
from policies.loader import LoadedPolicy


class RandomIds:
    """32 hex characters of `os.urandom` per id, drawn 4 KiB (256 ids) at a time.

    `uuid.uuid4()` made a `getrandom` call per request; the event loop released the GIL for it
    and then waited for the planner thread to hand it back (3 % of the full path's busy samples
    in bench.bench_profile). The ids are as random as before; a forked child starts a fresh
    buffer, so it never repeats its parent's ids."""

    _BYTES = 4096

    def __init__(self) -> None:
        self._reset()
        os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        self._lock = threading.Lock()  # new in a child: a parent thread may have held the old one
        self._buffer = b""
        self._next = 0

    def take(self) -> str:
        with self._lock:
            if self._next >= len(self._buffer):
                self._buffer, self._next = os.urandom(self._BYTES), 0
            start, buffer = self._next, self._buffer
            self._next += 16
        return buffer[start : start + 16].hex()


_IDS = RandomIds()


def new_request_id(request: Request) -> str:
    """A fresh id, remembered on the request so error responses carry it too."""
    request_id = _IDS.take()
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
