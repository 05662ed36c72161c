"""The shipped gradable sets as `LabelItem`s: the everyday tasks of `gradable.py` + a GSM8K sample.

Both `label-gradable` (the committed SmolLM2 labels) and `calibrate --local-model` build their
items here, so a new local model is measured on exactly the task types the default was.
"""

from __future__ import annotations

import json
import random
from functools import partial
from pathlib import Path

from training.router import gradable
from training.router.label_gsm8k import PROMPT_SUFFIX, gold_answer, predicted_answer
from training.router.label_local import LabelItem


def _grade_task(task: gradable.Task, completion: str) -> bool:
    return gradable.grade(task, completion)


def _grade_gsm8k(gold: str | None, completion: str) -> bool:
    return gold is not None and predicted_answer(completion) == gold


def everyday_items(per_kind: int) -> list[LabelItem]:
    """`per_kind` templated everyday tasks of each kind."""
    out = []
    for i, task in enumerate(gradable.tasks(per_kind)):
        out.append(
            LabelItem(
                item_id=f"everyday:{i}",
                kind=task.kind,
                prompt=task.prompt,
                check=partial(_grade_task, task),
            )
        )
    return out


def gsm8k_items(gsm8k_path: Path, count: int, seed: int = 20261201) -> list[LabelItem]:
    """A seeded sample of GSM8K train questions, exact match on the final number."""
    with gsm8k_path.open(encoding="utf-8") as handle:
        records = [json.loads(line) for line in handle if line.strip()]
    picked = random.Random(seed).sample(range(len(records)), count)
    out = []
    for index in picked:
        gold = gold_answer(records[index]["answer"])
        out.append(
            LabelItem(
                item_id=f"gsm8k:{index}",
                kind="gsm8k",
                prompt=records[index]["question"] + PROMPT_SUFFIX,
                check=partial(_grade_gsm8k, gold),
                max_tokens=256,
            )
        )
    return out
