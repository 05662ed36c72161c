"""The dataset row and the helpers every source reader shares.

A row holds one prompt and at most one label per head; a label that is not known is `None`
(that head does not train on the row). `group` is the source item the row came from: the split
is made by group, so a prompt and its variants never straddle train and test.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass, replace
from typing import Any

from router.profiles import SENSITIVITY, difficulty_key

_SPACE = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Row:
    """One prompt with its labels and provenance."""

    text: str
    source: str
    group: str
    provenance: str
    license: str
    difficulty: float | None = None  # profile smollm2-135m
    difficulty_source: str | None = None
    difficulty_7b: float | None = None  # profile 7b-class
    difficulty_7b_source: str | None = None
    sensitivity: float | None = None
    sensitivity_source: str | None = None

    def to_json(self, split: str) -> dict[str, Any]:
        """The row as written to the dataset files: labels keyed by head name (`HEADS`)."""
        record = asdict(self)
        for field_name, head in FIELD_HEADS.items():
            record[head] = record.pop(field_name)
            record[f"{head}_source"] = record.pop(f"{field_name}_source")
        record["split"] = split
        record["id"] = stable_id(self.source, self.provenance)
        return record

    def merged(self, other: Row) -> Row:
        """This row with the labels it lacks taken from `other` (a duplicate of its text)."""
        updates: dict[str, Any] = {}
        for name in FIELD_HEADS:
            if getattr(self, name) is None and getattr(other, name) is not None:
                updates[name] = getattr(other, name)
                updates[f"{name}_source"] = getattr(other, f"{name}_source")
        return replace(self, **updates) if updates else self


FIELD_HEADS = {
    "difficulty": difficulty_key("smollm2-135m"),
    "difficulty_7b": difficulty_key("7b-class"),
    "sensitivity": SENSITIVITY,
}


def stable_id(*parts: str) -> str:
    """A short deterministic id."""
    return hashlib.sha1("\x1f".join(parts).encode("utf-8")).hexdigest()[:16]


def dedup_key(text: str) -> str:
    """Case- and whitespace-insensitive identity of a prompt."""
    return _SPACE.sub(" ", text).strip().lower()


def split_of(group: str, *, validation: float = 0.15, test: float = 0.15) -> str:
    """Deterministic split by hashing the group key: train / validation / test."""
    bucket = int(hashlib.sha256(group.encode("utf-8")).hexdigest()[:8], 16) / 0xFFFFFFFF
    if bucket < test:
        return "test"
    if bucket < test + validation:
        return "validation"
    return "train"
