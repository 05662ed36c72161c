"""The records one request produces on its way through the pipeline."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from gateway.privacy import Protection
from policies.loader import LoadedPolicy
from policies.pii import RequestFindings
from router.decision import Features, RouteDecision, Target
from kernel.types import ChatChunk


@dataclass(slots=True)
class Route:
    """What served a request; becomes the `x-route-*` headers and part of the ledger entry."""

    request_id: str
    decision: RouteDecision
    policy_version: str
    target: Target | None = None
    fallback_used: bool = False
    cache_hit: bool = False


@dataclass(slots=True)
class Plan:
    """Everything decided about one request before a backend is called."""

    policy: LoadedPolicy
    features: Features
    decision: RouteDecision
    findings: RequestFindings
    protection: Protection
    started: float
    model_scan_pending: bool = False  # names/places not scanned yet (no cloud hop so far)


@dataclass(frozen=True, slots=True)
class Explanation:
    """Steps 1–5 of a request without a backend call: what `explain` reports."""

    policy_version: str
    features: Features
    decision: RouteDecision
    findings: RequestFindings
    cloud_refused: str | None


@dataclass(slots=True)
class Streamed:
    route: Route
    chunks: AsyncIterator[ChatChunk]
