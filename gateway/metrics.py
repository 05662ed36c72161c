"""Prometheus metrics of one gateway process, fed from ledger entries and request refusals.

Each `Metrics` owns its registry, so several apps in one process (tests) never collide. With
several uvicorn workers, set `PROMETHEUS_MULTIPROC_DIR` to an empty directory shared by the
workers (wiped at start): prometheus_client then writes values there and `/metrics` aggregates
every worker (see docs/deploy.md). Labels carry only bounded values: tier, rule name, status.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from gateway.circuit import STATE_VALUES, CircuitView
from kernel.protocols import LedgerEntry

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Metrics:
    """The gateway's counters, histograms and gauges (all prefixed `hybridgw_`)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "hybridgw_requests",
            "Requests answered or failed.",
            ["tier", "rule", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "hybridgw_request_latency_seconds",
            "End-to-end latency.",
            ["tier"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.ttft = Histogram(
            "hybridgw_ttft_seconds",
            "Time to first token (whole answer for non-streamed requests).",
            ["tier"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.tokens = Counter("hybridgw_tokens", "Tokens processed.", ["tier", "kind"], registry=r)
        self.cost = Counter("hybridgw_cost_usd", "What requests cost.", ["tier"], registry=r)
        self.savings = Counter(
            "hybridgw_savings_usd",
            "Counterfactual reference-model cost minus actual cost.",
            ["tier"],
            registry=r,
        )
        self.cache_hits = Counter("hybridgw_cache_hits", "Answers served from cache.", registry=r)
        self.refused = Counter(
            "hybridgw_refused",
            "Requests refused before routing (rate limits, budgets).",
            ["code"],
            registry=r,
        )
        self.state_outages = Counter(
            "hybridgw_state_outages",
            "Redis operations that failed, or were skipped while its circuit was open.",
            ["operation"],
            registry=r,
        )
        self.queue_depth = Gauge(
            "hybridgw_local_queue_depth",
            "Requests waiting for an in-process local model.",
            registry=r,
            multiprocess_mode="livesum",
        )
        self.reload_failures = Gauge(
            "hybridgw_policy_reload_failures",
            "Policy reloads rejected since the process started.",
            registry=r,
            multiprocess_mode="livesum",
        )
        self.journal_pending = Gauge(
            "hybridgw_ledger_journal_pending",
            "Ledger rows in the local journal not yet committed to the store or the spool.",
            registry=r,
            multiprocess_mode="livesum",
        )
        self._children: dict[tuple[Counter | Histogram, tuple[str, ...]], Any] = {}

    def watch_circuits(self, source: Callable[[], Iterable[CircuitView]]) -> None:
        """Export the circuit breakers `source` lists, sampled at every scrape."""
        self.registry.register(_CircuitCollector(source))

    def observe(self, entry: LedgerEntry) -> None:
        """Count one ledger entry (called once per request, when it is recorded)."""
        tier = entry.tier or ("cache" if entry.cache_hit else "none")
        child = self._child
        child(self.requests, tier, entry.rule, str(entry.status)).inc()
        child(self.latency, tier).observe(entry.latency_ms / 1000)
        if entry.ttft_ms is not None:
            child(self.ttft, tier).observe(entry.ttft_ms / 1000)
        if entry.prompt_tokens:
            child(self.tokens, tier, "prompt").inc(entry.prompt_tokens)
        if entry.completion_tokens:
            child(self.tokens, tier, "completion").inc(entry.completion_tokens)
        if entry.cost_usd > 0:
            child(self.cost, tier).inc(entry.cost_usd)
        saved = entry.counterfactual_cost_usd - entry.cost_usd
        if saved > 0:
            child(self.savings, tier).inc(saved)
        if entry.cache_hit:
            self.cache_hits.inc()

    def _child(self, metric: Counter | Histogram, *labels: str) -> Any:
        """`metric.labels(*labels)`, looked up once: `labels()` validates and locks on every
        call, six calls a request (~1 % of its CPU here). A child exists once first used."""
        key = (metric, labels)
        found = self._children.get(key)
        if found is None:
            found = self._children[key] = metric.labels(*labels)
        return found

    def outage(self, operation: str) -> None:
        self.state_outages.labels(operation).inc()

    def render(self, *, queue_depth: int, reload_failures: int, journal_pending: int) -> bytes:
        """The exposition text; gauges sampled now. Aggregates workers in multiprocess mode."""
        self.queue_depth.set(queue_depth)
        self.reload_failures.set(reload_failures)
        self.journal_pending.set(journal_pending)
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            merged = CollectorRegistry()
            MultiProcessCollector(merged)  # type: ignore[no-untyped-call]
            return generate_latest(merged)
        return generate_latest(self.registry)


class _CircuitCollector(Collector):
    """`hybridgw_circuit_state` (0 closed, 1 half-open, 2 open) and trips, per dependency."""

    def __init__(self, source: Callable[[], Iterable[CircuitView]]) -> None:
        self._source = source

    def collect(self) -> Iterator[Metric]:
        state = GaugeMetricFamily(
            "hybridgw_circuit_state",
            "Circuit breaker per dependency: 0 closed, 1 half-open (probing), 2 open (skipped).",
            labels=["dependency"],
        )
        opened = CounterMetricFamily(
            "hybridgw_circuit_opened",
            "Times a dependency's circuit opened since the process started.",
            labels=["dependency"],
        )
        for view in self._source():
            state.add_metric([view.name], STATE_VALUES[view.state])
            opened.add_metric([view.name], view.opened)
        yield state
        yield opened
