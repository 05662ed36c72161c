"""`decide()`: the pure routing rule. No I/O, no clock, no logging; a table of cases tests it.

Order, fixed by design (a golden test pins it):

1. ``protect`` rules (sensitivity, PII, tenant): the first match wins and nothing overrides it;
2. a pinned model alias (``model`` is not ``auto``), if the policy allows pinning;
3. ``route`` rules (difficulty, size, app …), first match wins;
4. the policy's ``default``.

A soft budget then turns a cloud choice from steps 2–4 into the local model.

`decide()` is the only authority on where text may go. The PII facts it needs are `Features`,
computed before it runs (the scan, model part included, is finished first): PII types found, types
the policy blocks from the cloud, and types that could not be checked. When either of the last two
is non-empty, every cloud candidate is withheld — the target and the fallbacks alike. A decision
left with no candidate is a block, and so is one whose first choice was a cloud model when a
`block`-operator type was found (the operator refuses the request rather than reroute it).
Whenever PII was found, every cloud hop is redacted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from kernel.errors import ModelNotFound
from kernel.types import Tier
from router.policy import CLOUD_ACTIONS, Action, Condition, DefaultRoute, RoutingPolicy, Rule

AUTO_MODEL = "auto"


@dataclass(frozen=True, slots=True)
class Features:
    """What the router knows about one request. Built by the pipeline; never holds raw text."""

    difficulty: float = 0.0
    sensitivity: float = 0.0
    pii_types: frozenset[str] = frozenset()
    prompt_tokens: int = 0
    tenant: str = "default"
    app: str = "default"
    requested_model: str = AUTO_MODEL
    needs_cloud_features: bool = False
    over_soft_budget: bool = False
    pii_blocked: frozenset[str] = frozenset()  # found, and the policy's operator is `block`
    pii_unscanned: frozenset[str] = frozenset()  # protected, but no detector could check them

    def scores(self) -> dict[str, float]:
        return {"difficulty": self.difficulty, "sensitivity": self.sensitivity}


@dataclass(frozen=True, slots=True)
class Target:
    """A concrete place to run the request: a model alias and its backend."""

    alias: str
    tier: Tier
    backend: str
    model: str


@dataclass(frozen=True, slots=True)
class EscalationPlan:
    """Serve locally; if the answer's confidence is below `min_confidence`, ask `target`.

    A stream is judged on its first `hold_back_tokens` tokens, held back until then.
    """

    target: Target
    min_confidence: float
    hold_back_tokens: int


@dataclass(frozen=True, slots=True)
class RouteDecision:
    """Where a request goes and why. `explain` prints exactly this."""

    action: Action
    rule: str
    reason: str
    target: Target | None
    fallbacks: tuple[Target, ...] = ()
    redact: bool = False
    scores: Mapping[str, float] = field(default_factory=dict)
    message: str | None = None
    withheld: tuple[Target, ...] = ()  # cloud candidates the PII facts took out
    withheld_reason: str | None = None
    escalation: EscalationPlan | None = None

    def cloud_hops(self) -> tuple[Target, ...]:
        """Every cloud target this decision may send text to (candidates and escalation)."""
        hops = tuple(t for t in self.candidates() if t.tier == "cloud")
        if self.escalation is not None and self.escalation.target not in hops:
            hops += (self.escalation.target,)
        return hops

    @property
    def blocked(self) -> bool:
        return self.action == "block"

    def candidates(self) -> tuple[Target, ...]:
        """The target, then the fallbacks, in the order the pipeline tries them."""
        return ((self.target,) if self.target else ()) + self.fallbacks


def decide(features: Features, policy: RoutingPolicy) -> RouteDecision:
    """Apply `policy` to `features`. Raises `ModelNotFound` for an unknown pinned alias."""
    if features.requested_model != AUTO_MODEL and features.requested_model not in policy.models:
        raise ModelNotFound(f"The model '{features.requested_model}' does not exist", param="model")
    return _withhold_cloud(_route(features, policy), features)


def _route(features: Features, policy: RoutingPolicy) -> RouteDecision:
    for rule in policy.protect:
        if matches(rule.when, features):
            return _from_rule(policy, features, rule)
    decision = _cost_decision(features, policy)
    if features.over_soft_budget and decision.action in CLOUD_ACTIONS:
        local = policy.soft_budget_target or _first_local_alias(policy)
        if local is not None:
            return _decision(
                policy,
                features,
                "local",
                "budget:soft-limit",
                local,
                [],
                "the tenant or app is over its soft budget",
                None,
            )
    return decision


def _withhold_cloud(decision: RouteDecision, features: Features) -> RouteDecision:
    """Take every cloud candidate out when the PII facts forbid the cloud; block if none is left."""
    reason = withhold_reason(features)
    cloud = decision.cloud_hops()
    if reason is None or not cloud:
        return decision
    local = [t for t in decision.candidates() if t.tier == "local"]
    refused = (
        features.pii_blocked and decision.target is not None and decision.target.tier == "cloud"
    )
    if refused or not local:  # a `block` type refuses a request meant for the cloud outright
        message = f"This request cannot be sent to the cloud: {reason}."
        return replace(
            decision,
            action="block",
            target=None,
            fallbacks=(),
            message=message,
            withheld=cloud,
            withheld_reason=reason,
            escalation=None,
        )
    return replace(
        decision,
        target=local[0],
        fallbacks=tuple(local[1:]),
        withheld=cloud,
        withheld_reason=reason,
        escalation=None,
    )


def withhold_reason(features: Features) -> str | None:
    """Why no cloud hop is allowed for `features`, or None when the cloud may see redacted text."""
    reasons = []
    if features.pii_blocked:
        reasons.append(f"it contains {', '.join(sorted(features.pii_blocked))}")
    if features.pii_unscanned:
        reasons.append(
            f"{', '.join(sorted(features.pii_unscanned))} could not be checked "
            "(the PII model is not loaded)"
        )
    return "; ".join(reasons) or None


def _cost_decision(features: Features, policy: RoutingPolicy) -> RouteDecision:
    if features.requested_model != AUTO_MODEL and policy.allow_pinning:
        alias = features.requested_model
        tier = policy.models[alias].tier
        action: Action = "local" if tier == "local" else "cloud_redacted"
        return _decision(
            policy,
            features,
            action,
            f"pinned:{alias}",
            alias,
            list(policy.default.fallbacks),
            f"the client asked for '{alias}'",
            None,
        )
    for rule in policy.route:
        if matches(rule.when, features):
            return _from_rule(policy, features, rule)
    default = policy.default
    decision = _decision(
        policy,
        features,
        default.action,
        "default",
        default.target,
        default.fallbacks,
        "no rule matched",
        None,
    )
    return _with_escalation(policy, decision, default)


def _from_rule(policy: RoutingPolicy, features: Features, rule: Rule) -> RouteDecision:
    decision = _decision(
        policy,
        features,
        rule.action,
        rule.name,
        rule.target,
        rule.fallbacks,
        _why(rule.when, features),
        rule.message,
    )
    return _with_escalation(policy, decision, rule)


def _with_escalation(
    policy: RoutingPolicy, decision: RouteDecision, rule: Rule | DefaultRoute
) -> RouteDecision:
    alias = policy.escalation_alias(rule)
    if alias is None or rule.escalate is None:
        return decision
    escalate = rule.escalate
    plan = EscalationPlan(
        _target(policy, alias), escalate.min_confidence, escalate.hold_back_tokens
    )
    return replace(decision, escalation=plan, redact=True)


def _decision(
    policy: RoutingPolicy,
    features: Features,
    action: Action,
    rule: str,
    target_alias: str | None,
    fallback_aliases: list[str],
    reason: str,
    message: str | None,
) -> RouteDecision:
    if action == "block":
        return RouteDecision(
            action,
            rule,
            reason,
            None,
            (),
            False,
            features.scores(),
            message or "This request is blocked by policy.",
        )
    assert target_alias is not None  # guaranteed by RoutingPolicy validation
    target = _target(policy, target_alias)
    fallbacks = tuple(_target(policy, a) for a in fallback_aliases if a != target_alias)
    redact = action == "cloud_redacted" or bool(features.pii_types)
    return RouteDecision(
        action, rule, reason, target, fallbacks, redact, features.scores(), message
    )


def _target(policy: RoutingPolicy, alias: str) -> Target:
    spec = policy.models[alias]
    return Target(alias=alias, tier=spec.tier, backend=spec.backend, model=spec.model)


def _first_local_alias(policy: RoutingPolicy) -> str | None:
    return next((a for a, m in policy.models.items() if m.tier == "local"), None)


def matches(cond: Condition, f: Features) -> bool:
    """True when every clause of `cond` holds for `f`."""
    checks = (
        cond.difficulty_gte is None or f.difficulty >= cond.difficulty_gte,
        cond.difficulty_lt is None or f.difficulty < cond.difficulty_lt,
        cond.sensitivity_gte is None or f.sensitivity >= cond.sensitivity_gte,
        cond.sensitivity_lt is None or f.sensitivity < cond.sensitivity_lt,
        cond.pii_any is None or bool(f.pii_types.intersection(cond.pii_any)),
        cond.pii_present is None or cond.pii_present == bool(f.pii_types),
        cond.prompt_tokens_gte is None or f.prompt_tokens >= cond.prompt_tokens_gte,
        cond.prompt_tokens_lt is None or f.prompt_tokens < cond.prompt_tokens_lt,
        cond.tenants is None or f.tenant in cond.tenants,
        cond.apps is None or f.app in cond.apps,
        cond.models is None or f.requested_model in cond.models,
        cond.needs_cloud_features is None or cond.needs_cloud_features == f.needs_cloud_features,
    )
    return all(checks)


def _why(cond: Condition, f: Features) -> str:
    """Human reasons a matching condition held, e.g. 'difficulty 0.72 >= 0.60'."""
    parts: list[str] = []
    if cond.difficulty_gte is not None:
        parts.append(f"difficulty {f.difficulty:.2f} >= {cond.difficulty_gte:.2f}")
    if cond.difficulty_lt is not None:
        parts.append(f"difficulty {f.difficulty:.2f} < {cond.difficulty_lt:.2f}")
    if cond.sensitivity_gte is not None:
        parts.append(f"sensitivity {f.sensitivity:.2f} >= {cond.sensitivity_gte:.2f}")
    if cond.sensitivity_lt is not None:
        parts.append(f"sensitivity {f.sensitivity:.2f} < {cond.sensitivity_lt:.2f}")
    if cond.pii_any is not None:
        found = sorted(f.pii_types.intersection(cond.pii_any))
        parts.append(f"PII found: {', '.join(found)}")
    if cond.pii_present is not None:
        parts.append("PII found" if cond.pii_present else "no PII found")
    if cond.prompt_tokens_gte is not None:
        parts.append(f"prompt tokens {f.prompt_tokens} >= {cond.prompt_tokens_gte}")
    if cond.prompt_tokens_lt is not None:
        parts.append(f"prompt tokens {f.prompt_tokens} < {cond.prompt_tokens_lt}")
    if cond.tenants is not None:
        parts.append(f"tenant '{f.tenant}'")
    if cond.apps is not None:
        parts.append(f"app '{f.app}'")
    if cond.models is not None:
        parts.append(f"model '{f.requested_model}'")
    if cond.needs_cloud_features is not None:
        parts.append("tools or non-text content" if f.needs_cloud_features else "text only")
    return "; ".join(parts) or "always"
