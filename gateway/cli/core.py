"""`hybridgw serve | chat | models`: run the gateway, try one prompt, list model aliases."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from gateway.auth import Caller
from policies.schema import PolicyDocument

if TYPE_CHECKING:
    from gateway.pipeline import Route
    from gateway.settings import Settings

console = Console()
err_console = Console(stderr=True)

PolicyOption = Annotated[
    Path | None,
    typer.Option("--policy", help="Policy YAML (default: HYBRIDGW_POLICY_FILE or embedded)."),
]


def serve(
    host: Annotated[str | None, typer.Option(help="Listen address (HYBRIDGW_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Listen port (HYBRIDGW_PORT).")] = None,
    workers: Annotated[
        int | None, typer.Option(help="Worker processes (HYBRIDGW_WORKERS).")
    ] = None,
    policy: PolicyOption = None,
) -> None:
    """Run the HTTP gateway: uvicorn, under our own supervisor with more than one worker."""
    from gateway.settings import Settings

    for name, value in (
        ("HOST", host),
        ("PORT", port),
        ("WORKERS", workers),
        ("POLICY_FILE", policy),
    ):
        if value is not None:
            os.environ[f"HYBRIDGW_{name}"] = str(value)
    settings = Settings()
    _check_policy(settings.policy_file)
    # This process has imported every command of the CLI; a fresh interpreter replaces it:
    # uvicorn itself for one worker, else `gateway.supervisor` (standard library only), which
    # forks the workers. The new interpreter finds this same copy of the gateway first; `-P`
    # keeps the working directory off sys.path, as it is for the console script.
    here = str(Path(__file__).resolve().parents[2])
    path = os.pathsep.join(p for p in (here, os.environ.get("PYTHONPATH")) if p)
    os.execve(sys.executable, serve_argv(settings), {**os.environ, "PYTHONPATH": path})


def serve_argv(settings: Settings) -> list[str]:
    """The command line `serve` runs: for one worker uvicorn with the app factory and the
    production HTTP settings, for several the supervisor (which gives its workers the same)."""
    where = ("--host", settings.host, "--port", str(settings.port))
    if settings.workers > 1:
        return [
            *(sys.executable, "-P", "-m", "gateway.supervisor", *where),
            *("--workers", str(settings.workers), "--log-level", settings.log_level),
        ]
    return [
        *(sys.executable, "-P", "-m", "uvicorn", "gateway.app:create_app", "--factory", *where),
        *("--log-level", settings.log_level),
        *("--no-access-log", "--loop", "uvloop", "--http", "httptools", "--ws", "none"),
    ]


def chat(
    prompt: Annotated[str, typer.Argument(help="The user message.")],
    model: Annotated[str, typer.Option(help="'auto' or a model alias.")] = "auto",
    stream: Annotated[bool, typer.Option("--stream", help="Print tokens as they arrive.")] = False,
    max_tokens: Annotated[int | None, typer.Option(help="Completion token cap.")] = None,
    app_name: Annotated[str | None, typer.Option("--app", help="Act as this policy app.")] = None,
    policy: PolicyOption = None,
) -> None:
    """Send one prompt through the full pipeline in-process; print the route and the answer."""
    asyncio.run(_chat(prompt, model, stream, max_tokens, app_name, policy))


async def _chat(
    prompt: str,
    model: str,
    stream: bool,
    max_tokens: int | None,
    app_name: str | None,
    policy: Path | None,
) -> None:
    from gateway.pipeline import Exchange
    from gateway.services import build_services
    from gateway.settings import Settings
    from kernel.errors import GatewayError
    from kernel.types import ChatRequest, Message

    settings = Settings(load_local_on_start=False)
    if policy is not None:
        settings = settings.model_copy(update={"policy_file": policy})
    services = await build_services(settings)
    try:
        caller = _caller(services.policies.current.document, app_name)
        req = ChatRequest(
            model=model,
            messages=[Message(role="user", content=prompt)],
            max_tokens=max_tokens,
            stream=stream,
        )
        ex = Exchange(uuid.uuid4().hex, caller, services.policies.current, req)
        if stream:
            streamed = await services.pipeline.stream(ex)
            _print_route(streamed.route)
            try:
                async for chunk in streamed.chunks:
                    for choice in chunk.choices:
                        console.print(choice.delta.content or "", end="", markup=False)
            finally:
                await streamed.close()
            console.print()
        else:
            response, route = await services.pipeline.complete(ex)
            _print_route(route)
            console.print(response.choices[0].message.content or "", markup=False)
    except GatewayError as exc:
        err_console.print(f"[red]error {exc.status} {exc.code}:[/] {exc.message}")
        raise typer.Exit(1) from None
    finally:
        await services.aclose()


def models(policy: PolicyOption = None) -> None:
    """List the model aliases of the active policy, with tier and price."""
    from cloud_backends.pricing import cloud_price
    from policies.loader import default_policy_path, load_policy

    document = load_policy(policy or _env_policy() or default_policy_path()).document
    table = Table("alias", "tier", "backend", "model", "USD / 1M in", "USD / 1M out")
    for alias, spec in document.models.items():
        if spec.tier == "cloud":
            try:
                price = cloud_price(spec)
                cost_in = f"{price.input_per_token * 1e6:.2f}"
                cost_out = f"{price.output_per_token * 1e6:.2f}"
            except KeyError:
                cost_in = cost_out = "unknown"
        else:
            cost_in = cost_out = "local rate"
        table.add_row(alias, spec.tier, spec.backend, spec.model, cost_in, cost_out)
    console.print(table)


def _print_route(route: Route) -> None:
    target = route.target
    where = f"{target.tier}/{target.alias}" if target else "nowhere"
    fallback = " (fallback)" if route.fallback_used else ""
    err_console.print(
        f"[dim]route: {where}{fallback} · rule {route.decision.rule} · "
        f"{route.decision.reason} · policy {route.policy_version}[/]"
    )


def _caller(document: PolicyDocument, app_name: str | None) -> Caller:
    if app_name is None:
        return Caller(tenant="cli", app="cli")
    for app in document.apps:
        if app.name == app_name:
            return Caller(tenant=app.tenant, app=app.name, cache=app.cache)
    raise typer.BadParameter(f"no app named '{app_name}' in the policy", param_hint="--app")


def _env_policy() -> Path | None:
    value = os.environ.get("HYBRIDGW_POLICY_FILE")
    return Path(value) if value else None


def _check_policy(path: Path | None) -> None:
    """Refuse to start on a bad policy, with the loader's exact message."""
    from kernel.errors import PolicyError
    from policies.loader import default_policy_path, load_policy

    try:
        load_policy(path or default_policy_path())
    except PolicyError as exc:
        err_console.print(f"[red]policy error:[/] {exc.message}")
        raise typer.Exit(1) from None
