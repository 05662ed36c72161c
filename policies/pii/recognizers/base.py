"""The recognizer seam: pattern, then validator, then context (Presidio's order).

A recognizer turns a `ScanText` into findings. Most are a `PatternRecognizer`: a regex compiled
once finds candidates, a validator (checksum, calendar, library parse) rejects or scores each,
and context words around the span raise or cut the score.

Speed: one pass of a regex over a 2 kB prompt costs ~60-100 µs in CPython's `re` on this class
of machine, and there are two dozen recognizers, so none of them scans the whole text blindly.
Numeric ones look only at windows around the *digit clusters* that `ScanText` finds once per
text (and only at clusters with a plausible number of digits); the others are gated by cheap
substring checks (`prefilter`, `gate`), which use `str.__contains__`'s fast search, or run
only where one of their literal `anchors` begins (`Literals`: one regex pass for all of them).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

from policies.pii.findings import Finding

CONTEXT_WINDOW = 48
_DIGIT_GROUP = re.compile(r"\d+")
_CLUSTER_GLUE = frozenset(" ()./+-")


class Cluster(NamedTuple):
    """Digit groups joined by at most two of ` ()./+-` ("+44 (20) 7946-0958" is one)."""

    start: int
    end: int
    digits: int


class ScanText:
    """The text being scanned, with derived views computed at most once."""

    __slots__ = ("_clusters", "_groups", "_lower", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._lower: str | None = None
        self._groups: list[tuple[int, int]] | None = None
        self._clusters: list[Cluster] | None = None

    @property
    def lower(self) -> str:
        if self._lower is None:
            self._lower = self.text.lower()
        return self._lower

    @property
    def digit_groups(self) -> list[tuple[int, int]]:
        """(start, end) of every maximal run of digits."""
        if self._groups is None:
            self._groups = [m.span() for m in _DIGIT_GROUP.finditer(self.text)]
        return self._groups

    @property
    def clusters(self) -> list[Cluster]:
        """Digit groups merged across short separators: where numbers of any format are."""
        if self._clusters is None:
            text = self.text
            out: list[Cluster] = []
            for start, end in self.digit_groups:
                if out:
                    prev = out[-1]
                    gap = text[prev.end : start]
                    if len(gap) <= 2 and all(c in _CLUSTER_GLUE for c in gap):
                        out[-1] = Cluster(prev.start, end, prev.digits + end - start)
                        continue
                out.append(Cluster(start, end, end - start))
            self._clusters = out
        return self._clusters

    def before(self, start: int, width: int = CONTEXT_WINDOW) -> str:
        """Lower-cased text in the `width` characters before `start`."""
        return self.lower[max(0, start - width) : start]

    def after(self, end: int, width: int = CONTEXT_WINDOW) -> str:
        return self.lower[end : end + width]

    def has_any(self, words: tuple[str, ...]) -> bool:
        """True when any of `words` (lower case) occurs in the lower-cased text."""
        low = self.lower
        return any(w in low for w in words)


_Trie = dict[str, "_Trie"]


class Literals:
    """Where any of some literal strings begins, in one regex pass instead of a `str.find` loop
    per literal: the alternation is shaped as a trie, which `re` walks with one character test
    per branch (a flat alternation tries every literal at every candidate position)."""

    __slots__ = ("_search",)

    def __init__(self, words: Iterable[str]) -> None:
        trie: _Trie = {}
        for word in words:
            node = trie
            for ch in word:
                node = node.setdefault(ch, {})
            node[""] = {}
        self._search = re.compile(_alternatives(trie) if trie else "(?!)").search

    def occur_in(self, text: str) -> bool:
        return self._search(text) is not None

    def starts(self, text: str) -> Iterator[int]:
        """Every index of `text` where one of the words begins, ascending, each once."""
        m = self._search(text)
        while m is not None:
            i = m.start()
            yield i
            m = self._search(text, i + 1)


def _alternatives(node: _Trie) -> str:
    """A regex for `node`'s subtree that matches where some word of it begins: a word that ends
    here makes its longer continuations redundant."""
    if "" in node:
        return ""
    alts = [re.escape(ch) + _alternatives(child) for ch, child in sorted(node.items())]
    return alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"


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

    `group` names the regex group that is the entity (e.g. the value after `password=`).
    Where the regex runs: with `anchors`, matched only where one of these literals occurs (in
    the lower-cased text if `anchors_in_lower`); with `digits=(lo, hi)`, only in windows
    around digit clusters of lo..hi digits, widened by `margin` (before, after) characters;
    otherwise over the whole text. In every case only when the text contains `prefilter`
    (case-sensitive) and, if `gate` is set, one of its lower-case words.
    """

    entity_type: str
    regex: re.Pattern[str]
    validate: Validator
    group: int | str = 0
    prefilter: str | None = None
    gate: tuple[str, ...] | None = None
    digits: tuple[int, int] | None = None
    margin: tuple[int, int] = (0, 1)
    anchors: tuple[str, ...] | None = None
    anchors_in_lower: bool = False
    _anchor_starts: Literals | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.anchors is not None:
            object.__setattr__(self, "_anchor_starts", Literals(self.anchors))

    @property
    def entity_types(self) -> frozenset[str]:
        return frozenset({self.entity_type})

    def find(self, st: ScanText) -> Iterator[Finding]:
        if self.prefilter is not None and self.prefilter not in st.text:
            return
        if self.gate is not None and not st.has_any(self.gate):
            return
        for m in self._matches(st):
            start, end = m.span(self.group)
            if start >= end:
                continue
            score = self.validate(st.text[start:end], m, st)
            if score is not None:
                yield Finding(self.entity_type, start, end, score)

    def _matches(self, st: ScanText) -> Iterator[re.Match[str]]:
        if self.anchors is not None:
            yield from self._anchored(st)
            return
        if self.digits is None:
            yield from self.regex.finditer(st.text)
            return
        lo, hi = self.digits
        before, after = self.margin
        n = len(st.text)
        last_end = -1
        for c in st.clusters:
            if lo <= c.digits <= hi and c.end > last_end:
                for m in self.regex.finditer(
                    st.text, max(0, c.start - before), min(n, c.end + after)
                ):
                    if m.start() >= last_end and m.start() < c.end and m.end() > c.start:
                        last_end = m.end()
                        yield m

    def _anchored(self, st: ScanText) -> Iterator[re.Match[str]]:
        """Matches starting where one of `anchors` occurs."""
        if self._anchor_starts is None:
            return
        haystack = st.lower if self.anchors_in_lower else st.text
        last_end = -1
        for i in self._anchor_starts.starts(haystack):
            if i >= last_end and (m := self.regex.match(st.text, i)):
                last_end = m.end()
                yield m


@dataclass(frozen=True, slots=True)
class AnchoredGroup:
    """Recognizers that match only where one of their anchors occurs in the (case-kept) text,
    skipped together when none of their anchors does: one regex pass over the text instead of
    a `str.find` per anchor per recognizer (two dozen credential formats; most prompts hold
    none of their prefixes). Where some anchor occurs, every member runs as it would alone."""

    members: tuple[PatternRecognizer, ...]
    any_anchor: Literals

    @classmethod
    def of(cls, members: Iterable[PatternRecognizer]) -> AnchoredGroup:
        kept = tuple(members)
        return cls(kept, Literals(a for r in kept for a in r.anchors or ()))

    @property
    def entity_types(self) -> frozenset[str]:
        return frozenset(r.entity_type for r in self.members)

    def find(self, st: ScanText) -> Iterator[Finding]:
        if not self.any_anchor.occur_in(st.text):
            return
        for r in self.members:
            yield from r.find(st)


def group_anchored(recognizers: Iterable[Recognizer]) -> list[Recognizer]:
    """`recognizers` with those anchored in the case-kept text gathered in one `AnchoredGroup`
    (the result does not depend on order: overlaps are resolved by score and span)."""
    anchored: list[PatternRecognizer] = []
    rest: list[Recognizer] = []
    for r in recognizers:
        if isinstance(r, PatternRecognizer) and r.anchors and not r.anchors_in_lower:
            anchored.append(r)
        else:
            rest.append(r)
    return [AnchoredGroup.of(anchored), *rest] if len(anchored) > 1 else [*anchored, *rest]


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
