"""`Pipeline`: sequences the stages for one exchange (see the package docstring).

Every request that passed admission ends in exactly one `Recorder.record` call, made by
`_finish`: after the answer (complete), when the stream ends (relay), or on failure.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import TypeVar

from gateway.accounting import Accountant
from gateway.backends import BackendPool
from gateway.metrics import Metrics
from gateway.pipeline.admission import Admission, Admitter
from gateway.pipeline.cache import AnswerCache
from gateway.pipeline.dispatch import Dispatcher, Served
from gateway.pipeline.escalation import should_escalate, without_logprobs
from gateway.pipeline.exchange import Exchange, Explanation, Route, Streamed
from gateway.pipeline.holdback import hold_back
from gateway.pipeline.outcome import Outcome, Recorder
from gateway.pipeline.planning import Plan, Planner, Screened
from gateway.pipeline.relay import relay, response_usage
from gateway.pipeline.shadow import ShadowEvaluator
from gateway.privacy import Privacy
from gateway.state.factory import SharedState, memory_state
from kernel.errors import BackendError, GatewayError, PolicyBlocked
from kernel.protocols import Classifier, Ledger
from kernel.types import ChatResponse

log = logging.getLogger(__name__)

T = TypeVar("T")
Send = Callable[[Exchange, Plan], Awaitable[Served[T]]]


class Pipeline:
    def __init__(
        self,
        *,
        classifier: Classifier,
        privacy: Privacy,
        backends: BackendPool,
        ledger: Ledger,
        accountant: Accountant,
        state: SharedState | None = None,
        metrics: Metrics | None = None,
        request_timeout_s: float = 120.0,
    ) -> None:
        state = state or memory_state()
        metrics = metrics or Metrics()
        self._admitter = Admitter(state, metrics)
        self._planner = Planner(classifier, privacy)
        self._cache = AnswerCache(state)
        self._dispatcher = Dispatcher(backends, request_timeout_s)
        self._recorder = Recorder(ledger, accountant, metrics, state)
        self._shadow = ShadowEvaluator(backends, ledger)

    async def explain(self, ex: Exchange) -> Explanation:
        """What would happen to the exchange (scan, scores, decision), without any backend."""
        plan = await self._planner.plan(ex, Admission())
        return Explanation(ex.policy.version, plan.features, plan.decision, plan.pii.findings)

    async def screen(self, ex: Exchange, texts: Sequence[str]) -> list[Screened]:
        """Sensitivity and PII facts of each text (the embeddings route), without deciding."""
        return await self._planner.screen(ex, texts)

    async def complete(self, ex: Exchange) -> tuple[ChatResponse, Route]:
        with self._planner.serving():
            return await self._complete(ex)

    async def _complete(self, ex: Exchange) -> tuple[ChatResponse, Route]:
        plan, route = await self._plan(ex)
        cached = await self._cache.get(ex, plan)
        if cached is not None:
            route = replace(route, cache_hit=True)
            await self._finish(ex, plan, Outcome(route, cached.usage, ex.elapsed_ms()))
            return cached, route
        served, route = await self._dispatch(ex, plan, route, self._dispatcher.complete)
        served, route = await self._escalate(ex, plan, route, served)
        response = plan.protection.restore_response(served.result, served.target)
        usage = response_usage(ex.request, response)
        if usage != response.usage:
            response = response.model_copy(update={"usage": usage})
        await self._cache.put(ex, plan, response)
        await self._finish(ex, plan, Outcome(route, response.usage, ex.elapsed_ms()))
        self._shadow.after_answer(ex, plan, route, response)  # background, sampled, budgeted
        return response, route

    async def stream(self, ex: Exchange) -> Streamed:
        """Start the stream (falling back until some backend yields a first chunk; a stream
        that may escalate is held back until judged)."""
        release = self._planner.serve()  # until the relay's last chunk, or a failure to start
        try:
            return await self._stream(ex, release)
        except BaseException:
            release()
            raise

    async def _stream(self, ex: Exchange, release: Callable[[], None]) -> Streamed:
        plan, route = await self._plan(ex)
        served, route = await self._dispatch(ex, plan, route, self._dispatcher.open_stream)
        try:
            served, route = await hold_back(ex, plan, route, served, self._dispatcher)
        except asyncio.CancelledError:
            await self._finish(ex, plan, Outcome.abandoned(route))
            raise

        finished = False

        async def finish(outcome: Outcome) -> None:
            nonlocal finished
            if finished:
                return
            finished = True
            try:
                await self._finish(ex, plan, outcome)
            finally:
                release()

        async def abandon() -> None:
            await finish(Outcome.abandoned(route))  # nothing once the relay has finished

        return Streamed(route, relay(ex, route, served, plan.protection, finish), abandon)

    async def _plan(self, ex: Exchange) -> tuple[Plan, Route]:
        plan = await self._planner.plan(ex, await self._admitter.admit(ex))
        return plan, Route(ex.request_id, plan.decision, ex.policy.version)

    async def _dispatch(
        self, ex: Exchange, plan: Plan, route: Route, send: Send[T]
    ) -> tuple[Served[T], Route]:
        """Refuse a blocked plan, else send it; a failure (or the client leaving) is recorded
        before it propagates."""
        try:
            if plan.decision.blocked:
                raise PolicyBlocked(plan.decision.message or "This request is blocked by policy.")
            served = await send(ex, plan)
        except GatewayError as exc:
            await self._finish(ex, plan, Outcome.failed(route, exc))
            raise
        except asyncio.CancelledError:  # the client left before the first byte
            await self._finish(ex, plan, Outcome.abandoned(route))
            raise
        return served, replace(route, target=served.target, fallback_used=served.fallback_used)

    @property
    def shadow(self) -> ShadowEvaluator:
        return self._shadow

    async def aclose(self) -> None:
        """Let background shadow gradings finish or cancel them (before the ledger closes)."""
        await self._shadow.aclose()
        self._planner.close()

    async def _escalate(
        self, ex: Exchange, plan: Plan, route: Route, served: Served[ChatResponse]
    ) -> tuple[Served[ChatResponse], Route]:
        """Replace a low-confidence local first-choice answer by the escalation target's."""
        escalation = plan.decision.escalation
        local = served.result if ex.request.logprobs else without_logprobs(served.result)
        kept = replace(served, result=local)
        if escalation is None or served.target != plan.decision.target:
            return kept, route
        if not should_escalate(plan, served.result):
            return kept, route
        try:
            answer = await self._dispatcher.ask(ex, plan, escalation.target)
        except BackendError as exc:  # the local answer stands
            log.warning("escalation to %s failed: %s", escalation.target.alias, exc.code)
            return kept, route
        route = replace(route, target=escalation.target, escalated=True)
        return Served(escalation.target, served.fallback_used, answer), route

    async def _finish(self, ex: Exchange, plan: Plan, outcome: Outcome) -> None:
        await self._recorder.record(ex, plan, outcome)
