"""Dates of birth: a real, past calendar date with a birth word shortly before it.

A date alone is not personal data (a deadline, a release date); "born on 3/23/1940" or
"DOB: 1993-01-04" is. Numeric day/month order is ambiguous, so a date is accepted when either
reading is a plausible birth date.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from policies.pii.findings import Finding
from policies.pii.recognizers.base import ScanText, words_regex
from policies.pii.validators import plausible_birth_date

_MONTHS = {
    name: i + 1
    for i, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        )
    )
    for name in names
}
_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
_DATE = re.compile(
    r"(?i)(?<![\w/.-])(?:"
    r"(?P<y1>\d{4})[-/.](?P<m1>\d{1,2})[-/.](?P<d1>\d{1,2})"  # 1993-01-04
    r"|(?P<a2>\d{1,2})[-/.](?P<b2>\d{1,2})[-/.](?P<y2>\d{4}|\d{2})"  # 3/23/1940, 23.03.40
    # March 23, 1940 | 23rd of March 1940
    rf"|(?P<mn3>{_MONTH})\.?\s+(?P<d3>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<y3>\d{{4}})"
    rf"|(?P<d4>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<mn4>{_MONTH})\.?,?\s+(?P<y4>\d{{4}})"
    r")(?![\w/-]|\.\d)"
)
_BIRTH_WORDS = words_regex(
    "born",
    "birth",
    "birthday",
    "birthdate",
    "date of birth",
    "dob",
    "d.o.b",
    "née",
)
_BIRTH_GATE = ("born", "birth", "dob", "d.o.b", "née")
_BEFORE = 40


def _year(text: str) -> int:
    year = int(text)
    if len(text) == 2:
        year += 1900 if year > 30 else 2000
    return year


def _plausible(m: re.Match[str]) -> bool:
    g = m.group
    if g("y1"):
        return plausible_birth_date(int(g("y1")), int(g("m1")), int(g("d1")))
    if g("y2"):
        y, a, b = _year(g("y2")), int(g("a2")), int(g("b2"))
        return plausible_birth_date(y, a, b) or plausible_birth_date(y, b, a)
    if g("y3"):
        return plausible_birth_date(int(g("y3")), _MONTHS[g("mn3").lower()], int(g("d3")))
    return plausible_birth_date(int(g("y4")), _MONTHS[g("mn4").lower()], int(g("d4")))


class DateOfBirthRecognizer:
    """DATE_OF_BIRTH: a plausible date with a birth word in the 40 characters before it."""

    entity_types = frozenset({"DATE_OF_BIRTH"})

    def find(self, st: ScanText) -> Iterator[Finding]:
        if not st.has_any(_BIRTH_GATE):
            return
        text, n, last_end = st.text, len(st.text), -1
        for c in st.clusters:  # every date form has a cluster of 4-8 digits (year, or all)
            if not 4 <= c.digits <= 8 or c.end <= last_end:
                continue
            if not any(w in st.lower[max(0, c.start - 70) : c.start] for w in _BIRTH_GATE):
                continue
            for m in _DATE.finditer(text, max(0, c.start - 20), min(n, c.end + 1)):
                if m.end() < c.start or m.start() < last_end:
                    continue
                last_end = m.end()
                if _BIRTH_WORDS.search(st.before(m.start(), _BEFORE)) and _plausible(m):
                    yield Finding("DATE_OF_BIRTH", m.start(), m.end(), 0.85)
