"""The built-in recognizers and the entity types they produce.

`build_recognizers(entities)` returns the fast (pattern + validator + context) recognizers that
produce at least one of `entities` (all of them when None). PERSON here is only what
context gives away; the model-based PERSON/LOCATION detector lives in `policies.pii.ner`.

The credential recognizers (`secrets`) are imported only when a policy asks for a SECRET type:
their detect-secrets ruleset pulls in `requests` (~8 MiB RSS per worker).
"""

from __future__ import annotations

from collections.abc import Iterable

from policies.pii.recognizers.address import AddressRecognizer
from policies.pii.recognizers.base import PatternRecognizer, Recognizer, ScanText
from policies.pii.recognizers.contact import EMAIL, IPV4, IPV6, PhoneRecognizer
from policies.pii.recognizers.dates import DateOfBirthRecognizer
from policies.pii.recognizers.documents import DOCUMENT_IDS
from policies.pii.recognizers.financial import CREDIT_CARD, IBAN
from policies.pii.recognizers.national_ids import NATIONAL_IDS
from policies.pii.recognizers.person import PersonContextRecognizer
from policies.pii.recognizers.secret_types import SECRET_TYPES


def secret_recognizers() -> tuple[Recognizer, ...]:
    """The credential recognizers (API_KEY, JWT, PRIVATE_KEY, PASSWORD), imported on first use."""
    from policies.pii.recognizers.secrets import SECRETS

    return SECRETS


def all_recognizers() -> list[Recognizer]:
    """One instance of every fast recognizer, secrets first (they win ties by order only)."""
    return [*secret_recognizers(), *_other_recognizers()]


def _other_recognizers() -> list[Recognizer]:
    return [
        EMAIL,
        CREDIT_CARD,
        IBAN,
        *NATIONAL_IDS,
        *DOCUMENT_IDS,
        PhoneRecognizer(),
        IPV4,
        IPV6,
        DateOfBirthRecognizer(),
        AddressRecognizer(),
        PersonContextRecognizer(),
    ]


PATTERN_TYPES: frozenset[str] = SECRET_TYPES | {
    t for r in _other_recognizers() for t in r.entity_types
}
# Government and institutional identifiers (the operator group `NATIONAL_ID`).
_ID_RECOGNIZERS: tuple[Recognizer, ...] = (*NATIONAL_IDS, *DOCUMENT_IDS)
NATIONAL_ID_TYPES: frozenset[str] = frozenset(t for r in _ID_RECOGNIZERS for t in r.entity_types)


def build_recognizers(entities: Iterable[str] | None = None) -> list[Recognizer]:
    """The fast recognizers producing any of `entities` (every one when `entities` is None)."""
    if entities is None:
        return all_recognizers()
    wanted = frozenset(entities)
    recognizers = all_recognizers() if wanted & SECRET_TYPES else _other_recognizers()
    return [r for r in recognizers if r.entity_types & wanted]


__all__ = [
    "NATIONAL_ID_TYPES",
    "PATTERN_TYPES",
    "SECRET_TYPES",
    "PatternRecognizer",
    "Recognizer",
    "ScanText",
    "all_recognizers",
    "build_recognizers",
    "secret_recognizers",
]
