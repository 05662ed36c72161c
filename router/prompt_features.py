"""Surface features of a prompt that mean the same thing whatever source it comes from.

The static embedding says what a prompt is *about*; these say what *shape* of request it is:
how long, how many lines, how technical the words, how much arithmetic or code,
multiple-choice, open-ended or a one-step edit, written in the first person (I, or a company's
we), about family members, carrying contact details, street addresses or money.
Leave-one-source-out showed the embedding alone learns the *source* (an unseen benchmark scored
like the training ones around it); these features transfer better, so the heads see both
(`router/models/model_card.md`).

`FEATURES` names the columns in order; the ONNX graph stores the names it was trained with and
the classifier refuses a model whose list differs. They are computed on the normalised text as
the classifier scores it (whitespace collapsed; a run holding a line break is one newline).
Every value is a count scaled to roughly [0, 1]. `vector` is pure and cheap: a whitespace
split, a `Counter` of lower-cased words whose distinct words are looked up once in a map of
the small word sets, `str.translate` / `str.count` for symbols, and short regexes that start
with a literal (those starting with a digit run only when the text has digits).
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Iterable

_PUNCTUATION = "\"'.,;:!?()[]{}<>*_`~|/\\"
_CHOICE = re.compile(r"[\s(][A-D][).:]\s")
_AGE_TOKEN = re.compile(r"\d\d?(?:yo|y/o|m|f)")
_PHONE = re.compile(r"\d{3}[-. ]\d{3,4}[-. ]\d{4}")
_MONEY = re.compile(r"[£$€¥]\s?\d")
# "221 Baker Street", "12 Park Ave.", "Suite 300": a house number, capitalised words and a
# common English street word, or a unit number (searched only when the text has digits and
# one of the street words).
_STREET = re.compile(
    r"\b\d{1,5}[A-Za-z]?\s+(?:[A-Z][\w'.-]*\s+){1,3}"
    r"(?:Street|St|Avenue|Ave|Road|Rd|Lane|Ln|Boulevard|Blvd|Drive|Dr|Way|Court|Ct|Place|Pl)\b"
    r"|\b(?:Apt|Apartment|Suite|Unit)\.?\s*#?\d+\b"
)
_SENTENCE_ENDS = (". ", "? ", "! ")
_ASKING = frozenset({"what", "who", "where", "when", "which"})
_AGE_WORDS = frozenset({"yo", "y/o", "years", "year-old", "yrs"})


def _forms(stems: Iterable[str]) -> frozenset[str]:
    """A verb stem with its common inflections (write → writes, writing, written …)."""
    out: set[str] = set()
    for stem in stems:
        base = stem[:-1] if stem.endswith("e") else stem
        out |= {stem, stem + "s", stem + "d", stem + "ed", base + "ing", base + "ed", base + "en"}
    return frozenset(out)


def _words(spaced: str) -> frozenset[str]:
    return frozenset(spaced.split())


_FIRST_PERSON = _words("i i'm i've i'd i'll me my mine myself")
_FIRST_PERSON_PLURAL = _words("we we're we've our ours us ourselves")
_SECOND_PERSON = _words("you your you're yours yourself")
_FAMILY = _words(
    """wife husband son sons daughter daughters mother mom mum father dad brother brothers
    sister sisters child children kid kids baby grandmother grandfather grandson granddaughter
    grandma grandpa partner boyfriend girlfriend fiance fiancee aunt uncle nephew niece cousin
    spouse"""
)
_OPEN_TASK = _forms(
    _words(
        """write design implement create develop build explain analyse analyze compare prove
        derive optimise optimize evaluate discuss plan debug refactor architect"""
    )
) | _words("wrote built analysis")
_EDIT_TASK = _forms(
    _words("rewrite correct translate summarise summarize list classify extract name define reply")
)
_CODE_WORDS = _words(
    "def return function class import select python java javascript sql code script"
)
_CURRENCY_WORDS = _words("dollars euros pounds usd eur gbp")
_STREET_WORDS = _words(
    "street st avenue ave road rd lane ln boulevard blvd drive dr way court ct place pl "
    "apt apartment suite unit"
)
_MATH_SYMBOLS = ("=", "+", "-", "*", "/", "^", "<", ">", "%", "$", "\\frac", "\\sqrt")
_CODE_SYMBOLS = ("```", "{", "}", ";", "=>", "c++")
_DIGITS = "0123456789"


# The word sets counted per prompt, and for every word the sets it is in: one pass over a
# prompt's distinct words counts them all.
_COUNTED = (
    *(_FIRST_PERSON, _CODE_WORDS, _FAMILY, _FIRST_PERSON_PLURAL, _SECOND_PERSON),
    *(_OPEN_TASK, _EDIT_TASK, _ASKING, _CURRENCY_WORDS),
)
_MEMBERSHIP: dict[str, tuple[int, ...]] = {
    w: tuple(k for k, words in enumerate(_COUNTED) if w in words)
    for w in frozenset().union(*_COUNTED)
}
# Single characters are counted by what deleting them takes off the length.
_NO_DIGITS = str.maketrans("", "", _DIGITS)
_NO_MATH_CHARS = str.maketrans("", "", "".join(s for s in _MATH_SYMBOLS if len(s) == 1))
_MATH_WORDS = tuple(s for s in _MATH_SYMBOLS if len(s) > 1)
_NO_CODE_CHARS = str.maketrans("", "", "".join(s for s in _CODE_SYMBOLS if len(s) == 1))
_CODE_RUNS = tuple(s for s in _CODE_SYMBOLS if len(s) > 1)


def _set_counts(counts: Counter[str]) -> list[int]:
    """How many of the prompt's words are in each of `_COUNTED`, in its order."""
    tally = [0] * len(_COUNTED)
    membership = _MEMBERSHIP
    for word, n in counts.items():
        for k in membership.get(word, ()):
            tally[k] += n
    return tally


def _occurrences(text: str, needles: Iterable[str]) -> int:
    return sum(text.count(n) for n in needles)


def _chars(text: str, deleting: dict[int, int | None]) -> int:
    return len(text) - len(text.translate(deleting))


def _ages(lowered: list[str], counts: Counter[str]) -> int:
    """'45 years old', '45 yo', '45M', '32f': a number of at most two digits stated as an age."""
    found = sum(n for w, n in counts.items() if w[0].isdigit() and _AGE_TOKEN.fullmatch(w))
    if _AGE_WORDS.intersection(counts):
        pairs = itertools.pairwise(lowered)
        found += sum(1 for a, b in pairs if b in _AGE_WORDS and a.isdigit() and len(a) <= 2)
    return found


def _streets(text: str, counts: Counter[str]) -> float:
    if counts.keys().isdisjoint(_STREET_WORDS):
        return 0.0
    return math.log1p(len(_STREET.findall(text)))


def vector(text: str) -> list[float]:
    """The feature values of one (normalised) prompt, in `FEATURES` order."""
    words = [w for w in (t.strip(_PUNCTUATION) for t in text.split()) if w]
    n_words = max(len(words), 1)
    lowered = [w.lower() for w in words]
    counts = Counter(lowered)
    first, code, family, plural, second, open_task, edit, asking, currency = _set_counts(counts)
    capitalised = sum(1 for w in words if w[0].isupper())
    letters = sum(map(len, words))
    long_words = sum(1 for w in words if len(w) >= 10)
    numbers = sum(1 for w in words if w[0].isdigit())
    digits = _chars(text, _NO_DIGITS)
    lines = text.count("\n") + 1
    mid_capitals = max(capitalised - _occurrences(text, _SENTENCE_ENDS) - lines, 0)
    contact = text.count("@") + text.count("http") + text.count("www.")
    if digits >= 10:
        contact += len(_PHONE.findall(text))
    return [
        math.log1p(len(text)) / 8,
        math.log1p(len(words)) / 7,
        math.log1p(lines - 1) / 4,
        digits / max(len(text), 1) * 5,
        math.log1p(_chars(text, _NO_MATH_CHARS) + _occurrences(text, _MATH_WORDS)) / 4,
        math.log1p(_chars(text, _NO_CODE_CHARS) + _occurrences(text, _CODE_RUNS) + code) / 3,
        math.log1p(len(_CHOICE.findall(text))) / 2,
        math.log1p(text.count("?")) / 2,
        first / n_words * 5,
        math.log1p(first) / 3,
        math.log1p(family) / 2,
        plural / n_words * 5,
        second / n_words * 5,
        math.log1p(_ages(lowered, counts)) if digits else 0.0,
        capitalised / n_words,
        math.log1p(open_task) / 2,
        math.log1p(edit + asking) / 2,
        math.log1p(contact),
        math.log1p(len(_MONEY.findall(text)) + currency),
        mid_capitals / n_words * 5,
        letters / n_words / 10,
        long_words / n_words * 5,
        math.log1p(numbers) / 4,
        _streets(text, counts) if digits else 0.0,
    ]


FEATURES: tuple[str, ...] = (
    "log_chars",
    "log_words",
    "log_line_breaks",
    "digit_share",
    "math_symbols",
    "code_markers",
    "choice_labels",
    "question_marks",
    "first_person_share",
    "first_person_count",
    "family_words",
    "first_person_plural_share",
    "second_person_share",
    "ages",
    "capitalised_share",
    "open_task_verbs",
    "edit_task_verbs",
    "contact_details",
    "money_amounts",
    "mid_sentence_capitals",
    "mean_word_length",
    "long_word_share",
    "numbers",
    "street_addresses",
)
