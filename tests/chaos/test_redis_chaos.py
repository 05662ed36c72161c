"""A hung Redis (connections open, nothing answered) behind a chaos proxy.

Fail open: after the circuit opens the gateway stops waiting for Redis, so throughput stays at
least half of normal (before circuits: four sequential 1 s timeouts per request, 618 → 2 req/s).
Fail closed: requests are refused with 503 at once, /readyz says so, and both recover by
themselves once Redis answers again.
"""

from __future__ import annotations

import asyncio
import time

from support import AUTH, chat_body, policy_yaml

URL = "/v1/chat/completions"
LIMITS = "limits: {apps: {app1: {requests_per_minute: 100000, tokens_per_minute: 100000000}}}\n"
CLIENTS = 8
WINDOW_S = 4.0


async def answered_in(client, seconds: float) -> int:  # type: ignore[no-untyped-def]
    """200s that `CLIENTS` closed-loop clients get in `seconds`."""
    deadline = time.monotonic() + seconds
    counts = [0] * CLIENTS

    async def run(slot: int) -> None:
        n = 0
        while time.monotonic() < deadline:
            body = chat_body(f"client {slot} request {n}")
            r = await client.post(URL, json=body, headers=AUTH)
            assert r.status_code == 200, r.text
            n += 1
        counts[slot] = n

    await asyncio.gather(*(run(i) for i in range(CLIENTS)))
    return sum(counts)


async def test_hung_redis_keeps_half_the_throughput_when_failing_open(
    gateway, write_policy, cloud_mock, local_mock, redis_proxy, redis_prefix
):
    policy = write_policy(policy_yaml(cloud_mock.base_url, local_mock.base_url, LIMITS))
    settings = {"redis_url": redis_proxy.url("redis", "/0"), "redis_key_prefix": redis_prefix}
    async with gateway(policy=policy, **settings) as gw:
        await answered_in(gw.client, 0.5)  # warm up: first-request costs are not Redis's
        normal = await answered_in(gw.client, WINDOW_S)
        redis_proxy.set("hang")
        hung = await answered_in(gw.client, WINDOW_S)
        ready = (await gw.client.get("/readyz")).json()
        redis_proxy.set("pass")
    assert normal > 0
    assert hung >= 0.5 * normal, f"{hung} answers with Redis hung vs {normal} normally"
    assert ready["circuits"]["redis"] in ("open", "half_open")


async def test_hung_redis_fail_closed_refuses_fast_and_recovers(
    gateway, write_policy, cloud_mock, local_mock, redis_proxy, redis_prefix
):
    policy = write_policy(policy_yaml(cloud_mock.base_url, local_mock.base_url, LIMITS))
    settings = {
        "redis_url": redis_proxy.url("redis", "/0"),
        "redis_key_prefix": redis_prefix,
        "redis_failure_mode": "closed",
        "circuit_failures": 2,
        "circuit_backoff_s": 0.5,
    }
    async with gateway(policy=policy, **settings) as gw:
        assert (await gw.client.post(URL, json=chat_body(), headers=AUTH)).status_code == 200
        redis_proxy.set("hang")
        for _ in range(2):  # each waits out one Redis timeout, then the circuit opens
            r = await gw.client.post(URL, json=chat_body(), headers=AUTH)
            assert r.status_code == 503
        started = time.perf_counter()
        r = await gw.client.post(URL, json=chat_body(), headers=AUTH)
        assert r.status_code == 503 and time.perf_counter() - started < 0.5
        ready = await gw.client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["status"] == "refusing"
        metrics = (await gw.client.get("/metrics")).text
        assert 'hybridgw_circuit_state{dependency="redis"} 2.0' in metrics

        redis_proxy.set("pass")

        async def serving() -> bool:
            r = await gw.client.post(URL, json=chat_body(), headers=AUTH)
            return r.status_code == 200

        deadline = time.monotonic() + 10
        while not await serving():
            assert time.monotonic() < deadline, "no recovery within 10 s"
            await asyncio.sleep(0.1)
        assert (await gw.client.get("/readyz")).json()["circuits"]["redis"] == "closed"
