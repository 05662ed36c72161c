"""The name tagger: tokens and features, the shipped model, and training that matches runtime."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest

from policies.pii.ner_tagger import (
    DEFAULT_MODEL_PATH,
    NameTagger,
    _Model,
    candidates,
    features,
    pack,
    shape,
    tokenize,
    unpack,
    word_lists,
)

PRESIDIO = Path(__file__).parents[3] / "shared" / "data" / "sensitivity" / "presidio"


def test_tokens_carry_offsets_and_sentence_starts() -> None:
    text = "Hi Anna-Lena. O'Brien lives in\nSão Paulo, v2.1"
    tokens = tokenize(text).items()
    assert [t.text for t in tokens] == [
        *("Hi", "Anna-Lena", ".", "O'Brien", "lives", "in", "São", "Paulo", ","),
        *("v2", ".", "1"),
    ]
    assert all(text[t.start : t.end] == t.text for t in tokens)
    assert [t.text for t in tokens if t.sentence_start] == ["Hi", "O'Brien", "São", "1"]
    assert [tokens[i].text for i in candidates(tokenize(text), {"lives": ("verbs",)})] == [
        *("Hi", "Anna-Lena", "O'Brien", "lives", "São", "Paulo"),
    ]


def test_shape_collapses_runs() -> None:
    assert [shape(w) for w in ("Anna", "McDonald", "NASA", "2024", "x-Ray")] == [
        "Xx",
        "XxXx",
        "X",
        "d",
        "x-Xx",
    ]


def test_features_see_neighbours_and_lists() -> None:
    tokens = tokenize("Dear Anna Berg")
    lists = word_lists({"first": frozenset({"anna"}), "last": frozenset({"berg"})})
    [feats] = features(tokens, [1], lists)
    assert {"w=anna", "p=dear", "n=berg", "g=first", "ng=last", "p&s=dear|Xx"} <= set(feats)


def test_pack_round_trips() -> None:
    words = ["w=anna", "p&s=dear|Xx", "w=são", ""]
    assert unpack(pack(words)) == words


def test_shipped_model_finds_names_and_places_and_spares_look_alikes() -> None:
    tagger = NameTagger(entities={"PERSON", "LOCATION"})
    text = "Please forward the contract to Anna Lindqvist in Stockholm before Friday."
    found = {(f.entity_type, text[f.start : f.end]) for f in tagger.find(text)}
    assert ("PERSON", "Anna Lindqvist") in found
    assert ("LOCATION", "Stockholm") in found
    assert tagger.find("Upgrade to version 2.3.1, then restart the nginx service.") == []
    assert tagger.find("What is the derivative of x squared?") == []


def test_entities_filter_what_is_returned() -> None:
    text = "Angela Merkel visited Paris."
    assert {f.entity_type for f in NameTagger(entities={"LOCATION"}).find(text)} == {"LOCATION"}


def test_missing_model_file_disables_with_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    tagger = NameTagger(tmp_path / "none.npz")
    with caplog.at_level(logging.WARNING):
        assert tagger.load() is False
        assert tagger.find("Angela Merkel") == []
    assert not tagger.loaded
    assert caplog.text.count("PII name tagger disabled") == 1


@pytest.mark.skipif(not PRESIDIO.exists(), reason="../shared/data not beside the checkout")
def test_training_on_a_subset_matches_sklearn_and_round_trips(tmp_path: Path) -> None:
    pytest.importorskip("sklearn")
    from training.pii import tagger_data as data
    from training.pii import tagger_train as training

    split = data.presidio_split(PRESIDIO / "generated_large.json")
    train = list(data.presidio_labelled(split["train"][:300]))
    tune = list(data.presidio_labelled(split["tune"][:100]))
    gazetteers = {"first": frozenset({"anna", "judy"})}
    trained = training.fit(train, tune, gazetteers)
    assert 0.2 <= trained.threshold <= 0.8
    path = tmp_path / "tagger.npz"
    training.save(trained, path)
    model = _Model.read(path)
    assert model.labels == list(training.LABELS) and model.threshold == trained.threshold

    # the runtime's gather-and-sum equals the dense product of the saved weights
    text = split["test"][0]["full_text"]
    tokens = tokenize(text)
    rows = candidates(tokens, model.lists)
    runtime = model.probabilities(tokens, rows)
    index = model.index
    dense = np.zeros((len(rows), len(index)), dtype=np.float32)
    for r, feats in enumerate(features(tokens, rows, model.lists)):
        for f in feats:
            if f in index:
                dense[r, index[f]] = 1.0
    logits = dense @ model.weights + model.bias
    expected = np.exp(logits - logits.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    assert np.allclose(runtime, expected, atol=1e-5)

    # seeded training is deterministic
    again = training.fit(train, tune, gazetteers)
    assert again.vocabulary == trained.vocabulary
    assert np.array_equal(again.weights, trained.weights)


def test_shipped_model_metadata_is_recorded() -> None:
    card = json.loads(DEFAULT_MODEL_PATH.with_suffix(".json").read_text(encoding="utf-8"))
    assert card["threshold"] == _Model.read(DEFAULT_MODEL_PATH).threshold
    assert card["presidio_test"]["PERSON"]["recall"] > 0.5
