"""The seams of the gateway: one small Protocol each, implemented by real code and by fakes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

from kernel.reporting import GroupBy, ReportRow
from kernel.types import ChatChunk, ChatRequest, ChatResponse, Tier


@dataclass(frozen=True, slots=True)
class BackendStatus:
    """Can a backend serve now, and if not, why (shown by /readyz, /v1/models and 503s)."""

    ready: bool
    reason: str | None = None
    queue_depth: int = 0
    starting: bool = False  # not ready only because its first start has not finished


@runtime_checkable
class Backend(Protocol):
    """Something that answers chat requests: a local model or a cloud provider.

    Lifecycle: `start()` acquires what the backend needs (loads a model; idempotent, never
    raises: a failure shows in `status()`), `status()` is cheap and synchronous, `aclose()`
    releases. `ignored_params` names the request parameters the client set that this backend
    does not honour for `model` (the edge reports them in `x-hybridgw-ignored-params`).
    """

    name: str

    async def start(self) -> None: ...

    def status(self) -> BackendStatus: ...

    def ignored_params(self, req: ChatRequest, *, model: str) -> frozenset[str]: ...

    async def complete(self, req: ChatRequest, *, model: str) -> ChatResponse: ...

    def stream(self, req: ChatRequest, *, model: str) -> AsyncIterator[ChatChunk]: ...

    async def aclose(self) -> None: ...


class Classifier(Protocol):
    """Scores a prompt. Returns probabilities in [0, 1] keyed `difficulty` and `sensitivity`."""

    def score(self, text: str) -> Mapping[str, float]: ...


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One answered (or failed) request, for cost and latency accounting. Never holds text."""

    request_id: str
    timestamp: datetime
    tenant: str
    app: str
    policy_version: str
    rule: str
    tier: Tier | None
    backend: str | None
    model: str | None
    status: int
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    counterfactual_cost_usd: float = 0.0
    latency_ms: float = 0.0
    ttft_ms: float | None = None
    fallback_used: bool = False
    pii_counts: Mapping[str, int] = field(default_factory=dict)
    cache_hit: bool = False
    error_code: str | None = None
    pii_redacted: bool = False
    reference_model: str | None = None
    price_source: str | None = None
    # The cloud alias this request would otherwise have used, and its price for the same tokens
    # (None on rows recorded before the savings split existed): see docs/ledger.md.
    baseline_model: str | None = None
    baseline_cost_usd: float | None = None
    # The decision inputs (`router.Features`), for replaying policies; `difficulty is None` on
    # rows recorded before they were kept. Types and numbers only, never text.
    difficulty: float | None = None
    sensitivity: float | None = None
    pii_types: tuple[str, ...] = ()
    pii_blocked: tuple[str, ...] = ()
    pii_unscanned: tuple[str, ...] = ()
    requested_model: str | None = None
    routed_prompt_tokens: int | None = None  # the router's prompt estimate (`prompt_tokens_gte`)
    needs_cloud_features: bool = False
    over_soft_budget: bool = False
    origin: str = "live"  # "demo" for rows written by `hybridgw demo`


class Ledger(Protocol):
    """Where request records go. `record` must not slow the request path."""

    async def record(self, entry: LedgerEntry) -> None: ...

    async def summarize(
        self,
        *,
        since: datetime,
        until: datetime,
        group_by: GroupBy,
        tenant: str | None = None,
    ) -> list[ReportRow]:
        """Rows per group of records with `since <= timestamp < until`, then one total row."""
        ...

    async def aclose(self) -> None: ...
