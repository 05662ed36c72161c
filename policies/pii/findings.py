"""What a scan returns: spans with an entity type and a score, never the matched value.

A `Finding` is deliberately value-free so that it can be logged, counted and stored in the
ledger; the value is recovered from the scanned text only where redaction needs it.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

SegmentKind = Literal["content", "part", "tool_args", "name", "tool_description", "user"]


@dataclass(frozen=True, slots=True)
class Finding:
    """One detected entity: `text[start:end]` is of `entity_type`, with confidence `score`."""

    entity_type: str
    start: int
    end: int
    score: float

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end:
            raise ValueError(f"bad span {self.start}:{self.end}")


@dataclass(frozen=True, slots=True)
class SegmentFindings:
    """The findings in one scanned piece of text of a request.

    `kind` says where the text lives in message `message_index`: its string `content`, the text
    part `index` of a list content, the JSON `arguments` of its tool call `index`, or its
    `name` field; `tool_description` (message index -1) is the description of the request's
    tool definition `index`, `user` (-1) the request's `user` field.
    """

    message_index: int
    kind: SegmentKind
    index: int
    findings: tuple[Finding, ...]


@dataclass(frozen=True, slots=True)
class RequestFindings:
    """Everything found in a request: what the router and the ledger need, and where it is."""

    segments: tuple[SegmentFindings, ...] = ()
    model_checked: bool = False
    counts: dict[str, int] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        counter: Counter[str] = Counter(
            f.entity_type for seg in self.segments for f in seg.findings
        )
        object.__setattr__(self, "counts", dict(sorted(counter.items())))

    @property
    def types(self) -> frozenset[str]:
        """The entity types present (e.g. for `if "CREDIT_CARD" in findings.types`)."""
        return frozenset(self.counts)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def __bool__(self) -> bool:
        return bool(self.counts)

    def for_message(self, message_index: int) -> tuple[SegmentFindings, ...]:
        return tuple(s for s in self.segments if s.message_index == message_index)


def resolve_overlaps(findings: Iterable[Finding]) -> list[Finding]:
    """Keep a non-overlapping subset: higher score wins, then the longer span, then the earlier.

    Returned sorted by start. This is the conflict rule of Presidio's `EntityRecognizer`
    de-duplication, made total so the result never depends on recognizer order.
    """
    ranked = sorted(findings, key=lambda f: (-f.score, -(f.end - f.start), f.start, f.entity_type))
    kept: list[Finding] = []  # non-overlapping, so sorted by start is sorted by end too
    starts: list[int] = []
    for cand in ranked:  # O(n log n): only the kept neighbours on either side can overlap
        i = bisect_right(starts, cand.start)
        if i > 0 and kept[i - 1].end > cand.start:
            continue
        if i < len(kept) and kept[i].start < cand.end:
            continue
        kept.insert(i, cand)
        starts.insert(i, cand.start)
    return kept
