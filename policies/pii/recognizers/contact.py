"""E-mail addresses, phone numbers and IP addresses.

Phones: a regex finds phone-shaped digit groups; `phonenumbers` validates numbers written in
international form (+CC / 00CC) and national ones for a short list of regions; context words
("call", "mobile", …) admit numbers that are only *possible* (right length, phone-like grouping),
and reference words ("order", "tracking", …) right before a candidate reject it. ISBNs, dates and
dotted quads never count as phones.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator, Sequence

import phonenumbers

from policies.pii.findings import Finding
from policies.pii.recognizers.base import (
    REFERENCE_WORDS_LIST,
    PatternRecognizer,
    ScanText,
    context_score,
    words_regex,
)
from policies.pii.validators import isbn_ok

_EMAIL = re.compile(
    r"(?<![\w.%+-])[A-Za-z0-9](?:[A-Za-z0-9._%+-]{0,63})@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![\w-])"
)


class EmailRecognizer:
    """E-mail addresses, looked for only around each '@'."""

    entity_types = frozenset({"EMAIL_ADDRESS"})

    def find(self, st: ScanText) -> Iterator[Finding]:
        text = st.text
        at = text.find("@")
        while at != -1:
            nxt = at + 1
            for m in _EMAIL.finditer(text, max(0, at - 65), min(len(text), at + 256)):
                if m.start() < at < m.end():
                    local = text[m.start() : at]
                    if ".." not in local and not local.endswith("."):
                        yield Finding("EMAIL_ADDRESS", m.start(), m.end(), 0.95)
                    nxt = m.end()
                    break
            at = text.find("@", nxt)


EMAIL = EmailRecognizer()

# Optional +CC/00CC, optional (area), then digit groups joined by single separators, optional
# extension. Groups keep it from swallowing prose; the validator decides.
_PHONE = re.compile(
    r"(?<![\w+/.:-])"
    r"(?:(?:\+|00)\d{1,3}[ .-]?)?"
    r"(?:\(\d{1,5}\)[ .-]?)?"
    r"\d{1,12}(?:[ .-]\d{1,10}){0,5}"
    r"(?:[ ]?(?:x|ext\.?|extension)[ ]?\d{1,6})?"
    r"(?![\w/]|[.:-]\d)"
)
_EXT = re.compile(r"[ ]?(?:x|ext\.?|extension)[ ]?\d{1,6}$")
_DATE_LIKE = re.compile(r"^(?:\d{4}[-./]\d{1,2}[-./]\d{1,2}\b|\d{1,2}[-./]\d{1,2}[-./]\d{2,4}$)")
_SSN_SHAPE = re.compile(r"^\d{3}[- ]\d{2}[- ]\d{4}$")  # no phone plan groups digits 3-2-4
# Shapes that say "phone number" whether or not the number is dialable (fictional 555 numbers,
# unassigned ranges): NANP 3-3-4 with a consistent separator or (area), and +CC with groups.
_PHONE_SHAPE = re.compile(
    r"^(?:(?:\+?1[ .-]?)?(?:\([2-9]\d\d\) ?[2-9]\d\d[ .-]\d{4}|[2-9]\d\d-[2-9]\d\d-\d{4}"
    r"|[2-9]\d\d\.[2-9]\d\d\.\d{4}|[2-9]\d\d [2-9]\d\d \d{4})"
    r"|\+\d{1,3}(?:[ .-]\(?\d{1,5}\)?){2,5})$"
)
_YEAR_RANGE = re.compile(r"^(?:19|20)\d\d ?[-.] ?(?:19|20)\d\d$")
_DOTTED_QUAD = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")
_PHONE_WORDS = words_regex(
    "phone",
    "tel",
    "telephone",
    "mobile",
    "cell",
    "cellphone",
    "call",
    "calling",
    "fax",
    "contact",
    "reach",
    "whatsapp",
    "sms",
    "text",
    "dial",
    "ring",
    "landline",
    "hotline",
    "number",
    "no",
    "ph",
    "office",
    "fax",
    "home",
    "work",
    "answering",
)
_NOT_PHONE_WORDS = words_regex(
    *REFERENCE_WORDS_LIST,
    *("apt", "apartment", "suite", "unit", "room", "ssn", "social security", "nhs", "aadhaar"),
    *("pesel", "license", "licence", "passport", "account", "iban", "routing", "tax", "itin"),
    *("sin", "social insurance", "tfn", "tax file", "bsn", "cpf", "nino", "national insurance"),
    *("mrn", "medical record", "patient id", "hospital number", "nir", "steuer", "idnr"),
)
NATIONAL_REGIONS: tuple[str, ...] = ("US", "GB", "DE", "FR", "IN")


class PhoneRecognizer:
    """Phone numbers, validated with `phonenumbers` (see module docstring)."""

    entity_types = frozenset({"PHONE_NUMBER"})

    def __init__(self, regions: Sequence[str] = NATIONAL_REGIONS) -> None:
        self.regions = tuple(regions)

    def find(self, st: ScanText) -> Iterator[Finding]:
        text, n, last_end = st.text, len(st.text), -1
        for c in st.clusters:
            if c.digits < 5 or c.end <= last_end:
                continue
            for m in _PHONE.finditer(text, max(0, c.start - 4), min(n, c.end + 16)):
                start, end = m.span()
                if start < last_end or start >= c.end or end <= c.start:
                    continue  # not this cluster's number (the next one is found on its own)
                last_end = end
                score = self._score(m.group(), st, start, end)
                if score is not None:
                    yield Finding("PHONE_NUMBER", start, end, score)

    def _score(self, cand: str, st: ScanText, start: int, end: int) -> float | None:
        body = _EXT.sub("", cand)
        digits = sum(c.isdigit() for c in body)
        if not 7 <= digits <= 15:
            return None
        if _DATE_LIKE.match(body) or _DOTTED_QUAD.match(body) or _SSN_SHAPE.match(body):
            return None
        if _YEAR_RANGE.match(body):
            return None
        if isbn_ok(body):
            return None
        international = body.startswith(("+", "00"))
        formatted = international or not body.isdigit()
        valid = self._valid(body, international)
        if valid:
            base = 0.75 if formatted else 0.4
        elif _PHONE_SHAPE.match(body):
            base = 0.6  # written as a phone number: 555-867-5309, +1 555 867 5309, (555) …
        elif formatted and (body.count(" ") + body.count("-") + body.count(".") >= 1):
            base = 0.3  # possible but unverified: needs context
        else:
            return None
        score = context_score(
            st, start, end, base, positive=_PHONE_WORDS, negative=_NOT_PHONE_WORDS, boost=0.3
        )
        return score

    def _valid(self, body: str, international: bool) -> bool:
        if international:
            text = "+" + body[2:] if body.startswith("00") else body
            return _is_valid(text, None)
        digits = "".join(c for c in body if c.isdigit())
        return any(
            phonenumbers.is_valid_number(
                phonenumbers.PhoneNumber(country_code=cc, national_number=nsn)
            )
            for cc, nsn in self._national_readings(digits)
        )

    def _national_readings(self, digits: str) -> Iterator[tuple[int, int]]:
        """(country code, national number) readings of a nationally written number, for the
        configured regions, guessed from its shape so that few are validated: a trunk '0'
        means a European plan, ten digits without it NANP or India."""
        if digits[0] == "0":
            for region in self.regions:
                cc = phonenumbers.country_code_for_region(region)
                if region not in ("US", "CA", "IN") and cc:
                    yield cc, int(digits[1:] or "0")
            return
        if "US" in self.regions or "CA" in self.regions:
            if len(digits) == 10:
                yield 1, int(digits)
            elif len(digits) == 11 and digits[0] == "1":
                yield 1, int(digits[1:])
        if "IN" in self.regions and len(digits) == 10 and digits[0] in "6789":
            yield 91, int(digits)


def _is_valid(text: str, region: str | None) -> bool:
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return False
    return bool(phonenumbers.is_valid_number(number))


_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.]|\.\d)")
_IPV6 = re.compile(
    r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?(?![\w:])"
)
# Well-known public DNS resolvers (Google, Cloudflare, Quad9, OpenDNS): a service everyone
# uses, not a person's address; redacting them would break every networking question.
PUBLIC_RESOLVERS = frozenset(
    ipaddress.ip_address(a)
    for a in (
        *("8.8.8.8", "8.8.4.4", "1.1.1.1", "1.0.0.1", "9.9.9.9", "149.112.112.112"),
        *("208.67.222.222", "208.67.220.220", "2001:4860:4860::8888", "2001:4860:4860::8844"),
        *("2606:4700:4700::1111", "2606:4700:4700::1001", "2620:fe::fe", "2620:fe::9"),
    )
)
_VERSION_WORDS = words_regex("version", "ver", "v", "release", "build", "firmware", "sdk", "oid")


def _ip(value: str, m: re.Match[str], st: ScanText) -> float | None:
    try:
        addr = ipaddress.ip_address(value)
    except ValueError:
        return None
    if addr.is_unspecified or addr.is_loopback or addr in PUBLIC_RESOLVERS:
        return None  # 0.0.0.0, 127.0.0.1, ::1, 8.8.8.8 identify nobody
    if addr.version == 6 and value.count(":") < 3 and "::" not in value:
        return None  # e.g. a clock time such as 12:30:45
    return context_score(st, m.start(), m.end(), 0.8, negative=_VERSION_WORDS, negative_width=12)


IPV4 = PatternRecognizer("IP_ADDRESS", _IPV4, _ip, digits=(4, 64), margin=(1, 1))
_HEX = frozenset("0123456789abcdefABCDEF:")


class Ipv6Recognizer:
    """IPv6 addresses, looked for only around colons that have hex digits on both sides."""

    entity_types = frozenset({"IP_ADDRESS"})

    def find(self, st: ScanText) -> Iterator[Finding]:
        text, n = st.text, len(st.text)
        i = text.find(":")
        while i != -1:
            nxt = i + 1
            if 0 < i < n - 1 and text[i - 1] in _HEX and text[i + 1] in _HEX:
                for m in _IPV6.finditer(text, max(0, i - 40), min(n, i + 46)):
                    if m.start() <= i < m.end():
                        score = _ip(m.group(), m, st)
                        if score is not None:
                            yield Finding("IP_ADDRESS", m.start(), m.end(), score)
                        nxt = m.end()
                        break
            i = text.find(":", nxt)


IPV6 = Ipv6Recognizer()
