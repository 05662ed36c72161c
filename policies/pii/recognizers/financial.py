"""Payment cards (Luhn + issuer prefix + length) and IBANs (python-stdnum: format + mod-97)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from policies.pii.findings import Finding
from policies.pii.recognizers.base import (
    REFERENCE_WORDS,
    PatternRecognizer,
    ScanText,
    context_score,
    words_regex,
)
from policies.pii.validators import card_ok, digits_only, iban_ok

# 12–19 digits, optionally in groups separated by one space or dash.
_CARD = re.compile(r"(?<![\w.,-])[2-6]\d{3}(?:[ -]?\d{1,7}){2,5}(?![\w-]|[.,]\d)")
_CARD_WORDS = words_regex(
    "card", "credit", "debit", "visa", "mastercard", "amex", "cc", "pan", "payment", "pay"
)


def _card(value: str, m: re.Match[str], st: ScanText) -> float | None:
    number = digits_only(value)
    if not 12 <= len(number) <= 19 or not card_ok(number):
        return None
    return context_score(
        st, m.start(), m.end(), 0.9, positive=_CARD_WORDS, negative=REFERENCE_WORDS, boost=0.1
    )


CREDIT_CARD = PatternRecognizer("CREDIT_CARD", _CARD, _card, digits=(12, 64))

# Country code, check digits, then up to 30 alphanumerics, in groups of four or contiguous.
# Lower-case IBANs are accepted too: mod-97 leaves no room for look-alikes.
_IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?:[ ]?[A-Za-z0-9]{1,4}){3,8}(?![A-Za-z0-9])")
_IBAN_CHUNK = re.compile(r"[ ]?[A-Za-z0-9]{1,4}$")


class IbanRecognizer:
    """IBANs; when a greedy match fails the check, trailing groups are dropped and retried."""

    entity_types = frozenset({"IBAN_CODE"})

    def find(self, st: ScanText) -> Iterator[Finding]:
        text = st.text
        for start, _ in st.digit_groups:  # the check digits follow two letters
            if start < 2 or not text[start - 2 : start].isalpha():
                continue
            m = _IBAN.match(text, start - 2)
            if m is None:
                continue
            value = m.group()
            while len(value) >= 15:
                if iban_ok(value.upper()):
                    yield Finding("IBAN_CODE", m.start(), m.start() + len(value), 0.95)
                    break
                value = _IBAN_CHUNK.sub("", value)


IBAN = IbanRecognizer()

__all__ = ["CREDIT_CARD", "IBAN", "IbanRecognizer", "PatternRecognizer"]
