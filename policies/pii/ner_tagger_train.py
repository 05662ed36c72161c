"""Training for `NameTagger` (run as `hybridgw pii train-tagger`; needs the `train` extra).

Three kinds of labelled tokens, all built here from committed or `../shared` data:

- **Presidio gold**: `generated_large.json` (presidio-research, MIT). Rows are split by
  `template_id`: 60% of templates train, 10% tune the threshold, 30% are held out for
  `docs/pii.md`, so no test sentence shares a template with a training one.
- **Presidio templates refilled**: each training row's `masked` template is filled again with
  Faker values from twelve locales (different names, places, companies), 10% lower-cased as
  Presidio does.
- **spaCy as teacher**: the router dataset's real prompts (GSM8K, Dolly, MMLU, Arena, MedQuAD,
  PrivacyLens, SynthPAI, ...; `router/training/data/<version>`) labelled by `en_core_web_sm`, so the
  student learns real-text context; its test split measures agreement with the teacher.

Tokens inside Presidio ADDRESS spans are left out (street addresses are the patterns' job).
The model is a multinomial logistic regression (scikit-learn) over the features of
`ner_tagger.features`; the threshold on the best entity probability maximises token F1 on
the tuning set.
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

import numpy as np

from policies.pii.ner_tagger import (
    OUTSIDE,
    Gazetteers,
    Token,
    candidates,
    features,
    pack,
    tokenize,
    word_lists,
)

LABELS = (OUTSIDE, "PERSON", "LOCATION", "ORGANIZATION", "NRP")
IGNORE = "-"  # a token that does not train (inside a street address)
SEED = 20261122
LOCALES = (
    *("en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT"),
    *("nl_NL", "pl_PL", "pt_BR", "sv_SE", "hr_HR", "fi_FI"),
)
GOLD_TYPES = {"PERSON": "PERSON", "LOCATION": "LOCATION", "ORGANIZATION": "ORGANIZATION"}
SPACY_LABELS = {
    "PERSON": "PERSON",
    "GPE": "LOCATION",
    "LOC": "LOCATION",
    "FAC": "LOCATION",
    "ORG": "ORGANIZATION",
    "NORP": "NRP",
}
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

    from policies.pii.ner_spacy import EXCLUDED_COMPONENTS

    nlp = spacy.load(model, exclude=list(EXCLUDED_COMPONENTS))
    items = list(texts)
    docs = nlp.pipe((t for _, t in items), batch_size=64)
    for (source, text), doc in zip(items, docs, strict=True):
        spans = tuple(
            (SPACY_LABELS[e.label_], e.start_char, e.end_char)
            for e in doc.ents
            if e.label_ in SPACY_LABELS
        )
        yield Labelled(text, spans, f"spacy:{source}")


# --- features and training --------------------------------------------------------------------


def token_labels(tokens: Sequence[Token], spans: Sequence[tuple[str, int, int]]) -> list[str]:
    """Each token's label: the type of the span it lies in, else OUTSIDE."""
    labels = [OUTSIDE] * len(tokens)
    for kind, start, end in spans:
        for i, t in enumerate(tokens):
            if t.start < end and start < t.end:
                labels[i] = kind
    return labels


def examples(
    items: Iterable[Labelled], gazetteers: Gazetteers
) -> tuple[list[list[str]], list[str], list[str]]:
    """Features, label and origin of every candidate token of `items`."""
    feats: list[list[str]] = []
    labels: list[str] = []
    origins: list[str] = []
    lists = word_lists(gazetteers)
    for item in items:
        tokens = tokenize(item.text)
        tags = token_labels(tokens, item.spans)
        rows = [i for i in candidates(tokens, lists) if tags[i] != IGNORE]
        feats.extend(features(tokens, rows, lists))
        labels.extend(tags[i] for i in rows)
        origins.extend(item.origin for _ in rows)
    return feats, labels, origins


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


@dataclass(slots=True)
class Trained:
    vocabulary: list[str]
    weights: np.ndarray[Any, Any]
    bias: np.ndarray[Any, Any]
    threshold: float
    gazetteers: Gazetteers
    counts: dict[str, int]


def _matrix(feats: Sequence[Sequence[str]], index: dict[str, int]) -> Any:
    from scipy.sparse import csr_matrix

    indptr: list[int] = [0]
    cols: list[int] = []
    for row in feats:
        cols.extend(j for f in row if (j := index.get(f)) is not None)
        indptr.append(len(cols))
    data = np.ones(len(cols), dtype=np.float32)
    return csr_matrix((data, cols, indptr), shape=(len(feats), len(index)))


def fit(
    train: Sequence[Labelled],
    tune: Sequence[Labelled],
    gazetteers: Gazetteers,
    *,
    min_count: int = 2,
    c: float = 1.0,
) -> Trained:
    """Fit the logistic regression and pick the threshold on `tune`."""
    from sklearn.linear_model import LogisticRegression

    feats, labels, origins = examples(train, gazetteers)
    counts = Counter(f for row in feats for f in row)
    vocabulary = ["<none>", *sorted(f for f, n in counts.items() if n >= min_count)]
    index = {f: i for i, f in enumerate(vocabulary)}
    y = np.array([LABELS.index(label) for label in labels])
    clf = LogisticRegression(C=c, max_iter=400, random_state=SEED)
    clf.fit(_matrix(feats, index), y)
    weights = np.zeros((len(vocabulary), len(LABELS)), dtype=np.float32)
    weights[:, clf.classes_] = clf.coef_.T
    weights[0] = 0.0
    bias = np.full(len(LABELS), -1e4, dtype=np.float32)
    bias[clf.classes_] = clf.intercept_

    tune_feats, tune_labels, _ = examples(tune, gazetteers)
    probs = clf.predict_proba(_matrix(tune_feats, index))
    full = np.zeros((len(tune_labels), len(LABELS)))
    full[:, clf.classes_] = probs
    threshold = best_threshold(full, [LABELS.index(label) for label in tune_labels])
    return Trained(
        vocabulary,
        weights,
        bias,
        threshold,
        gazetteers,
        {"tokens": len(labels), **Counter(labels), **Counter(origins)},
    )


def best_threshold(probs: np.ndarray[Any, Any], gold: Sequence[int]) -> float:
    """The threshold on the best entity probability that maximises entity-token F1."""
    entity = probs.copy()
    entity[:, 0] = -1.0
    best = entity.argmax(axis=1)
    p_best = entity[np.arange(len(best)), best]
    gold_arr = np.asarray(gold)
    top, top_f1 = 0.5, -1.0
    for t in np.arange(0.2, 0.81, 0.02):
        predicted = p_best >= t
        tp = int(np.sum(predicted & (best == gold_arr) & (gold_arr != 0)))
        fp = int(np.sum(predicted)) - tp
        fn = int(np.sum(gold_arr != 0)) - tp
        f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
        if f1 > top_f1:
            top, top_f1 = float(t), f1
    return round(top, 2)


def save(trained: Trained, path: Path) -> None:
    """Write the model file `NameTagger` reads (compressed npz, no pickles)."""
    keep = np.abs(trained.weights).max(axis=1) >= 1e-3
    keep[0] = True
    vocabulary = [f for f, k in zip(trained.vocabulary, keep, strict=True) if k]
    arrays: dict[str, Any] = {
        "vocabulary": pack(vocabulary),
        "weights": trained.weights[keep].astype(np.float16),
        "bias": trained.bias,
        "labels": np.array(LABELS),
        "threshold": np.array(trained.threshold),
        "gazetteer_names": np.array(sorted(trained.gazetteers)),
    }
    for name, words in trained.gazetteers.items():
        arrays[f"gazetteer_{name}"] = pack(sorted(words))
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        np.savez_compressed(fh, **arrays)


# --- the whole run ----------------------------------------------------------------------------


def token_scores(
    trained: Trained, items: Sequence[Labelled]
) -> dict[str, tuple[float, float, int]]:
    """Per-type token (precision, recall, gold count) of `trained` on `items`, via the runtime."""
    from policies.pii.ner_tagger import _Model

    model = _Model(
        trained.vocabulary,
        trained.weights,
        trained.bias,
        LABELS,
        trained.gazetteers,
        trained.threshold,
    )
    tp: Counter[str] = Counter()
    predicted: Counter[str] = Counter()
    gold: Counter[str] = Counter()
    for item in items:
        tokens = tokenize(item.text)
        tags = token_labels(tokens, item.spans)
        found = model.tag(item.text)
        pred = token_labels(tokens, [(f.entity_type, f.start, f.end) for f in found])
        for g, p in zip(tags, pred, strict=True):
            if g == IGNORE:
                continue
            gold[g] += g != OUTSIDE
            predicted[p] += p != OUTSIDE
            tp[g] += g == p and g != OUTSIDE
    return {t: (tp[t] / max(predicted[t], 1), tp[t] / max(gold[t], 1), gold[t]) for t in LABELS[1:]}


def run(
    shared_data: Path,
    router_dataset: Path,
    *,
    teacher: str,
    copies: int = 3,
    use_gazetteers: bool = True,
) -> tuple[Trained, dict[str, dict[str, tuple[float, float, int]]]]:
    """Build the data, fit, and score on both held-out sets (Presidio test, teacher test)."""
    presidio = presidio_split(shared_data / "sensitivity" / "presidio" / "generated_large.json")
    train = [
        *presidio_labelled(presidio["train"]),
        *refilled(presidio["train"], copies),
        *teacher_labelled(router_texts(router_dataset, "train"), teacher),
    ]
    tune = [
        *presidio_labelled(presidio["tune"]),
        *teacher_labelled(router_texts(router_dataset, "validation"), teacher),
    ]
    gazetteers = gazetteers_from_faker() if use_gazetteers else {}
    trained = fit(train, tune, gazetteers)
    scores = {
        "presidio_test": token_scores(trained, list(presidio_labelled(presidio["test"]))),
        "teacher_test": token_scores(
            trained, list(teacher_labelled(router_texts(router_dataset, "test"), teacher))
        ),
    }
    return trained, scores


def save_metadata(
    trained: Trained,
    scores: dict[str, dict[str, tuple[float, float, int]]],
    path: Path,
    *,
    teacher: str,
) -> None:
    """Write what the model was trained on and how it scored, beside the model file."""
    meta: dict[str, Any] = {
        "model": "multinomial logistic regression over token features (policies.pii.ner_tagger)",
        "labels": list(LABELS),
        "threshold": trained.threshold,
        "features": int(np.sum(np.abs(trained.weights).max(axis=1) >= 1e-3)),
        "gazetteers": {name: len(words) for name, words in sorted(trained.gazetteers.items())},
        "teacher": teacher,
        "seed": SEED,
        "training_tokens": dict(sorted(trained.counts.items())),
        "scores_are": "token level; presidio_test = gold spans of held-out templates, "
        "teacher_test = agreement with the spaCy teacher on the router dataset's test split",
    }
    for name, per_type in scores.items():
        meta[name] = {
            kind: {"precision": round(p, 4), "recall": round(r, 4), "gold_tokens": n}
            for kind, (p, r, n) in per_type.items()
        }
    path.write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
