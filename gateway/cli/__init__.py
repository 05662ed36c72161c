"""`hybridgw`: the command line. Each command group lives in its own module."""

from __future__ import annotations

from importlib.util import find_spec

import typer

from gateway.cli import pii_cmd, policy_cmd
from gateway.cli.core import chat, models, serve
from gateway.cli.demo_cmd import demo
from gateway.cli.report_cmd import report

app = typer.Typer(
    name="hybridgw",
    help="Hybrid edge/cloud LLM routing gateway.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
app.command()(serve)
app.command()(chat)
app.command()(models)
app.command()(report)
app.command()(demo)
if find_spec("training") is not None:  # tooling: in a source checkout, not in the wheel
    from gateway.cli import router_cmd

    app.add_typer(router_cmd.app, name="router", help="Train, evaluate and calibrate the router.")
app.add_typer(policy_cmd.app, name="policy", help="Check, explain and document policies.")
app.add_typer(pii_cmd.app, name="pii", help="Try PII detection and redaction.")


def main() -> None:
    app()
