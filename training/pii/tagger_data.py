"""Labelled text for training `NameTagger` (see `training.pii.tagger_train` for the model itself).

Three kinds, all built from committed or `../shared` data:

- **Presidio gold**: `generated_large.json` (presidio-research, MIT). Rows are split by
  `template_id`: 60% of templates train, 10% tune the threshold, 30% are held out for
  `docs/pii.md`, so no test sentence shares a template with a training one.
- **Presidio templates refilled**: each training row's `masked` template is filled again with
  Faker values from twelve locales (different names, places, companies), 10% lower-cased as
  Presidio does.
- **spaCy as teacher**: the router dataset's real prompts (GSM8K, Dolly, MMLU, Arena, MedQuAD,
  PrivacyLens, SynthPAI, ...; `training/router/data/<version>`) labelled by `en_core_web_sm`,
  so the student learns real-text context; its test split measures agreement with the teacher.

Tokens inside Presidio ADDRESS spans are marked IGNORE (street addresses are the patterns' job).
"""

from __future__ import annotations

import gzip
import json
import random
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from policies.pii.ner_tagger import OUTSIDE, Gazetteers, Token

IGNORE = "-"  # a token that does not train (inside a street address)
SEED = 20261122
LOCALES = (
    *("en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT"),
    *("nl_NL", "pl_PL", "pt_BR", "sv_SE", "hr_HR", "fi_FI"),
)
GOLD_TYPES = {"PERSON": "PERSON", "LOCATION": "LOCATION", "ORGANIZATION": "ORGANIZATION"}
TEACHER_SOURCES_EXCLUDED = frozenset({"presidio"})  # its gold labels are used instead
TEACHER_PER_SOURCE = 2500
TEACHER_MAX_CHARS = 2000
_SLOT = re.compile(r"\{\{(\w+)\}\}")


@dataclass(frozen=True, slots=True)
class Labelled:
    """A text with character spans of entity types (IGNORE spans do not train)."""

    text: str
    spans: tuple[tuple[str, int, int], ...]
    origin: str


# --- Presidio ---------------------------------------------------------------------------------


def presidio_split(path: Path) -> dict[str, list[dict[str, Any]]]:
    """Presidio rows by split (train/tune/test), split by template id."""
    rows = json.loads(path.read_text(encoding="utf-8"))
    templates = sorted({r["template_id"] for r in rows})
    random.Random(SEED).shuffle(templates)
    n = len(templates)
    split_of = {t: "train" for t in templates[: int(0.6 * n)]}
    split_of.update({t: "tune" for t in templates[int(0.6 * n) : int(0.7 * n)]})
    split_of.update({t: "test" for t in templates[int(0.7 * n) :]})
    out: dict[str, list[dict[str, Any]]] = {"train": [], "tune": [], "test": []}
    for r in rows:
        out[split_of[r["template_id"]]].append(r)
    return out


def presidio_labelled(rows: Iterable[dict[str, Any]]) -> Iterator[Labelled]:
    for r in rows:
        spans = []
        for s in r["spans"]:
            kind = GOLD_TYPES.get(s["entity_type"])
            if kind is None and s["entity_type"] == "ADDRESS":
                kind = IGNORE
            if kind is not None:
                spans.append((kind, s["start_position"], s["end_position"]))
        yield Labelled(r["full_text"], tuple(spans), "presidio")


def _slot_kind(slot: str) -> str | None:
    if slot in {"city", "country"}:
        return "LOCATION"
    if slot in {"organization", "company"}:
        return "ORGANIZATION"
    if slot == "person" or slot.startswith(("first_name", "last_name", "name")):
        return "PERSON"
    if slot in {"address", "street_name", "building_number", "secondary_address"}:
        return IGNORE
    if slot in {"postcode", "zipcode", "state_abbr"}:
        return IGNORE
    return None


def _fill(fake: Any, slot: str) -> str:
    if slot == "person":
        return str(fake.name())
    if slot == "organization":
        return str(fake.company())
    if slot in {"date_of_birth", "date_time"}:
        return str(fake.date())
    if slot == "email":
        return str(fake.email())
    try:
        return str(getattr(fake, slot)())
    except AttributeError:
        return str(fake.word())


def refilled(rows: Iterable[dict[str, Any]], copies: int, seed: int = SEED) -> Iterator[Labelled]:
    """Each row's template filled `copies` times with Faker values from random locales."""
    from faker import Faker

    fakers = {loc: Faker(loc) for loc in LOCALES}
    for f in fakers.values():
        f.seed_instance(seed)
    rng = random.Random(seed)
    for r in rows:
        for _ in range(copies):
            fake = fakers[rng.choice(LOCALES)]
            text, spans, pos = "", [], 0
            lower = rng.random() < 0.1
            for m in _SLOT.finditer(r["masked"]):
                text += r["masked"][pos : m.start()]
                value = _fill(fake, m.group(1)).replace("\n", ", ")
                kind = _slot_kind(m.group(1))
                if kind is not None:
                    spans.append((kind, len(text), len(text) + len(value)))
                text += value
                pos = m.end()
            text += r["masked"][pos:]
            yield Labelled(text.lower() if lower else text, tuple(spans), "presidio_refilled")


# --- spaCy as teacher -------------------------------------------------------------------------


def router_texts(dataset: Path, split: str) -> Iterator[tuple[str, str]]:
    """(source, text) of the router dataset's `split`, capped per source."""
    per_source: Counter[str] = Counter()
    with gzip.open(dataset / f"{split}.jsonl.gz", "rt", encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            source = row["source"]
            if source in TEACHER_SOURCES_EXCLUDED or per_source[source] >= TEACHER_PER_SOURCE:
                continue
            per_source[source] += 1
            yield source, row["text"][:TEACHER_MAX_CHARS]


def teacher_labelled(texts: Iterable[tuple[str, str]], model: str) -> Iterator[Labelled]:
    """Texts labelled by spaCy's NER (PERSON, GPE/LOC/FAC, ORG, NORP)."""
    import spacy

    from policies.pii.ner_spacy import EXCLUDED_COMPONENTS, LABELS

    nlp = spacy.load(model, exclude=list(EXCLUDED_COMPONENTS))
    items = list(texts)
    docs = nlp.pipe((t for _, t in items), batch_size=64)
    for (source, text), doc in zip(items, docs, strict=True):
        spans = tuple(
            (LABELS[e.label_], e.start_char, e.end_char) for e in doc.ents if e.label_ in LABELS
        )
        yield Labelled(text, spans, f"spacy:{source}")


def token_labels(tokens: Sequence[Token], spans: Sequence[tuple[str, int, int]]) -> list[str]:
    """Each token's label: the type of the span it lies in, else OUTSIDE."""
    labels = [OUTSIDE] * len(tokens)
    for kind, start, end in spans:
        for i, t in enumerate(tokens):
            if t.start < end and start < t.end:
                labels[i] = kind
    return labels


def gazetteers_from_faker() -> Gazetteers:
    """First names, last names and places (countries, cities, states) of Faker's locales."""
    from faker import Faker

    first: set[str] = set()
    last: set[str] = set()
    place: set[str] = set()
    for loc in LOCALES:
        fake = Faker(loc)
        for provider in fake.providers:
            for attr, target in (
                ("first_names", first),
                ("first_names_male", first),
                ("first_names_female", first),
                ("last_names", last),
                ("countries", place),
                ("cities", place),
                ("states", place),
                ("city_names", place),
            ):
                values = getattr(provider, attr, None)
                if isinstance(values, dict):
                    values = values.keys()
                if values and not callable(values):
                    target.update(str(v).lower() for v in values if " " not in str(v))
    return {
        "first": frozenset(first),
        "last": frozenset(last - first),
        "place": frozenset(place),
    }
