"""Prices per token: litellm's bundled `model_cost` map, overridable per alias in the policy."""

from __future__ import annotations

from dataclasses import dataclass

from cloud_backends.litellm_backend import import_litellm
from router.policy import ModelTarget


@dataclass(frozen=True, slots=True)
class TokenPrice:
    input_per_token: float
    output_per_token: float
    source: str  # "policy", "litellm" or "local-rate"

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        return prompt_tokens * self.input_per_token + completion_tokens * self.output_per_token


def cloud_price(spec: ModelTarget) -> TokenPrice:
    """The alias's price: the policy override if set, else litellm's entry for the model."""
    if spec.input_cost_per_token is not None and spec.output_cost_per_token is not None:
        return TokenPrice(spec.input_cost_per_token, spec.output_cost_per_token, "policy")
    entry = _model_cost_entry(spec.model)
    return TokenPrice(
        spec.input_cost_per_token
        if spec.input_cost_per_token is not None
        else float(entry.get("input_cost_per_token") or 0.0),
        spec.output_cost_per_token
        if spec.output_cost_per_token is not None
        else float(entry.get("output_cost_per_token") or 0.0),
        "litellm",
    )


def _model_cost_entry(model: str) -> dict[str, float]:
    costs: dict[str, dict[str, float]] = import_litellm().model_cost
    if model in costs:
        return costs[model]
    bare = model.split("/", 1)[-1]
    if bare in costs:
        return costs[bare]
    raise KeyError(
        f"litellm has no price for '{model}'; set input_cost_per_token and "
        "output_cost_per_token on the model in the policy"
    )
