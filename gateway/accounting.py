"""What a request cost, and what it would have cost on the policy's reference cloud model."""

from __future__ import annotations

from dataclasses import dataclass

from cloud_backends.pricing import TokenPrice, cloud_price
from policies.schema import PolicyDocument
from router.decision import Target
from router.policy import ModelTarget
from router.types import Usage


@dataclass(frozen=True, slots=True)
class Prices:
    cost: float
    counterfactual: float


class Accountant:
    """Prices usage. Local tokens cost `local_cost_per_million_tokens` (default 0 marginal)."""

    def __init__(self, local_cost_per_million_tokens: float = 0.0) -> None:
        rate = local_cost_per_million_tokens / 1_000_000
        self._local = TokenPrice(rate, rate, "local-rate")
        self._cache: dict[ModelTarget, TokenPrice] = {}

    def price(self, policy: PolicyDocument, target: Target | None, usage: Usage) -> Prices:
        prompt, completion = usage.prompt_tokens, usage.completion_tokens
        reference = self._price_of(policy, policy.reference_model)
        counterfactual = reference.cost(prompt, completion)
        if target is None:
            return Prices(0.0, 0.0)
        return Prices(self._price_of(policy, target.alias).cost(prompt, completion), counterfactual)

    def _price_of(self, policy: PolicyDocument, alias: str) -> TokenPrice:
        spec = policy.models[alias]
        if spec not in self._cache:
            self._cache[spec] = self._local if spec.tier == "local" else cloud_price(spec)
        return self._cache[spec]
