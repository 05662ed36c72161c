"""In-process shared state: the embedded default for a single gateway process.

Correct for one process with one event loop (every operation runs without awaiting, so it is
atomic there); each replica of a fleet would count on its own, which is what Redis is for.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass

from gateway.auth import Caller
from gateway.state.protocols import (
    Bucket,
    BudgetStatus,
    OnVersion,
    budget_scopes,
    current_month,
    judge_budgets,
    rate_buckets,
    rate_limited,
)
from kernel.types import ChatResponse
from policies.limits import BudgetsConfig, LimitsConfig


@dataclass(slots=True)
class _Level:
    level: float
    at: float


class MemoryRateLimiter:
    """Token buckets in a dict, refilled continuously at `capacity` per minute."""

    def __init__(self) -> None:
        self._levels: dict[str, _Level] = {}

    async def acquire(self, caller: Caller, limits: LimitsConfig, tokens: int) -> None:
        self._take(rate_buckets(caller, limits, tokens, admit=True))

    async def consume(self, caller: Caller, limits: LimitsConfig, tokens: int) -> None:
        self._take(rate_buckets(caller, limits, tokens, admit=False))

    def _take(self, buckets: list[Bucket]) -> None:
        now = time.monotonic()
        levels = [self._refilled(b, now) for b in buckets]
        waits = [
            ((b.need - level) * 60 / b.capacity, b)
            for b, level in zip(buckets, levels, strict=True)
            if level < b.need
        ]
        if waits:
            wait, bucket = max(waits, key=lambda w: w[0])
            raise rate_limited(bucket, wait)
        for b, level in zip(buckets, levels, strict=True):
            self._levels[b.key] = _Level(level - b.cost, now)

    def _refilled(self, bucket: Bucket, now: float) -> float:
        state = self._levels.get(bucket.key)
        if state is None:
            return float(bucket.capacity)
        return min(bucket.capacity, state.level + (now - state.at) * bucket.capacity / 60)


class MemoryBudgetGuard:
    """Monthly spend per scope in a dict (lost on restart: use Redis to keep it)."""

    def __init__(self) -> None:
        self._spent: dict[str, float] = {}

    async def check(self, caller: Caller, budgets: BudgetsConfig) -> BudgetStatus:
        month = current_month()
        found = budget_scopes(caller, budgets, month)
        if not found:
            return BudgetStatus()
        return judge_budgets(found, [self._spent.get(s.key, 0.0) for s in found], month)

    async def settle(self, caller: Caller, budgets: BudgetsConfig, cost_usd: float) -> None:
        for scope in budget_scopes(caller, budgets, current_month()):
            self._spent[scope.key] = self._spent.get(scope.key, 0.0) + cost_usd


class MemoryResponseCache:
    """An LRU of serialised responses with per-entry expiry."""

    def __init__(self, max_entries: int = 4096) -> None:
        self._max = max_entries
        self._entries: OrderedDict[str, tuple[float, str]] = OrderedDict()

    async def get(self, key: str) -> ChatResponse | None:
        item = self._entries.get(key)
        if item is None:
            return None
        expires, raw = item
        if expires <= time.monotonic():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return ChatResponse.model_validate_json(raw)

    async def put(self, key: str, response: ChatResponse, ttl_s: int) -> None:
        self._entries[key] = (time.monotonic() + ttl_s, response.model_dump_json())
        self._entries.move_to_end(key)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)


class LocalBroadcaster:
    """One process needs no broadcast: its own store already activated the version."""

    async def publish(self, version: str) -> None:
        """Nothing to tell."""

    async def listen(self, on_version: OnVersion) -> None:
        """Nothing to hear; returns at once."""
