"""Identifiers: documents found after their label, national numbers by stdnum check digits and
context, phone numbers judged by their shape (dialable or not), SSNs in SSN context."""

from __future__ import annotations

import pytest

from policies.pii import PiiScanner
from policies.pii.operators import resolve_operators

SCANNER = PiiScanner(use_model=False)

FOUND: list[tuple[str, str, str]] = [
    ("Passport number: 533380006, issued 2019", "PASSPORT", "533380006"),
    ("passport no. C01X00T47", "PASSPORT", "C01X00T47"),
    ("My driver's license is D1234-56789-01234", "DRIVER_LICENSE", "D1234-56789-01234"),
    ("Driving licence MORGA657054SM9IJ", "DRIVER_LICENSE", "MORGA657054SM9IJ"),
    ("the card says MORGA657054SM9IJ", "DRIVER_LICENSE", "MORGA657054SM9IJ"),  # by structure
    ("MRN: 00482931", "MEDICAL_RECORD_NUMBER", "00482931"),
    ("medical record number 4829-3310", "MEDICAL_RECORD_NUMBER", "4829-3310"),
    ("patient ID MR-2231905", "MEDICAL_RECORD_NUMBER", "MR-2231905"),
    ("NHS number 943 476 5919", "UK_NHS", "943 476 5919"),
    ("NI number QQ 12 34 56 C", "UK_NINO", "QQ 12 34 56 C"),
    ("my NINO is AB123456C", "UK_NINO", "AB123456C"),
    ("SIN 130 692 544", "CA_SIN", "130 692 544"),
    ("TFN 123 456 782", "AU_TFN", "123 456 782"),
    ("CPF 390.533.447-05", "BR_CPF", "390.533.447-05"),
    ("BSN 111222333", "NL_BSN", "111222333"),
    ("sécurité sociale 2 95 10 99 126 111 93", "FR_NIR", "2 95 10 99 126 111 93"),
    ("Steuer-ID 36 574 261 809", "DE_TAX_ID", "36 574 261 809"),
    # SSN-shaped in SSN context, even in areas the SSA never issued
    ("SSN 987-43-6569", "US_SSN", "987-43-6569"),
    ("social security number: 666 12 3456", "US_SSN", "666 12 3456"),
    # phones in every common national format, fictional 555 numbers included
    ("555-867-5309", "PHONE_NUMBER", "555-867-5309"),
    ("Jenny: (555) 867-5309", "PHONE_NUMBER", "(555) 867-5309"),
    ("+1 555 867 5309", "PHONE_NUMBER", "+1 555 867 5309"),
    ("call 555.867.5309", "PHONE_NUMBER", "555.867.5309"),
    ("call 867-5309 tonight", "PHONE_NUMBER", "867-5309"),
    ("+44 20 7946 0958", "PHONE_NUMBER", "+44 20 7946 0958"),
    ("020 7946 0958", "PHONE_NUMBER", "020 7946 0958"),
    ("ring 07700 900123", "PHONE_NUMBER", "07700 900123"),
    ("1-800-555-0199", "PHONE_NUMBER", "1-800-555-0199"),
    ("+61 2 9374 4000", "PHONE_NUMBER", "+61 2 9374 4000"),
    ("+91 98765 43210", "PHONE_NUMBER", "+91 98765 43210"),
    ("tel 03-1234-5678", "PHONE_NUMBER", "03-1234-5678"),
]

NOT_FOUND = [
    "the passport office is closed on Monday",
    "license number of the software: MIT",
    "Order 555-867-5309 shipped",  # a reference number, by its label
    "pages 100 200 3000",  # no NANP area code starts with 1
    "the range 100-200-3000",
    "SSN 000-12-3456 is not a number",
    "Order 123456789",
    "SIN 046 454 286 fails its check digit",
]


@pytest.mark.parametrize(("text", "entity", "value"), FOUND, ids=[f[2] for f in FOUND])
def test_identifier_found(text: str, entity: str, value: str) -> None:
    found = [(f.entity_type, text[f.start : f.end]) for f in SCANNER.scan(text)]
    assert (entity, value) in found, found


@pytest.mark.parametrize("text", NOT_FOUND)
def test_identifier_look_alike_not_found(text: str) -> None:
    assert SCANNER.scan(text) == []


def test_national_id_group_covers_documents_and_national_numbers() -> None:
    table = resolve_operators({"NATIONAL_ID": "mask"})
    for entity in ("PASSPORT", "DRIVER_LICENSE", "MEDICAL_RECORD_NUMBER", "US_SSN", "UK_NINO"):
        assert table[entity] == "mask"
    assert table["EMAIL_ADDRESS"] == "placeholder"


def test_dashed_ssn_shape_needs_no_context_but_other_shapes_do() -> None:
    assert [(f.entity_type) for f in SCANNER.scan("Please review: 914-27-6083, thanks")] == [
        "US_SSN"
    ]
    assert SCANNER.scan("Please review: 914276083, thanks") == []
    assert SCANNER.scan("Order 914-27-6083 shipped") == []  # a reference number, by its label


def test_every_document_label_passes_its_gate() -> None:
    from policies.pii.recognizers.documents import DRIVER_LICENSE, MEDICAL_RECORD, PASSPORT

    for rec in (PASSPORT, DRIVER_LICENSE, MEDICAL_RECORD):
        assert all(any(g in label + " " for g in rec.gate) for label in rec.labels), rec
