"""Identity-document and record numbers that only their label gives away: passports, driver's
licences, medical record numbers.

Their formats differ by issuer and many are plain digit or letter-digit runs, indistinguishable
from an order number on their own, so each is found *after* its label ("passport no.",
"driver's licence", "MRN", "patient ID", ...): the label is looked up with `str.find` in the
lower-cased text, the value is the identifier-shaped token right after it (a short filler such
as "number", "#", ":" or "is" allowed in between). A UK driving licence number has a structure
of its own (surname, birth date, initials) and is also found without a label.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from policies.pii.findings import Finding
from policies.pii.recognizers.base import ScanText

_FILLER = (
    r"(?:['’]?s)?(?:\s+(?:no\.?|nr\.?|num(?:ber)?|#|id|code))?"
    r"(?:\s+(?:is|was|reads|=))?\s*[:#=.-]?\s*"
)


@dataclass(frozen=True, slots=True)
class LabelledIdRecognizer:
    """`entity_type` values right after one of `labels` (lower case, whole words)."""

    entity_type: str
    labels: tuple[str, ...]
    value: str  # regex of the identifier itself (matched in any case)
    min_digits: int
    gate: tuple[str, ...]  # cheap substrings (lower case), one of which every label contains
    score: float = 0.85

    @property
    def entity_types(self) -> frozenset[str]:
        return frozenset({self.entity_type})

    def find(self, st: ScanText) -> Iterator[Finding]:
        low = st.lower
        if not any(g in low for g in self.gate):
            return
        rx = _compiled(self.value)
        for label in self.labels:
            i = low.find(label)
            while i != -1:
                end = i + len(label)
                whole = (i == 0 or not low[i - 1].isalnum()) and (
                    end == len(low) or not low[end].isalnum() or label.endswith(("#", ":"))
                )
                if whole and (m := rx.match(st.text, end)):
                    value = m.group("value")
                    if sum(c.isdigit() for c in value) >= self.min_digits:
                        yield Finding(self.entity_type, *m.span("value"), self.score)
                i = low.find(label, end)


_CACHE: dict[str, re.Pattern[str]] = {}


def _compiled(value: str) -> re.Pattern[str]:
    rx = _CACHE.get(value)
    if rx is None:
        rx = _CACHE[value] = re.compile(  # any case: texts get lower-cased ("a56319335")
            rf"{_FILLER}(?P<value>{value})(?![A-Za-z0-9])", re.ASCII | re.IGNORECASE
        )
    return rx


PASSPORT = LabelledIdRecognizer(
    "PASSPORT",
    ("passport", "reisepass", "passeport", "pasaporte", "passaporto"),
    r"[A-Z0-9]{1,2}[0-9][A-Z0-9]{4,8}",
    min_digits=4,
    gate=("pass", "pasap"),
)
DRIVER_LICENSE = LabelledIdRecognizer(
    "DRIVER_LICENSE",
    (
        *("driver's license", "driver’s license", "drivers license", "driver license"),
        *("driver's licence", "driver’s licence", "drivers licence", "driving licence"),
        *("driving license", "license number", "licence number", "license no", "licence no"),
        *("dl#", "dl no", "dl:", "dl number", "führerschein", "permis de conduire"),
    ),
    r"[A-Z0-9](?:[A-Z0-9]|[- ](?=[A-Z0-9])){4,19}",
    min_digits=3,
    gate=("licen", "dl#", "dl ", "dl:", "führer", "permis"),
)
MEDICAL_RECORD = LabelledIdRecognizer(
    "MEDICAL_RECORD_NUMBER",
    (
        *("mrn", "medical record", "medical record number", "patient id", "patient number"),
        *("patient no", "hospital number", "hospital no", "chart number", "chart no"),
        *("health record", "record number", "case number"),
    ),
    r"[A-Z]{0,4}-?[0-9][0-9-]{3,14}[0-9]",
    min_digits=4,
    gate=("mrn", "record", "patient", "hospital", "chart", "case"),
)

# UK driving licence: 5 surname letters (9-padded), decade digit, birth month (+50 for women),
# day, year digit, 2 initials (9-padded), a check digit, 2 computer letters.
_UK_DL = re.compile(
    r"(?<![A-Za-z0-9])[A-Z9]{5}\d[0156]\d[0-3]\d\d[A-Z9]{2}\d[A-Z]{2}(?:\s?\d{2})?(?![A-Za-z0-9])"
)


class UkDrivingLicenceRecognizer:
    """UK driving licence numbers by their structure, without a label."""

    entity_types = frozenset({"DRIVER_LICENSE"})

    def find(self, st: ScanText) -> Iterator[Finding]:
        for c in st.clusters:
            if c.digits >= 6:
                for m in _UK_DL.finditer(st.text, max(0, c.start - 6), c.end + 12):
                    yield Finding("DRIVER_LICENSE", m.start(), m.end(), 0.8)


DOCUMENT_IDS = (PASSPORT, DRIVER_LICENSE, MEDICAL_RECORD, UkDrivingLicenceRecognizer())
