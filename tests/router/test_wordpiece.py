"""The Python WordPiece fast path gives exactly the ids `tokenizers` gives, or steps aside."""

from __future__ import annotations

import json
import random
import string
from pathlib import Path

import pytest
from tokenizers import Tokenizer

from router.classifier import MAX_TOKENS, TOKENIZER_FILE, OnnxClassifier, models_dir
from router.wordpiece import AsciiWordPiece
from training.router.build_data import read_split
from training.router.paths import DATASET_VERSION

SHIPPED = models_dir() / TOKENIZER_FILE
DATASET = Path(__file__).resolve().parents[2] / "training" / "router" / "data" / DATASET_VERSION
# Pieces that exercise every rule: sub-words, `##` look-alikes, long words, controls, punctuation.
PIECES = [
    *("the", "Postgre", "SQL", "unaffable", "tokenization", "don't", "e-mail", "3.14"),
    *("##", "[UNK]", "x" * 101, "y" * 100, "@@", "__init__", "C++", "x86_64", "NaN"),
    *(" ", "  ", "\t", "\n", "\r\n", "\x00", "\x0b", "\x0c", "\x1f", "\x7f", ""),
]


@pytest.fixture(scope="module")
def reference() -> Tokenizer:
    tokenizer = Tokenizer.from_file(str(SHIPPED))
    tokenizer.no_padding()
    tokenizer.enable_truncation(MAX_TOKENS)
    return tokenizer


@pytest.fixture(scope="module")
def fast() -> AsciiWordPiece:
    found = AsciiWordPiece.from_file(SHIPPED)
    assert found is not None, "the shipped tokenizer is BERT-uncased WordPiece"
    return found


def _ids(tokenizer: Tokenizer, text: str) -> list[int]:
    return list(tokenizer.encode(text, add_special_tokens=False).ids)


def test_random_ascii_gets_the_ids_of_tokenizers(reference, fast):
    rnd = random.Random(17)
    alphabet = string.printable + "".join(map(chr, range(32))) + "\x7f"
    fast_path = 0
    for _ in range(5000):
        text = "".join(
            rnd.choice(alphabet) if rnd.random() < 0.4 else rnd.choice(PIECES)
            for _ in range(rnd.randint(0, 60))
        )
        ids = fast.encode(text, MAX_TOKENS)
        if ids is None:  # only an added token ([UNK] here) sends ASCII text to tokenizers
            assert "[unk]" in text.lower(), repr(text)
        else:
            assert ids == _ids(reference, text), repr(text)
            fast_path += 1
    assert fast_path > 2500


def test_the_router_test_split_gets_the_ids_of_tokenizers(reference, fast):
    texts = [row["text"] for row in read_split(DATASET, "test") if row["text"].isascii()]
    assert len(texts) > 1000
    for text in texts:
        assert fast.encode(text, MAX_TOKENS) == _ids(reference, text)


def test_long_text_is_cut_where_tokenizers_cuts_it(reference, fast):
    text = "optimistic locking, " * 600
    ids = fast.encode(text, MAX_TOKENS)
    assert ids is not None and len(ids) == MAX_TOKENS
    assert ids == _ids(reference, text)


def test_non_ascii_text_and_added_tokens_are_left_to_tokenizers(fast):
    assert fast.encode("Zoë moved to Köln", MAX_TOKENS) is None
    assert fast.encode("quote “this”", MAX_TOKENS) is None
    assert fast.encode("a [MASK] here", MAX_TOKENS) is None
    assert fast.encode("a [ma\x00sk] here", MAX_TOKENS) is None


def test_another_tokenizer_configuration_never_takes_the_fast_path(tmp_path):
    spec = json.loads(SHIPPED.read_text(encoding="utf-8"))
    spec["normalizer"]["lowercase"] = False  # a cased model: the rules above do not hold
    cased = tmp_path / TOKENIZER_FILE
    cased.write_text(json.dumps(spec), encoding="utf-8")
    assert AsciiWordPiece.from_file(cased) is None


def test_classifier_scores_do_not_depend_on_the_fast_path():
    with_fast, without = OnnxClassifier(), OnnxClassifier()
    without._ascii = None  # tokenizers for everything
    texts = [
        "Ticket 7: summarise optimistic vs pessimistic locking in PostgreSQL and Oracle.",
        "Prove that there are infinitely many primes.\n\tThen generalise.",
        "Zoë asks: what's 2+2?",
        "",
    ]
    assert with_fast.score_batch(texts) == without.score_batch(texts)
    assert [with_fast.score(t) for t in texts] == [without.score(t) for t in texts]
