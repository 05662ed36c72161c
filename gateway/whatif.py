"""Policy what-if: replay the pure `decide()` over past traffic's recorded decision inputs.

Every ledger row keeps the `Features` its decision was made from (scores, PII types, requested
model, the router's prompt estimate, tenant/app, tools flag, soft-budget flag — never text).
`what_if` rebuilds them, decides each request under the current and the draft policy, and
compares the two. Stated assumptions (docs/ledger.md, *Policy what-if*):

* token counts are the ones the row's answer really had, priced on the replayed model
  (litellm's price map or the policy's override; local under the gateway's local cost mode);
* PII types are the ones found then: a type the draft stops protecting is dropped, a type it
  starts protecting was never looked for; `block` is re-read from the draft's operators;
* the soft-budget flag is replayed as it was at the time;
* latency per request is the median measured latency of its replayed model in the window, else
  of its tier, else the configured reference estimate — the basis says which.

Rows recorded before the inputs were kept (`difficulty` NULL) are skipped and counted.
"""

from __future__ import annotations

import csv
import io
import math
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Any

from gateway.accounting import Accountant
from gateway.ledger.base import RecordSource
from gateway.settings import Settings
from kernel.errors import InvalidRequest, ModelNotFound
from kernel.protocols import LedgerEntry
from kernel.types import Usage
from policies.entities import protected_types
from policies.pii import resolve_operators
from policies.schema import PolicyDocument
from router.decision import Features, RouteDecision, decide

BASES = ("measured", "tier", "estimated")  # best first


def features_of(entry: LedgerEntry, policy: PolicyDocument) -> Features | None:
    """The row's decision inputs as `policy` would see them (None for rows without inputs)."""
    if entry.difficulty is None:
        return None
    protected = protected_types(policy.pii.entities)
    operators = resolve_operators(policy.pii.entities)
    found = frozenset(entry.pii_types) & protected
    return Features(
        difficulty=entry.difficulty,
        sensitivity=entry.sensitivity or 0.0,
        pii_types=found,
        pii_blocked=frozenset(t for t in found if operators[t] == "block"),
        pii_unscanned=frozenset(entry.pii_unscanned) & protected,
        prompt_tokens=entry.routed_prompt_tokens or 0,
        tenant=entry.tenant,
        app=entry.app,
        requested_model=entry.requested_model or "auto",
        needs_cloud_features=entry.needs_cloud_features,
        over_soft_budget=entry.over_soft_budget,
    )


@dataclass(frozen=True, slots=True)
class Replay:
    """One request under one policy: the rule, the route (alias, `block` or `rejected`)."""

    rule: str
    route: str
    tier: str | None
    cost_usd: float
    pii_exposed: bool
    latency_ms: float | None
    latency_basis: str


@dataclass(frozen=True, slots=True)
class Scenario:
    """Totals of the replayed requests under one policy."""

    requests: int
    local: int
    cloud: int
    blocked: int
    local_share: float | None
    cost_usd: float
    pii_exposure: int
    latency_ms_mean: float | None
    latency_basis: str


@dataclass(frozen=True, slots=True)
class Transition:
    from_rule: str
    from_route: str
    to_rule: str
    to_route: str
    requests: int


@dataclass(frozen=True, slots=True)
class WhatIf:
    since: datetime
    until: datetime
    requests: int
    skipped: int
    changed: int
    transitions: tuple[Transition, ...]
    current: Scenario
    draft: Scenario
    recorded_cost_usd: float

    def to_json(self) -> dict[str, Any]:
        return {
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "requests": self.requests,
            "skipped_without_inputs": self.skipped,
            "changed": self.changed,
            "transitions": [asdict(t) for t in self.transitions],
            "current": asdict(self.current),
            "draft": asdict(self.draft),
            "recorded_cost_usd": self.recorded_cost_usd,
        }

    def to_csv(self) -> str:
        """One line per policy (`current`, `draft`), with the window's request counts."""
        buffer = io.StringIO()
        names = ["policy", "changed", *(f.name for f in fields(Scenario))]
        writer = csv.DictWriter(buffer, fieldnames=names)
        writer.writeheader()
        for name, scenario in (("current", self.current), ("draft", self.draft)):
            writer.writerow({**asdict(scenario), "policy": name, "changed": self.changed})
        return buffer.getvalue()


class LatencyModel:
    """Median measured latency per model alias and per tier, from the window's answers."""

    def __init__(self, entries: Sequence[LedgerEntry], estimate_ms: float) -> None:
        answered = [e for e in entries if e.status < 400 and not e.cache_hit and e.model]
        self._by_model = _medians((e.model or "", e.latency_ms) for e in answered)
        self._by_tier = _medians((e.tier or "", e.latency_ms) for e in answered)
        self._estimate = estimate_ms

    def of(self, alias: str, tier: str) -> tuple[float, str]:
        if alias in self._by_model:
            return self._by_model[alias], "measured"
        if tier in self._by_tier:
            return self._by_tier[tier], "tier"
        return self._estimate, "estimated"


def _medians(pairs: Any) -> dict[str, float]:
    groups: dict[str, list[float]] = {}
    for key, value in pairs:
        groups.setdefault(key, []).append(value)
    return {key: statistics.median(values) for key, values in groups.items()}


def replay_one(
    entry: LedgerEntry, policy: PolicyDocument, prices: Accountant, latency: LatencyModel
) -> Replay | None:
    """Decide `entry` under `policy`; None when the row has no decision inputs."""
    features = features_of(entry, policy)
    if features is None:
        return None
    try:
        decision: RouteDecision = decide(features, policy)
    except ModelNotFound:  # the draft dropped an alias this request pinned: a 404
        return Replay("model-not-found", "rejected", None, 0.0, False, None, "measured")
    target = decision.target
    if target is None:
        return Replay(decision.rule, "block", None, 0.0, False, None, "measured")
    usage = Usage.of(entry.prompt_tokens, entry.completion_tokens)
    cost = prices.price(policy, target, usage).cost
    ms, basis = latency.of(target.alias, target.tier)
    exposed = target.tier == "cloud" and bool(features.pii_types)
    return Replay(decision.rule, target.alias, target.tier, cost, exposed, ms, basis)


def scenario_of(replays: Sequence[Replay]) -> Scenario:
    routed = [r for r in replays if r.tier is not None]
    local = sum(1 for r in routed if r.tier == "local")
    timed = [r.latency_ms for r in routed if r.latency_ms is not None]
    basis = max((r.latency_basis for r in routed), key=BASES.index, default="measured")
    return Scenario(
        requests=len(replays),
        local=local,
        cloud=len(routed) - local,
        blocked=len(replays) - len(routed),
        local_share=local / len(routed) if routed else None,
        cost_usd=math.fsum(r.cost_usd for r in replays),
        pii_exposure=sum(1 for r in replays if r.pii_exposed),
        latency_ms_mean=math.fsum(timed) / len(timed) if timed else None,
        latency_basis=basis,
    )


def what_if(
    entries: Sequence[LedgerEntry],
    current: PolicyDocument,
    draft: PolicyDocument,
    *,
    since: datetime,
    until: datetime,
    prices: Accountant,
    latency_estimate_ms: float,
) -> WhatIf:
    """Replay `entries` under both policies and compare (see the module docstring)."""
    latency = LatencyModel(entries, latency_estimate_ms)
    pairs: list[tuple[Replay, Replay]] = []
    replayed: list[LedgerEntry] = []
    for entry in entries:
        now = replay_one(entry, current, prices, latency)
        then = replay_one(entry, draft, prices, latency)
        if now is None or then is None:
            continue
        pairs.append((now, then))
        replayed.append(entry)
    moves = Counter((a.rule, a.route, b.rule, b.route) for a, b in pairs if a.route != b.route)
    transitions = tuple(
        Transition(*key, count)
        for key, count in sorted(moves.items(), key=lambda item: (-item[1], item[0]))
    )
    return WhatIf(
        since=since,
        until=until,
        requests=len(pairs),
        skipped=len(entries) - len(pairs),
        changed=sum(moves.values()),
        transitions=transitions,
        current=scenario_of([a for a, _ in pairs]),
        draft=scenario_of([b for _, b in pairs]),
        recorded_cost_usd=math.fsum(e.cost_usd for e in replayed),
    )


async def what_if_window(
    ledger: object,
    current: PolicyDocument,
    draft: PolicyDocument,
    *,
    since: datetime,
    until: datetime,
    settings: Settings,
) -> WhatIf:
    """`what_if` over the ledger's rows with `since <= ts < until`, priced like the gateway."""
    if not isinstance(ledger, RecordSource):
        raise InvalidRequest("This ledger store cannot list its records, so it cannot replay.")
    entries = await ledger.fetch(since=since, until=until)
    prices = Accountant(
        settings.local_cost_per_million_tokens,
        local_cost_per_hour=settings.local_cost_per_hour,
        local_tokens_per_second=settings.local_tokens_per_second,
    )
    return what_if(
        entries,
        current,
        draft,
        since=since,
        until=until,
        prices=prices,
        latency_estimate_ms=settings.reference_latency_estimate_ms,
    )
