"""Regenerate `synthetic.jsonl`: PII sentences plus look-alike decoys that must survive.

    .venv/bin/python tests/data/pii/generate.py      # deterministic (fixed seeds)

Values come from Faker (names, addresses, cards, IBANs, SSNs, IPs) and from our own generators
for formats Faker lacks (valid phone numbers via `phonenumbers`, credential formats, JWTs, PEM
blocks). Each line: {"text", "spans": [[type, start, end]], "decoys": [[kind, start, end]]}.
"""

from __future__ import annotations

import base64
import json
import random
import string
import zlib
from collections.abc import Callable
from pathlib import Path

import phonenumbers
from faker import Faker

OUT = Path(__file__).with_name("synthetic.jsonl")
rng = random.Random(20261122)
Faker.seed(20261122)
fake = Faker(["en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL"])
us = fake["en_US"]

# --- value generators --------------------------------------------------------------------------


def _alnum(n: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def phone() -> str:
    region = rng.choice(["US", "GB", "DE", "FR", "IN", "AU", "ES", "IT", "NL", "BR"])
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    assert example is not None
    nsn = str(example.national_number)
    while True:
        digits = nsn[:3] + "".join(rng.choice(string.digits) for _ in nsn[3:])
        num = phonenumbers.parse("+" + str(example.country_code) + digits)
        if phonenumbers.is_valid_number(num):
            break
    fmt = rng.choice(
        [phonenumbers.PhoneNumberFormat.INTERNATIONAL, phonenumbers.PhoneNumberFormat.E164]
        + ([phonenumbers.PhoneNumberFormat.NATIONAL] if region in ("US", "GB", "DE") else [])
    )
    return phonenumbers.format_number(num, fmt)


def _digits(n: int, alphabet: str = string.digits) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def fictional_phone() -> str:
    """A US-style 555 number: not dialable, still a phone number."""
    n = f"555{rng.randint(200, 999)}{rng.randint(0, 9999):04d}"
    return rng.choice([f"{n[:3]}-{n[3:6]}-{n[6:]}", f"({n[:3]}) {n[3:6]}-{n[6:]}"])


def nhs_number() -> str:
    from stdnum.gb import nhs

    while True:
        body = _digits(9)
        check = (11 - sum(int(d) * (10 - i) for i, d in enumerate(body)) % 11) % 11
        if check != 10 and nhs.is_valid(body + str(check)):
            n = body + str(check)
            return f"{n[:3]} {n[3:6]} {n[6:]}"


def card() -> str:
    number = us.credit_card_number(card_type=rng.choice(["visa16", "mastercard", "amex"]))
    if rng.random() < 0.5 and len(number) == 16:
        sep = rng.choice([" ", "-"])
        number = sep.join(number[i : i + 4] for i in range(0, 16, 4))
    return str(number)


def iban() -> str:
    loc = rng.choice(["en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL"])
    value = str(fake[loc].iban())
    if rng.random() < 0.5:
        value = " ".join(value[i : i + 4] for i in range(0, len(value), 4))
    return value


def github_token() -> str:
    body = _alnum(30)
    crc = zlib.crc32(body.encode())
    b62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
    out = ""
    while crc:
        crc, r = divmod(crc, 62)
        out = b62[r] + out
    return "ghp_" + body + out.rjust(6, "0")


def jwt() -> str:
    def seg(obj: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    return ".".join(
        [
            seg({"alg": "HS256", "typ": "JWT"}),
            seg({"sub": _alnum(8), "iat": 1700000000}),
            _alnum(43),
        ]
    )


def private_key() -> str:
    body = "\n".join(_alnum(64, string.ascii_letters + string.digits + "+/") for _ in range(4))
    return f"-----BEGIN RSA PRIVATE KEY-----\n{body}\n-----END RSA PRIVATE KEY-----"


SECRETS: dict[str, Callable[[], str]] = {
    "openai": lambda: "sk-proj-" + _alnum(48, string.ascii_letters + string.digits + "_-"),
    "stripe": lambda: "sk_live_" + _alnum(24),
    "aws": lambda: "AKIA" + _alnum(16, string.ascii_uppercase + string.digits),
    "github": github_token,
    "slack": lambda: (
        f"xoxb-{rng.randint(10**11, 10**12)}-{rng.randint(10**11, 10**12)}-{_alnum(24)}"
    ),
}

# --- templates ---------------------------------------------------------------------------------
# "{X:TYPE}" is a PII slot; "{X:decoy-kind}" a decoy slot filled from DECOYS.

POSITIVE: list[tuple[str, dict[str, tuple[str, Callable[[], str]]]]] = [
    ("Please email {e} about the refund.", {"e": ("EMAIL_ADDRESS", lambda: str(fake.email()))}),
    ("You can reach me on {p} after 6pm.", {"p": ("PHONE_NUMBER", phone)}),
    ("My mobile is {p}, office {q}.", {"p": ("PHONE_NUMBER", phone), "q": ("PHONE_NUMBER", phone)}),
    ("Charge it to my card {c}, expiry 04/29.", {"c": ("CREDIT_CARD", card)}),
    ("Wire the money to IBAN {i} today.", {"i": ("IBAN_CODE", iban)}),
    ("Her SSN is {s} and she needs a new form.", {"s": ("US_SSN", lambda: str(us.ssn()))}),
    ("The login came from {ip} at night.", {"ip": ("IP_ADDRESS", lambda: str(fake.ipv4_public()))}),
    ("Block {ip} in the firewall.", {"ip": ("IP_ADDRESS", lambda: str(fake.ipv6()))}),
    (
        "He was born on {d} in a small town.",
        {
            "d": (
                "DATE_OF_BIRTH",
                lambda: us.date_of_birth().strftime(
                    rng.choice(["%m/%d/%Y", "%B %d, %Y", "%Y-%m-%d", "%d.%m.%Y"])
                ),
            )
        },
    ),
    ("DOB: {d}", {"d": ("DATE_OF_BIRTH", lambda: us.date_of_birth().strftime("%Y-%m-%d"))}),
    ("Ship it to {a}, please.", {"a": ("STREET_ADDRESS", lambda: str(us.street_address()))}),
    (
        "My address is {a}.",
        {"a": ("STREET_ADDRESS", lambda: str(us.address()).replace("\n", ", "))},
    ),
    (
        "Send the letter to {a}.",
        {"a": ("STREET_ADDRESS", lambda: str(fake["de_DE"].street_address()))},
    ),
    (
        "We moved to {a} last year.",
        {"a": ("STREET_ADDRESS", lambda: str(fake["nl_NL"].street_address()))},
    ),
    ("Use this key: {k}", {"k": ("API_KEY", lambda: SECRETS[rng.choice(list(SECRETS))]())}),
    ("export OPENAI_API_KEY={k}", {"k": ("API_KEY", SECRETS["openai"])}),
    ("Authorization: Bearer {t}", {"t": ("JWT", jwt)}),
    ("Here is the deploy key:\n{k}\nkeep it safe", {"k": ("PRIVATE_KEY", private_key)}),
    ("db password={pw} on staging", {"pw": ("PASSWORD", lambda: _alnum(12) + "!")}),
    (
        "connect to postgres://admin:{pw}@db.internal:5432/app",
        {"pw": ("PASSWORD", lambda: _alnum(14))},
    ),
    ("Dear {n}, thanks for your order.", {"n": ("PERSON", lambda: str(us.name()))}),
    (
        "Call {n} on {p} tonight.",
        {"n": ("PERSON", lambda: str(us.first_name())), "p": ("PHONE_NUMBER", fictional_phone)},
    ),
    ("Passport number: {x}", {"x": ("PASSPORT", lambda: _alnum(1, "CEFGHJKLMN") + _digits(8))}),
    (
        "Her driver's license is {x}.",
        {"x": ("DRIVER_LICENSE", lambda: _alnum(1, string.ascii_uppercase) + _digits(7))},
    ),
    ("MRN: {x}, admitted Tuesday.", {"x": ("MEDICAL_RECORD_NUMBER", lambda: _digits(8))}),
    ("NHS number {x}", {"x": ("UK_NHS", nhs_number)}),
    (
        "SSN {x} on the form.",
        {
            "x": (
                "US_SSN",
                lambda: f"9{_digits(2)}-{_digits(2, '123456789')}-{_digits(4, '123456789')}",
            )
        },
    ),
    (
        "I met {n} and {m} at the conference.",
        {"n": ("PERSON", lambda: str(fake.name())), "m": ("PERSON", lambda: str(us.name()))},
    ),
    (
        "{n} lives in {c}.",
        {
            "n": ("PERSON", lambda: str(us.name())),
            "c": (
                "LOCATION",
                lambda: str(
                    rng.choice(
                        [
                            "Paris",
                            "Berlin",
                            "Chicago",
                            "Madrid",
                            "Toronto",
                            "Mumbai",
                            "Boston",
                            "Lisbon",
                        ]
                    )
                ),
            ),
        },
    ),
]

IMPERATIVES = (
    *("Summarise", "Summarize", "Draft", "Convert", "Explain", "Translate", "Rewrite"),
    *("Generate", "Compare", "Outline", "Describe", "Refactor", "Classify", "Extract"),
    *("Proofread", "Review", "Analyse", "Calculate", "Format", "Shorten", "Expand", "Debug"),
)
# Cities, several of them also first names (the tagger's hard case).
CITIES = (
    *("Sydney", "Paris", "Austin", "Florence", "Victoria", "Adelaide", "Charlotte", "Houston"),
    *("Dallas", "Madison", "Phoenix", "Orlando", "Lincoln", "Jackson", "Berlin", "Toronto"),
    *("Melbourne", "Chicago", "Denver", "Vienna", "Lima", "Regina", "Chelsea", "Savannah"),
)
COMMON_CAPITALISED = (
    *("Budget", "Forecast", "Roadmap", "Agenda", "Summary", "Invoice", "Schedule", "Contract"),
    *("Dashboard", "Backlog", "Release", "Report", "Policy", "Handbook", "Proposal"),
)
# Well-known public resolvers: they identify a service, never a person (docs/pii.md).
PUBLIC_DNS = (
    *("8.8.8.8", "8.8.4.4", "1.1.1.1", "1.0.0.1", "9.9.9.9", "149.112.112.112"),
    *("208.67.222.222", "208.67.220.220", "2001:4860:4860::8888", "2606:4700:4700::1111"),
)
DECOYS: dict[str, Callable[[], str]] = {
    "order": lambda: f"{rng.randint(10**6, 10**7 - 1)}-{rng.randint(1000, 9999)}",
    "order16": lambda: "".join(rng.choice(string.digits) for _ in range(16)),
    "isbn": lambda: str(us.isbn13()),
    "isbn10": lambda: str(us.isbn10()),
    "version": lambda: f"{rng.randint(1, 12)}.{rng.randint(0, 30)}.{rng.randint(0, 99)}",
    "version4": lambda: (
        f"{rng.randint(1, 12)}.{rng.randint(0, 9)}.{rng.randint(0, 9)}.{rng.randint(0, 9999)}"
    ),
    "ups": lambda: (
        "1Z"
        + _alnum(6, string.ascii_uppercase + string.digits)
        + "".join(rng.choice(string.digits) for _ in range(10))
    ),
    "usps": lambda: (
        "9400 "
        + " ".join("".join(rng.choice(string.digits) for _ in range(4)) for _ in range(4))
        + " "
        + "".join(rng.choice(string.digits) for _ in range(2))
    ),
    "uuid": lambda: str(us.uuid4()),
    "sha": lambda: _alnum(40, "0123456789abcdef"),
    "timestamp": lambda: us.date_time().strftime("%Y-%m-%d %H:%M:%S"),
    "date": lambda: us.date_this_decade().strftime("%m/%d/%Y"),
    "price": lambda: f"${rng.randint(1, 99)},{rng.randint(100, 999)}.{rng.randint(10, 99)}",
    "year_range": lambda: f"{rng.randint(1990, 2010)}-{rng.randint(2011, 2025)}",
    "imperative": lambda: rng.choice(IMPERATIVES),
    "city": lambda: rng.choice(CITIES),
    "common_word": lambda: rng.choice(COMMON_CAPITALISED),
    "public_dns": lambda: rng.choice(PUBLIC_DNS),
    "semver": lambda: f"v{rng.randint(0, 9)}.{rng.randint(0, 40)}.{rng.randint(0, 20)}",
    "hex_colour": lambda: "#" + _alnum(6, "0123456789ABCDEF"),
    "port": lambda: str(rng.choice([3000, 5432, 6379, 8000, 8080, 8443, 9090, 27017])),
    "sku": lambda: f"SKU-{rng.randint(1000, 9999)}-{rng.choice(['XS', 'S', 'M', 'L', 'XL'])}",
    "ticket": lambda: str(rng.randint(10000, 999999)),
    "bytes": lambda: f"{rng.randint(1, 999)},{rng.randint(100, 999)},{rng.randint(100, 999)}",
    "cve": lambda: f"CVE-{rng.randint(2015, 2025)}-{rng.randint(1000, 49999)}",
    "clock": lambda: f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}",
    "iso_date": lambda: us.date_this_decade().isoformat(),
    "percent": lambda: f"{rng.randint(1, 99)}.{rng.randint(0, 9)}%",
    "pages": lambda: f"{rng.randint(100, 199)}-{rng.randint(200, 299)}",
}
DECOY_TEMPLATES: list[tuple[str, str]] = [
    ("Where is my order {x}? It has not arrived.", "order"),
    ("Order number {x} was charged twice.", "order16"),
    ("The book has ISBN {x} on the back.", "isbn"),
    ("Cite it as ISBN {x}.", "isbn10"),
    ("Upgrade to version {x} before Friday.", "version"),
    ("We run build {x} in production.", "version4"),
    ("Tracking number {x} shows delivered.", "ups"),
    ("USPS tracking {x}", "usps"),
    ("The request id is {x}.", "uuid"),
    ("Revert commit {x} please.", "sha"),
    ("The job ran at {x} and failed.", "timestamp"),
    ("The invoice is due on {x}.", "date"),
    ("The quote came to {x} in total.", "price"),
    ("Sales grew over {x} steadily.", "year_range"),
    ("{x} the meeting notes into three bullet points.", "imperative"),
    ("{x} this paragraph for a general audience.", "imperative"),
    ("Flights to {x} are expensive in July.", "city"),
    ("{x} is lovely in the spring.", "city"),
    ("Please update the {x} before the review.", "common_word"),
    ("Set the DNS resolver to {x} and retry.", "public_dns"),
    ("Tag the release {x} on main.", "semver"),
    ("Use the colour {x} for the header.", "hex_colour"),
    ("The service listens on localhost:{x}.", "port"),
    ("{x} is out of stock again.", "sku"),
    ("Ticket #{x} was closed yesterday.", "ticket"),
    ("The upload is {x} bytes.", "bytes"),
    ("Patch {x} on every host.", "cve"),
    ("Stand-up moved to {x} tomorrow.", "clock"),
    ("The export finished on {x}.", "iso_date"),
    ("Conversion rose by {x} this quarter.", "percent"),
    ("Read pages {x} for Monday.", "pages"),
]


def _fill(
    template: str, slots: dict[str, tuple[str, Callable[[], str]]], key: str
) -> dict[str, object]:
    text = ""
    marks: list[list[object]] = []
    rest = template
    while "{" in rest:
        before, _, after = rest.partition("{")
        name, _, rest = after.partition("}")
        text += before
        kind, gen = slots[name]
        value = gen()
        marks.append([kind, len(text), len(text) + len(value)])
        text += value
    text += rest
    return {"text": text, key: marks}


def main() -> None:
    rows: list[dict[str, object]] = []
    for _ in range(12):
        for template, slots in POSITIVE:
            rows.append({**_fill(template, slots, "spans"), "decoys": []})
    for _ in range(12):
        for template, kind in DECOY_TEMPLATES:
            rows.append({**_fill(template, {"x": (kind, DECOYS[kind])}, "decoys"), "spans": []})
    rng.shuffle(rows)
    OUT.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
    )


if __name__ == "__main__":
    main()
