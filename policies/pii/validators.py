"""Checksums and sanity checks that turn regex candidates into findings.

Each function is pure and cheap; the heavy lifting (IBAN mod-97, national-ID check digits) is
python-stdnum's, the card checksum is Luhn with issuer-prefix and length checks on top.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import math
import zlib
from collections import Counter

from stdnum import iban as _iban
from stdnum import isbn as _isbn
from stdnum import luhn as _luhn

_DIGITS = str.maketrans("", "", " -./()")


def digits_only(value: str) -> str:
    """`value` without the usual separators (space, dash, dot, slash, parentheses)."""
    return value.translate(_DIGITS)


def luhn_ok(number: str) -> bool:
    """True when `number` (digits only) passes the Luhn mod-10 check."""
    return number.isdigit() and _luhn.is_valid(number)


# (prefix range low, high, allowed lengths): Visa, Mastercard, Amex, Discover, JCB, Diners,
# UnionPay, Maestro. A Luhn-valid number outside these is most likely not a payment card.
_CARD_IIN: tuple[tuple[int, int, int, frozenset[int]], ...] = (
    (4, 4, 1, frozenset({13, 16, 19})),
    (51, 55, 2, frozenset({16})),
    (2221, 2720, 4, frozenset({16})),
    (34, 34, 2, frozenset({15})),
    (37, 37, 2, frozenset({15})),
    (6011, 6011, 4, frozenset({16, 19})),
    (644, 649, 3, frozenset({16, 19})),
    (65, 65, 2, frozenset({16, 19})),
    (3528, 3589, 4, frozenset({16, 19})),
    (300, 305, 3, frozenset({14, 16, 19})),
    (36, 36, 2, frozenset({14, 16, 19})),
    (38, 39, 2, frozenset({16, 19})),
    (62, 62, 2, frozenset({16, 17, 18, 19})),
    (50, 50, 2, frozenset({12, 13, 14, 15, 16, 17, 18, 19})),
    (56, 69, 2, frozenset({12, 13, 14, 15, 16, 17, 18, 19})),
)


def card_ok(number: str) -> bool:
    """Luhn-valid, of a known issuer prefix, and of a length that issuer uses."""
    if not luhn_ok(number):
        return False
    n = len(number)
    for low, high, width, lengths in _CARD_IIN:
        if low <= int(number[:width]) <= high and n in lengths:
            return True
    return False


def iban_ok(value: str) -> bool:
    """Country format and mod-97 check digits (python-stdnum)."""
    return bool(_iban.is_valid(value))


def isbn_ok(value: str) -> bool:
    """True for a valid ISBN-13 (978/979 prefix): such a number is a book, not a phone.

    ISBN-10 is not checked here: one random 10-digit number in eleven passes its checksum, so
    it would reject real phone numbers; an ISBN-10 is recognised by the word "ISBN" before it.
    """
    compact = digits_only(value)
    return len(compact) == 13 and compact[:3] in ("978", "979") and bool(_isbn.is_valid(compact))


def ssn_shaped(value: str) -> bool:
    """Nine digits whose area, group and serial are not all zeros (an SSN's shape, whether or
    not the SSA ever issued that area)."""
    digits = digits_only(value)
    return (
        len(digits) == 9
        and digits.isdigit()
        and digits[:3] != "000"
        and digits[3:5] != "00"
        and digits[5:] != "0000"
    )


_NINO_NEVER = frozenset({"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"})


def uk_nino_ok(value: str) -> bool:
    """A UK National Insurance number's prefix is one HMRC allocates (the letters D, F, I, Q,
    U, V and O-second are excluded by the pattern; these pairs here)."""
    return value[:2].upper() not in _NINO_NEVER


def plausible_birth_date(year: int, month: int, day: int, *, today: dt.date | None = None) -> bool:
    """A real calendar date, not in the future, and less than 125 years ago."""
    today = today or dt.date.today()
    try:
        date = dt.date(year, month, day)
    except ValueError:
        return False
    return today.year - 125 <= date.year and date <= today


def shannon_entropy(value: str) -> float:
    """Bits per character of `value` (0 for empty)."""
    if not value:
        return 0.0
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in Counter(value).values())


def is_template_reference(value: str) -> bool:
    """A reference to where a secret lives, not the secret: `${TOKEN}`, `{{ vault }}`,
    `<your-key>`, `os.environ["KEY"]`, `process.env.KEY`, `%(password)s`, `********`."""
    low = value.lower()
    if value[:1] in "<{$*%" or "(" in value or "${" in value:
        return True
    return low.startswith(("os.", "env.", "process.env", "getenv", "settings.", "config."))


_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _base62(n: int, width: int) -> str:
    out = []
    while n:
        n, r = divmod(n, 62)
        out.append(_BASE62[r])
    return "".join(reversed(out)).rjust(width, "0")


def github_token_checksum_ok(token: str) -> bool:
    """GitHub's current tokens (`ghp_…` etc.) end with a base62 CRC32 of their random part."""
    body = token.partition("_")[2]
    if len(body) != 36:
        return False
    payload, check = body[:30], body[30:]
    return _base62(zlib.crc32(payload.encode()), 6) == check


def jwt_ok(token: str) -> bool:
    """The header segment is base64url JSON with an `alg` field."""
    header = token.split(".", 1)[0]
    try:
        raw = base64.urlsafe_b64decode(header + "=" * (-len(header) % 4))
        decoded = json.loads(raw)
    except (ValueError, binascii.Error):
        return False
    return isinstance(decoded, dict) and "alg" in decoded
