"""The policy file's schema (`version: 1`). Strict: unknown keys are errors, never ignored.

The routing part (models, protect/route rules, default) is `router.policy.RoutingPolicy`; this
document adds what only the gateway needs: who the callers are, which PII to act on and how, and
the reference cloud model for counterfactual costs.
"""

from __future__ import annotations

from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from policies.limits import BudgetsConfig, CacheConfig, LimitsConfig
from router.policy import RoutingPolicy

Operator = Literal["placeholder", "mask", "hash", "block"]


class AppKey(BaseModel):
    """An application allowed to call the gateway, identified by the SHA-256 of its API key."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    tenant: str = Field(min_length=1)
    key_sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="hex SHA-256 of the API key")
    cache: bool = Field(default=False, description="Opt in to the exact-match response cache.")


class PiiConfig(BaseModel):
    """Which PII entity types the gateway detects, and the operator applied before a cloud call."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    entities: dict[str, Operator] = Field(default_factory=dict)
    scan_model: bool = Field(
        default=True,
        description="Run the model-based detector (names, addresses) when a cloud hop is possible.",
    )


class PolicyDocument(RoutingPolicy):
    """A whole policy file."""

    version: Literal[1]
    description: str | None = None
    reference_model: str = Field(
        description="Cloud alias whose price defines the counterfactual cost of every request."
    )
    apps: list[AppKey] = Field(default_factory=list)
    pii: PiiConfig = Field(default_factory=PiiConfig)
    limits: LimitsConfig = Field(default_factory=LimitsConfig)
    budgets: BudgetsConfig = Field(default_factory=BudgetsConfig)
    cache: CacheConfig = Field(default_factory=CacheConfig)

    @model_validator(mode="after")
    def _check_document(self) -> Self:
        ref = self.models.get(self.reference_model)
        if ref is None or ref.tier != "cloud":
            raise ValueError(
                f"reference_model '{self.reference_model}' must be a cloud model alias"
            )
        names = [app.name for app in self.apps]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"duplicate app name(s): {', '.join(duplicates)}")
        return self
