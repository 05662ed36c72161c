"""Savings split: local serving + cloud model choice = total savings, each defined per request."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime

from support import AUTH, chat_body, policy_yaml

from gateway.accounting import baseline_alias, policy_baseline
from gateway.reports.aggregate import row_of
from kernel.protocols import LedgerEntry
from policies.loader import default_policy_path, load_policy, parse_policy
from router.decision import Features, decide

FINANCE = {"authorization": "Bearer fin-key"}
BIG = (
    "models:\n"
    "  cloud-big: {tier: cloud, backend: litellm, model: openai/gpt-4o, api_base: 'http://127.0.0.1:9/v1',"
    " input_cost_per_token: 0.00001, output_cost_per_token: 0.00004}\n"
)


def expensive_reference(cloud_base: str, local_base: str, extra: str = "") -> str:
    """The test policy with a pricier reference model than the one its rules use."""
    text = policy_yaml(cloud_base, local_base, extra)
    return text.replace("reference_model: cloud", "reference_model: cloud-big").replace(
        "models:\n", BIG, 1
    )


async def test_split_sums_to_total_and_names_the_reference(
    gateway, write_policy, cloud_mock, local_mock
):
    path = write_policy(expensive_reference(cloud_mock.base_url, local_mock.base_url))
    async with gateway(policy=path, finance_key="fin-key") as gw:
        for difficulty in (0.1, 0.9, 0.2, 0.95, 0.3):
            gw.classifier._default["difficulty"] = difficulty
            r = await gw.client.post(
                "/v1/chat/completions", json=chat_body("Add 2 and 3."), headers=AUTH
            )
            assert r.status_code == 200, r.text
        report = (await gw.client.get("/admin/reports?group_by=tier", headers=FINANCE)).json()
    entries = gw.ledger.entries
    local = [e for e in entries if e.tier == "local"]
    cloud = [e for e in entries if e.tier == "cloud"]
    assert len(local) == 3 and len(cloud) == 2
    for e in local:  # default route: local, fallback cloud → the baseline is `cloud`
        assert e.baseline_model == "cloud"
        assert e.baseline_cost_usd == e.prompt_tokens * 1e-6 + e.completion_tokens * 2e-6 > 0
    for e in cloud:  # a cloud answer's baseline is itself
        assert e.baseline_model == "cloud" and e.baseline_cost_usd == e.cost_usd > 0
    total = report["total"]
    local_part = math.fsum(e.baseline_cost_usd - e.cost_usd for e in entries)
    choice_part = math.fsum(e.counterfactual_cost_usd - e.baseline_cost_usd for e in entries)
    assert math.isclose(total["savings_local_usd"], local_part, rel_tol=1e-12)
    assert math.isclose(total["savings_cloud_choice_usd"], choice_part, rel_tol=1e-12)
    assert local_part > 0 and choice_part > 0
    assert math.isclose(
        total["savings_local_usd"] + total["savings_cloud_choice_usd"],
        total["savings_usd"],
        rel_tol=1e-12,
    )
    assert total["savings_unattributed_usd"] == 0
    rows = {r["group"]: r for r in report["rows"]}
    assert rows["cloud"]["savings_local_usd"] == 0  # cloud rows save only by model choice
    assert report["basis"]["reference_models"] == ["cloud-big"]
    assert "local serving" in report["basis"]["savings_split"]["savings_local_usd"]


def test_rows_without_a_baseline_stay_unattributed():
    base = LedgerEntry("a", datetime(2026, 11, 1, tzinfo=UTC), "t", "a", "v", "r", "local",
                       "llamacpp", "local", 200, 10, 10, 0.0, 0.5)  # fmt: skip
    new = replace(base, request_id="b", baseline_cost_usd=0.2)
    row = row_of("x", [base, new], is_total=True)
    assert row.savings_unattributed_usd == 0.5
    assert row.savings_local_usd == 0.2 and math.isclose(row.savings_cloud_choice_usd, 0.3)
    assert math.isclose(
        row.savings_local_usd + row.savings_cloud_choice_usd + row.savings_unattributed_usd,
        row.savings_usd,
    )


def test_baseline_alias_rules():
    policy = parse_policy(
        policy_yaml("http://127.0.0.1:9/v1", "http://127.0.0.1:9/v1").encode(), "p.yaml"
    ).document
    local = decide(Features(difficulty=0.1), policy)
    assert baseline_alias(policy, local, local.target) == "cloud"  # the default's cloud fallback
    # a decision with no cloud candidate at all falls back to the policy's baseline
    protect = local.__class__("local", "keep", "x", local.target)
    assert baseline_alias(policy, protect, protect.target) == policy_baseline(policy) == "cloud"
    # PII that could not be checked withholds the cloud fallback: still the model it would have used
    withheld = decide(Features(difficulty=0.1, pii_unscanned=frozenset({"PERSON"})), policy)
    assert withheld.fallbacks == () and baseline_alias(policy, withheld, withheld.target) == "cloud"
    configured = parse_policy(
        policy_yaml(
            "http://127.0.0.1:9/v1", "http://127.0.0.1:9/v1", "baseline_model: cloud-fail\n"
        ).encode(),
        "p.yaml",
    ).document
    assert baseline_alias(configured, protect, protect.target) == "cloud-fail"


def test_default_policy_reference_is_the_model_its_cloud_rules_use():
    document = load_policy(default_policy_path()).document
    cloud_targets = {r.target for r in document.route if r.action != "local"}
    assert cloud_targets == {document.reference_model} == {"gpt-4o-mini"}
    assert policy_baseline(document) == "gpt-4o-mini"
