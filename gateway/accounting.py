"""What a request cost, and what it would have cost on the policy's reference cloud model.

Definitions (DESIGN.md §6, docs/ledger.md):

* cloud cost = litellm's `model_cost` price (or the policy's override) × the request's tokens;
* local cost, one of three modes, fixed at start-up and written on every record:
  ``local-zero`` (default: 0 marginal cost), ``local-per-token`` (a USD rate per 1M tokens), or
  ``local-per-hour`` (a USD hourly hardware rate amortised over throughput, tokens per second,
  configured or measured over the last local requests);
* counterfactual = the reference cloud model's price × the same prompt tokens and the completion
  tokens actually produced.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from cloud_backends.pricing import TokenPrice, cloud_price
from kernel.types import Usage
from policies.schema import PolicyDocument
from router.decision import Target
from router.policy import ModelTarget

_THROUGHPUT_WINDOW = 200  # local requests the measured throughput is averaged over


@dataclass(frozen=True, slots=True)
class Prices:
    cost: float
    counterfactual: float
    source: str | None  # how `cost` was priced: litellm, policy, local-zero, local-per-…


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
    ) -> Prices:
        """Cost and counterfactual of one request.

        Without a target the answer came from the response cache (it costs nothing, and the
        counterfactual is what the reference model would have charged) or nothing answered
        (no tokens, so both are 0).
        """
        prompt, completion = usage.prompt_tokens, usage.completion_tokens
        counterfactual = self._price_of(policy, policy.reference_model).cost(prompt, completion)
        if target is None:
            return Prices(0.0, counterfactual, "cache" if counterfactual else None)
        price = self._price_of(policy, target.alias)
        if price.source == "local-per-hour":
            price = self._hourly_price(prompt + completion, latency_ms)
        return Prices(price.cost(prompt, completion), counterfactual, price.source)

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
