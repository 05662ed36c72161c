"""`hybridgw router ...`: build the classifier's dataset, label, train, evaluate and calibrate.

Heavy imports (scikit-learn, onnxruntime, llama_cpp, matplotlib) happen inside the commands.
"""

from __future__ import annotations

import logging
from pathlib import Path

import typer
from rich.console import Console

from training.router.paths import (
    DATASET_DIR,
    EVERYDAY_LABELS,
    GSM8K_LABELS,
    GSM8K_LABELS_COMMITTED,
)

app = typer.Typer(help="Train, evaluate and calibrate the router's prompt classifier.")
console = Console()

SHARED_DATA = Path("../shared/data")
MODELS_DIR = Path("router/models")
POLICY = Path("policies/examples/default.yaml")
EVERYDAY_PER_KIND = 30


@app.command("label-gsm8k")
def label_gsm8k(
    data: Path = typer.Option(SHARED_DATA, help="The shared data folder (see MANIFEST.md)."),
    out: Path = typer.Option(GSM8K_LABELS, help="Checkpoint file, one JSON line per item."),
    limit: int = typer.Option(2000, help="Label the first N items of the seeded order."),
    threads: int = typer.Option(1, help="llama.cpp threads."),
    log_file: Path | None = typer.Option(None, help="Progress log (default: stderr)."),
) -> None:
    """Run the local SmolLM2 on GSM8K train (resumable) to get measured difficulty labels."""
    from local_backends.llamacpp import LlamaCppBackend, LlamaCppConfig
    from local_backends.registry import default_gguf_path
    from training.router.label_gsm8k import GENERATION, LabelRunConfig, run_blocking

    logging.basicConfig(
        level=logging.INFO,
        filename=str(log_file) if log_file else None,
        format="%(asctime)s %(levelname)s %(message)s",
    )
    config = LabelRunConfig(
        gsm8k_path=data / "difficulty/gsm8k/train.jsonl",
        out_path=out,
        limit=limit,
        n_threads=threads,
    )
    backend = LlamaCppBackend(  # our own local backend, as the labels must reflect it
        LlamaCppConfig(
            model_path=str(default_gguf_path()),
            n_threads=threads,
            n_ctx=1024,
            max_queue=1,
            temperature=GENERATION["temperature"],
            top_p=GENERATION["top_p"],
            repeat_penalty=GENERATION["repeat_penalty"],
        )
    )
    done = run_blocking(config, backend)
    console.print(f"labelled {done} new items into {out}")


@app.command("label-gradable")
def label_gradable(
    out: Path = typer.Option(EVERYDAY_LABELS, help="Checkpoint file, one JSON line per item."),
    per_kind: int = typer.Option(EVERYDAY_PER_KIND, help="Items per everyday task kind."),
    threads: int = typer.Option(1, help="llama.cpp threads."),
) -> None:
    """Run the embedded SmolLM2 on the everyday gradable tasks (resumable) for measured labels."""
    import asyncio

    from local_backends.llamacpp import LlamaCppBackend, LlamaCppConfig
    from local_backends.registry import default_gguf_path
    from training.router.gradable_sets import everyday_items
    from training.router.label_local import label

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    backend = LlamaCppBackend(
        LlamaCppConfig(model_path=str(default_gguf_path()), n_threads=threads, n_ctx=1024)
    )

    async def go() -> int:
        try:
            return await label(everyday_items(per_kind), backend, "smollm2", out)
        finally:
            await backend.aclose()

    console.print(f"labelled {asyncio.run(go())} new items into {out}")


@app.command("build-data")
def build_data(
    data: Path = typer.Option(SHARED_DATA, help="The shared data folder (see MANIFEST.md)."),
    labels: Path = typer.Option(GSM8K_LABELS, help="Live GSM8K labels (label-gsm8k output)."),
    everyday: Path = typer.Option(EVERYDAY_LABELS, help="Live label-gradable output."),
    out: Path = typer.Option(DATASET_DIR, help="Where the versioned dataset is written."),
) -> None:
    """Build the train/validation/test dataset (deduplicated, split by source item).

    Live label checkpoints, if present, are first snapshotted to `<labels>.gz` (committed);
    the dataset is built from those snapshots.
    """
    from training.router import gradable
    from training.router.build_data import build, write_jsonl_gz
    from training.router.label_gsm8k import LabelRunConfig, snapshot
    from training.router.label_local import read_labels

    committed = labels.with_name(labels.name + ".gz")
    if labels.exists():
        config = LabelRunConfig(gsm8k_path=data / "difficulty/gsm8k/train.jsonl", out_path=labels)
        count = snapshot(labels, committed, config)
        console.print(f"snapshotted {count} GSM8K labels to {committed}")
    everyday_committed = everyday.with_name(everyday.name + ".gz")
    if everyday.exists():
        by_prompt = {t.prompt: t for t in gradable.tasks(EVERYDAY_PER_KIND)}
        records = sorted(read_labels(everyday), key=lambda r: int(str(r["id"]).split(":")[-1]))
        for r in records:  # re-grade with the current grader
            r["local_ok"] = gradable.grade(by_prompt[str(r["text"])], str(r["completion"]))
        write_jsonl_gz(everyday_committed, records)
        console.print(f"snapshotted {len(records)} everyday labels to {everyday_committed}")
    manifest = build(data, committed, everyday_committed, out)
    for split, info in manifest["files"].items():
        console.print(f"{split}: {info['rows']} rows")
    console.print(f"dropped: {manifest['dropped']}")


@app.command("train")
def train_cmd(
    dataset: Path = typer.Option(DATASET_DIR, help="Dataset folder (build-data output)."),
    out: Path = typer.Option(MODELS_DIR, help="Where model.onnx and training.json go."),
    version: str = typer.Option("tfidf-lr-v2", help="Model version stored in the ONNX file."),
    seed: int = typer.Option(0),
    max_rows: int | None = typer.Option(None, help="Train on a subset (smoke tests)."),
) -> None:
    """Train the TF-IDF + logistic-regression heads and export one ONNX graph."""
    from training.router.train import TrainConfig, save, train

    config = TrainConfig(dataset_dir=dataset, seed=seed, max_rows=max_rows)
    trained = train(config)
    path = save(trained, config, out, version)
    for name, head in trained.heads.items():
        console.print(f"{name}: C={head.c} platt={head.platt} val={head.validation}")
    console.print(f"wrote {path}")


@app.command("evaluate")
def evaluate_cmd(
    dataset: Path = typer.Option(DATASET_DIR, help="Dataset folder (build-data output)."),
    models: Path = typer.Option(MODELS_DIR, help="Folder with model.onnx."),
    docs: Path = typer.Option(Path("docs"), help="Where router.md and router_curve.png go."),
    labels: Path = typer.Option(GSM8K_LABELS_COMMITTED, help="Committed GSM8K labels."),
    latency_runs: int = typer.Option(300, help="score() calls per prompt size for latency."),
) -> None:
    """Evaluate the shipped model; write metrics, thresholds, model card and docs/router.md."""
    from training.router.publish import publish

    metrics = publish(dataset, models, docs, labels, latency_runs)
    th = metrics["thresholds"]
    console.print(
        f"thresholds: difficulty {th['difficulty']:.4f} sensitivity {th['sensitivity']:.4f}"
    )
    for head in ("difficulty", "sensitivity"):
        m = metrics[head]["overall"]
        console.print(
            f"{head}: ROC-AUC {m['roc_auc']:.3f} PR-AUC {m['pr_auc']:.3f} ECE {m['ece']:.3f}"
        )


@app.command("calibrate")
def calibrate_cmd(
    target_local_share: float | None = typer.Option(None, help="e.g. 0.8"),
    quality_floor: float | None = typer.Option(None, help="e.g. 0.95"),
    labelled: Path | None = typer.Option(
        None, help="JSONL(.gz) rows with text, difficulty (0/1) and optional split."
    ),
    dataset: Path = typer.Option(DATASET_DIR, help="Used when --labelled is not given."),
    model: Path | None = typer.Option(None, help="ONNX model (default: the shipped one)."),
    policy: Path | None = typer.Option(None, help="Policy YAML to update (else print snippet)."),
) -> None:
    """Sweep the difficulty threshold on labelled data; write it into a policy or print it."""
    from training.router.calibrate_cli import run_calibration

    if (target_local_share is None) == (quality_floor is None):
        raise typer.BadParameter("give exactly one of --target-local-share and --quality-floor")
    result = run_calibration(
        labelled=labelled,
        dataset=dataset,
        model=model,
        target_local_share=target_local_share,
        quality_floor=quality_floor,
    )
    fit, held = result.fitted, result.held_out
    console.print(
        f"threshold {fit.threshold:.4f}: fitting set local share {fit.local_share:.3f}, "
        f"quality {fit.quality:.3f} ({result.fit_rows} rows)"
    )
    console.print(
        f"held-out ({result.held_rows} rows): local share {held.local_share:.3f}, "
        f"quality retained {held.quality:.3f}"
    )
    if policy is not None:
        from training.router.calibrate import write_policy

        count = write_policy(policy, fit.threshold)
        if count:
            console.print(f"updated {count} difficulty_gte value(s) in {policy}")
            return
        console.print(f"no difficulty_gte key in {policy}; add this rule:")
    from training.router.calibrate import yaml_snippet

    console.print(yaml_snippet(fit.threshold), markup=False)


if __name__ == "__main__":
    app()
