"""Assemble the versioned classifier dataset from `../shared/data` (+ measured GSM8K labels).

Steps: read every source → drop RouteLLM's contaminated MMLU prompts → deduplicate on
normalised text (first occurrence wins; sources are read in a fixed order, measured labels
first) → split by source item (hash of `group`) → write `{train,validation,test}.jsonl.gz`
(deterministic gzip) and `manifest.json` with counts and sha256 per file.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from router.profiles import HEADS
from training.router import sources_difficulty as diff
from training.router import sources_sensitivity as sens
from training.router.paths import DATASET_VERSION
from training.router.records import Row, dedup_key, split_of
from training.router.synth import synthetic_rows
from training.router.synth_personal import personal_rows

SPLITS = ("train", "validation", "test")


def all_rows(data: Path, gsm8k_labels: Path, everyday_labels: Path) -> Iterator[Row]:
    """Every source in a fixed order (measured labels first, so they win deduplication)."""
    yield from diff.gsm8k_rows(data, gsm8k_labels)
    yield from diff.everyday_rows(everyday_labels)
    yield from diff.routerdc_rows(data)
    yield from diff.mmlu_rows(data)
    yield from diff.arena_rows(data)
    yield from diff.easy_rows(data)
    yield from sens.presidio_rows(data)
    yield from sens.privacylens_rows(data)
    yield from sens.confaide_rows(data)
    yield from sens.synthpai_rows(data)
    yield from sens.medquad_rows(data)
    yield from sens.banking_rows(data)
    yield from sens.meqsum_rows(data)
    yield from synthetic_rows(data / "sensitivity/presidio/templates.txt")
    yield from personal_rows()


def clean(rows: Iterable[Row], contaminated: set[str]) -> tuple[list[Row], Counter[str]]:
    """Drop contaminated and duplicate prompts (merging their labels); count what was dropped."""
    seen: dict[str, int] = {}
    kept: list[Row] = []
    dropped: Counter[str] = Counter()
    for row in rows:
        if not row.text.strip():
            dropped["empty"] += 1
            continue
        if row.text.strip() in contaminated:
            dropped["routellm_contaminated"] += 1
            continue
        key = dedup_key(row.text)
        if key in seen:  # first occurrence wins; it takes the labels it lacks
            kept[seen[key]] = kept[seen[key]].merged(row)
            dropped[f"duplicate:{row.source}"] += 1
            continue
        seen[key] = len(kept)
        kept.append(row)
    return kept, dropped


def write_jsonl_gz(path: Path, records: Iterable[dict[str, Any]]) -> str:
    """Write gzip'd JSON lines with a fixed header (mtime 0): same rows → same bytes."""
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as gz:
        for record in records:
            gz.write((json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n").encode())
    path.write_bytes(buffer.getvalue())
    return hashlib.sha256(buffer.getvalue()).hexdigest()


def read_split(directory: Path, split: str) -> list[dict[str, Any]]:
    """Load one split of a built dataset."""
    with gzip.open(directory / f"{split}.jsonl.gz", "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def build(data: Path, gsm8k_labels: Path, everyday_labels: Path, out_dir: Path) -> dict[str, Any]:
    """Build the dataset into `out_dir`; returns the manifest (also written as manifest.json)."""
    source_rows = all_rows(data, gsm8k_labels, everyday_labels)
    rows, dropped = clean(source_rows, diff.contaminated_prompts(data))
    out_dir.mkdir(parents=True, exist_ok=True)
    by_split: dict[str, list[dict[str, Any]]] = {s: [] for s in SPLITS}
    for row in rows:
        split = split_of(row.group)
        by_split[split].append(row.to_json(split))
    manifest: dict[str, Any] = {
        "version": DATASET_VERSION,
        "dropped": dict(sorted(dropped.items())),
    }
    files: dict[str, Any] = {}
    for split, records in by_split.items():
        digest = write_jsonl_gz(out_dir / f"{split}.jsonl.gz", records)
        files[split] = {"rows": len(records), "sha256": digest, **_counts(records)}
    manifest["files"] = files
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return manifest


def _counts(records: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for head in HEADS:
        per: Counter[str] = Counter()
        pos: Counter[str] = Counter()
        for r in records:
            if r[head] is not None:
                per[r[f"{head}_source"]] += 1
                pos[r[f"{head}_source"]] += int(r[head] >= 0.5)
        out[head] = {k: {"rows": per[k], "positives": pos[k]} for k in sorted(per)}
    return out
