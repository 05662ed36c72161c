"""The `hybridgw policy whatif` table: current vs draft, then the route changes by rule."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from gateway.cli.report_cmd import usd
from gateway.whatif import Scenario, WhatIf


def _share(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _ms(scenario: Scenario) -> str:
    if scenario.latency_ms_mean is None:
        return "—"
    return f"{scenario.latency_ms_mean:,.0f} ({scenario.latency_basis})"


def print_whatif(result: WhatIf, console: Console) -> None:
    window = f"{result.since:%Y-%m-%d %H:%M} → {result.until:%Y-%m-%d %H:%M} UTC"
    summary = Table(
        "policy",
        "local share",
        "cost",
        "PII exposure",
        "blocked",
        "est. latency ms",
        title=f"What-if over {result.requests:,} requests · {window}",
    )
    for name, s in (("current", result.current), ("draft", result.draft)):
        summary.add_row(
            name,
            _share(s.local_share),
            usd(s.cost_usd),
            f"{s.pii_exposure:,}",
            f"{s.blocked:,}",
            _ms(s),
        )
    console.print(summary)
    console.print(
        f"{result.changed:,} of {result.requests:,} requests change route"
        + (f"; {result.skipped:,} rows without decision inputs skipped." if result.skipped else ".")
    )
    if result.transitions:
        moves = Table("current rule → route", "draft rule → route", "requests", title="Changes")
        for t in result.transitions:
            moves.add_row(
                f"{t.from_rule} → {t.from_route}", f"{t.to_rule} → {t.to_route}", f"{t.requests:,}"
            )
        console.print(moves)
    console.print(
        "Costs replay each row's real token counts on the replayed model (litellm prices). "
        "PII exposure: requests whose redacted text would reach the cloud. See docs/ledger.md."
    )
