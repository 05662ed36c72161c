"""`hybridgw demo`: replay a mixed workload through the real pipeline and print the savings."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress

from gateway.reports.build import Report
from kernel.reporting import GroupBy

console = Console()
DEMO_LEDGER = "sqlite:///hybridgw-demo.db"


def demo(
    requests: Annotated[
        int, typer.Option("--requests", "-n", min=1, help="Prompts to send.")
    ] = 100,
    seed: Annotated[int, typer.Option(help="Sampling seed (same seed, same prompts).")] = 2026,
    max_tokens: Annotated[int, typer.Option(min=1, help="Completion cap per request.")] = 48,
    ledger_url: Annotated[
        str,
        typer.Option(
            "--ledger", help="Where the demo's rows go (never HYBRIDGW_DATABASE_URL by default)."
        ),
    ] = DEMO_LEDGER,
) -> None:
    """Send a seeded sample of real prompts through the gateway; local model real, cloud mocked.

    Records go to the demo's own ledger (default ./hybridgw-demo.db, not the gateway's), each
    marked origin=demo; `HYBRIDGW_DATABASE_URL=sqlite:///hybridgw-demo.db hybridgw report`
    shows them again.
    """
    from gateway.cli.report_cmd import print_report, usd
    from gateway.demo.run import run_demo
    from gateway.demo.workload import load_workload
    from gateway.ledger.factory import build_ledger, describe_store
    from gateway.reports.build import build_report
    from gateway.settings import Settings

    settings = Settings().model_copy(update={"database_url": ledger_url})
    prompts = load_workload(requests, seed)
    # Fallbacks and failures are counted in the report; per-request warnings would bury it.
    logging.getLogger("gateway.pipeline").setLevel(logging.ERROR)
    console.print(f"Demo ledger: {describe_store(settings.database_url)}")
    console.print(
        f"Replaying {len(prompts)} prompts (seed {seed}) through the real pipeline: local model "
        "in-process, cloud models answered by a local mock priced with litellm's price map."
    )
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("requests", total=len(prompts))
        run = asyncio.run(
            run_demo(
                prompts,
                settings,
                max_tokens=max_tokens,
                on_done=lambda: progress.advance(task),
            )
        )

    async def report_for(group_by: GroupBy) -> Report:
        ledger = await build_ledger(settings)
        try:
            return await build_report(
                ledger,
                since=run.since,
                until=run.until + timedelta(seconds=1),
                group_by=group_by,
                tenant=None,
                reference_estimate_ms=settings.reference_latency_estimate_ms,
            )
        finally:
            await ledger.aclose()

    result = asyncio.run(report_for("app"))
    print_report(result)
    total = result.total
    if run.errors:
        console.print(f"Errors: {dict(run.errors)}")
    console.print(
        f"\n[bold]{total.requests} requests, {_share(total.local_share)} served locally: "
        f"actual {usd(total.cost_usd)} vs all-cloud {usd(total.counterfactual_cost_usd)} → "
        f"saved {usd(total.savings_usd)}"
        + (f" ({total.savings_pct:.1f}%)" if total.savings_pct is not None else "")
        + "[/bold]"
    )
    console.print(
        f"Of which {usd(total.savings_local_usd)} by local serving and "
        f"{usd(total.savings_cloud_choice_usd)} by cloud model choice (reference model: "
        f"{', '.join(total.reference_models) or 'none'})."
    )
    console.print(
        "Cloud latencies here are the mock's, not a real provider's. Recorded (marked "
        f"origin=demo) in {describe_store(settings.database_url)}, not in the gateway's "
        f"ledger; next: `HYBRIDGW_DATABASE_URL={settings.database_url} hybridgw report "
        "--group-by tier`."
    )


def _share(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"
