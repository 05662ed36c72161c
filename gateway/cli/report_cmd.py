"""`hybridgw report`: the savings report from the ledger, as a table, CSV or JSON."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from enum import StrEnum
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from gateway.reports.build import Report
from kernel.reporting import GroupBy

console = Console(width=None if Console().is_terminal else 120)
err_console = Console(stderr=True)


class Group(StrEnum):
    day = "day"
    tenant = "tenant"
    app = "app"
    model = "model"
    rule = "rule"
    tier = "tier"


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def report(
    since: Annotated[
        str | None, typer.Option(help="First day (YYYY-MM-DD) or ISO datetime; default 30 days.")
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="Last day, inclusive (YYYY-MM-DD), or ISO datetime.")
    ] = None,
    group_by: Annotated[Group, typer.Option("--group-by", help="Rows per …")] = Group.day,
    tenant: Annotated[str | None, typer.Option(help="Only this tenant.")] = None,
    output: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.table,
) -> None:
    """Cost, counterfactual cost and savings from the ledger (HYBRIDGW_DATABASE_URL)."""
    from gateway.reports.build import window

    try:
        start, end = window(since, until)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    result = asyncio.run(_build(start, end, group_by.value, tenant))
    if output is Format.json:
        console.print_json(json.dumps(result.to_json()))
    elif output is Format.csv:
        typer.echo(result.to_csv(), nl=False)
    else:
        print_report(result)


async def _build(since: datetime, until: datetime, group_by: GroupBy, tenant: str | None) -> Report:
    from gateway.ledger.factory import build_ledger
    from gateway.reports.build import build_report
    from gateway.settings import Settings

    settings = Settings()
    ledger = await build_ledger(settings)
    try:
        return await build_report(
            ledger,
            since=since,
            until=until,
            group_by=group_by,
            tenant=tenant,
            reference_estimate_ms=settings.reference_latency_estimate_ms,
        )
    finally:
        await ledger.aclose()


def usd(value: float) -> str:
    """Cents for large sums, six decimals below a dollar (single requests cost fractions)."""
    return (
        f"${value:,.2f}"
        if abs(value) >= 100
        else f"${value:,.6f}"
        if abs(value) < 1
        else f"${value:,.4f}"
    )


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}%"


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}"


def print_report(result: Report) -> None:
    """The report as two rich tables (money, then latency and quality) with its basis notes."""
    ref = result.latency_reference
    window = f"{result.since:%Y-%m-%d %H:%M} → {result.until:%Y-%m-%d %H:%M} UTC" + (
        f" · tenant {result.tenant}" if result.tenant else ""
    )
    rows = [*result.rows, result.total]
    money = Table(
        result.group_by,
        "requests",
        "tokens in",
        "tokens out",
        "actual",
        "all-cloud",
        "savings",
        "savings %",
        "local share",
        title=f"Cost and savings (USD) · {window}",
    )
    split = Table(
        result.group_by,
        "savings",
        "by local serving",
        "by cloud model choice",
        *(["not split (older rows)"] if result.total.savings_unattributed_usd else []),
        title="Savings split (USD)",
    )
    speed = Table(
        result.group_by,
        "local p50/p95 ms",
        "cloud p50/p95 ms",
        f"saved ms/req ({ref.basis})",
        "fallbacks",
        "errors",
        "PII redacted",
        title="Latency and quality",
    )
    for row in rows:
        name = "TOTAL" if row.is_total else row.group
        style = "bold" if row.is_total else None
        section = bool(result.rows) and row is result.rows[-1]
        money.add_row(
            name,
            f"{row.requests:,}",
            f"{row.prompt_tokens:,}",
            f"{row.completion_tokens:,}",
            usd(row.cost_usd),
            usd(row.counterfactual_cost_usd),
            usd(row.savings_usd),
            _pct(row.savings_pct),
            _pct(None if row.local_share is None else row.local_share * 100),
            style=style,
            end_section=section,
        )
        split.add_row(
            name,
            usd(row.savings_usd),
            usd(row.savings_local_usd),
            usd(row.savings_cloud_choice_usd),
            *([usd(row.savings_unattributed_usd)] if result.total.savings_unattributed_usd else []),
            style=style,
            end_section=section,
        )
        speed.add_row(
            name,
            f"{_ms(row.latency_p50_ms_local)}/{_ms(row.latency_p95_ms_local)}",
            f"{_ms(row.latency_p50_ms_cloud)}/{_ms(row.latency_p95_ms_cloud)}",
            _ms(result.latency_saved_ms(row)),
            f"{row.fallbacks:,}",
            f"{row.errors:,}",
            f"{row.pii_redacted_requests:,}",
            style=style,
            end_section=section,
        )
    console.print(money)
    console.print(split)
    console.print(speed)
    print_basis(result)


def print_basis(result: Report) -> None:
    """The notes under the tables: what all-cloud means, the split, the cost and latency bases."""
    ref = result.latency_reference
    total = result.total
    models = ", ".join(total.reference_models) or "none recorded"
    console.print(
        f"All-cloud = the same tokens on the reference model ({models}). Savings split: by local "
        "serving = the cloud model the policy would otherwise have used − actual; by cloud "
        "model choice = reference − that model."
    )
    q = result.quality
    if q is None:
        console.print("Quality retained: no shadow verdicts in this window (policy `shadow`).")
    else:
        console.print(
            f"Quality retained: {q.retained * 100:.1f}% of {q.samples:,} sampled local answers "
            f"judged as good as {', '.join(q.reference)} (95% CI {q.ci_low * 100:.1f}–"
            f"{q.ci_high * 100:.1f}%, Wilson; judge {', '.join(q.judges)})."
        )
    if total.savings_unattributed_usd:
        console.print(
            f"{usd(total.savings_unattributed_usd)} of savings come from rows recorded before "
            "the split was kept and are not split."
        )
    if total.demo_requests:
        console.print(f"[yellow]{total.demo_requests:,} rows were written by `hybridgw demo`.[/]")
    modes = result.local_cost_modes or ["no local requests in this window"]
    console.print(f"Local cost basis: {', '.join(modes)}.")
    console.print(
        f"Latency reference: {_ms(ref.ms)} ms, {ref.basis}"
        + (
            f" (median of {ref.samples} requests to the reference model)."
            if ref.basis == "measured"
            else f" (configured; only {ref.samples} measured requests to the reference model)."
        )
    )
    console.print("Costs in USD. Savings = counterfactual − actual. See docs/ledger.md.")
