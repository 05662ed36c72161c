"""`hybridgw policy check | explain | whatif | schema`: validate, try, replay, document."""

from __future__ import annotations

import asyncio
import json
import os
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from gateway.cli.core import PolicyOption

app = typer.Typer(no_args_is_help=True, help="Check, explain and document routing policies.")
console = Console()
err_console = Console(stderr=True)


def policy_path(policy: Path | None) -> Path:
    """--policy, else HYBRIDGW_POLICY_FILE, else the embedded default policy."""
    from policies.loader import default_policy_path

    env = os.environ.get("HYBRIDGW_POLICY_FILE")
    return policy or (Path(env) if env else default_policy_path())


def schema_text() -> str:
    """The policy file's JSON Schema, as committed in policies/policy.schema.json."""
    from policies.schema import PolicyDocument

    schema = PolicyDocument.model_json_schema()
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **schema,
        "title": "hybrid-gateway routing policy",
    }
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


@app.command()
def check(
    files: Annotated[list[Path], typer.Argument(help="Policy YAML files to validate.")],
) -> None:
    """Validate policy files: exit 0 when all are valid, 1 with file:line:col errors otherwise."""
    from kernel.errors import PolicyError
    from policies.loader import load_policy

    failed = False
    for file in files:
        try:
            document = load_policy(file).document
        except PolicyError as exc:
            failed = True
            for line in exc.message.splitlines():
                err_console.print(f"[red]error[/] {line}", highlight=False, soft_wrap=True)
            continue
        rules = f"{len(document.protect)} protect + {len(document.route)} route rules"
        console.print(
            f"[green]ok[/] {file}: {len(document.models)} models, {rules}, "
            f"{len(document.apps)} apps, {len(document.pii.entities)} PII types",
            highlight=False,
            soft_wrap=True,
        )
    if failed:
        raise typer.Exit(1)


@app.command()
def explain(
    prompt: Annotated[str, typer.Argument(help="The user message to route.")],
    policy: PolicyOption = None,
    app_name: Annotated[
        str | None, typer.Option("--app", help="Route as this policy app (tenant follows).")
    ] = None,
    model: Annotated[str, typer.Option(help="'auto' or a model alias to pin.")] = "auto",
    as_json: Annotated[bool, typer.Option("--json", help="Print the explain JSON.")] = False,
) -> None:
    """Show how a prompt would be routed: scores, PII found, the rule and why, target, fallbacks.

    Nothing is sent to any model. PII is shown as types and positions, never the values.
    """
    from gateway.explain import ExplainRequest
    from kernel.errors import GatewayError

    request = ExplainRequest(prompt=prompt, app=app_name, model=model)
    try:
        report = asyncio.run(_explain(policy_path(policy), request))
    except GatewayError as exc:
        err_console.print(f"[red]error:[/] {exc.message}", highlight=False)
        raise typer.Exit(1) from None
    if as_json:
        typer.echo(json.dumps(report, indent=2))
    else:
        _print_report(report)


class WhatIfFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


@app.command()
def whatif(
    draft: Annotated[Path, typer.Argument(help="The draft policy YAML to replay.")],
    policy: PolicyOption = None,
    since: Annotated[
        str | None, typer.Option(help="First day (YYYY-MM-DD) or ISO datetime; default 30 days.")
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="Last day, inclusive (YYYY-MM-DD), or ISO datetime.")
    ] = None,
    output: Annotated[WhatIfFormat, typer.Option("--format")] = WhatIfFormat.table,
) -> None:
    """Replay past traffic (the ledger's decision inputs) under the draft and the current policy.

    Reports how many requests change route and, for both policies, local share, cost, PII
    exposure and estimated latency. Nothing is sent to any model.
    """
    from gateway.reports.build import window
    from kernel.errors import PolicyError
    from policies.loader import load_policy

    try:
        start, end = window(since, until)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    try:
        current = load_policy(policy_path(policy)).document
        proposed = load_policy(draft).document
    except PolicyError as exc:
        for line in exc.message.splitlines():
            err_console.print(f"[red]error[/] {line}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    result = asyncio.run(_whatif(current, proposed, start, end))
    if output is WhatIfFormat.json:
        typer.echo(json.dumps(result.to_json(), indent=2))
    elif output is WhatIfFormat.csv:
        typer.echo(result.to_csv(), nl=False)
    else:
        from gateway.cli.whatif_view import print_whatif

        print_whatif(result, console)


async def _whatif(current: Any, draft: Any, since: Any, until: Any) -> Any:
    from gateway.ledger.factory import build_ledger
    from gateway.settings import Settings
    from gateway.whatif import what_if_window

    settings = Settings()
    ledger = await build_ledger(settings)
    try:
        return await what_if_window(
            ledger, current, draft, since=since, until=until, settings=settings
        )
    finally:
        await ledger.aclose()


@app.command()
def schema(
    out: Annotated[
        Path | None, typer.Option(help="Write to this file instead of standard output.")
    ] = None,
) -> None:
    """Print the policy JSON Schema (for editor completion and validation)."""
    text = schema_text()
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text)
        err_console.print(f"wrote {out}")


async def _explain(path: Path, request: Any) -> dict[str, Any]:
    from gateway.explain import explain as explain_request
    from gateway.ledger.memory import InMemoryLedger
    from gateway.services import build_services
    from gateway.settings import Settings

    settings = Settings(policy_file=path, load_local_on_start=False, policy_watch=False)
    services = await build_services(settings, ledger=InMemoryLedger())  # explain records nothing
    try:
        return await explain_request(services, request)
    finally:
        await services.aclose()


def _print_report(report: dict[str, Any]) -> None:
    decision, pii = report["decision"], report["pii"]
    scores = ", ".join(f"{name} {value:.2f}" for name, value in report["scores"].items())
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    table.add_row("policy", report["policy_version"])
    table.add_row("scores", scores)
    req = report["request"]
    table.add_row(
        "request", f"{req['prompt_tokens']} tokens · tenant {req['tenant']} · app {req['app']}"
    )
    spans = ", ".join(f"{f['type']} [{f['start']}:{f['end']}]" for f in pii["findings"])
    table.add_row("pii", spans or "none found")
    table.add_row("rule", f"{decision['rule']} — {decision['reason']}")
    table.add_row("action", decision["action"] + (" (redacted)" if decision["redact"] else ""))
    table.add_row("target", _describe(decision["target"]))
    fallbacks = ", ".join(_describe(t) for t in decision["fallbacks"])
    table.add_row("fallbacks", fallbacks or "none")
    if decision["message"]:
        table.add_row("message", decision["message"])
    console.print(table, highlight=False)


def _describe(target: dict[str, str] | None) -> str:
    if target is None:
        return "none (blocked)"
    return f"{target['alias']} ({target['tier']}, {target['backend']} {target['model']})"
