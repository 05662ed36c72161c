"""Per-request cost of shared state: in-process vs Redis (rate limit, budget, cache).

Run: `.venv/bin/python -m bench.bench_state [--requests 2000] [--concurrency 16] [--no-write]`

One request of an app with limits, a budget and the cache costs, on the request path, a rate
limit `acquire` + a budget `check` + a cache `get` before routing, and a budget `settle` + a
token `consume` (+ a cache `put` on a miss) after the answer. Each is one Redis round trip (Lua
scripts for the atomic ones). Measured against the real Redis on 127.0.0.1:6379 with a key
prefix of its own, deleted afterwards. Prints a table and appends it to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import redis.asyncio as aioredis

from bench.report import Report, command_line, fmt, ratio
from gateway.auth import Caller
from gateway.settings import Settings
from gateway.state.factory import SharedState, build_state
from kernel.types import AssistantMessage, ChatResponse, Choice, Usage
from policies.limits import BudgetsConfig, LimitsConfig

REDIS_URL = "redis://127.0.0.1:6379/0"
CALLER = Caller(tenant="bench", app="bench-app", key_id="0123456789ab")
HUGE = 10**9  # limits that never refuse: we measure the bookkeeping, not refusals
LIMITS = LimitsConfig.model_validate(
    {"apps": {"bench-app": {"requests_per_minute": HUGE, "tokens_per_minute": HUGE}}}
)
BUDGETS = BudgetsConfig.model_validate(
    {"tenants": {"bench": {"monthly_usd": {"soft": HUGE, "hard": HUGE}}}}
)
ANSWER = ChatResponse(
    id="chatcmpl-bench",
    model="m",
    choices=[Choice(message=AssistantMessage(content="word " * 60))],
    usage=Usage.of(40, 60),
)

Op = Callable[[SharedState, int], Awaitable[object]]
OPS: dict[str, Op] = {
    "rate limit acquire": lambda s, i: s.limiter.acquire(CALLER, LIMITS, 40),
    "budget check": lambda s, i: s.budgets.check(CALLER, BUDGETS),
    "cache get (miss)": lambda s, i: s.cache.get(f"cache:miss-{i}"),
    "budget settle": lambda s, i: s.budgets.settle(CALLER, BUDGETS, 0.0001),
    "token consume": lambda s, i: s.limiter.consume(CALLER, LIMITS, 60),
    "cache put": lambda s, i: s.cache.put(f"cache:{i % 256}", ANSWER, 60),
}
REQUEST_PATH = ("rate limit acquire", "budget check", "cache get (miss)")
AFTER_ANSWER = ("budget settle", "token consume")


async def timed(op: Op, state: SharedState, n: int) -> list[float]:
    """Microseconds per call, one call at a time."""
    samples: list[float] = []
    for i in range(n):
        start = time.perf_counter()
        await op(state, i)
        samples.append((time.perf_counter() - start) * 1e6)
    return samples


async def one_request(state: SharedState, i: int) -> None:
    for name in (*REQUEST_PATH, *AFTER_ANSWER):
        await OPS[name](state, i)


async def throughput(state: SharedState, n: int, concurrency: int) -> float:
    """Whole per-request state sequences per second with `concurrency` requests at once."""
    gate = asyncio.Semaphore(concurrency)

    async def run(i: int) -> None:
        async with gate:
            await one_request(state, i)

    start = time.perf_counter()
    await asyncio.gather(*(run(i) for i in range(n)))
    return n / (time.perf_counter() - start)


@dataclass
class Result:
    ops: dict[str, list[float]]
    rps: float

    def p50(self, *names: str) -> float:
        return sum(p(self.ops[n], 0.5) for n in names)


def p(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def measure(backend: str, n: int, concurrency: int) -> Result:
    prefix = f"hybridgw-bench-{uuid.uuid4().hex[:8]}"
    url = REDIS_URL if backend == "redis" else None
    state = build_state(Settings(redis_url=url, redis_key_prefix=prefix))
    try:
        await one_request(state, -1)  # warm: connections, script loading
        per_op = {name: await timed(op, state, n) for name, op in OPS.items()}
        rps = await throughput(state, n, concurrency)
    finally:
        await state.aclose()
        client = aioredis.Redis.from_url(REDIS_URL)
        keys = [k async for k in client.scan_iter(match=f"{prefix}:*", count=1000)]
        if keys:
            await client.delete(*keys)
        await client.aclose()
    return Result(per_op, rps)


async def ping_us(n: int) -> float:
    client = aioredis.Redis.from_url(REDIS_URL)
    try:
        await client.ping()
        samples: list[float] = []
        for _ in range(n):
            start = time.perf_counter()
            await client.ping()
            samples.append((time.perf_counter() - start) * 1e6)
    finally:
        await client.aclose()
    return statistics.median(samples)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    memory = await measure("memory", args.requests, args.concurrency)
    redis = await measure("redis", args.requests, args.concurrency)
    ping = await ping_us(args.requests)

    report = Report(
        "Shared state per request: in-process vs Redis", command=command_line("bench.bench_state")
    )
    rows = []
    for name in OPS:
        mem, red = memory.p50(name), redis.p50(name)
        rows.append([name, fmt(mem), fmt(red), fmt(p(redis.ops[name], 0.99)), ratio(red, mem, 0)])
    for label, names in (("before routing", REQUEST_PATH), ("after the answer", AFTER_ANSWER)):
        mem, red = memory.p50(*names), redis.p50(*names)
        rows.append(
            [f"**{label}** ({' + '.join(names)})", fmt(mem), fmt(red), "", ratio(red, mem, 0)]
        )
    report.table(
        ["operation", "in-process p50 µs", "Redis p50 µs", "Redis p99 µs", "Redis / in-process"],
        rows,
        caption=f"{args.requests} sequential calls each; redis-py asyncio, pooled, loopback",
    )
    report.table(
        ["backend", f"request state sequences/s at c={args.concurrency}"],
        [["in-process", fmt(memory.rps, 0)], ["Redis", fmt(redis.rps, 0)]],
        caption="acquire + check + cache get + settle + consume per request, one event loop",
    )
    report.text(
        f"Baseline: a bare Redis PING round trip is {ping:.0f} µs (p50) here. A request of an app "
        "with no limits, budgets or cache configured makes no Redis call at all."
    )
    report.emit(write=not args.no_write)


if __name__ == "__main__":
    asyncio.run(main())
