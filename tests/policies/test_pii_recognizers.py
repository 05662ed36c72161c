"""Table-driven recognizer tests: positives, look-alike negatives, checksums.

Each positive row is (text, entity type, expected value); the scanner must find exactly that
value as that type. Each negative row is text in which nothing may be found.
"""

from __future__ import annotations

import pytest

from policies.pii import PiiScanner
from policies.pii.validators import card_ok, github_token_checksum_ok, iban_ok, jwt_ok

SCANNER = PiiScanner(use_model=False)

GH_TOKEN = "ghp_" + "A" * 29 + "B"  # body; checksum appended below
_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _github_token(body: str) -> str:
    import zlib

    crc, out = zlib.crc32(body.encode()), ""
    while crc:
        crc, r = divmod(crc, 62)
        out = _B62[r] + out
    return "ghp_" + body + out.rjust(6, "0")


VALID_GH = _github_token("x7Kq2LmN9pR4sT6vW8yZ1aB3cD5eF0")
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ."
    "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)
PEM = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----"

POSITIVES: list[tuple[str, str, str]] = [
    # e-mail
    (
        "write to jane.doe+tag@mail.example.co.uk today",
        "EMAIL_ADDRESS",
        "jane.doe+tag@mail.example.co.uk",
    ),
    ("mailto:ops@corp.io", "EMAIL_ADDRESS", "ops@corp.io"),
    # phones: international (phonenumbers-validated), national with context
    ("Call me on +44 20 7946 0958 tomorrow", "PHONE_NUMBER", "+44 20 7946 0958"),
    ("whatsapp +49 151 23456789", "PHONE_NUMBER", "+49 151 23456789"),
    ("Tel. 0041 44 668 18 00", "PHONE_NUMBER", "0041 44 668 18 00"),
    ("my number is (415) 555-2671", "PHONE_NUMBER", "(415) 555-2671"),
    ("phone: 212-555-0190 x204", "PHONE_NUMBER", "212-555-0190 x204"),
    ("mobile 2813882583", "PHONE_NUMBER", "2813882583"),
    ("+33 6 12 34 56 78", "PHONE_NUMBER", "+33 6 12 34 56 78"),
    # cards: Luhn + issuer prefix
    ("card 4111 1111 1111 1111 exp 12/27", "CREDIT_CARD", "4111 1111 1111 1111"),
    ("amex 378282246310005", "CREDIT_CARD", "378282246310005"),
    ("mc 5555-5555-5555-4444", "CREDIT_CARD", "5555-5555-5555-4444"),
    # IBAN: mod-97 (grouped, compact, lower case)
    ("IBAN DE89 3704 0044 0532 0130 00 please", "IBAN_CODE", "DE89 3704 0044 0532 0130 00"),
    ("pay GB82WEST12345698765432", "IBAN_CODE", "GB82WEST12345698765432"),
    ("my iban is gb82west12345698765432", "IBAN_CODE", "gb82west12345698765432"),
    (
        "IBAN FR14 2004 1010 0505 0001 3M02 606 THANKS",
        "IBAN_CODE",
        "FR14 2004 1010 0505 0001 3M02 606",
    ),
    # national IDs
    ("SSN 078-05-1121 on file", "US_SSN", "078-05-1121"),
    ("his social security number is 536228719", "US_SSN", "536228719"),
    ("NHS number 943 476 5919", "UK_NHS", "943 476 5919"),
    ("SSN 666-45-6789 (never issued, still an SSN)", "US_SSN", "666-45-6789"),
    ("Synthetic record: SSN 987-43-6569, card", "US_SSN", "987-43-6569"),
    ("codice fiscale RSSMRA85T10A562S", "IT_FISCAL_CODE", "RSSMRA85T10A562S"),
    ("DNI 12345678Z", "ES_NIF", "12345678Z"),
    # IPs
    ("login from 203.0.113.54 failed", "IP_ADDRESS", "203.0.113.54"),
    ("peer 2001:db8:85a3::8a2e:370:7334 up", "IP_ADDRESS", "2001:db8:85a3::8a2e:370:7334"),
    # secrets
    (
        "key sk-proj-Ab3dE5gH7jK9mN1pQ3sT5vX7zA9cE1gH3jK5 ok",
        "API_KEY",
        "sk-proj-Ab3dE5gH7jK9mN1pQ3sT5vX7zA9cE1gH3jK5",
    ),
    ("stripe sk_live_4eC39HqLyjWDarjtT1zdp7dc", "API_KEY", "sk_live_4eC39HqLyjWDarjtT1zdp7dc"),
    ("aws AKIAZ3MHQ7RXWBNE5T2Q", "API_KEY", "AKIAZ3MHQ7RXWBNE5T2Q"),
    (f"token {VALID_GH}", "API_KEY", VALID_GH),
    (
        "xoxb-123456789012-123456789012-AbCdEfGhIjKlMnOpQrStUvWx",
        "API_KEY",
        "xoxb-123456789012-123456789012-AbCdEfGhIjKlMnOpQrStUvWx",
    ),
    (f"Authorization: Bearer {JWT}", "JWT", JWT),
    (f"key:\n{PEM}\nend", "PRIVATE_KEY", PEM),
    (
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA",
        "PRIVATE_KEY",
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA",
    ),
    ("password=Tr0ub4dor&3 for prod", "PASSWORD", "Tr0ub4dor&3"),
    ('{"user": "bob", "password": "s3cr3t-Pa55"}', "PASSWORD", "s3cr3t-Pa55"),
    ("DB_URL=postgres://app:Zx9!qw3rT@db.internal:5432/main", "PASSWORD", "Zx9!qw3rT"),
    # dates of birth: only with a birth word
    ("born on 3/23/1940 in Ohio", "DATE_OF_BIRTH", "3/23/1940"),
    ("DOB: 1993-01-04", "DATE_OF_BIRTH", "1993-01-04"),
    ("date of birth March 5, 1987", "DATE_OF_BIRTH", "March 5, 1987"),
    ("Geburtsdatum? born 23.03.1961", "DATE_OF_BIRTH", "23.03.1961"),
    # street addresses
    ("I live at 221B Baker Street, London", "STREET_ADDRESS", "221B Baker Street"),
    ("ship to 1600 Pennsylvania Ave NW", "STREET_ADDRESS", "1600 Pennsylvania Ave"),
    ("934 Allen Station Suite 203", "STREET_ADDRESS", "934 Allen Station Suite 203"),
    ("Hauptstraße 5, Berlin", "STREET_ADDRESS", "Hauptstraße 5"),
    ("at 12 rue de Rivoli today", "STREET_ADDRESS", "12 rue de Rivoli"),
    ("PO Box 4521", "STREET_ADDRESS", "PO Box 4521"),
    (
        "office: 55 Main St., Springfield, IL 62704",
        "STREET_ADDRESS",
        "55 Main St., Springfield, IL 62704",
    ),
    # person by context (fast path)
    ("Dear Anna Berg, thanks", "PERSON", "Anna Berg"),
    ("ask Dr. Okafor about it", "PERSON", "Okafor"),
    ("Kind regards,\nTom Weller", "PERSON", "Tom Weller"),
]

NEGATIVES: list[str] = [
    "Where is my order 7712345-8891? It has not arrived.",
    "Order number 4111111111111112 was charged twice.",  # fails Luhn
    "The book has ISBN 978-3-16-148410-0 on the back.",
    "ISBN 0-306-40615-2",
    "Upgrade to version 10.0.19045.2965 today",
    "pip install numpy==1.26.4",
    "We run build 4.2.1.1234 in production.",
    "Tracking number 1Z999AA10123456784 shows delivered.",
    "USPS tracking 9400 1000 0000 0000 0000 00",
    "request id 123e4567-e89b-12d3-a456-426614174000",
    "Revert commit 9fceb02d0ae598e95dc970b74767f19372d61af8",
    "The job ran at 2024-03-15 14:30:00 and failed.",
    "The invoice is due on 03/15/2024.",
    "Sales grew over 2010-2019 steadily.",
    "It costs $1,234.56 per seat.",
    "Listen on 0.0.0.0:8080 and 127.0.0.1",
    "The meeting is at 12:30:45.",
    "IBAN GB00WEST12345698765432 is a typo",  # bad check digits
    "card 4111 1111 1111 1112",  # fails Luhn
    "SSN 000-12-3456 is not issued",
    "password reset link sent",
    "password: ${DB_PASSWORD}",
    "password = os.environ['PW']",
    "Released on 3/23/1940 to the public",  # a date, but no birth word
    "walked 3 miles down the road",
    "Dear Team, the report is ready",
    "Room 101 is on floor 3",
    "3.14159 is pi and 2.71828 is e",
    "eyJhbGciOi.notajwt",
    "the ratio was 1:2:3",
]


@pytest.mark.parametrize(
    ("text", "entity", "value"), POSITIVES, ids=[p[1] + ":" + p[2][:24] for p in POSITIVES]
)
def test_positive(text: str, entity: str, value: str) -> None:
    found = [(f.entity_type, text[f.start : f.end]) for f in SCANNER.scan(text)]
    assert (entity, value) in found, found


@pytest.mark.parametrize("text", NEGATIVES)
def test_negative(text: str) -> None:
    found = [(f.entity_type, text[f.start : f.end]) for f in SCANNER.scan(text)]
    assert found == []


@pytest.mark.parametrize(
    ("number", "ok"),
    [
        ("4111111111111111", True),
        ("4111111111111112", False),
        ("378282246310005", True),
        ("9111111111111111", False),  # Luhn-valid shape, no issuer
        ("5555555555554444", True),
        ("1234567812345670", False),  # Luhn-valid, issuer prefix 1
    ],
)
def test_card_checksum(number: str, ok: bool) -> None:
    assert card_ok(number) is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("DE89370400440532013000", True),
        ("DE89370400440532013001", False),
        ("GB82WEST12345698765432", True),
    ],
)
def test_iban_checksum(value: str, ok: bool) -> None:
    assert iban_ok(value) is ok


def test_github_checksum_scores() -> None:
    assert github_token_checksum_ok(VALID_GH)
    forged = VALID_GH[:-1] + ("A" if VALID_GH[-1] != "A" else "B")
    assert not github_token_checksum_ok(forged)
    by_value = {SCANNER.scan(t)[0].score for t in (VALID_GH, forged)}
    assert by_value == {1.0, 0.7}  # a forged checksum is still redacted, with less confidence


def test_jwt_header_must_decode() -> None:
    assert jwt_ok(JWT)
    assert not jwt_ok("eyJub3Rqc29u.eyJzdWIiOiIxIn0.abc")


def test_findings_carry_no_value() -> None:
    finding = SCANNER.scan("mail a@b.io")[0]
    assert not hasattr(finding, "value")
    assert "a@b.io" not in repr(finding)


def test_restricted_entities() -> None:
    scanner = PiiScanner(["EMAIL_ADDRESS"], use_model=False)
    found = scanner.scan("a@b.io and 4111 1111 1111 1111")
    assert [f.entity_type for f in found] == ["EMAIL_ADDRESS"]


def test_unknown_entity_is_rejected() -> None:
    with pytest.raises(ValueError, match="NOT_A_TYPE"):
        PiiScanner(["NOT_A_TYPE"])
