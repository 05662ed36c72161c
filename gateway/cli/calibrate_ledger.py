"""The `--from-ledger` branch of `hybridgw router calibrate` (see gateway.reports.calibrate)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import typer
from rich.console import Console

from gateway.reports.calibrate import LedgerFit, fit_from_ledger

DAYS = 30


def calibrate_from_ledger(
    target_local_share: float | None,
    quality_floor: float | None,
    policy: Path | None,
    console: Console,
) -> None:
    try:
        result = asyncio.run(_fit(target_local_share, quality_floor))
    except ValueError as exc:
        console.print(f"[red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    low, high = result.quality_ci
    console.print(
        f"threshold {result.threshold:.4f}: {result.local_share:.3f} of {result.requests:,} "
        f"requests local; quality retained {result.quality:.3f} on {result.verdicts:,} shadow "
        f"verdicts (95% CI {low:.3f}–{high:.3f}, in-sample)",
        soft_wrap=True,
    )
    if result.capped:
        console.print(
            "capped at the highest graded difficulty: verdicts cover only prompts that were "
            "served locally, so they cannot support a higher threshold",
            soft_wrap=True,
        )
    from training.router.calibrate import write_policy, yaml_snippet

    if policy is not None and write_policy(policy, result.threshold):
        console.print(f"updated difficulty_gte in {policy}", soft_wrap=True)
        return
    console.print(yaml_snippet(result.threshold), markup=False)


async def _fit(target_local_share: float | None, quality_floor: float | None) -> LedgerFit:
    from gateway.ledger.factory import build_ledger
    from gateway.settings import Settings

    ledger = await build_ledger(Settings())
    try:
        return await fit_from_ledger(
            ledger, days=DAYS, quality_floor=quality_floor, target_local_share=target_local_share
        )
    finally:
        await ledger.aclose()
