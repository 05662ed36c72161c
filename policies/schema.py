"""The policy file's schema (`version: 1`). Strict: unknown keys are errors, never ignored.

The routing part (models, protect/route rules, default) is `router.policy.RoutingPolicy`; this
document adds what only the gateway needs: who the callers are, which PII to act on and how, and
the reference cloud model for counterfactual costs.

Errors found across fields are `PolicyValueError`s located at the offending key; PII entity types
must be ones `policies.pii` detects (group names like `SECRET` are expanded, see
`policies.entities`).
"""

from __future__ import annotations

from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from policies.embeddings import EmbeddingsConfig
from policies.entities import expand_entity_groups, protected_types, require_known_entity
from policies.limits import BudgetsConfig, CacheConfig, LimitsConfig
from policies.pii.operators import Operator
from router.policy import Loc, PolicyValueError, RoutingPolicy, Rule
from router.profiles import DEFAULT_PROFILE, PROFILES


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


class ShadowConfig(BaseModel):
    """Shadow evaluation: grade a sample of local answers against the cloud reference model.

    Runs in the background after the answer was given; only requests with no PII found, no
    protect rule matched and sensitivity below `max_sensitivity` are sampled.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    sample_rate: float = Field(ge=0, le=1, description="Share of eligible local answers graded.")
    reference: str | None = Field(
        default=None, description="Cloud alias asked the same request (default: reference_model)."
    )
    daily_budget_usd: float = Field(
        gt=0, description="Cap on shadow spend (reference + judge calls) per UTC day, per replica."
    )
    judge: Literal["model", "exact_match"] = Field(
        default="model",
        description="model: the reference model grades with a fixed rubric; exact_match: both "
        "answers are compared with the gold answer the app sends (metadata.gold_answer).",
    )
    max_sensitivity: float = Field(default=0.5, ge=0, le=1)
    max_concurrency: int = Field(default=2, ge=1, le=16, description="Gradings in flight at once.")


class PolicyDocument(RoutingPolicy):
    """A whole policy file."""

    version: Literal[1]
    description: str | None = None
    reference_model: str = Field(
        description="Cloud alias whose price defines the counterfactual cost of every request."
    )
    baseline_model: str | None = Field(
        default=None,
        description="Cloud alias a request served locally would otherwise have used when its "
        "decision names no cloud candidate (splits savings into local serving and cloud model "
        "choice). Default: the default route's first cloud alias, else reference_model.",
    )
    shadow: ShadowConfig | None = Field(
        default=None, description="Shadow evaluation of local answers (off when absent)."
    )
    router_profile: str = Field(
        default=DEFAULT_PROFILE,
        description="Local-model profile whose difficulty score routes requests "
        f"(scores['difficulty@<profile>']); one of: {', '.join(PROFILES)}.",
    )
    apps: list[AppKey] = Field(default_factory=list)
    pii: PiiConfig = Field(default_factory=PiiConfig)
    limits: LimitsConfig = Field(default_factory=LimitsConfig)
    budgets: BudgetsConfig = Field(default_factory=BudgetsConfig)
    cache: CacheConfig = Field(default_factory=CacheConfig)
    embeddings: EmbeddingsConfig = Field(default_factory=EmbeddingsConfig)

    @model_validator(mode="before")
    @classmethod
    def _expand_entity_groups(cls, data: Any) -> Any:
        return expand_entity_groups(data)

    @model_validator(mode="after")
    def _check_document(self) -> Self:
        if self.router_profile not in PROFILES:
            known = ", ".join(PROFILES)
            raise PolicyValueError(
                ("router_profile",),
                f"unknown router_profile '{self.router_profile}' (shipped: {known})",
            )
        ref = self.models.get(self.reference_model)
        if ref is None or ref.tier != "cloud":
            raise PolicyValueError(
                ("reference_model",),
                f"reference_model '{self.reference_model}' must be a cloud model alias",
            )
        for loc, alias in (
            (("baseline_model",), self.baseline_model),
            (("shadow", "reference"), self.shadow.reference if self.shadow else None),
        ):
            spec = self.models.get(alias) if alias is not None else None
            if alias is not None and (spec is None or spec.tier != "cloud"):
                raise PolicyValueError(loc, f"{loc[-1]} '{alias}' must be a cloud model alias")
        seen: set[str] = set()
        for index, app in enumerate(self.apps):
            if app.name in seen:
                raise PolicyValueError(("apps", index, "name"), f"duplicate app name '{app.name}'")
            seen.add(app.name)
        for alias in self.embeddings.models:
            if alias in self.models:
                raise PolicyValueError(
                    ("embeddings", "models", alias, "[key]"),
                    f"embedding alias '{alias}' is also a chat model alias; use another name",
                )
        for entity in self.pii.entities:
            require_known_entity(("pii", "entities", entity, "[key]"), entity, default_allowed=True)
        for stage, rules in (("protect", self.protect), ("route", self.route)):
            for index, rule in enumerate(rules):
                self._check_pii_any((stage, index, "when", "pii_any"), rule)
        return self

    def _check_pii_any(self, loc: Loc, rule: Rule) -> None:
        scanned = protected_types(self.pii.entities)
        for entity in rule.when.pii_any or ():
            require_known_entity(loc, entity)
            if entity not in scanned:
                raise PolicyValueError(
                    loc,
                    f"rule '{rule.name}': PII type '{entity}' is not listed in pii.entities, "
                    "so it is never detected and the rule cannot match on it",
                )
