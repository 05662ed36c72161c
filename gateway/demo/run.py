"""Replay the demo workload through the real pipeline, in-process.

The local tier is the policy's real local model; every cloud alias is pointed at an in-process
`MockUpstream` (the recording mock cloud), so no request leaves the machine while costs still
come from litellm's price map. Records go to the ledger named by `settings.database_url` (the demo
command points it at its own file, `hybridgw-demo.db`, by default), every one marked
`origin = "demo"`.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import yaml

from cloud_backends.mock_upstream import MockUpstream
from gateway.auth import Caller
from gateway.demo.workload import DemoPrompt
from gateway.ledger.factory import build_ledger
from gateway.pipeline import Exchange
from gateway.settings import Settings
from kernel.errors import GatewayError
from kernel.protocols import Ledger, LedgerEntry
from kernel.reporting import GroupBy, ReportRow
from kernel.types import ChatRequest, Message
from policies.loader import default_policy_path

DEMO_KEY_ENV = "HYBRIDGW_DEMO_CLOUD_KEY"
DEMO_ORIGIN = "demo"


class DemoLedger:
    """The demo's ledger: every entry is written to `inner` marked `origin = "demo"`."""

    def __init__(self, inner: Ledger) -> None:
        self._inner = inner

    async def record(self, entry: LedgerEntry) -> None:
        await self._inner.record(replace(entry, origin=DEMO_ORIGIN))

    async def summarize(
        self, *, since: datetime, until: datetime, group_by: GroupBy, tenant: str | None = None
    ) -> list[ReportRow]:
        return await self._inner.summarize(
            since=since, until=until, group_by=group_by, tenant=tenant
        )

    async def aclose(self) -> None:
        await self._inner.aclose()


@dataclass
class DemoRun:
    since: datetime
    until: datetime
    tiers: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)


def demo_policy(source: Path, cloud_base: str, directory: Path) -> Path:
    """A copy of `source` whose cloud aliases call the mock (prices still from litellm)."""
    document = yaml.safe_load(source.read_text(encoding="utf-8"))
    for spec in document["models"].values():
        if spec.get("tier") == "cloud":
            spec["api_base"] = cloud_base
            spec["api_key_env"] = DEMO_KEY_ENV
    path = directory / "demo-policy.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


async def run_demo(
    prompts: list[DemoPrompt],
    settings: Settings,
    *,
    max_tokens: int = 48,
    concurrency: int = 1,
    on_done: Callable[[], None] = lambda: None,
) -> DemoRun:
    """Send every prompt through `Pipeline.complete`; returns the window the records fall in."""
    from gateway.services import build_services

    mock = MockUpstream(record=False).start()
    os.environ.setdefault(DEMO_KEY_ENV, "sk-demo-not-a-real-key")
    with tempfile.TemporaryDirectory(prefix="hybridgw-demo-") as tmp:
        policy = demo_policy(
            settings.policy_file or default_policy_path(), mock.base_url, Path(tmp)
        )
        services = await build_services(
            settings.model_copy(update={"policy_file": policy, "load_local_on_start": False}),
            ledger=DemoLedger(await build_ledger(settings)),
        )
        run = DemoRun(since=datetime.now(UTC), until=datetime.now(UTC))
        gate = asyncio.Semaphore(concurrency)

        async def one(prompt: DemoPrompt) -> None:
            req = ChatRequest(
                model="auto",
                messages=[Message(role="user", content=prompt.text)],
                max_tokens=max_tokens,
            )
            async with gate:
                try:
                    caller = Caller(tenant=prompt.tenant, app=prompt.app)
                    ex = Exchange(uuid.uuid4().hex, caller, services.policies.current, req)
                    _, route = await services.pipeline.complete(ex)
                    run.tiers[route.target.tier if route.target else "none"] += 1
                except GatewayError as exc:
                    run.errors[exc.code] += 1
            on_done()

        try:
            await services.backends.start_local()
            await asyncio.gather(*(one(p) for p in prompts))
        finally:
            run.until = datetime.now(UTC)
            await services.aclose()
            mock.stop()
    return run
