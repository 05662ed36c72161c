"""National identity numbers, each checked with python-stdnum.

A number that is only digits (an NHS number, an Aadhaar number) is indistinguishable from an
order number by shape alone, so such IDs need a context word near them even when their check
digit is right; a dashed US SSN (area-group-serial rules) stands on its own.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from stdnum.au import tfn as au_tfn
from stdnum.br import cpf as br_cpf
from stdnum.ca import sin as ca_sin
from stdnum.de import idnr as de_idnr
from stdnum.es import nif as es_nif
from stdnum.fr import nir as fr_nir
from stdnum.gb import nhs as gb_nhs
from stdnum.in_ import aadhaar as in_aadhaar
from stdnum.in_ import pan as in_pan
from stdnum.it import codicefiscale as it_cf
from stdnum.nl import bsn as nl_bsn
from stdnum.pl import pesel as pl_pesel
from stdnum.us import itin as us_itin
from stdnum.us import ssn as us_ssn

from policies.pii.recognizers.base import (
    REFERENCE_WORDS,
    PatternRecognizer,
    ScanText,
    context_score,
    words_regex,
)
from policies.pii.validators import ssn_shaped, uk_nino_ok


@dataclass(frozen=True, slots=True)
class _IdSpec:
    entity_type: str
    pattern: str
    is_valid: Callable[[str], bool]
    context: tuple[str, ...]
    base: float  # score without context; below the scanner's threshold means "needs context"
    digits: tuple[int, int]  # digits in the cluster the ID sits in
    margin: tuple[int, int] = (0, 1)  # letters before/after that cluster


_SSN_WORDS = ("ssn", "social security", "social", "security number", "ss#", "ss #", "ssns")
_SPECS: tuple[_IdSpec, ...] = (
    _IdSpec(
        "US_SSN",
        r"(?<![\w-])(?:\d{3}-\d{2}-\d{4}|\d{3} \d{2} \d{4})(?![\w-])",
        us_ssn.is_valid,
        _SSN_WORDS,
        0.85,
        (9, 64),
    ),
    _IdSpec("US_SSN", r"(?<![\w-])\d{9}(?![\w-])", us_ssn.is_valid, _SSN_WORDS, 0.3, (9, 64)),
    _IdSpec(  # dashed 3-2-4: an SSN's shape (no phone plan groups so), issued area or not
        "US_SSN",
        r"(?<![\w-])\d{3}-\d{2}-\d{4}(?![\w-])",
        ssn_shaped,
        _SSN_WORDS,
        0.55,
        (9, 9),
    ),
    _IdSpec(  # spaced or bare nine digits: an SSN only in SSN context, issued area or not
        "US_SSN",
        r"(?<![\w-])(?:\d{3} \d{2} \d{4}|\d{9})(?![\w-])",
        ssn_shaped,
        _SSN_WORDS,
        0.2,
        (9, 64),
    ),
    _IdSpec(
        "US_ITIN",
        r"(?<![\w-])9\d{2}[- ]?[5-9]\d[- ]?\d{4}(?![\w-])",
        us_itin.is_valid,
        ("itin", "taxpayer", "tax id", "tax identification"),
        0.4,
        (9, 64),
    ),
    _IdSpec(
        "UK_NHS",
        r"(?<![\w-])\d{3}[ -]?\d{3}[ -]?\d{4}(?![\w-])",
        gb_nhs.is_valid,
        ("nhs", "nhs number", "health service", "patient"),
        0.2,
        (10, 64),
    ),
    _IdSpec(
        "IN_AADHAAR",
        r"(?<![\w-])[2-9]\d{3}[ -]?\d{4}[ -]?\d{4}(?![\w-])",
        in_aadhaar.is_valid,
        ("aadhaar", "aadhar", "uidai", "uid"),
        0.2,
        (12, 64),
    ),
    _IdSpec(
        "IN_PAN",
        r"(?<![\w-])[A-Z]{3}[ABCFGHLJPT][A-Z]\d{4}[A-Z](?![\w-])",
        in_pan.is_valid,
        ("pan", "permanent account", "income tax"),
        0.4,
        (4, 4),
        (5, 2),
    ),
    _IdSpec(
        "PL_PESEL",
        r"(?<![\w-])\d{11}(?![\w-])",
        pl_pesel.is_valid,
        ("pesel",),
        0.2,
        (11, 64),
    ),
    _IdSpec(
        "ES_NIF",
        r"(?<![\w-])(?:[XYZ]\d{7}|\d{8})-?[A-Z](?![\w-])",
        es_nif.is_valid,
        ("nif", "nie", "dni", "documento"),
        0.6,
        (7, 8),
        (1, 2),
    ),
    _IdSpec(
        "UK_NINO",
        r"(?<![\w-])(?:QQ|[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z])"
        r" ?\d{2} ?\d{2} ?\d{2} ?[A-D](?![\w-])",
        uk_nino_ok,
        ("national insurance", "ni number", "nino", "ni no"),
        0.75,
        (6, 6),
        (3, 3),
    ),
    _IdSpec(
        "CA_SIN",
        r"(?<![\w-])\d{3}[ -]?\d{3}[ -]?\d{3}(?![\w-])",
        ca_sin.is_valid,
        ("sin", "social insurance", "numéro d'assurance sociale", "nas"),
        0.2,
        (9, 9),
    ),
    _IdSpec(
        "AU_TFN",
        r"(?<![\w-])\d{3} ?\d{3} ?\d{2,3}(?![\w-])",
        au_tfn.is_valid,
        ("tfn", "tax file number", "tax file no"),
        0.2,
        (8, 9),
    ),
    _IdSpec(
        "BR_CPF",
        r"(?<![\w-])(?:\d{3}\.\d{3}\.\d{3}-\d{2}|\d{11})(?![\w-])",
        br_cpf.is_valid,
        ("cpf", "cadastro de pessoas"),
        0.2,
        (11, 11),
    ),
    _IdSpec(
        "NL_BSN",
        r"(?<![\w-])(?:\d{9}|\d{4}\.\d{2}\.\d{3})(?![\w-])",
        nl_bsn.is_valid,
        ("bsn", "burgerservicenummer", "sofinummer"),
        0.2,
        (9, 9),
    ),
    _IdSpec(
        "FR_NIR",
        r"(?<![\w-])[12] ?\d{2} ?\d{2} ?(?:\d{2}|2[AB]) ?\d{3} ?\d{3} ?\d{2}(?![\w-])",
        fr_nir.is_valid,
        ("sécurité sociale", "securite sociale", "nir", "insee", "sécu", "carte vitale"),
        0.3,
        (13, 15),
        (0, 3),
    ),
    _IdSpec(
        "DE_TAX_ID",
        r"(?<![\w-])\d{2} ?\d{3} ?\d{3} ?\d{3}(?![\w-])",
        de_idnr.is_valid,
        ("steuer-id", "steuerid", "identifikationsnummer", "idnr", "tax id", "steuernummer"),
        0.2,
        (11, 11),
    ),
    _IdSpec(
        "IT_FISCAL_CODE",
        r"(?<![\w-])[A-Z]{6}\d{2}[A-EHLMPR-T]\d{2}[A-Z]\d{3}[A-Z](?![\w-])",
        it_cf.is_valid,
        ("codice fiscale", "fiscal code", "cf", "tax code"),
        0.8,
        (2, 2),
        (6, 10),
    ),
)


def _validator(spec: _IdSpec) -> Callable[[str, re.Match[str], ScanText], float | None]:
    positive = words_regex(*spec.context)

    def validate(value: str, m: re.Match[str], st: ScanText) -> float | None:
        if not spec.is_valid(value):
            return None
        return context_score(
            st,
            m.start(),
            m.end(),
            spec.base,
            positive=positive,
            negative=REFERENCE_WORDS,
            boost=0.5,
        )

    return validate


NATIONAL_IDS: tuple[PatternRecognizer, ...] = tuple(
    PatternRecognizer(
        spec.entity_type,
        re.compile(spec.pattern),
        _validator(spec),
        digits=spec.digits,
        margin=spec.margin,
    )
    for spec in _SPECS
)
