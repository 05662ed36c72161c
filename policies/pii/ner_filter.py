"""The name model's precision filter: words that are words, and places that are places.

A linear tagger (or spaCy) sees a capital letter and a name-like position and says PERSON;
three mistakes are common enough in prompts to correct after the model:

- a sentence-initial imperative or any capitalised common word ("Summarise", "Draft", "Convert",
  "Bearer") is not a name: a one-word PERSON span whose lower case is a common word is dropped
  when it starts a sentence, is all capitals or all lower case, or is in no name list; a longer
  span loses such a first word at the start of a sentence ("Draft Margaret Thompson a note");
- a one-word PERSON span that is a real city, country or state ("Sydney", "Paris") is a
  LOCATION (so a policy that protects places still redacts it); a one-word LOCATION that is a
  month, a weekday or a common word and no real place ("in July", "the Pull Request") is
  dropped;
- everything else is kept as the model said.

`common` comes from the router's prompt corpora and `places` from GeoNames
(`training/pii/name_filter_words.py` builds `models/name_filter.npz`). Without the file the
filter passes findings through unchanged (and logs once).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Container, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from policies.pii.findings import Finding

log = logging.getLogger(__name__)

DEFAULT_FILTER_PATH = Path(__file__).with_name("models") / "name_filter.npz"
_SENTENCE_END = frozenset('.!?:;\n"“”')
_CALENDAR = frozenset(
    (
        *("january", "february", "march", "april", "may", "june", "july", "august"),
        *("september", "october", "november", "december", "monday", "tuesday", "wednesday"),
        *("thursday", "friday", "saturday", "sunday", "jan", "feb", "mar", "apr", "jun", "jul"),
        *("aug", "sep", "sept", "oct", "nov", "dec"),
    )
)


class NameFilter:
    """Applies the rules of the module docstring; loads its lists on first use."""

    def __init__(self, path: Path = DEFAULT_FILTER_PATH) -> None:
        self.path = path
        self._common: frozenset[str] = frozenset()
        self._places: frozenset[str] = frozenset()
        self._loaded = False
        self._lock = threading.Lock()

    def _load(self) -> None:
        with self._lock:
            if self._loaded:
                return
            try:
                with np.load(self.path, allow_pickle=False) as data:
                    self._common = frozenset(_unpack(data["common"]))
                    self._places = frozenset(_unpack(data["places"]))
            except (OSError, KeyError, ValueError) as exc:
                log.warning("PII name filter disabled: cannot read %s: %s", self.path, exc)
            self._loaded = True

    def is_common_word(self, word: str) -> bool:
        self._load()
        return word.lower() in self._common

    def is_place(self, word: str) -> bool:
        self._load()
        return word.lower() in self._places

    def refine(
        self, text: str, findings: Iterable[Finding], names: Container[str] = frozenset()
    ) -> list[Finding]:
        """`findings` of a name model on `text`, corrected; `names` are known first and last
        names (lower case)."""
        self._load()
        out: list[Finding] = []
        for f in findings:
            if f.entity_type == "PERSON":
                fixed = self._person(text, f, names)
            elif f.entity_type == "LOCATION":
                fixed = self._location(text, f)
            else:
                fixed = f
            if fixed is not None:
                out.append(fixed)
        return out

    def _location(self, text: str, f: Finding) -> Finding | None:
        value = text[f.start : f.end]
        low = value.lower()
        if " " not in value and (
            low in _CALENDAR or (low in self._common and low not in self._places)
        ):
            return None  # "in July", "the Pull Request", "in Main": a word, not a place
        return f

    def _person(self, text: str, f: Finding, names: Container[str]) -> Finding | None:
        value = text[f.start : f.end]
        words = value.split()
        first = words[0]
        low = first.lower()
        initial = sentence_initial(text, f.start)
        if len(words) == 1:
            if low in self._places:
                return Finding("LOCATION", f.start, f.end, f.score)
            if low in self._common and (
                initial or first.isupper() or first.islower() or low not in names
            ):
                return None
            return f
        if initial and low in self._common and low not in names:
            rest = f.start + value.index(words[1], len(first))
            return Finding(f.entity_type, rest, f.end, f.score)
        return f


def sentence_initial(text: str, start: int) -> bool:
    """True when `start` begins the text, a line or a sentence (after . ! ? : ; or a quote)."""
    i = start - 1
    while i >= 0 and text[i] in " \t":
        i -= 1
    return i < 0 or text[i] in _SENTENCE_END


def _unpack(data: np.ndarray[Any, Any]) -> Sequence[str]:
    raw = data.tobytes().decode("utf-8")
    return raw.split("\n") if raw else []
