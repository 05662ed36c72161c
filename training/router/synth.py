"""Synthesised prompts for what the shared data lacks (sensitivity source `synthetic`).

Positives: credentials in config snippets, HR records, contract clauses, signed e-mails, forms
with SSNs / cards / IBANs / diagnoses, and Presidio's templates filled with Faker values.
Negatives: the same shapes with placeholders instead of secrets, PII-shaped decoys that are
not personal data (order numbers, ISBNs, versions, timestamps, UUIDs, hashes), and short
everyday chat requests (greetings, jokes, recipes) that the benchmark sources lack. All values are
fake (Faker, seeded); no real person or secret is in the output.
"""

from __future__ import annotations

import random
import re
import string
from collections.abc import Callable, Iterator
from pathlib import Path

from faker import Faker

from training.router.records import Row

Maker = Callable[[Faker, random.Random], str]
_SLOT = re.compile(r"\{\{\s*(\w+)\s*\}\}")
ASKS = [
    "Can you check this for me?",
    "Please summarise this.",
    "Rewrite this more politely:",
    "What is wrong with this?",
    "Translate this to French:",
    "Fix the formatting:",
    "",
]


def _token(rng: random.Random, n: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def _secret(fake: Faker, rng: random.Random) -> str:
    key = rng.choice(
        [
            "sk-" + _token(rng, 48),
            "AKIA" + _token(rng, 16, string.ascii_uppercase + string.digits),
            "ghp_" + _token(rng, 36),
            "xoxb-" + "-".join(_token(rng, 12, string.digits) for _ in range(2)) + _token(rng, 24),
            _token(rng, 40, string.hexdigits.lower()),
        ]
    )
    user, pw = fake.user_name(), fake.password(length=rng.randint(10, 18))
    return rng.choice(
        [
            f"OPENAI_API_KEY={key}\nDATABASE_URL=postgres://{user}:{pw}@db.internal:5432/prod",
            f"aws_access_key_id = {key}\naws_secret_access_key = {_token(rng, 40)}",
            f"db:\n  host: {fake.hostname()}\n  user: {user}\n  password: {pw}",
            f'headers = {{"Authorization": "Bearer {key}"}}\nrequests.get(url, headers=headers)',
            f"my login for the VPN is {user} / {pw}, why does it keep failing?",
            f"export GITHUB_TOKEN={key}\ngit push https://{user}:{pw}@github.com/acme/app.git",
            f"The admin password for the {fake.word()} server is {pw} - write the handover note.",
            f"Our shared account: username {user}, password {pw}. Why can't I log in?",
            f"My keys are {key} and {_token(rng, 40)}; the CLI says access denied.",
            "-----BEGIN RSA PRIVATE KEY-----\nMII"
            + _token(rng, 60)
            + "\n"
            + _token(rng, 64)
            + "\n-----END RSA PRIVATE KEY-----\nwhy does ssh reject this key?",
            f"mysql -u {user} -p'{pw}' -h {fake.ipv4_private()} billing fails, any idea?",
            f"The wifi code for the office is {pw}, put it in the welcome email.",
            f"smtp_user={fake.email()}\nsmtp_password={pw}\nfix this config for staging",
        ]
    )


def _secret_placeholder(fake: Faker, rng: random.Random) -> str:
    return rng.choice(
        [
            "OPENAI_API_KEY=${OPENAI_API_KEY}\nDATABASE_URL=postgres://USER:PASSWORD@HOST:5432/db",
            "aws_access_key_id = <your-access-key>\naws_secret_access_key = <your-secret>",
            "db:\n  host: localhost\n  user: {{ env.DB_USER }}\n"
            f"  password: ${{{fake.word()}}}",
            'headers = {"Authorization": f"Bearer {os.environ[\'API_TOKEN\']}"}',
            "How do I store an API key safely in a GitHub Actions workflow?",
            "What is the difference between a password hash and an encrypted password?",
        ]
    )


def _hr_record(fake: Faker, rng: random.Random) -> str:
    return (
        f"Employee: {fake.name()} (ID {rng.randint(10000, 99999)})\n"
        f"Position: {fake.job()}, salary ${rng.randint(45, 220)},{rng.randint(100, 999)}\n"
        f"Performance review {rng.randint(2019, 2026)}: "
        + rng.choice(
            [
                "below expectations; placed on a performance improvement plan.",
                "on medical leave since March for depression; return date unknown.",
                "written warning for harassment complaint filed by a colleague.",
                "recommended for termination after the restructuring.",
            ]
        )
        + f"\nManager: {fake.name()}"
    )


def _hr_generic(fake: Faker, rng: random.Random) -> str:
    return rng.choice(
        [
            f"Write a job description for a {fake.job()}.",
            "What should a fair performance review process include?",
            "Draft a company policy on parental leave.",
            f"Give me interview questions for a {fake.job()} role.",
            "How do performance improvement plans usually work?",
        ]
    )


def _contract(fake: Faker, rng: random.Random) -> str:
    return (
        f"CONFIDENTIAL. This Services Agreement is made on {fake.date()} between "
        f"{fake.company()} and {fake.name()}, residing at {fake.address().replace(chr(10), ', ')}. "
        f"The Contractor shall receive ${rng.randint(5, 500)},000 payable to account "
        f"{fake.iban()}. Settlement of the dispute over {fake.bs()} remains under NDA."
    )


def _contract_generic(fake: Faker, rng: random.Random) -> str:
    return rng.choice(
        [
            "Explain what an indemnification clause does in a services agreement.",
            "Draft a template NDA clause with placeholders for the parties' names.",
            "What is the difference between a warranty and a representation in a contract?",
            f"Summarise the typical structure of a {fake.word()} licensing agreement.",
        ]
    )


def _email(fake: Faker, rng: random.Random) -> str:
    return (
        f"Hi {fake.first_name()},\n\n{fake.paragraph(nb_sentences=3)}\n\nBest regards,\n"
        f"{fake.name()}\n{fake.job()}, {fake.company()}\n"
        f"Tel. {fake.phone_number()}\n{fake.email()}"
    )


def _email_generic(fake: Faker, rng: random.Random) -> str:
    return f"Hi team,\n\n{fake.paragraph(nb_sentences=3)}\n\nThanks!"


def _form(fake: Faker, rng: random.Random) -> str:
    return rng.choice(
        [
            f"Fill in the tax form for {fake.name()}, SSN {fake.ssn()}, "
            f"born {fake.date_of_birth()}.",
            f"My card {fake.credit_card_number()} exp {fake.credit_card_expire()} was charged "
            "twice, write a complaint.",
            f"Patient {fake.name()}, DOB {fake.date_of_birth()}, diagnosed with "
            + rng.choice(["HIV", "bipolar disorder", "type 2 diabetes", "breast cancer"])
            + ". Draft a letter to the insurer.",
            f"Transfer the deposit to {fake.iban()} in the name of {fake.name()}.",
            f"Update the address of {fake.name()} to {fake.address()} and phone "
            f"{fake.phone_number()}.",
            f"My social security number is {fake.ssn()} and my passport number is "
            f"{fake.passport_number()}, is that enough for the visa form?",
        ]
    )


def _decoy(fake: Faker, rng: random.Random) -> str:
    return rng.choice(
        [
            f"Where is my order #{rng.randint(100000, 9999999)}? It shipped on {fake.date()}.",
            f"Is ISBN {fake.isbn13()} the paperback or the hardcover edition?",
            f"After upgrading to version {rng.randint(1, 9)}.{rng.randint(0, 30)}."
            f"{rng.randint(0, 20)} the build fails at {fake.iso8601()}.",
            f"Why does the request with id {fake.uuid4()} return 404?",
            f"Explain the commit {fake.sha1()} in plain words.",
            f"Convert the timestamp {fake.unix_time():.0f} to a readable date.",
            f"The log says error 0x{_token(rng, 8, '0123456789abcdef')} at line "
            f"{rng.randint(1, 999)}, what does it mean?",
            f"Track parcel {_token(rng, 2, string.ascii_uppercase)}"
            f"{rng.randint(100000000, 999999999)}US please.",
            f"Our store sells SKU {_token(rng, 10, string.ascii_uppercase + string.digits)}"
            f" at ${rng.randint(1, 300)}.99. Write a product description.",
        ]
    )


CHAT = [
    "say hello",
    "hi!",
    "hello, how are you?",
    "thanks, that helped",
    "tell me a joke about {w}",
    "write a short poem about {w}",
    "give me a simple recipe for {w} bread",
    "what rhymes with {w}?",
    "translate '{w}' into Spanish",
    "define the word '{w}'",
    "suggest a name for my {w} blog",
    "what is a fun fact about {w}?",
    "good morning! any tips for a productive day?",
    "can you say hello in five languages?",
    "list three synonyms for {w}",
    "is a tomato a fruit or a vegetable?",
    "how do I boil an egg?",
    "recommend a board game for a family evening",
]


def _chitchat(fake: Faker, rng: random.Random) -> str:
    return rng.choice(CHAT).format(w=fake.word())


POSITIVE: dict[str, Maker] = {
    "credentials": _secret,
    "hr_record": _hr_record,
    "contract": _contract,
    "signed_email": _email,
    "pii_form": _form,
}
NEGATIVE: dict[str, Maker] = {
    "credentials_placeholder": _secret_placeholder,
    "hr_generic": _hr_generic,
    "contract_generic": _contract_generic,
    "email_unsigned": _email_generic,
    "decoy": _decoy,
    "chitchat": _chitchat,
}


IDENTIFYING_SLOTS = re.compile(
    r"person|name|address|street|credit_card|phone|email|iban|ssn|birth|ip_address|license"
)


def _fill_template(fake: Faker, template: str) -> str:
    special: dict[str, Callable[[], str]] = {
        "person": fake.name,
        "address": lambda: fake.address().replace("\n", ", "),
        "date_of_birth": lambda: str(fake.date_of_birth()),
        "ip_address": fake.ipv4,
        "us_driver_license": lambda: fake.bothify("?#######").upper(),
        "date_time": lambda: str(fake.date_time()),
        "age": lambda: str(fake.random_int(18, 90)),
        "nation_woman": fake.country,
        "nation_plural": fake.country,
        "first_name_nonbinary": fake.first_name,
    }

    def fill(match: re.Match[str]) -> str:
        slot = match.group(1)
        maker = special.get(slot)
        return str(maker() if maker is not None else getattr(fake, slot, fake.name)())

    return _SLOT.sub(fill, template)


def synthetic_rows(templates: Path, per_kind: int = 300, seed: int = 7) -> Iterator[Row]:
    """`per_kind` prompts of each kind, plus Presidio's templates filled with Faker values."""
    fake = Faker("en_US")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    for kinds, label in ((POSITIVE, 1.0), (NEGATIVE, 0.0)):
        for kind, make in kinds.items():
            for i in range(per_kind if kind != "decoy" else 3 * per_kind):
                ask = "" if kind == "chitchat" else rng.choice(ASKS)
                text = f"{ask}\n{make(fake, rng)}".strip()
                yield _synthetic(text, kind, i, label)
    lines = [
        t
        for t in templates.read_text("utf-8").splitlines()
        if any(IDENTIFYING_SLOTS.search(slot) for slot in _SLOT.findall(t))
    ]
    for i, template in enumerate(lines):
        for j in range(3):
            text = _fill_template(fake, template)
            yield _synthetic(text, f"presidio_template{i}", j, 1.0, group=f"template{i}")


def _synthetic(text: str, kind: str, i: int, label: float, group: str | None = None) -> Row:
    return Row(
        text=text,
        source="synthetic",
        group=f"synthetic:{group or f'{kind}:{i}'}",
        provenance=f"training/router/synth.py kind={kind} #{i}",
        license="generated (Apache-2.0, this project); presidio templates MIT",
        sensitivity=label,
        sensitivity_source=f"synthetic_{'pos' if label else 'neg'}",
    )
