"""Redis shared state: atomic token buckets and budgets (Lua), and the response cache.

Every key is `<prefix>:…` (`HYBRIDGW_REDIS_KEY_PREFIX`, default `hybridgw`). Each operation is
one round trip. Bucket refill uses the Redis server clock (`TIME`), so replicas with skewed
clocks still share one rate.
"""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis

from gateway.auth import Caller
from gateway.state.protocols import (
    Bucket,
    BudgetStatus,
    budget_scopes,
    current_month,
    judge_budgets,
    rate_buckets,
    rate_limited,
)
from kernel.types import ChatResponse
from policies.limits import BudgetsConfig, LimitsConfig

# KEYS: one hash per bucket {l: level, t: time}. ARGV: capacity, cost, need per bucket.
# All buckets are checked first; only if every one has `need` available is `cost` taken from all.
# Returns {0, "0"} when admitted, else {index of the slowest bucket (1-based), seconds to wait}.
_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local levels = {}
local worst, wait = 0, 0
for i = 1, #KEYS do
  local cap = tonumber(ARGV[3 * i - 2])
  local need = tonumber(ARGV[3 * i])
  local h = redis.call('HMGET', KEYS[i], 'l', 't')
  local level = tonumber(h[1])
  if level == nil then
    level = cap
  else
    level = math.min(cap, level + (now - tonumber(h[2])) * cap / 60)
  end
  levels[i] = level
  if level < need then
    local w = (need - level) * 60 / cap
    if w > wait then worst, wait = i, w end
  end
end
if worst > 0 then return {worst, tostring(wait)} end
for i = 1, #KEYS do
  local left = levels[i] - tonumber(ARGV[3 * i - 1])
  redis.call('HSET', KEYS[i], 'l', tostring(left), 't', tostring(now))
  redis.call('EXPIRE', KEYS[i], 180)
end
return {0, '0'}
"""

# KEYS: monthly spend counters. ARGV[1]: USD to add; ARGV[2]: TTL seconds.
_SETTLE = """
for i = 1, #KEYS do
  redis.call('INCRBYFLOAT', KEYS[i], ARGV[1])
  redis.call('EXPIRE', KEYS[i], ARGV[2])
end
return #KEYS
"""

_BUDGET_TTL_S = 40 * 24 * 3600  # a month and some: the counter outlives its month


class RedisRateLimiter:
    def __init__(self, redis: Redis, prefix: str) -> None:
        self._prefix = prefix
        self._take_script = redis.register_script(_TAKE)

    async def acquire(self, caller: Caller, limits: LimitsConfig, tokens: int) -> None:
        await self._take(rate_buckets(caller, limits, tokens, admit=True))

    async def consume(self, caller: Caller, limits: LimitsConfig, tokens: int) -> None:
        await self._take(rate_buckets(caller, limits, tokens, admit=False))

    async def _take(self, buckets: list[Bucket]) -> None:
        if not buckets:
            return
        keys = [f"{self._prefix}:{b.key}" for b in buckets]
        args: list[Any] = []
        for b in buckets:
            args += [b.capacity, b.cost, b.need]
        worst, wait = await self._take_script(keys=keys, args=args)
        if int(worst):
            raise rate_limited(buckets[int(worst) - 1], float(wait))


class RedisBudgetGuard:
    def __init__(self, redis: Redis, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix
        self._settle_script = redis.register_script(_SETTLE)

    async def check(self, caller: Caller, budgets: BudgetsConfig) -> BudgetStatus:
        month = current_month()
        found = budget_scopes(caller, budgets, month)
        if not found:
            return BudgetStatus()
        raw = await self._redis.mget([f"{self._prefix}:{s.key}" for s in found])
        return judge_budgets(found, [float(v or 0) for v in raw], month)

    async def settle(self, caller: Caller, budgets: BudgetsConfig, cost_usd: float) -> None:
        found = budget_scopes(caller, budgets, current_month())
        if not found or cost_usd <= 0:
            return
        keys = [f"{self._prefix}:{s.key}" for s in found]
        await self._settle_script(keys=keys, args=[repr(cost_usd), _BUDGET_TTL_S])


class RedisResponseCache:
    def __init__(self, redis: Redis, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix

    async def get(self, key: str) -> ChatResponse | None:
        raw = await self._redis.get(f"{self._prefix}:{key}")
        return None if raw is None else ChatResponse.model_validate_json(raw)

    async def put(self, key: str, response: ChatResponse, ttl_s: int) -> None:
        await self._redis.set(f"{self._prefix}:{key}", response.model_dump_json(), ex=ttl_s)
