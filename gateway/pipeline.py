"""The one orchestrator: policy → PII → classify → decide → redact → dispatch → restore → record.

Everything here is sequencing and bookkeeping; the routing choice itself is `router.decide()`.
A backend that fails before its first byte (connect error, 5xx, timeout) is replaced by the
decision's next fallback; after the first byte the answer is committed to that backend.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace

from gateway.accounting import Accountant
from gateway.auth import Caller
from gateway.backends import BackendPool
from gateway.metrics import Metrics
from gateway.plan import Explanation, Plan, Route, Streamed
from gateway.privacy import Privacy
from gateway.recording import Recorder
from gateway.state.factory import SharedState, memory_state
from gateway.state.protocols import cache_key
from gateway.tracing import traced
from policies.store import PolicyStore
from router.decision import Features, decide
from kernel.errors import (
    BackendError,
    BackendTimeout,
    BackendUnavailable,
    GatewayError,
    PolicyBlocked,
    RateLimited,
)
from kernel.protocols import Classifier, Ledger
from kernel.text import estimate_prompt_tokens, estimate_tokens, scoring_text
from kernel.types import ChatChunk, ChatRequest, ChatResponse, Usage

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Tally:
    """Running totals of a stream, for the usage chunk and the ledger."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    ttft_ms: float | None = None
    usage_seen: bool = False
    content_chunks: int = 0


class Pipeline:
    def __init__(
        self,
        *,
        policies: PolicyStore,
        classifier: Classifier,
        privacy: Privacy,
        backends: BackendPool,
        ledger: Ledger,
        accountant: Accountant,
        state: SharedState | None = None,
        metrics: Metrics | None = None,
        request_timeout_s: float = 120.0,
    ) -> None:
        self._policies = policies
        self._request_timeout_s = request_timeout_s
        self._classifier = classifier
        self._privacy = privacy
        self._backends = backends
        self._state = state or memory_state()
        self._metrics = metrics or Metrics()
        self._recorder = Recorder(ledger, accountant, self._metrics, self._state)

    async def explain(self, req: ChatRequest, caller: Caller) -> Explanation:
        """What would happen to `req` (scan, scores, decision, redaction), without any backend."""
        plan = await self._plan(req, caller)
        await self._finish_scan(plan, req)  # show what a cloud fallback would be sent
        return Explanation(
            plan.policy.version,
            plan.features,
            plan.decision,
            plan.findings,
            plan.protection.cloud_refused,
        )

    async def complete(
        self, req: ChatRequest, caller: Caller, request_id: str
    ) -> tuple[ChatResponse, Route]:
        over_soft_budget = await self._admit(req, caller)
        plan = await self._plan(req, caller, over_soft_budget=over_soft_budget)
        route = Route(request_id, plan.decision, plan.policy.version)
        cached = await self._from_cache(plan, route, caller, req)
        if cached is not None:
            return cached, route
        try:
            self._refuse_if_blocked(plan)
            response = await self._dispatch(plan, route, req)
        except GatewayError as exc:
            await self._recorder.record_failure(plan, route, caller, exc)
            raise
        response = plan.protection.restore_response(response, route.target)
        if response.usage.total_tokens == 0:  # a server that reports no usage: estimate it
            answer = "".join(c.message.content or "" for c in response.choices)
            prompt = estimate_prompt_tokens(req)
            response.usage = Usage.of(prompt, estimate_tokens(answer) if answer else 0)
        await self._to_cache(plan, caller, req, response)
        ttft = (time.perf_counter() - plan.started) * 1000
        await self._recorder.record(plan, route, caller, response.usage, ttft_ms=ttft)
        return response, route

    async def stream(self, req: ChatRequest, caller: Caller, request_id: str) -> Streamed:
        """Start the stream (falling back until some backend yields a first chunk)."""
        over_soft_budget = await self._admit(req, caller)
        plan = await self._plan(req, caller, over_soft_budget=over_soft_budget)
        route = Route(request_id, plan.decision, plan.policy.version)
        try:
            self._refuse_if_blocked(plan)
            first, rest = await self._open_stream(plan, route, req)
        except GatewayError as exc:
            await self._recorder.record_failure(plan, route, caller, exc)
            raise
        return Streamed(route, self._relay(plan, route, caller, req, first, rest))

    @traced("hybridgw.plan")
    async def _plan(
        self, req: ChatRequest, caller: Caller, *, over_soft_budget: bool = False
    ) -> Plan:
        started = time.perf_counter()
        policy = self._policies.current
        text = scoring_text(req)
        fast = self._privacy.scan_fast(req, policy.document)
        scores = await asyncio.to_thread(self._classifier.score, text)
        features = Features(
            difficulty=float(scores.get("difficulty", 0.0)),
            sensitivity=float(scores.get("sensitivity", 0.0)),
            pii_types=fast.types,
            prompt_tokens=estimate_prompt_tokens(req),
            tenant=caller.tenant,
            app=caller.app,
            requested_model=req.model,
            needs_cloud_features=bool(req.tools)
            or any(m.has_non_text_parts() for m in req.messages),
            over_soft_budget=over_soft_budget,
        )
        decision = decide(features, policy.document)
        when = self._privacy.model_scan(decision, policy.document)
        if when == "now":
            full = await self._privacy.scan_full(req, policy.document)
            if full.types != features.pii_types:
                features = replace(features, pii_types=full.types)
                decision = decide(features, policy.document)
            fast = full
        protection = self._privacy.protect(req, fast, decision, policy.document)
        return Plan(policy, features, decision, fast, protection, started, when == "later")

    async def _finish_scan(self, plan: Plan, req: ChatRequest) -> None:
        """Run the deferred name/place scan before the first cloud hop, and redact with it.

        Deferred only when no rule reads model-found types, so the decision stands as made.
        """
        if plan.model_scan_pending:
            document = plan.policy.document
            plan.findings = await self._privacy.scan_full(req, document)
            plan.protection = self._privacy.protect(req, plan.findings, plan.decision, document)
            plan.model_scan_pending = False

    @asynccontextmanager
    async def _deadline(self, plan: Plan) -> AsyncIterator[None]:
        """Bound a backend call by what is left of the request's time budget (504 after)."""
        deadline = plan.started + self._request_timeout_s
        try:
            async with asyncio.timeout(max(0.0, deadline - time.perf_counter())):
                yield
        except TimeoutError:
            raise BackendTimeout(
                f"No answer within the gateway's limit of {self._request_timeout_s:g} s."
            ) from None

    @staticmethod
    def _refuse_if_blocked(plan: Plan) -> None:
        if plan.decision.blocked:
            raise PolicyBlocked(plan.decision.message or "This request is blocked by policy.")
        if plan.protection.refused_first_choice and plan.protection.cloud_refused:
            raise PolicyBlocked(plan.protection.cloud_refused)

    @traced("hybridgw.admit")
    async def _admit(self, req: ChatRequest, caller: Caller) -> bool:
        """Rate limits, then budgets, before any work. True when a soft budget is passed."""
        document = self._policies.current.document
        tokens = estimate_prompt_tokens(req)
        try:
            await self._state.limiter.acquire(caller, document.limits, tokens)
            status = await self._state.budgets.check(caller, document.budgets)
        except RateLimited as exc:
            self._metrics.refused.labels(exc.code).inc()
            raise
        return status.over_soft

    @staticmethod
    def _cacheable(plan: Plan, caller: Caller, req: ChatRequest) -> bool:
        """Opted-in apps only, and never an answer that had PII in it or restored into it."""
        return (
            caller.cache
            and not req.stream
            and not plan.decision.blocked
            and not plan.protection.counts
            and plan.protection.redacted is None
        )

    @traced("hybridgw.cache")
    async def _from_cache(
        self, plan: Plan, route: Route, caller: Caller, req: ChatRequest
    ) -> ChatResponse | None:
        if not self._cacheable(plan, caller, req):
            return None
        hit = await self._state.cache.get(cache_key(req, plan.policy.version, caller.tenant))
        if hit is None:
            return None
        route.cache_hit = True
        response = hit.model_copy(update={"id": f"chatcmpl-{route.request_id}"})
        ttft = (time.perf_counter() - plan.started) * 1000
        await self._recorder.record(plan, route, caller, response.usage, ttft_ms=ttft)
        return response

    async def _to_cache(
        self, plan: Plan, caller: Caller, req: ChatRequest, response: ChatResponse
    ) -> None:
        if self._cacheable(plan, caller, req):
            key = cache_key(req, plan.policy.version, caller.tenant)
            await self._state.cache.put(key, response, plan.policy.document.cache.ttl_s)

    @traced("hybridgw.dispatch")
    async def _dispatch(self, plan: Plan, route: Route, req: ChatRequest) -> ChatResponse:
        last: BackendError | None = None
        for index, target in enumerate(plan.decision.candidates()):
            if target.tier == "cloud":
                await self._finish_scan(plan, req)
            if not plan.protection.allows(target):
                continue
            outgoing = plan.protection.outgoing(target)
            try:
                async with self._deadline(plan):
                    response = await self._backends.get(target.alias).complete(
                        outgoing, model=target.model
                    )
            except BackendError as exc:
                log.warning("backend %s failed: %s", target.alias, exc.code)
                last = exc
                continue
            route.target, route.fallback_used = target, index > 0
            return response
        raise last or BackendUnavailable(_nothing_allowed(plan))

    @traced("hybridgw.open_stream")
    async def _open_stream(
        self, plan: Plan, route: Route, req: ChatRequest
    ) -> tuple[ChatChunk | None, AsyncIterator[ChatChunk]]:
        last: BackendError | None = None
        for index, target in enumerate(plan.decision.candidates()):
            if target.tier == "cloud":
                await self._finish_scan(plan, req)
            if not plan.protection.allows(target):
                continue
            outgoing = plan.protection.outgoing(target)
            chunks = aiter(self._backends.get(target.alias).stream(outgoing, model=target.model))
            try:
                async with self._deadline(plan):
                    first: ChatChunk | None = await anext(chunks)
            except StopAsyncIteration:
                first = None
            except BackendError as exc:
                log.warning("backend %s failed: %s", target.alias, exc.code)
                last = exc
                continue
            route.target, route.fallback_used = target, index > 0
            return first, chunks
        raise last or BackendUnavailable(_nothing_allowed(plan))

    async def _relay(
        self,
        plan: Plan,
        route: Route,
        caller: Caller,
        req: ChatRequest,
        first: ChatChunk | None,
        rest: AsyncIterator[ChatChunk],
    ) -> AsyncIterator[ChatChunk]:
        """Forward chunks with PII restored; emit usage if asked; record when the stream ends."""
        tally = _Tally()
        restorer = plan.protection.stream_restorer(route.target)
        status, error = 200, None
        try:
            pending = [first] if first is not None else []
            while True:
                chunk = pending.pop() if pending else await anext(rest, None)
                if chunk is None:
                    break
                if tally.ttft_ms is None:
                    tally.ttft_ms = (time.perf_counter() - plan.started) * 1000
                if chunk.usage is not None:
                    tally.usage_seen = True
                    tally.prompt_tokens = chunk.usage.prompt_tokens
                    tally.completion_tokens = chunk.usage.completion_tokens
                    if not chunk.choices:
                        continue  # re-emitted below, after any held-back text
                    chunk = chunk.model_copy(update={"usage": None})
                if chunk.choices and chunk.choices[0].delta.content:
                    tally.content_chunks += 1
                for out in restorer.feed(chunk):
                    yield out
            model = route.target.model if route.target else req.model
            for out in restorer.flush(f"chatcmpl-{route.request_id}", model):
                yield out
            if req.wants_usage_chunk():
                yield self._usage_chunk(route, req, tally)
        except GatewayError as exc:
            status, error = exc.status, exc.code
            raise
        except asyncio.CancelledError:
            status, error = 499, "client_closed_request"
            raise
        finally:
            usage = self._final_usage(req, tally)
            await self._recorder.record(
                plan, route, caller, usage, ttft_ms=tally.ttft_ms, status=status, error_code=error
            )

    def _usage_chunk(self, route: Route, req: ChatRequest, tally: _Tally) -> ChatChunk:
        model = route.target.model if route.target else req.model
        return ChatChunk(
            id=f"chatcmpl-{route.request_id}", model=model, usage=self._final_usage(req, tally)
        )

    @staticmethod
    def _final_usage(req: ChatRequest, tally: _Tally) -> Usage:
        if tally.usage_seen:
            return Usage.of(tally.prompt_tokens, tally.completion_tokens)
        # No usage from the backend: estimate the prompt, count one token per content chunk.
        prompt = estimate_prompt_tokens(req)
        return Usage.of(prompt, tally.content_chunks)


def _nothing_allowed(plan: Plan) -> str:
    refused = plan.protection.cloud_refused
    if refused:
        return f"No allowed backend: the local tier failed and {refused}"
    return "No backend is available for this request."
