"""Which embedding alias serves a batch: pure, from the policy's `embeddings` section.

The privacy rule is not a policy option: a batch any of whose texts is sensitive (classifier
score >= `sensitive_at`), holds a PII type the policy lists, or could not be fully scanned never
goes to a cloud alias — redacting it would change what the vector means. It goes to
`local_target` when the policy names one, else it is refused. Over the soft budget a cloud
alias is likewise replaced by `local_target`, or the request refused with 429.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from kernel.errors import BudgetExceeded, InvalidRequest, ModelNotFound, PolicyBlocked
from policies.embeddings import EmbeddingModel, EmbeddingsConfig
from router.decision import AUTO_MODEL

LOCAL_DIMENSIONS = 384


@dataclass(frozen=True, slots=True)
class Screening:
    """What the classifier and the PII scan said about a batch (types and counts, never text)."""

    sensitive: bool
    pii_counts: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        scores: Iterable[float],
        pii: Iterable[Mapping[str, int]],
        threshold: float,
        *,
        unscanned: bool = False,
    ) -> Screening:
        counts: dict[str, int] = {}
        for found in pii:
            for kind, n in found.items():
                counts[kind] = counts.get(kind, 0) + n
        sensitive = unscanned or bool(counts) or any(s >= threshold for s in scores)
        return cls(sensitive, counts)


NOT_SCREENED = Screening(sensitive=False)


@dataclass(frozen=True, slots=True)
class EmbeddingRoute:
    alias: str
    spec: EmbeddingModel
    rule: str  # embeddings:default | embeddings:pinned | embeddings:sensitive-local


def requested_route(config: EmbeddingsConfig, model: str) -> EmbeddingRoute:
    """The alias the client asked for (`auto` → the default), before screening."""
    alias = config.default if model == AUTO_MODEL else model
    spec = config.models.get(alias)
    if spec is None:
        known = ", ".join([AUTO_MODEL, *sorted(config.models)])
        raise ModelNotFound(
            f"The embedding model '{model}' does not exist (known: {known}).", param="model"
        )
    rule = "embeddings:default" if model == AUTO_MODEL else "embeddings:pinned"
    return EmbeddingRoute(alias, spec, rule)


def budget_route(
    config: EmbeddingsConfig, route: EmbeddingRoute, over_soft_budget: bool
) -> EmbeddingRoute:
    """`route`, unless it is a cloud alias and the caller is over its soft budget (local only)."""
    if route.spec.tier != "cloud" or not over_soft_budget:
        return route
    if config.local_target is not None:
        spec = config.models[config.local_target]
        return EmbeddingRoute(config.local_target, spec, "embeddings:soft-budget-local")
    raise BudgetExceeded(
        "Over the soft budget: cloud embedding models are paused and the policy names no local "
        "embedding model (embeddings.local_target).",
        retry_after=3600,
    )


def screened_route(
    config: EmbeddingsConfig, route: EmbeddingRoute, screening: Screening
) -> EmbeddingRoute:
    """`route`, unless it is a cloud alias and the batch is sensitive (see the module doc)."""
    if route.spec.tier != "cloud" or not screening.sensitive:
        return route
    if config.local_target is not None:
        spec = config.models[config.local_target]
        return EmbeddingRoute(config.local_target, spec, "embeddings:sensitive-local")
    raise PolicyBlocked(
        "This input is classified sensitive or contains personal data, so it is never sent to a "
        "cloud embedding model (redacting it would change the vector's meaning); use a local "
        "embedding model."
    )


def check_dimensions(route: EmbeddingRoute, dimensions: int | None) -> int | None:
    """The `dimensions` to pass on: None for the local encoder (fixed 384), else a listed one."""
    if dimensions is None:
        return None
    if route.spec.backend == "onnx":
        if dimensions != LOCAL_DIMENSIONS:
            raise InvalidRequest(
                f"The embedding model '{route.alias}' has {LOCAL_DIMENSIONS} dimensions and "
                "cannot shorten them.",
                param="dimensions",
            )
        return None
    if dimensions not in (route.spec.dimensions or []):
        allowed = ", ".join(str(d) for d in route.spec.dimensions or []) or "none"
        raise InvalidRequest(
            f"The embedding model '{route.alias}' does not offer {dimensions} dimensions "
            f"(allowed: {allowed}).",
            param="dimensions",
        )
    return dimensions
