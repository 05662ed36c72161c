"""What a request cost, and what it would have cost on the policy's reference cloud model.

Definitions (DESIGN.md §6, docs/ledger.md):

* cloud cost = litellm's `model_cost` price (or the policy's override) × the request's tokens;
* local cost, one of three modes, fixed at start-up and written on every record:
  ``local-zero`` (default: 0 marginal cost), ``local-per-token`` (a USD rate per 1M tokens), or
  ``local-per-hour`` (a USD hourly hardware rate amortised over throughput, tokens per second,
  configured or measured over the last local requests);
* counterfactual = the reference cloud model's price × the same prompt tokens and the completion
  tokens actually produced;
* baseline = the price, for the same tokens, of the cloud model the policy would otherwise have
  used for this request (`baseline_alias`). It splits savings in two parts that sum to the total:
  *local serving* = baseline − actual, *cloud model choice* = counterfactual − baseline.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from cloud_backends.pricing import TokenPrice, cloud_price
from kernel.types import Usage
from policies.schema import PolicyDocument
from router.decision import RouteDecision, Target
from router.policy import ModelTarget

_THROUGHPUT_WINDOW = 200  # local requests the measured throughput is averaged over


@dataclass(frozen=True, slots=True)
class Prices:
    cost: float
    counterfactual: float
    source: str | None  # how `cost` was priced: litellm, policy, local-zero, local-per-…
    baseline: float = 0.0  # the same tokens on the baseline cloud model


def policy_baseline(policy: PolicyDocument) -> str:
    """The policy's all-cloud baseline alias: `baseline_model` if set, else the default route's
    first cloud alias (its target or a fallback), else the reference model."""
    if policy.baseline_model is not None:
        return policy.baseline_model
    for alias in (policy.default.target, *policy.default.fallbacks):
        if policy.models[alias].tier == "cloud":
            return alias
    return policy.reference_model


def baseline_alias(policy: PolicyDocument, decision: RouteDecision, served: Target | None) -> str:
    """The cloud alias this request would have used had it not been served without the cloud.

    A cloud answer's baseline is the model that served it. Otherwise it is the decision's first
    cloud candidate (target, fallbacks, then candidates the PII facts withheld), else the
    policy's baseline (`policy_baseline`).
    """
    if served is not None and served.tier == "cloud":
        return served.alias
    for target in (*decision.candidates(), *decision.withheld):
        if target.tier == "cloud":
            return target.alias
    return policy_baseline(policy)


class Accountant:
    """Prices usage for the ledger. See the module docstring for the local-cost modes."""

    def __init__(
        self,
        local_cost_per_million_tokens: float = 0.0,
        *,
        local_cost_per_hour: float = 0.0,
        local_tokens_per_second: float | None = None,
    ) -> None:
        if local_cost_per_million_tokens and local_cost_per_hour:
            raise ValueError("set a local cost per 1M tokens or per hour, not both")
        self._hourly = local_cost_per_hour
        self._fixed_tps = local_tokens_per_second
        self._measured: deque[tuple[int, float]] = deque(maxlen=_THROUGHPUT_WINDOW)
        rate = local_cost_per_million_tokens / 1_000_000
        self.local_mode = (
            "local-per-hour"
            if local_cost_per_hour
            else "local-per-token"
            if local_cost_per_million_tokens
            else "local-zero"
        )
        self._local = TokenPrice(rate, rate, self.local_mode)
        self._cache: dict[ModelTarget, TokenPrice] = {}

    def price(
        self,
        policy: PolicyDocument,
        target: Target | None,
        usage: Usage,
        *,
        latency_ms: float = 0.0,
        baseline: str | None = None,
    ) -> Prices:
        """Cost, counterfactual and baseline cost of one request.

        Without a target the answer came from the response cache (it costs nothing, and the
        counterfactual is what the reference model would have charged) or nothing answered
        (no tokens, so all are 0). `baseline` is the alias from `baseline_alias` (default: the
        policy's); a cloud answer's baseline cost is its own cost.
        """
        prompt, completion = usage.prompt_tokens, usage.completion_tokens
        counterfactual = self._price_of(policy, policy.reference_model).cost(prompt, completion)
        alias = baseline or policy_baseline(policy)
        baseline_cost = self._price_of(policy, alias).cost(prompt, completion)
        if target is None:
            source = "cache" if counterfactual else None
            return Prices(0.0, counterfactual, source, baseline_cost)
        price = self._price_of(policy, target.alias)
        if price.source == "local-per-hour":
            price = self._hourly_price(prompt + completion, latency_ms)
        cost = price.cost(prompt, completion)
        if target.tier == "cloud":
            baseline_cost = cost
        return Prices(cost, counterfactual, price.source, baseline_cost)

    def reference_price(self, policy: PolicyDocument) -> TokenPrice:
        """The per-token price of the policy's reference cloud model."""
        return self._price_of(policy, policy.reference_model)

    def _hourly_price(self, tokens: int, latency_ms: float) -> TokenPrice:
        """Hourly rate ÷ tokens per hour, at the configured or the measured throughput."""
        if tokens > 0 and latency_ms > 0:
            self._measured.append((tokens, latency_ms / 1000))
        tps = self._fixed_tps or self._measured_tps()
        per_token = self._hourly / 3600 / tps if tps else 0.0
        return TokenPrice(per_token, per_token, "local-per-hour")

    def _measured_tps(self) -> float | None:
        seconds = sum(s for _, s in self._measured)
        return sum(t for t, _ in self._measured) / seconds if seconds else None

    def _price_of(self, policy: PolicyDocument, alias: str) -> TokenPrice:
        spec = policy.models[alias]
        if spec not in self._cache:
            self._cache[spec] = self._local if spec.tier == "local" else cloud_price(spec)
        return self._cache[spec]
