"""The recognizer seam: pattern, then validator, then context (Presidio's order).

A recognizer turns a `ScanText` into findings. Most are a `PatternRecognizer`: a regex compiled
once finds candidates cheaply, a validator (checksum, calendar, library parse) rejects or scores
each, and context words around the span raise or cut the score. A cheap `prefilter` lets a
recognizer skip texts that cannot contain its entity at all (no '@' means no e-mail).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

from policies.pii.findings import Finding

CONTEXT_WINDOW = 48


class ScanText:
    """The text being scanned, with a lower-cased copy computed at most once."""

    __slots__ = ("_lower", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._lower: str | None = None

    @property
    def lower(self) -> str:
        if self._lower is None:
            self._lower = self.text.lower()
        return self._lower

    def before(self, start: int, width: int = CONTEXT_WINDOW) -> str:
        """Lower-cased text in the `width` characters before `start`."""
        return self.lower[max(0, start - width) : start]

    def after(self, end: int, width: int = CONTEXT_WINDOW) -> str:
        return self.lower[end : end + width]


class Recognizer(Protocol):
    """Finds entities of `entity_types` in a text."""

    @property
    def entity_types(self) -> frozenset[str]: ...

    def find(self, st: ScanText) -> Iterator[Finding]: ...


# A validator sees the candidate and its match; it returns a score, or None to reject it.
Validator = Callable[[str, re.Match[str], ScanText], float | None]


@dataclass(frozen=True, slots=True)
class PatternRecognizer:
    """Regex candidates, filtered and scored by `validate`.

    `group` names the regex group that is the entity (e.g. the value after `password=`);
    `prefilter` is a plain substring that must occur in the text (case-sensitive), or None.
    """

    entity_type: str
    regex: re.Pattern[str]
    validate: Validator
    group: int | str = 0
    prefilter: str | None = None

    @property
    def entity_types(self) -> frozenset[str]:
        return frozenset({self.entity_type})

    def find(self, st: ScanText) -> Iterator[Finding]:
        if self.prefilter is not None and self.prefilter not in st.text:
            return
        for m in self.regex.finditer(st.text):
            start, end = m.span(self.group)
            if start >= end:
                continue
            score = self.validate(st.text[start:end], m, st)
            if score is not None:
                yield Finding(self.entity_type, start, end, score)


def words_regex(*words: str) -> re.Pattern[str]:
    """A compiled regex matching any of `words` as whole words (lower-case input expected)."""
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<![a-z0-9])(?:{alternatives})(?![a-z0-9])")


def context_score(
    st: ScanText,
    start: int,
    end: int,
    base: float,
    *,
    positive: re.Pattern[str] | None = None,
    negative: re.Pattern[str] | None = None,
    boost: float = 0.3,
    width: int = CONTEXT_WINDOW,
    negative_width: int = 24,
) -> float | None:
    """`base`, raised by `boost` when a positive word is near, None when a negative word is.

    Negative context is only looked for close before the span (e.g. "order no. 4111 …"), within
    `negative_width` characters; positive context within `width` before it, or just after it.
    """
    before = st.before(start, width)
    if negative is not None and negative.search(st.before(start, negative_width)):
        return None
    if positive is not None and (
        positive.search(before) or positive.search(st.after(end, width // 2))
    ):
        return min(1.0, base + boost)
    return base


# Words that, right before a number, say it is a reference number rather than personal data.
REFERENCE_WORDS_LIST: tuple[str, ...] = (
    "order",
    "order no",
    "order number",
    "invoice",
    "tracking",
    "tracking number",
    "shipment",
    "parcel",
    "isbn",
    "issn",
    "sku",
    "part number",
    "part no",
    "serial",
    "serial number",
    "ticket",
    "case",
    "reference",
    "ref",
    "confirmation",
    "booking",
    "version",
    "build",
    "release",
    "model",
    "po",
    "imei",
    "transaction",
    "txn",
    "batch",
    "lot",
)
REFERENCE_WORDS = words_regex(*REFERENCE_WORDS_LIST)
