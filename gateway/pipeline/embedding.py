"""Embeddings: a batch of texts → vectors, through the same admission and ledger as chat.

    admission  (the chat `Admitter`: rate limits, budgets)
    → route    (`embedding_route`: the requested alias, local only over the soft budget; for a
                cloud alias every text is first classified and PII-scanned through
                `Pipeline.explain`, the chat planning stage)
    → embed    (the in-process encoder in a worker thread, or litellm for a cloud alias)
    → record   (one ledger entry: tokens, cost, route, PII counts — never text)

A local alias is not screened: its text never leaves the process, so there is nothing to decide.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

from gateway.auth import Caller
from gateway.metrics import Metrics
from gateway.pipeline.admission import Admitter
from gateway.pipeline.embedding_route import (
    NOT_SCREENED,
    EmbeddingRoute,
    Screening,
    budget_route,
    check_dimensions,
    requested_route,
    screened_route,
)
from gateway.pipeline.exchange import Exchange
from gateway.pipeline.orchestrator import Pipeline
from gateway.settings import Settings
from gateway.state.factory import SharedState
from kernel.embeddings import Embedded
from kernel.errors import GatewayError
from kernel.protocols import Ledger, LedgerEntry
from kernel.types import ChatRequest, Message
from local_backends.embeddings import OnnxEmbedder
from policies.embeddings import EmbeddingModel
from policies.loader import LoadedPolicy

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class EmbeddingResult:
    embedded: Embedded
    route: EmbeddingRoute


@lru_cache(maxsize=4)
def local_encoder(path: str | None, threads: int) -> OnnxEmbedder:
    """One encoder per file and thread count for the whole process (immutable, thread-safe)."""
    return OnnxEmbedder(path, threads=threads)


async def run_embedder(
    spec: EmbeddingModel, texts: Sequence[str], dimensions: int | None
) -> Embedded:
    if spec.backend == "onnx":
        encoder = await asyncio.to_thread(local_encoder, spec.path, spec.threads)
        return await asyncio.to_thread(encoder.embed, texts)
    from cloud_backends.litellm_embeddings import LiteLLMEmbedder

    embedder = LiteLLMEmbedder(
        spec.model, api_base=spec.api_base, api_key_env=spec.api_key_env, timeout_s=spec.timeout_s
    )
    return await embedder.embed(texts, dimensions=dimensions)


class Embeddings:
    """The embeddings path for one gateway process."""

    def __init__(
        self,
        pipeline: Pipeline,
        ledger: Ledger,
        metrics: Metrics,
        state: SharedState,
        settings: Settings,
    ) -> None:
        self._pipeline = pipeline
        self._ledger = ledger
        self._metrics = metrics
        self._state = state
        self._local_per_token = settings.local_cost_per_million_tokens / 1_000_000
        self._admitter = Admitter(state, metrics)

    async def embed(
        self,
        request_id: str,
        caller: Caller,
        policy: LoadedPolicy,
        model: str,
        texts: Sequence[str],
        dimensions: int | None,
    ) -> EmbeddingResult:
        config = policy.document.embeddings
        route = requested_route(config, model)
        batch = ChatRequest(model=model, messages=[Message(role="user", content=t) for t in texts])
        ex = Exchange(request_id, caller, policy, batch)
        admission = await self._admitter.admit(ex)
        screening = NOT_SCREENED
        try:
            route = budget_route(config, route, admission.over_soft_budget)
            if route.spec.tier == "cloud":
                screening = await self._screen(ex, texts)
                route = screened_route(config, route, screening)
            passed = check_dimensions(route, dimensions)
            embedded = await run_embedder(route.spec, texts, passed)
        except GatewayError as exc:
            await self._record(ex, route, screening, 0, exc.status, exc.code)
            raise
        await self._record(ex, route, screening, embedded.tokens, 200, None)
        return EmbeddingResult(embedded, route)

    async def _screen(self, ex: Exchange, texts: Sequence[str]) -> Screening:
        """Classify and PII-scan every text with the chat planner's scanner and classifier."""
        screened = await self._pipeline.screen(ex, texts)
        return Screening.of(
            (s.sensitivity for s in screened),
            (s.pii.findings.counts for s in screened),
            ex.policy.document.embeddings.sensitive_at,
            unscanned=any(s.pii.unscanned for s in screened),
        )

    async def _record(
        self,
        ex: Exchange,
        route: EmbeddingRoute,
        screening: Screening,
        tokens: int,
        status: int,
        error: str | None,
    ) -> None:
        config = ex.policy.document.embeddings
        cost, source = self._price(route.spec, tokens)
        reference = config.models.get(config.reference_model or "")
        counterfactual = self._price(reference, tokens)[0] if reference else 0.0
        entry = LedgerEntry(
            request_id=ex.request_id,
            timestamp=datetime.now(UTC),
            tenant=ex.caller.tenant,
            app=ex.caller.app,
            policy_version=ex.policy.version,
            rule=route.rule,
            tier=route.spec.tier,
            backend=route.spec.backend,
            model=route.alias,
            status=status,
            prompt_tokens=tokens,
            cost_usd=cost,
            counterfactual_cost_usd=counterfactual,
            latency_ms=ex.elapsed_ms(),
            pii_counts=screening.pii_counts,
            error_code=error,
            reference_model=config.reference_model,
            price_source=source if tokens else None,
        )
        log.info(
            "embeddings %s status=%d tier=%s model=%s rule=%s tokens=%d latency_ms=%.1f pii=%d",
            entry.request_id,
            status,
            entry.tier,
            entry.model,
            entry.rule,
            tokens,
            entry.latency_ms,
            sum(screening.pii_counts.values()),
        )  # ids, route, counts and timings only: never text
        try:
            await self._ledger.record(entry)
        except Exception:
            log.exception("ledger write failed for request %s", entry.request_id)
        self._metrics.observe(entry)
        if cost > 0:
            await self._state.budgets.settle(ex.caller, ex.policy.document.budgets, cost)

    def _price(self, spec: EmbeddingModel, tokens: int) -> tuple[float, str]:
        if spec.input_cost_per_token is not None:
            return tokens * spec.input_cost_per_token, "policy"
        if spec.tier == "local":
            return (
                tokens * self._local_per_token,
                "local-per-token" if self._local_per_token else "local-zero",
            )
        return tokens * litellm_input_price(spec.model), "litellm"


@lru_cache(maxsize=64)
def litellm_input_price(model: str) -> float:
    """litellm's bundled input price per token for an embedding model (0 when it has none)."""
    from cloud_backends.litellm_backend import import_litellm

    costs = import_litellm().model_cost
    entry = costs.get(model) or costs.get(model.split("/", 1)[-1]) or {}
    return float(entry.get("input_cost_per_token") or 0.0)
