"""The model-based part of the PII scan: what every name model finds and the interface it keeps.

Two engines implement `NameModel`: `ner_tagger.NameTagger` (our own linear token classifier,
the default: 1.6 ms p50 for a 500-token prompt) and `ner_spacy.SpacyNer` (spaCy's small English
NER, its teacher: ~50x slower, and behind it on Presidio's texts). `docs/pii.md` compares them.
"""

from __future__ import annotations

import re
from typing import Literal, Protocol

from policies.pii.findings import Finding

NameEngine = Literal["tagger", "spacy"]
MODEL_TYPES = frozenset({"PERSON", "LOCATION", "ORGANIZATION", "NRP"})
DEFAULT_MODEL_TYPES = frozenset({"PERSON", "LOCATION"})

_PLACEHOLDER = re.compile(r"^<[A-Z_]+_\d+>$")


class NameModel(Protocol):
    """Finds model-only entity types (names, places, organisations) in text; thread-safe."""

    entities: frozenset[str]

    @property
    def loaded(self) -> bool: ...

    def load(self) -> bool:
        """Load the model once (never downloads); True when it can be used."""
        ...

    def find(self, text: str) -> list[Finding]:
        """Findings of `entities` in `text`; empty when the model is unavailable."""
        ...


def plausible(value: str) -> bool:
    """Drop what small models are known to mislabel: digits, single letters, placeholders."""
    stripped = value.strip()
    if len(stripped) < 2 or _PLACEHOLDER.match(stripped) or "<" in stripped:
        return False
    return not any(c.isdigit() for c in stripped)  # dates, versions: streets are the patterns' job
