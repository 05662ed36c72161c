"""Measure a local model on gradable items: run each prompt through a `Backend`, grade, append.

Resumable like the GSM8K run: one JSON line per item goes to the checkpoint file as soon as it
is graded, and items already there are skipped. Generation uses the backend's own sampling;
each item gets a fixed seed. Used by `hybridgw router label-gradable` (the shipped SmolLM2
labels) and by `hybridgw router calibrate --local-model` (any deployed model).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from kernel.protocols import Backend

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LabelItem:
    """One prompt and the check that decides whether an answer to it is acceptable."""

    item_id: str
    kind: str
    prompt: str
    check: Callable[[str], bool]
    max_tokens: int = 64


def done_ids(path: Path) -> set[str]:
    """Item ids already in a checkpoint file (a torn last line is ignored)."""
    if not path.exists():
        return set()
    out: set[str] = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            out.add(str(json.loads(line)["id"]))
        except (ValueError, KeyError):
            continue
    return out


async def label(
    items: Sequence[LabelItem],
    backend: Backend,
    model: str,
    out_path: Path,
    seed: int = 7,
    confidence: bool = False,
) -> int:
    """Answer and grade the items not yet in `out_path`; returns how many were labelled now.

    With `confidence`, answers are asked for token logprobs and each record keeps the answer's
    confidence as the escalation stage computes it (geometric mean of token probabilities).
    """
    from gateway.pipeline.escalation import confidence as answer_confidence
    from kernel.types import ChatRequest, Message

    out_path.parent.mkdir(parents=True, exist_ok=True)
    done = done_ids(out_path)
    count = 0
    with out_path.open("a", encoding="utf-8") as out:
        for index, item in enumerate(items):
            if item.item_id in done:
                continue
            req = ChatRequest(
                model=model,
                messages=[Message(role="user", content=item.prompt)],
                max_tokens=item.max_tokens,
                seed=seed + index,
                logprobs=True if confidence else None,
            )
            started = time.perf_counter()
            resp = await backend.complete(req, model=model)
            completion = resp.choices[0].message.content or ""
            record = {
                "id": item.item_id,
                "kind": item.kind,
                "text": item.prompt,
                "local_ok": item.check(completion),
                "seconds": round(time.perf_counter() - started, 3),
                "completion": completion,
            }
            if confidence:
                record["confidence"] = answer_confidence(resp)
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            out.flush()
            count += 1
            log.info("%s %s ok=%s %.2fs", item.item_id, item.kind, record["local_ok"],
                     record["seconds"])  # fmt: skip
    return count


def read_labels(path: Path) -> list[dict[str, object]]:
    """The records of a checkpoint file (torn lines skipped)."""
    rows: list[dict[str, object]] = []
    if not path.exists():
        return rows
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rows.append(json.loads(line))
        except ValueError:
            continue
    return rows
