"""Shadow evaluation: after a local answer, grade a sample of them against the cloud reference.

`ShadowEvaluator.after_answer` is called by the pipeline once a non-streamed answer has been
given. It decides synchronously (pure checks, no I/O) whether to sample the request and, if so,
starts a background task: never on the answer path. The task asks the policy's shadow
`reference` model the same request, has the judge (`gateway.pipeline.judges`) grade the local
answer against it, and records a `Verdict` — never text — keyed by the request id.

Only requests where sending the text to the cloud is harmless are sampled (`eligible`): a local,
non-cached answer; no PII found and none unchecked; no protect rule matched; sensitivity below
`shadow.max_sensitivity`; no tools or images. Sampling is by request id (`sampled`), so replicas
agree. At most `max_concurrency` gradings run at once (further samples are skipped, never
queued) and a day's spend stops at `daily_budget_usd` (per replica; in-flight gradings may
overshoot by their own cost).
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from datetime import UTC, date, datetime

from cloud_backends.pricing import cloud_price
from gateway.backends import BackendPool
from gateway.ledger.verdicts import Verdict, VerdictStore
from gateway.pipeline.exchange import Exchange, Route
from gateway.pipeline.judges import JUDGES, Case
from gateway.pipeline.planning import Plan
from kernel.types import ChatResponse, Usage
from policies.schema import PolicyDocument, ShadowConfig

log = logging.getLogger(__name__)


def sampled(request_id: str, rate: float) -> bool:
    """Deterministic by request id: its first 8 hex digits as a fraction of 2³²."""
    try:
        fraction = int(request_id[:8], 16) / 2**32
    except ValueError:
        fraction = (hash(request_id) & 0xFFFFFFFF) / 2**32
    return fraction < rate


def eligible(ex: Exchange, plan: Plan, route: Route, config: ShadowConfig) -> bool:
    """A local, fresh answer to a request whose text the policy would let reach the cloud."""
    features, document = plan.features, ex.policy.document
    protect_rules = {rule.name for rule in document.protect}
    return (
        route.target is not None
        and route.target.tier == "local"
        and not route.cache_hit
        and not (features.pii_types or features.pii_unscanned or features.pii_blocked)
        and not plan.protection.counts
        and plan.decision.rule not in protect_rules
        and features.sensitivity < config.max_sensitivity
        and not features.needs_cloud_features
    )


def gold_answer(ex: Exchange) -> str | None:
    """The app's gold answer, `metadata.gold_answer`, when the request model carries metadata."""
    metadata = getattr(ex.request, "metadata", None)
    gold = metadata.get("gold_answer") if isinstance(metadata, dict) else None
    return gold if isinstance(gold, str) and gold else None


class ShadowEvaluator:
    def __init__(self, backends: BackendPool, store: object) -> None:
        self._backends = backends
        self._store = store if isinstance(store, VerdictStore) else None
        self._tasks: set[asyncio.Task[None]] = set()
        self._spent: dict[date, float] = {}
        self.skipped: Counter[str] = Counter()  # why samples were not graded (for tests, logs)

    def after_answer(self, ex: Exchange, plan: Plan, route: Route, response: ChatResponse) -> None:
        """Maybe start grading this answer in the background. Never raises, never waits."""
        config = ex.policy.document.shadow
        if config is None or not sampled(ex.request_id, config.sample_rate):
            return
        if self._store is None:
            self.skipped["store"] += 1
            return
        if not eligible(ex, plan, route, config):
            self.skipped["ineligible"] += 1
            return
        gold = gold_answer(ex)
        if config.judge == "exact_match" and gold is None:
            self.skipped["no_gold"] += 1
            return
        if len(self._tasks) >= config.max_concurrency:
            self.skipped["busy"] += 1
            return
        if self._spent.get(_today(), 0.0) >= config.daily_budget_usd:
            self.skipped["budget"] += 1
            return
        answer = _text(response)
        task = asyncio.create_task(self._grade(ex, plan, route, answer, gold))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait for the gradings in flight (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def aclose(self) -> None:
        for task in self._tasks:
            task.cancel()
        await self.drain()

    async def _grade(
        self, ex: Exchange, plan: Plan, route: Route, answer: str, gold: str | None
    ) -> None:
        document = ex.policy.document
        assert document.shadow is not None and route.target is not None
        alias = document.shadow.reference or document.reference_model
        spec = document.models[alias]
        try:
            backend = self._backends.get(alias)
            ask = ex.request.model_copy(update={"stream": False, "stream_options": None})
            reference = await backend.complete(ask, model=spec.model)
            judge = JUDGES[document.shadow.judge](backend, spec.model)
            grade = await judge.grade(Case(ex.request, answer, _text(reference), gold))
        except Exception as exc:  # a failed grading costs nothing visible; say why, not what
            reason = getattr(exc, "code", type(exc).__name__)
            log.warning("shadow grading of request %s failed: %s", ex.request_id, reason)
            return
        cost = _cost(document, alias, reference.usage or Usage(), grade.usage if grade else None)
        today = _today()
        self._spent = {today: self._spent.get(today, 0.0) + cost}  # earlier days are done
        if grade is None:
            self.skipped["undecided"] += 1
            return
        verdict = Verdict(
            request_id=ex.request_id,
            timestamp=datetime.now(UTC),
            tenant=ex.caller.tenant,
            app=ex.caller.app,
            policy_version=ex.policy.version,
            local_model=route.target.alias,
            reference_model=alias,
            judge=document.shadow.judge,
            local_ok=grade.local_ok,
            reference_ok=grade.reference_ok,
            difficulty=plan.features.difficulty,
            cost_usd=cost,
        )
        assert self._store is not None
        try:
            await self._store.record_verdict(verdict)
        except Exception:
            log.exception("shadow verdict write failed for request %s", ex.request_id)


def _cost(document: PolicyDocument, alias: str, reference: Usage, judge: Usage | None) -> float:
    price = cloud_price(document.models[alias])
    calls = [reference, *([judge] if judge else [])]
    return sum(price.cost(u.prompt_tokens, u.completion_tokens) for u in calls)


def _text(response: ChatResponse) -> str:
    return (response.choices[0].message.content or "") if response.choices else ""


def _today() -> date:
    return datetime.now(UTC).date()
