"""Cost arithmetic: cloud prices equal litellm's own `cost_per_token`; local-cost modes."""

from __future__ import annotations

import math

import litellm
import pytest

from gateway.accounting import Accountant
from kernel.types import Usage
from policies.schema import PolicyDocument
from router.decision import Target

CLOUD_MODELS = [
    "openai/gpt-4o",
    "openai/gpt-4o-mini",
    "openai/gpt-4.1",
    "deepseek/deepseek-chat",
    "mistral/mistral-large-latest",
]


def policy(reference: str = "openai/gpt-4o", **overrides: float) -> PolicyDocument:
    models: dict[str, dict[str, object]] = {
        "local": {"tier": "local", "backend": "llamacpp", "model": "smollm2"},
    }
    for name in {*CLOUD_MODELS, reference}:
        models[name] = {"tier": "cloud", "backend": "litellm", "model": name}
    models["override"] = {
        "tier": "cloud",
        "backend": "litellm",
        "model": "openai/gpt-4o",
        **overrides,
    }
    return PolicyDocument.model_validate(
        {
            "version": 1,
            "reference_model": reference,
            "models": models,
            "default": {"action": "local", "target": "local"},
        }
    )


def target(alias: str, doc: PolicyDocument) -> Target:
    spec = doc.models[alias]
    return Target(alias=alias, tier=spec.tier, backend=spec.backend, model=spec.model)


@pytest.mark.parametrize("model", CLOUD_MODELS)
@pytest.mark.parametrize(("prompt", "completion"), [(1, 0), (1234, 567), (100_000, 4096)])
def test_cloud_cost_equals_litellm_cost_per_token(model, prompt, completion):
    doc = policy()
    prices = Accountant().price(doc, target(model, doc), Usage.of(prompt, completion))
    cost_in, cost_out = litellm.cost_per_token(
        model=model, prompt_tokens=prompt, completion_tokens=completion
    )
    assert math.isclose(prices.cost, cost_in + cost_out, rel_tol=1e-12)
    assert prices.source == "litellm"


@pytest.mark.parametrize("reference", ["openai/gpt-4o", "deepseek/deepseek-chat"])
def test_counterfactual_prices_the_same_tokens_on_the_reference_model(reference):
    doc = policy(reference)
    prices = Accountant().price(doc, target("local", doc), Usage.of(800, 200))
    cost_in, cost_out = litellm.cost_per_token(
        model=reference, prompt_tokens=800, completion_tokens=200
    )
    assert math.isclose(prices.counterfactual, cost_in + cost_out, rel_tol=1e-12)
    assert (prices.cost, prices.source) == (0.0, "local-zero")


def test_policy_override_beats_litellm():
    doc = policy(input_cost_per_token=1e-6, output_cost_per_token=3e-6)
    prices = Accountant().price(doc, target("override", doc), Usage.of(1000, 100))
    assert prices.cost == pytest.approx(1000 * 1e-6 + 100 * 3e-6)
    assert prices.source == "policy"


def test_local_per_million_tokens():
    doc = policy()
    prices = Accountant(0.5).price(doc, target("local", doc), Usage.of(600_000, 400_000))
    assert prices.cost == pytest.approx(0.5)
    assert prices.source == "local-per-token"


def test_local_per_hour_at_configured_throughput():
    doc = policy()
    accountant = Accountant(local_cost_per_hour=3.6, local_tokens_per_second=100)
    # 3.6 USD/h = 0.001 USD/s; 100 tok/s → 1e-5 USD per token
    prices = accountant.price(doc, target("local", doc), Usage.of(700, 300), latency_ms=50)
    assert prices.cost == pytest.approx(1000 * 1e-5)
    assert prices.source == "local-per-hour"


def test_local_per_hour_at_measured_throughput():
    doc = policy()
    accountant = Accountant(local_cost_per_hour=3.6)
    accountant.price(doc, target("local", doc), Usage.of(100, 100), latency_ms=1000)  # 200 tok/s
    prices = accountant.price(doc, target("local", doc), Usage.of(50, 150), latency_ms=3000)
    # measured over both: 400 tokens in 4 s = 100 tok/s → 1e-5 USD per token
    assert prices.cost == pytest.approx(200 * 1e-5)


def test_both_local_rates_is_a_configuration_error():
    with pytest.raises(ValueError, match="not both"):
        Accountant(1.0, local_cost_per_hour=2.0)


def test_nothing_served_costs_nothing():
    doc = policy()
    assert Accountant().price(doc, None, Usage.of(10, 0)).cost == 0.0
