"""GET /metrics: Prometheus text with requests by tier/rule/status, latency, tokens and gauges."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families
from support import AUTH, chat_body


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_metrics_count_requests_latency_tokens_and_refusals(gateway, write_policy):
    async with gateway(difficulty=0.1) as gw:
        for _ in range(2):
            r = await gw.client.post("/v1/chat/completions", json=chat_body(), headers=AUTH)
            assert r.status_code == 200
        bad = await gw.client.post("/v1/chat/completions", json=chat_body(), headers={})
        assert bad.status_code == 401
        m = await gw.client.get("/metrics")
    assert m.status_code == 200 and m.headers["content-type"].startswith("text/plain")
    got = samples(m.text)
    local = frozenset({("tier", "local")})
    assert got[("hybridgw_requests_total", local | {("rule", "default"), ("status", "200")})] == 2
    assert got[("hybridgw_request_latency_seconds_count", local)] == 2
    assert got[("hybridgw_ttft_seconds_count", local)] == 2
    assert got[("hybridgw_tokens_total", local | {("kind", "prompt")})] > 0
    assert got[("hybridgw_local_queue_depth", frozenset())] == 0
    assert got[("hybridgw_policy_reload_failures", frozenset())] == 0
    assert got[("hybridgw_ledger_journal_pending", frozenset())] >= 0
    assert "sk-test" not in m.text  # keys never appear


async def test_metrics_count_cloud_cost_and_savings(gateway):
    async with gateway(difficulty=0.9) as gw:
        r = await gw.client.post("/v1/chat/completions", json=chat_body(), headers=AUTH)
        assert r.status_code == 200
        text = (await gw.client.get("/metrics")).text
    got = samples(text)
    cloud = frozenset({("tier", "cloud")})
    assert got[("hybridgw_requests_total", cloud | {("rule", "hard"), ("status", "200")})] == 1
    assert got[("hybridgw_cost_usd_total", cloud)] > 0


async def test_two_apps_in_one_process_keep_separate_registries(gateway):
    async with gateway() as one, gateway() as two:
        await one.client.post("/v1/chat/completions", json=chat_body(), headers=AUTH)
        text = (await two.client.get("/metrics")).text
    assert not any(
        s.name == "hybridgw_requests_total"
        for f in text_string_to_metric_families(text)
        for s in f.samples
    )
