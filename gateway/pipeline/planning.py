"""Planning: scan, classify and decide — everything known before a backend is called.

The whole stage is one blocking function. When the process is serving at most
`INLINE_SERVING` requests (a stream counts until its last chunk) and this one has at most
`INLINE_CHARS` characters to scan, it runs on the event loop itself: the plan takes at most
~2 ms (about 1 ms per 1,000 characters), and the hop to a thread and back costs CPU and
latency (a wake-up, usually a core change, the GIL handed over twice). Measured paired
(`bench/bench_ab.py`, 2 workers, full path): at c=1 the hop cost ~0.2 ms per request; at c=8
planning on the loop gave 1.18x the requests per second, -12 % CPU per request and a lower
p99 (21 vs 31 ms) than the thread. Otherwise it runs on the planner's own worker thread (one
hop off the loop, however large the prompt): with many requests in flight the loop keeps
serving their sockets while the thread plans. At c=64 planning on the loop still gave more
throughput (1.13-1.33x) but a worse p99 (196-209 vs 167-175 ms, with rounds over 300 ms),
hence the limit.
One dedicated thread, not the default pool: several threads scanning hostile prompts at once
contend for the GIL with the event loop (measured: loop lag p99 162 ms with
`asyncio.to_thread`, 10 ms with one thread).
It returns an immutable `Plan` with nothing pending:
the PII scan, model part included, is finished before `decide()` runs, so the decision and the
redacted copy for every cloud hop (first choice or fallback) are computed once, together.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

from gateway.pipeline.admission import Admission
from gateway.pipeline.exchange import Exchange
from gateway.privacy import PiiFacts, Privacy, Protection
from gateway.tracing import traced
from kernel.protocols import Classifier
from kernel.text import estimate_prompt_tokens, scoring_text
from kernel.types import ChatRequest, Message
from policies.pii.segments import iter_segments
from router.decision import Features, RouteDecision, decide
from router.profiles import difficulty_key


@dataclass(frozen=True, slots=True)
class Plan:
    """Everything decided about one request before a backend is called."""

    features: Features
    decision: RouteDecision
    pii: PiiFacts
    protection: Protection


@dataclass(frozen=True, slots=True)
class Screened:
    """What an embedding input is, for the embeddings route: its sensitivity and PII facts."""

    sensitivity: float
    pii: PiiFacts


INLINE_CHARS = 2000
"""A request with at most this many characters to scan may be planned on the event loop ..."""
INLINE_SERVING = 8
"""... while the process serves at most this many requests (see the module docstring)."""


def scanned_chars(req: ChatRequest, limit: int = INLINE_CHARS) -> int:
    """How many characters the PII scan reads in `req` (counting stops once past `limit`)."""
    total = 0
    for seg in iter_segments(req):
        total += len(seg.text)
        if total > limit:
            break
    return total


def needs_cloud_features(req: ChatRequest) -> bool:
    """Tools or non-text content: only a cloud model can serve them (the policy decides)."""
    return bool(req.tools) or any(m.has_non_text_parts() for m in req.messages)


class Planner:
    def __init__(self, classifier: Classifier, privacy: Privacy) -> None:
        self._classifier = classifier
        self._privacy = privacy
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hybridgw-plan")
        self._serving = 0

    def serve(self) -> Callable[[], None]:
        """Count a request as being served until the returned callable is called (once; later
        calls do nothing). See the module docstring for why planning asks."""
        self._serving += 1
        released = False

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                self._serving -= 1

        return release

    @contextmanager
    def serving(self) -> Iterator[None]:
        """`serve()` for the duration of the block."""
        release = self.serve()
        try:
            yield
        finally:
            release()

    @traced("hybridgw.plan")
    async def plan(self, ex: Exchange, admission: Admission) -> Plan:
        if self._serving <= INLINE_SERVING and scanned_chars(ex.request) <= INLINE_CHARS:
            return self.plan_now(ex, admission)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, self.plan_now, ex, admission)

    async def screen(self, ex: Exchange, texts: Sequence[str]) -> list[Screened]:
        """Scan and score each text, all in one hop to the planner's thread (embeddings)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, self._screen_now, ex, texts)

    def _screen_now(self, ex: Exchange, texts: Sequence[str]) -> list[Screened]:
        privacy = self._privacy.for_policy(ex.policy.version, ex.policy.document)
        screened = []
        for text in texts:
            req = ChatRequest(model="auto", messages=[Message(role="user", content=text)])
            score = self._classifier.score(scoring_text(req)).get("sensitivity", 0.0)
            screened.append(Screened(float(score), privacy.scan(req)))
        return screened

    def close(self) -> None:
        self._thread.shutdown(wait=False, cancel_futures=True)

    def plan_now(self, ex: Exchange, admission: Admission) -> Plan:
        """The stage itself, blocking (see the module docstring)."""
        loaded, req, caller = ex.policy, ex.request, ex.caller
        privacy = self._privacy.for_policy(loaded.version, loaded.document)
        facts = privacy.scan(req)
        scores = self._classifier.score(scoring_text(req))
        head = difficulty_key(loaded.document.router_profile)  # the deployed local model's head
        features = Features(
            difficulty=float(scores.get(head, scores.get("difficulty", 0.0))),
            sensitivity=float(scores.get("sensitivity", 0.0)),
            pii_types=facts.types,
            pii_blocked=facts.blocked,
            pii_unscanned=facts.unscanned,
            prompt_tokens=estimate_prompt_tokens(req),
            tenant=caller.tenant,
            app=caller.app,
            requested_model=req.model,
            needs_cloud_features=needs_cloud_features(req),
            over_soft_budget=admission.over_soft_budget,
        )
        decision = decide(features, loaded.document)
        protection = privacy.protect(req, facts, decision.cloud_hops())
        return Plan(features, decision, facts, protection)
