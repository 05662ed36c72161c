"""Per-entity recall and precision of a detector on labelled texts (router-independent tooling).

Matching is by span overlap: a gold span is *found* when a prediction of a compatible type
overlaps it; a prediction is *correct* when it overlaps a gold span of a compatible type.
`coverage` is the share of gold characters covered by compatible predictions (what a redactor
actually hides). Gold types that name the same thing differently are mapped by `GOLD_TO_OURS`
(Presidio's ADDRESS is hidden by our STREET_ADDRESS or LOCATION).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from policies.pii.findings import Finding

GOLD_TO_OURS: dict[str, frozenset[str]] = {
    "ADDRESS": frozenset({"STREET_ADDRESS", "LOCATION"}),
    "STREET_ADDRESS": frozenset({"STREET_ADDRESS"}),
    "LOCATION": frozenset({"LOCATION", "STREET_ADDRESS"}),
    "DATE_OF_BIRTH": frozenset({"DATE_OF_BIRTH"}),
    "DATE_TIME": frozenset({"DATE_OF_BIRTH"}),  # we only detect dates that are birth dates
    "US_DRIVER_LICENSE": frozenset({"DRIVER_LICENSE"}),
}


# Decoy kinds a prediction of some type may legitimately overlap: a city is not a PERSON, but
# calling it a LOCATION is right.
DECOY_MAY_BE: dict[str, frozenset[str]] = {"city": frozenset({"LOCATION"})}


@dataclass(frozen=True, slots=True)
class GoldSpan:
    entity_type: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Sample:
    text: str
    spans: tuple[GoldSpan, ...]
    decoys: tuple[GoldSpan, ...] = ()  # look-alikes that must NOT be detected


@dataclass(slots=True)
class TypeScore:
    gold: int = 0
    found: int = 0
    predicted: int = 0
    correct: int = 0
    gold_chars: int = 0
    covered_chars: int = 0

    @property
    def recall(self) -> float | None:
        return self.found / self.gold if self.gold else None

    @property
    def precision(self) -> float | None:
        return self.correct / self.predicted if self.predicted else None

    @property
    def coverage(self) -> float | None:
        return self.covered_chars / self.gold_chars if self.gold_chars else None


@dataclass(slots=True)
class Report:
    by_type: dict[str, TypeScore] = field(default_factory=lambda: defaultdict(TypeScore))
    decoys: int = 0
    decoys_survived: int = 0
    decoy_hits: dict[str, int] = field(default_factory=lambda: defaultdict(int))


def compatible(gold_type: str, pred_type: str) -> bool:
    """True when a prediction of `pred_type` hides a gold span of `gold_type`."""
    return pred_type == gold_type or pred_type in GOLD_TO_OURS.get(gold_type, frozenset())


def _overlaps(a_start: int, a_end: int, b_start: int, b_end: int) -> bool:
    return a_start < b_end and b_start < a_end


def score(
    samples: Iterable[Sample],
    detect: Callable[[str], list[Finding]],
    *,
    gold_types: Iterable[str] | None = None,
) -> Report:
    """Run `detect` on every sample and tally per-type recall, precision and decoy survival.

    `gold_types` restricts which gold types are scored (others are ignored both ways: a
    prediction overlapping an unscored gold span counts neither as right nor as wrong).
    """
    wanted = frozenset(gold_types) if gold_types is not None else None
    report = Report()
    for sample in samples:
        preds = detect(sample.text)
        gold = [g for g in sample.spans if wanted is None or g.entity_type in wanted]
        ignored = [g for g in sample.spans if wanted is not None and g.entity_type not in wanted]
        for g in gold:
            ts = report.by_type[g.entity_type]
            ts.gold += 1
            ts.gold_chars += g.end - g.start
            hits = [p for p in preds if compatible(g.entity_type, p.entity_type)]
            if any(_overlaps(g.start, g.end, p.start, p.end) for p in hits):
                ts.found += 1
            covered: set[int] = set()
            for p in hits:
                covered.update(range(max(g.start, p.start), min(g.end, p.end)))
            ts.covered_chars += len(covered)
        for p in preds:
            if any(_overlaps(p.start, p.end, g.start, g.end) for g in ignored):
                continue
            if any(
                p.entity_type in DECOY_MAY_BE.get(d.entity_type, ())
                and _overlaps(p.start, p.end, d.start, d.end)
                for d in sample.decoys
            ):
                continue  # a city called a LOCATION: right, but not scored
            ts = report.by_type[p.entity_type]
            ts.predicted += 1
            if any(
                compatible(g.entity_type, p.entity_type)
                and _overlaps(g.start, g.end, p.start, p.end)
                for g in gold
            ):
                ts.correct += 1
        for d in sample.decoys:
            report.decoys += 1
            allowed = DECOY_MAY_BE.get(d.entity_type, frozenset())
            hit = next(
                (
                    p
                    for p in preds
                    if p.entity_type not in allowed and _overlaps(d.start, d.end, p.start, p.end)
                ),
                None,
            )
            if hit is None:
                report.decoys_survived += 1
            else:
                report.decoy_hits[f"{d.entity_type}->{hit.entity_type}"] += 1
    return report


def load_presidio(path: Path) -> list[Sample]:
    """presidio-research's `generated_large.json` (full_text + spans with char offsets)."""
    return presidio_samples(json.loads(path.read_text(encoding="utf-8")))


def presidio_samples(rows: Iterable[Mapping[str, Any]]) -> list[Sample]:
    """Samples of rows in presidio-research's format."""
    return [
        Sample(
            row["full_text"],
            tuple(
                GoldSpan(s["entity_type"], s["start_position"], s["end_position"])
                for s in row["spans"]
            ),
        )
        for row in rows
    ]


def load_jsonl(path: Path) -> list[Sample]:
    """Our synthetic set: {"text", "spans": [[type, start, end]], "decoys": [[kind, s, e]]}."""
    samples = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        samples.append(
            Sample(
                row["text"],
                tuple(GoldSpan(t, s, e) for t, s, e in row.get("spans", ())),
                tuple(GoldSpan(t, s, e) for t, s, e in row.get("decoys", ())),
            )
        )
    return samples


def table(report: Report, title: str, types: Mapping[str, str] | None = None) -> str:
    """A Markdown table of the report (recall/precision/coverage per type)."""

    def pct(x: float | None) -> str:
        return "–" if x is None else f"{100 * x:.1f}%"

    lines = [
        f"**{title}**",
        "",
        "| entity | gold | recall | char coverage | predicted | precision |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name in sorted(report.by_type):
        ts = report.by_type[name]
        label = types.get(name, name) if types else name
        lines.append(
            f"| {label} | {ts.gold} | {pct(ts.recall)} | {pct(ts.coverage)} | "
            f"{ts.predicted} | {pct(ts.precision)} |"
        )
    if report.decoys:
        lines.append("")
        lines.append(
            f"Look-alike decoys surviving: {report.decoys_survived}/{report.decoys}"
            + (f" (hit: {dict(sorted(report.decoy_hits.items()))})" if report.decoy_hits else "")
        )
    return "\n".join(lines)
