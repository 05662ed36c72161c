"""`hybridgw`: the command line. Each command group lives in its own module."""

from __future__ import annotations

import typer

from gateway.cli import router_cmd
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
app.add_typer(router_cmd.app, name="router", help="Train, evaluate and calibrate the router.")


def main() -> None:
    app()
