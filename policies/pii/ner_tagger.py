"""`NameTagger`: our own fast model for PERSON, LOCATION, ORGANIZATION and NRP.

A linear token classifier: every word with a capital letter or in a name/place list gets sparse
binary features (the word, its shape and suffix, its neighbours, whether it starts a sentence,
hits in the lists) and a
multinomial logistic regression scores them; runs of tokens of one type become spans. Inference
is numpy only (one gather and one sum per token), ~50x faster than spaCy's small NER on the
same prompt (numbers in docs/pii.md). `training.pii.tagger_train` trains it; the model file
`policies/pii/models/name_tagger.npz` holds the feature vocabulary, the weights, the lists and
the probability threshold.

Nothing is cached between calls: names seen in one request are not kept by the process.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Container, Iterable, Sequence
from dataclasses import dataclass
from itertools import accumulate, repeat
from operator import add, sub
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from policies.pii.findings import Finding
from policies.pii.ner import DEFAULT_MODEL_TYPES, MODEL_TYPES, plausible
from policies.pii.ner_filter import NameFilter

log = logging.getLogger(__name__)

DEFAULT_MODEL_PATH = Path(__file__).with_name("models") / "name_tagger.npz"
OUTSIDE = "O"

# Words keep inner hyphens and apostrophes ("Anna-Lena", "O'Brien") but not a possessive "'s".
_TOKEN = re.compile(r"\w+(?:-\w+|['’](?![sS]\b)\w+)*|[^\w\s]")
_SPACED_TOKEN = re.compile(rf"(\s*)({_TOKEN.pattern})")  # (whitespace before, token)
_SENTENCE_END = frozenset({".", "!", "?", ":", ";", '"', "“", "”"})
_LETTER = re.compile(r"[^\W\d_]")
_FILTER = NameFilter()  # read-only lists, shared by every tagger


class Token(NamedTuple):
    text: str
    start: int
    end: int
    sentence_start: bool


@dataclass(frozen=True, slots=True)
class Tokens:
    """A text's word and punctuation tokens as columns: inference reads lists, one C-level pass
    each, and makes no object per token (`items()` does, for training and tests)."""

    words: list[str]
    lows: list[str]  # each word lower-cased
    starts: list[int]
    ends: list[int]
    gaps: list[str]  # the whitespace before each token

    def __len__(self) -> int:
        return len(self.words)

    def sentence_start(self, i: int) -> bool:
        """True for the first token and after . ! ? : ; a quote, or a newline."""
        return not i or self.words[i - 1] in _SENTENCE_END or "\n" in self.gaps[i]

    def items(self) -> list[Token]:
        return [
            Token(w, s, e, self.sentence_start(i))
            for i, (w, s, e) in enumerate(zip(self.words, self.starts, self.ends, strict=True))
        ]


def tokenize(text: str) -> Tokens:
    """Word and punctuation tokens with offsets; a token after . ! ? : or a newline starts a
    sentence. Every non-space character is in a token, so what lies between two tokens is the
    whitespace `_SPACED_TOKEN` captures, and offsets are running sums of lengths."""
    pairs = _SPACED_TOKEN.findall(text)
    if not pairs:
        return Tokens([], [], [], [], [])
    gaps, words = map(list, zip(*pairs, strict=True))
    ends = list(accumulate(map(add, map(len, gaps), map(len, words))))
    starts = list(map(sub, ends, map(len, words)))
    return Tokens(words, list(map(str.lower, words)), starts, ends, gaps)


def shape(word: str) -> str:
    """Collapsed word shape: 'Anna' -> 'Xx', 'McDonald' -> 'XxXx', 'NASA' -> 'X', '12' -> 'd'."""
    if word.isalpha():  # the common cases without a Python loop
        if word.islower():
            return "x"
        if word.isupper():
            return "X"
        if word[0].isupper() and word[1:].islower():
            return "Xx"
    elif word.isdigit():
        return "d"
    out: list[str] = []
    for ch in word:
        c = "X" if ch.isupper() else "x" if ch.islower() else "d" if ch.isdigit() else ch
        if not out or out[-1] != c:
            out.append(c)
    return "".join(out)


Gazetteers = dict[str, frozenset[str]]
WordLists = dict[str, tuple[str, ...]]  # lower-case word -> names of the lists that hold it
_PAD = ("<s>", "<s>")
_END = ("</s>", "</s>")
_NONE: tuple[str, ...] = ()


def word_lists(gazetteers: Gazetteers) -> WordLists:
    """The lists inverted: for each listed word, the names of its lists (in name order). Words
    in the same lists share one tuple (a few distinct ones for ~25k words)."""
    out: dict[str, tuple[str, ...]] = {}
    shared: dict[tuple[str, ...], tuple[str, ...]] = {}
    for name in sorted(gazetteers):
        for word in gazetteers[name]:
            names = (*out.get(word, _NONE), name)
            out[word] = shared.setdefault(names, names)
    return out


class ListedAs(Container[str]):
    """The words of `lists` that are in any of the lists `names` (e.g. every first or last
    name), without a set of their own: a lookup in `lists` and a test of the shared tuple."""

    def __init__(self, lists: WordLists, names: Iterable[str]) -> None:
        wanted = frozenset(names)
        self._lists = lists
        self._hits = frozenset(t for t in set(lists.values()) if wanted.intersection(t))

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and self._lists.get(word, _NONE) in self._hits


def features(tokens: Tokens, rows: Sequence[int], lists: WordLists) -> list[list[str]]:
    """The sparse features of the tokens at `rows` (shared by training and inference).

    Only the scored tokens and their neighbours get a shape and list lookup; in the padded
    lists the neighbours of token i sit at i + 2 ± 1, 2.
    """
    low = [*_PAD, *tokens.lows, *_END]
    text = [*_PAD, *tokens.words, *_END]
    near = {k for i in rows for k in (i + 1, i + 2, i + 3)}
    shp = {k: shape(text[k]) for k in near}
    hits = {k: lists.get(low[k], _NONE) for k in near}
    out: list[list[str]] = []
    for i in rows:
        j = i + 2
        w, s, p, n = low[j], shp[j], low[j - 1], low[j + 1]
        feats = [
            "w=" + w,
            "s=" + s,
            "x3=" + w[-3:],
            "x2=" + w[-2:],
            "p=" + p,
            "n=" + n,
            "ps=" + shp[j - 1],
            "ns=" + shp[j + 1],
            "p&s=" + p + "|" + s,
            "pp=" + low[j - 2],
            "nn=" + low[j + 2],
        ]
        first = tokens.sentence_start(i)
        if first:
            feats.append("S&s=" + s)
        for name in hits[j]:
            feats.append("g=" + name)
            if first:
                feats.append("S&g=" + name)
        for name in hits[j - 1]:  # loops, not generators: these are mostly empty
            feats.append("pg=" + name)
        for name in hits[j + 1]:
            feats.append("ng=" + name)
        out.append(feats)
    return out


def candidates(tokens: Tokens, lists: WordLists) -> list[int]:
    """Indexes of the tokens the model scores: those with a capital letter or in a list.

    Lower-case words that are in no list are never names here; that is what keeps the tagger
    within its time budget, at a small cost: a lower-case name the lists do not know, or a
    "van"/"de" inside a name, is not found.
    """
    return [
        i
        for i, (word, low) in enumerate(zip(tokens.words, tokens.lows, strict=True))
        if (word != low or low in lists) and _LETTER.search(word)
    ]


def pack(words: Sequence[str]) -> np.ndarray[Any, Any]:
    """Strings as one newline-joined UTF-8 byte array (compact in an npz, unlike numpy's 'U')."""
    return np.frombuffer("\n".join(words).encode("utf-8"), dtype=np.uint8)


def unpack(data: np.ndarray[Any, Any]) -> list[str]:
    return data.tobytes().decode("utf-8").split("\n")


class NameTagger:
    """The shipped token classifier as a thread-safe, lazily loaded name/place detector."""

    def __init__(
        self,
        path: Path = DEFAULT_MODEL_PATH,
        entities: Iterable[str] = DEFAULT_MODEL_TYPES,
    ) -> None:
        self.path = path
        self.entities = frozenset(entities) & MODEL_TYPES
        self._model: _Model | None = None
        self._tried = False
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def load(self) -> bool:
        """Read the model file once; True on success."""
        with self._lock:
            if not self._tried:
                self._tried = True
                try:
                    self._model = _Model.read(self.path)
                    log.info("PII name tagger loaded: %s", self.path.name)
                except (OSError, KeyError, ValueError) as exc:
                    log.warning("PII name tagger disabled: cannot read %s: %s", self.path, exc)
            return self._model is not None

    def find(self, text: str) -> list[Finding]:
        """PERSON/LOCATION/... findings in `text` (empty when the model is unavailable)."""
        if not self.entities or not text or (self._model is None and not self.load()):
            return []
        assert self._model is not None
        found = _FILTER.refine(text, self._model.tag(text), self._model.names)
        return [f for f in found if f.entity_type in self.entities]


class _Model:
    """Weights and vocabulary of a trained tagger (see `training.pii.tagger_train`)."""

    def __init__(
        self,
        vocabulary: Sequence[str],
        weights: np.ndarray[Any, Any],
        bias: np.ndarray[Any, Any],
        labels: Sequence[str],
        gazetteers: Gazetteers,
        threshold: float,
    ) -> None:
        self.index = {f: i for i, f in enumerate(vocabulary)}
        self.weights = weights.astype(np.float32)
        self.bias = bias.astype(np.float32)
        self.labels = list(labels)
        self.lists = word_lists(gazetteers)  # the gazetteers' sets are not kept: lists has them
        self.names = ListedAs(self.lists, ("first", "last"))
        self.threshold = threshold
        self.threshold32 = float(np.float32(threshold))  # as numpy compares float32 with it
        self.outside = self.labels.index(OUTSIDE)

    @classmethod
    def read(cls, path: Path) -> _Model:
        with np.load(path, allow_pickle=False) as data:
            gazetteers = {
                str(name): frozenset(unpack(data[f"gazetteer_{name}"]))
                for name in data["gazetteer_names"]
            }
            return cls(
                unpack(data["vocabulary"]),
                data["weights"],
                data["bias"],
                [str(label) for label in data["labels"]],
                gazetteers,
                float(data["threshold"]),
            )

    def probabilities(self, tokens: Tokens, rows: Sequence[int]) -> np.ndarray[Any, Any]:
        """Class probabilities (len(rows) x labels) for the tokens at `rows`."""
        get = self.index.get
        feats = features(tokens, rows, self.lists)
        width = max(map(len, feats))
        flat: list[int] = []
        for f in feats:  # unknown features and padding: row 0 of the weights, all zeros
            flat.extend(map(get, f, repeat(0, len(f))))
            flat.extend(repeat(0, width - len(f)))
        ids = np.array(flat, dtype=np.intp).reshape(len(feats), width)
        # the ufuncs' reduce, which ndarray.sum and .max call through a Python wrapper
        logits: np.ndarray[Any, Any] = np.add.reduce(self.weights[ids], axis=1) + self.bias
        logits -= np.maximum.reduce(logits, axis=1, keepdims=True)
        np.exp(logits, out=logits)
        logits /= np.add.reduce(logits, axis=1, keepdims=True)
        return logits

    def tag(self, text: str) -> list[Finding]:
        """Findings of every type it knows; a span's score is its tokens' mean probability."""
        tokens = tokenize(text)
        rows = candidates(tokens, self.lists)
        if not rows:
            return []
        starts, ends, outside = tokens.starts, tokens.ends, self.outside
        spans: list[_Span] = []
        # rows as Python lists: a few rows cost less in a loop than in numpy calls
        for i, row in zip(rows, self.probabilities(tokens, rows).tolist(), strict=True):
            row[outside] = -1.0
            p = max(row)
            if p < self.threshold32:
                continue
            label = row.index(p)  # the first best, as argmax
            last = spans[-1] if spans else None
            # a run of one type continues a span, but names do not run across lines or sentences
            if last and last.label == label and last.last == i - 1 and not tokens.sentence_start(i):
                last.extend(i, ends[i], p)
            else:
                spans.append(_Span(label, starts[i], ends[i], i, p))
        return [
            Finding(self.labels[s.label], s.start, s.end, round(s.total / s.n, 3))
            for s in spans
            if plausible(text[s.start : s.end])
        ]


@dataclass(slots=True)
class _Span:
    label: int
    start: int
    end: int
    last: int  # index of its last token
    total: float  # sum of its tokens' probabilities
    n: int = 1

    def extend(self, i: int, end: int, p: float) -> None:
        self.end, self.last, self.total, self.n = end, i, self.total + p, self.n + 1
