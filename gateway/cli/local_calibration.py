"""Calibration against the deployed local model: its difficulty threshold and its escalation
confidence (`hybridgw router calibrate --local-model`, `hybridgw router calibrate-escalation`).

Both run the policy's own backend for the alias on the shipped gradable sets (bounded by
`--per-kind` and `--gsm8k`, checkpointed so a rerun resumes), fit on one half of the items and
report on the other, then write the value into the policy file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.console import Console

SHARED_DATA = Path("../shared/data")
CHECKPOINTS = Path(".hybridgw/calibration")


def _local_backend(alias: str, policy: Path | None, threads: int) -> tuple[Any, Any, Any]:
    """(policy document, the alias's model spec, a backend for it) or a clear CLI error."""
    from gateway.backends import BACKENDS
    from kernel.backends import LocalDefaults
    from policies.loader import PolicyFileError, load_policy

    if policy is None:
        raise typer.BadParameter("--local-model needs --policy (the alias is looked up there)")
    try:
        document = load_policy(policy).document
    except PolicyFileError as exc:
        raise typer.BadParameter(str(exc)) from exc
    spec = document.models.get(alias)
    if spec is None or spec.tier != "local":
        raise typer.BadParameter(f"'{alias}' is not a local model alias in {policy}")
    factory = BACKENDS[spec.backend]  # the policy validated the kind
    backend = factory(spec, LocalDefaults(threads=threads, n_ctx=2048, max_queue=1))
    return document, spec, backend


def _measured(
    alias: str,
    policy: Path | None,
    threads: int,
    items: list[Any],
    answers: Path,
    console: Console,
    *,
    confidence: bool = False,
) -> Any:
    """The alias's backend answers `items` (resuming `answers`); its policy document."""
    from training.router import calibrate_local

    document, spec, backend = _local_backend(alias, policy, threads)
    done = calibrate_local.measure(items, backend, spec.model, answers, confidence=confidence)
    console.print(f"{alias}: {done} new answers graded ({len(items)} items, {answers})")
    return document


def calibrate_difficulty(
    alias: str,
    policy: Path | None,
    data: Path,
    per_kind: int,
    gsm8k: int,
    checkpoint: Path | None,
    threads: int,
    model: Path | None,
    target_local_share: float | None,
    quality_floor: float | None,
    console: Console,
) -> float:
    """Measure the alias, fit the policy's `router_profile` difficulty threshold."""
    from training.router import calibrate_local

    items = calibrate_local.items_for(data, per_kind, gsm8k)
    answers = checkpoint or CHECKPOINTS / f"{alias}.jsonl"
    document = _measured(alias, policy, threads, items, answers, console)
    result = calibrate_local.fit(
        answers,
        items,
        document.router_profile,
        alias=alias,
        target_local_share=target_local_share,
        quality_floor=quality_floor,
        model_path=model,
    )
    fit, held = result.fitted, result.held_out
    console.print(
        f"{alias} answered {result.local_ok_rate:.1%} of {result.items} items acceptably; "
        f"profile {result.profile}: threshold {fit.threshold:.4f} "
        f"(fitting half: local {fit.local_share:.3f}, quality {fit.quality:.3f}; "
        f"held-out half: local {held.local_share:.3f}, quality {held.quality:.3f})"
    )
    return fit.threshold


def calibrate_escalation_cmd(
    local_model: str = typer.Option(..., help="Policy alias of the deployed local model."),
    policy: Path = typer.Option(..., help="Policy YAML (its backend; min_confidence rewritten)."),
    target_escalation_share: float | None = typer.Option(
        None, min=0.0, max=1.0, help="Share of local answers to escalate, e.g. 0.2."
    ),
    quality_floor: float | None = typer.Option(
        None, min=0.0, max=1.0, help="Least share of acceptable answers, e.g. 0.9."
    ),
    data: Path = typer.Option(SHARED_DATA, help="Shared data folder (GSM8K items)."),
    per_kind: int = typer.Option(8, min=1, max=30, help="Everyday items per task kind."),
    gsm8k: int = typer.Option(20, min=0, max=200, help="GSM8K items."),
    checkpoint: Path | None = typer.Option(None, help="Answers file (default per alias)."),
    threads: int = typer.Option(1, min=1, help="llama.cpp threads for an in-process model."),
) -> None:
    """Fit `escalate.min_confidence` on the deployed local model's own answers; write it."""
    from training.router import calibrate_escalation, calibrate_local

    console = Console()
    if (target_escalation_share is None) == (quality_floor is None):
        raise typer.BadParameter(
            "give exactly one of --target-escalation-share and --quality-floor"
        )
    items = calibrate_local.items_for(data, per_kind, gsm8k)
    answers = checkpoint or CHECKPOINTS / f"{local_model}-confidence.jsonl"
    _measured(local_model, policy, threads, items, answers, console, confidence=True)
    try:
        result = calibrate_escalation.fit(
            answers,
            {i.item_id for i in items},
            target_escalation_share=target_escalation_share,
            quality_floor=quality_floor,
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    auc = "n/a (one class)" if result.roc_auc is None else f"{result.roc_auc:.3f}"
    console.print(
        f"{local_model} answered {result.local_ok_rate:.1%} of {result.items} items acceptably; "
        f"confidence vs acceptable ROC-AUC {auc}; min_confidence {result.min_confidence:.4f} "
        f"(fitting half: escalates {result.fitted_escalated:.3f}, quality "
        f"{result.fitted_quality:.3f}; held-out half: escalates {result.held_escalated:.3f}, "
        f"quality {result.held_quality:.3f})"
    )
    count = calibrate_escalation.write_policy(policy, result.min_confidence)
    if count:
        console.print(f"updated {count} min_confidence value(s) in {policy}")
    else:
        console.print(
            f"no escalate.min_confidence in {policy}; add to a local rule or the default:\n"
            f"    escalate: {{min_confidence: {result.min_confidence:.4f}}}",
            markup=False,
        )
