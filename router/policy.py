"""The routing part of a policy: model aliases, protection rules, cost rules and the default.

`policies/` reads YAML into a subclass of `RoutingPolicy` (adding tenants, PII operators, …);
`router.decide()` only needs what is defined here. Cross-reference checks live here too, so a
`RoutingPolicy` that exists is one `decide()` can trust:

* every target and fallback names a configured model alias, of the tier its action implies;
* `protect` rules run before anything else and can only keep local, redact or block;
* a rule that sends text to the cloud *unredacted* must require `pii_present: false`, so no
  rule order can ship detected PII raw;
* a protection rule that keeps traffic local has only local fallbacks.

Cross-reference errors are `PolicyValueError`s: they carry the `loc` of the offending value
(e.g. ``("route", 2, "fallbacks", 0)``) so a loader can point at its line and column.
"""

from __future__ import annotations

from typing import Literal, Self, TypeAlias

from pydantic import BaseModel, ConfigDict, Field, model_validator

from kernel.backends import BACKEND_KINDS
from kernel.types import Tier

Action = Literal["local", "cloud", "cloud_redacted", "block"]
CLOUD_ACTIONS: frozenset[str] = frozenset({"cloud", "cloud_redacted"})
Loc: TypeAlias = tuple[str | int, ...]


class PolicyValueError(ValueError):
    """A policy error located at `loc`, a path of keys and list indices from the document root."""

    def __init__(self, loc: Loc, message: str) -> None:
        super().__init__(message)
        self.loc = loc


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelTarget(_Strict):
    """A model alias clients may name, and where it runs."""

    tier: Tier
    backend: str = Field(
        description="llamacpp (in-process, local), litellm (cloud, any provider) or "
        "openai_compat (any OpenAI-compatible server, local or cloud, without litellm).",
        json_schema_extra={"enum": list(BACKEND_KINDS)},
    )
    model: str = Field(description="Model id for the backend (a litellm model string for cloud).")
    api_base: str | None = Field(default=None, description="Base URL for HTTP backends.")
    api_key_env: str | None = Field(
        default=None, description="Name of the environment variable holding the API key."
    )
    timeout_s: float = Field(default=60.0, gt=0, description="Per-request timeout in seconds.")
    path: str | None = Field(default=None, description="GGUF file for llamacpp (default: SmolLM2).")
    input_cost_per_token: float | None = Field(
        default=None, ge=0, description="Price override in USD; default from litellm.model_cost."
    )
    output_cost_per_token: float | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _backend_fits_tier(self) -> Self:
        if self.backend not in BACKEND_KINDS:
            known = ", ".join(BACKEND_KINDS)
            raise PolicyValueError(
                ("backend",), f"unknown backend '{self.backend}' (known: {known})"
            )
        wanted = BACKEND_KINDS[self.backend]
        if wanted is not None and self.tier != wanted:
            raise ValueError(f"backend '{self.backend}' serves the {wanted} tier, not {self.tier}")
        return self


class Condition(_Strict):
    """All given clauses must hold (AND). An empty condition always matches."""

    difficulty_gte: float | None = Field(default=None, ge=0, le=1)
    difficulty_lt: float | None = Field(default=None, ge=0, le=1)
    sensitivity_gte: float | None = Field(default=None, ge=0, le=1)
    sensitivity_lt: float | None = Field(default=None, ge=0, le=1)
    pii_any: list[str] | None = Field(
        default=None,
        min_length=1,
        description="Matches when any of these PII entity types was found.",
    )
    pii_present: bool | None = Field(
        default=None, description="true: some configured PII was found; false: none was."
    )
    prompt_tokens_gte: int | None = Field(default=None, ge=0)
    prompt_tokens_lt: int | None = Field(default=None, ge=0)
    tenants: list[str] | None = Field(default=None, min_length=1)
    apps: list[str] | None = Field(default=None, min_length=1)
    models: list[str] | None = Field(
        default=None, min_length=1, description="Requested model names (aliases or 'auto')."
    )
    needs_cloud_features: bool | None = Field(
        default=None, description="true when the request has tools or non-text content."
    )

    @model_validator(mode="after")
    def _ranges_can_match(self) -> Self:
        for low, high in (
            ("difficulty_gte", "difficulty_lt"),
            ("sensitivity_gte", "sensitivity_lt"),
            ("prompt_tokens_gte", "prompt_tokens_lt"),
        ):
            low_value, high_value = getattr(self, low), getattr(self, high)
            if low_value is not None and high_value is not None and low_value >= high_value:
                raise PolicyValueError(
                    (high,),
                    f"{low} ({low_value}) must be below {high} ({high_value}), "
                    "or the rule can never match",
                )
        return self


class Escalation(_Strict):
    """Answer locally, and ask the cloud instead when the local answer's own confidence is low.

    Confidence is the geometric mean of the local model's token probabilities for its answer
    (llama.cpp logprobs). Never for protected traffic: a protect rule cannot escalate, and
    `decide()` drops the escalation whenever the PII facts withhold the cloud. A stream is
    judged on its first `hold_back_tokens` tokens, held back from the client meanwhile: its
    first byte waits for that window (or for the cloud's first chunk when it escalates).
    """

    min_confidence: float = Field(
        gt=0, lt=1, description="Escalate when the local answer's confidence is below this."
    )
    to: str | None = Field(
        default=None, description="Cloud alias to escalate to (default: the first cloud fallback)."
    )
    hold_back_tokens: int = Field(
        default=16,
        ge=1,
        le=256,
        description="Streams: tokens held back from the client and judged before it sees any.",
    )


class Rule(_Strict):
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.:-]+$")
    description: str | None = None
    when: Condition = Field(default_factory=Condition)
    action: Action
    target: str | None = Field(default=None, description="Model alias; not used by block.")
    fallbacks: list[str] = Field(default_factory=list)
    message: str | None = Field(default=None, description="Shown to the client on block.")
    escalate: Escalation | None = Field(
        default=None, description="local only: escalate low-confidence answers to the cloud."
    )


class DefaultRoute(_Strict):
    action: Literal["local", "cloud_redacted"] = "local"
    target: str
    fallbacks: list[str] = Field(default_factory=list)
    escalate: Escalation | None = None


class RoutingPolicy(BaseModel):
    """Everything `router.decide()` reads. Validated on construction; immutable after."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    models: dict[str, ModelTarget] = Field(min_length=1)
    protect: list[Rule] = Field(default_factory=list)
    route: list[Rule] = Field(default_factory=list)
    default: DefaultRoute
    allow_pinning: bool = Field(
        default=True, description="Let clients pin an alias with `model` (after protect rules)."
    )
    soft_budget_target: str | None = Field(
        default=None, description="Local alias used when a soft budget forces traffic local."
    )

    @model_validator(mode="after")
    def _check_references(self) -> Self:
        names: set[str] = set()
        for stage, rules in (("protect", self.protect), ("route", self.route)):
            for index, rule in enumerate(rules):
                if rule.name in names:
                    raise PolicyValueError(
                        (stage, index, "name"),
                        f"duplicate rule name '{rule.name}' (names are unique across protect "
                        "and route)",
                    )
                names.add(rule.name)
                self._check_rule((stage, index), rule)
        self._check_target(
            ("default", "target"), "default", self.default.action, self.default.target
        )
        for index, alias in enumerate(self.default.fallbacks):
            self._require_alias(("default", "fallbacks", index), "default", alias)
        self._check_escalation(("default",), "default", self.default.action, self.default)
        if self.soft_budget_target is not None:
            self._check_target(
                ("soft_budget_target",), "soft_budget_target", "local", self.soft_budget_target
            )
        return self

    def _check_rule(self, loc: Loc, rule: Rule) -> None:
        where = f"rule '{rule.name}'"
        protect = loc[0] == "protect"
        if protect and rule.action == "cloud":
            raise PolicyValueError(
                (*loc, "action"),
                f"{where}: a protect rule cannot send raw text to the cloud; "
                "use local, cloud_redacted or block",
            )
        if rule.action == "cloud" and rule.when.pii_present is not False:
            raise PolicyValueError(
                (*loc, "action"),
                f"{where}: action 'cloud' sends text unredacted, so the rule must require "
                "`pii_present: false` (or use action 'cloud_redacted')",
            )
        if rule.action == "block":
            if rule.target is not None or rule.fallbacks:
                key = "target" if rule.target is not None else "fallbacks"
                raise PolicyValueError(
                    (*loc, key), f"{where}: a block rule takes no target or fallbacks"
                )
            return
        if rule.target is None:
            raise PolicyValueError(
                (*loc, "action"), f"{where}: action '{rule.action}' needs a target model alias"
            )
        if protect and rule.escalate is not None:
            raise PolicyValueError(
                (*loc, "escalate"), f"{where}: protected traffic never escalates to the cloud"
            )
        self._check_escalation(loc, where, rule.action, rule)
        self._check_target((*loc, "target"), where, rule.action, rule.target)
        for index, alias in enumerate(rule.fallbacks):
            fallback = self._require_alias((*loc, "fallbacks", index), where, alias)
            if protect and rule.action == "local" and fallback.tier != "local":
                raise PolicyValueError(
                    (*loc, "fallbacks", index),
                    f"{where}: keeps traffic local, so its fallback '{alias}' must be local too",
                )

    def _check_escalation(
        self, loc: Loc, where: str, action: str, rule: Rule | DefaultRoute
    ) -> None:
        if rule.escalate is None:
            return
        if action != "local":
            raise PolicyValueError(
                (*loc, "escalate"), f"{where}: only a local action can escalate to the cloud"
            )
        if rule.escalate.to is not None:
            self._check_target((*loc, "escalate", "to"), where, "cloud_redacted", rule.escalate.to)
        elif not any(self.models[a].tier == "cloud" for a in rule.fallbacks if a in self.models):
            raise PolicyValueError(
                (*loc, "escalate"),
                f"{where}: escalate needs `to` (a cloud alias) or a cloud fallback",
            )

    def escalation_alias(self, rule: Rule | DefaultRoute) -> str | None:
        """The cloud alias `rule` escalates to, if it escalates."""
        if rule.escalate is None:
            return None
        if rule.escalate.to is not None:
            return rule.escalate.to
        return next(a for a in rule.fallbacks if self.models[a].tier == "cloud")

    def _check_target(self, loc: Loc, where: str, action: str, alias: str) -> None:
        target = self._require_alias(loc, where, alias)
        wanted = "cloud" if action in CLOUD_ACTIONS else "local"
        if target.tier != wanted:
            raise PolicyValueError(
                loc,
                f"{where}: action '{action}' needs a {wanted} model, "
                f"but '{alias}' is {target.tier}",
            )

    def _require_alias(self, loc: Loc, where: str, alias: str) -> ModelTarget:
        if alias not in self.models:
            known = ", ".join(sorted(self.models))
            raise PolicyValueError(loc, f"{where}: unknown model alias '{alias}' (known: {known})")
        return self.models[alias]
