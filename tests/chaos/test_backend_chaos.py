"""Backends under fault: a hung model cannot starve a healthy one; a failing one is skipped.

Built through the real `BackendPool` (the seam the pipeline uses), on the session's mock upstream
(a model name with `slow-<ms>` makes it wait) and through a chaos proxy.
"""

from __future__ import annotations

import asyncio
import statistics
import time

import pytest
from chaos_proxy import ChaosProxy

from gateway.backends import BackendPool
from gateway.circuit import CircuitConfig
from kernel.errors import BackendTimeout, BackendUnavailable
from kernel.types import ChatRequest, Message
from local_backends.registry import LocalDefaults
from router.policy import ModelTarget

REQ = ChatRequest(model="auto", messages=[Message(role="user", content="Say hello.")])
HUNG_CALLS = 150  # more than aiohttp's default pool (100) and the in-flight cap (64)


def target(backend: str, model: str, api_base: str, timeout_s: float) -> ModelTarget:
    tier = "cloud" if backend == "litellm" else "local"
    prefix = "openai/" if backend == "litellm" else ""
    return ModelTarget(
        tier=tier, backend=backend, model=prefix + model, api_base=api_base, timeout_s=timeout_s
    )


async def latency(pool: BackendPool, alias: str, model: str) -> float:
    started = time.perf_counter()
    await pool.get(alias).complete(REQ, model=model)
    return time.perf_counter() - started


@pytest.mark.parametrize("backend", ["openai_compat", "litellm"])
async def test_a_hung_alias_never_delays_a_healthy_one_on_the_same_server(backend, local_mock):
    api_base = local_mock.base_url
    hung, healthy = target(backend, "slow-20000", api_base, 8), target(backend, "echo", api_base, 8)
    pool = BackendPool(LocalDefaults())
    pool.configure({"hung": hung, "healthy": healthy})
    try:
        baseline = [await latency(pool, "healthy", healthy.model) for _ in range(5)]
        stuck = [
            asyncio.create_task(pool.get("hung").complete(REQ, model=hung.model))
            for _ in range(HUNG_CALLS)
        ]
        await asyncio.sleep(0.5)  # let them take every connection and slot they can
        during = [await latency(pool, "healthy", healthy.model) for _ in range(10)]
        done = [t for t in stuck if t.done()]
        for task in stuck:
            task.cancel()
        await asyncio.gather(*stuck, return_exceptions=True)
    finally:
        await pool.aclose()
    # The ones beyond the alias's cap were refused at once (the pipeline tries the next one).
    assert done and all(isinstance(t.exception(), BackendUnavailable) for t in done)
    delay = max(during) - statistics.median(baseline)
    assert delay < 0.5, f"healthy alias delayed by {delay:.2f} s while another hung"


@pytest.mark.parametrize("fault", ["reset", "refuse", "hang"])
async def test_failing_alias_is_skipped_then_probed_back(fault, local_mock):
    port = int(local_mock.base_url.rsplit(":", 1)[1].split("/")[0])
    proxy = ChaosProxy(port).start()
    spec = target("openai_compat", "echo", proxy.url("http", "/v1"), 1.0)
    pool = BackendPool(LocalDefaults(), circuit=CircuitConfig(3, 0.5, 2.0))
    pool.configure({"flaky": spec})
    backend = pool.get("flaky")
    try:
        await backend.complete(REQ, model="echo")
        proxy.set(fault)
        for _ in range(3):
            with pytest.raises(BackendTimeout if fault == "hang" else BackendUnavailable):
                await backend.complete(REQ, model="echo")
        [circuit] = pool.circuits()
        assert circuit.state == "open"
        accepted = proxy.accepted
        started = time.perf_counter()
        with pytest.raises(BackendUnavailable, match="skipped"):
            await backend.complete(REQ, model="echo")
        # No connection attempt, and no wait (half the timeout: generous on a loaded machine).
        assert proxy.accepted == accepted and time.perf_counter() - started < 0.5

        proxy.set("pass")
        await asyncio.sleep(0.6)  # the first backoff (0.5 s)
        await backend.complete(REQ, model="echo")  # the probe succeeds…
        assert circuit.state == "closed"  # …and closes the circuit
    finally:
        await pool.aclose()
        proxy.stop()
