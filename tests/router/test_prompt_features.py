"""Surface features: the shapes of request they are meant to see, and a model-version check."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from router import prompt_features
from router.classifier import OnnxClassifier, normalize
from training.router.static_onnx import export_static


def value(text: str, name: str) -> float:
    return prompt_features.vector(normalize(text))[prompt_features.FEATURES.index(name)]


def test_one_value_per_named_feature() -> None:
    assert len(prompt_features.vector("")) == len(prompt_features.FEATURES)
    assert len(set(prompt_features.FEATURES)) == len(prompt_features.FEATURES)


@pytest.mark.parametrize(
    ("name", "more", "less"),
    [
        ("first_person_share", "My wife and I are worried about my results.", "The results."),
        ("family_words", "my son and my daughter have a fever", "the patient has a fever"),
        ("ages", "I'm 45 years old, she is 32F", "the meeting is at 45 past"),
        ("code_markers", "def f(x): return {x; y}", "a nice walk in the park"),
        ("math_symbols", "solve x^2 + 3x = 10", "solve the riddle"),
        ("choice_labels", "Which? A) red B) blue C) green D) pink", "Which colour is best?"),
        ("contact_details", "mail a@b.com or call 555-123-4567", "mail the team"),
        ("money_amounts", "my salary is $58,000 or 58000 euros", "my salary review"),
        ("street_addresses", "send it to 221 Baker Street, Suite 4", "send 221 boxes to a street"),
        ("open_task_verbs", "Design and implement a scheduler", "The scheduler"),
        ("edit_task_verbs", "Translate and summarise this", "This is fine"),
    ],
)
def test_feature_is_higher_where_its_shape_is_present(name: str, more: str, less: str) -> None:
    assert value(more, name) > value(less, name)


def test_digit_features_are_zero_without_digits() -> None:
    text = "Forty-five years old and worried"
    assert value(text, "ages") == 0.0
    assert value(text, "digit_share") == 0.0
    assert value("Baker Street, Suite B", "street_addresses") == 0.0


def test_a_model_trained_on_other_features_is_refused(tmp_path: Path) -> None:
    table = np.zeros((10, 2), dtype=np.float32)
    weights = np.zeros((3, 1), dtype=np.float32)
    model = export_static(
        table, weights, np.zeros(1, dtype=np.float32), ["sensitivity"], {}, ("other",)
    )
    (tmp_path / "model.onnx").write_bytes(model.SerializeToString())
    shipped = Path(__file__).parents[2] / "router" / "models" / "tokenizer.json"
    (tmp_path / "tokenizer.json").write_bytes(shipped.read_bytes())
    with pytest.raises(ValueError, match="surface features"):
        OnnxClassifier(tmp_path / "model.onnx")


def test_every_counted_word_set_is_found_in_one_pass() -> None:
    for k, words in enumerate(prompt_features._COUNTED):
        word = sorted(words)[0]
        tally = prompt_features._set_counts(Counter([word, word, "unlisted"]))
        assert tally[k] == 2, (k, word)
