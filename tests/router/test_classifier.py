"""The shipped ONNX classifier: loads offline, separates clear cases, matches its model card."""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from router.classifier import (
    MAX_TOKENS,
    TOKENIZER_FILE,
    OnnxClassifier,
    default_model_path,
    default_thresholds,
    models_dir,
    normalize,
)
from router.profiles import DEFAULT_PROFILE, HEADS, PROFILES, difficulty_key
from training.router.build_data import read_split
from training.router.metrics import head_metrics
from training.router.paths import DATASET_VERSION

DATASET = Path(__file__).resolve().parents[2] / "training" / "router" / "data" / DATASET_VERSION
WORD_PROBLEM = (
    "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips "
    "in May. How many clips did Natalia sell altogether in April and May?"
)
SSN_PROMPT = (
    "Please fill in the tax form for John Miller, SSN 123-45-6789, born 1984-03-12, "
    "address 12 Oak Street, Springfield."
)
RECIPE = "Can you give me a simple recipe for banana bread?"


@pytest.fixture(scope="module")
def classifier() -> OnnxClassifier:
    return OnnxClassifier()


def test_shipped_model_and_thresholds_exist() -> None:
    assert default_model_path().is_file()
    thresholds = default_thresholds()
    for head in HEADS:
        assert 0 < thresholds[head] < 1


def test_scores_are_probabilities_per_profile(classifier: OnnxClassifier) -> None:
    scores = classifier.score("say hello")
    assert set(scores) == {*HEADS, "difficulty"}
    assert scores["difficulty"] == scores[difficulty_key(DEFAULT_PROFILE)]
    assert all(0.0 <= v <= 1.0 for v in scores.values())
    assert classifier.score("") == classifier.score("   \n ")


def test_difficulty_separates_proof_from_capital_question(classifier: OnnxClassifier) -> None:
    proof = "Prove that there are infinitely many primes of the form 4k+3, with all steps."
    for profile in PROFILES:
        hard = classifier.score(proof)[difficulty_key(profile)]
        easy = classifier.score("What is the capital of France?")[difficulty_key(profile)]
        assert hard - easy > 0.3, profile


def test_sensitivity_separates_ssn_from_recipe(classifier: OnnxClassifier) -> None:
    sensitive = classifier.score(SSN_PROMPT)["sensitivity"]
    recipe = classifier.score(RECIPE)["sensitivity"]
    assert sensitive - recipe > 0.5
    assert sensitive >= default_thresholds()["sensitivity"] > recipe


def test_whitespace_and_length_normalisation() -> None:
    assert normalize("a \t b  ") == "a b"
    assert normalize("  def f():\r\n\n    return 1\n") == "def f():\nreturn 1"
    assert len(normalize("x" * 10_000)) == 4000


def test_thread_safe_scoring_matches_sequential(classifier: OnnxClassifier) -> None:
    texts = [WORD_PROBLEM, SSN_PROMPT, RECIPE, "say hello"] * 8
    sequential = [classifier.score(t) for t in texts]
    with ThreadPoolExecutor(max_workers=4) as pool:
        parallel = list(pool.map(classifier.score, texts))
    assert parallel == sequential


def test_batch_matches_single(classifier: OnnxClassifier) -> None:
    texts = [WORD_PROBLEM, SSN_PROMPT, RECIPE, "hi"]  # different lengths: padding is masked
    batch = classifier.score_batch(texts)
    for text, scores in zip(texts, batch, strict=True):
        single = classifier.score(text)
        assert all(abs(single[k] - scores[k]) < 1e-6 for k in single)


def test_importing_the_classifier_does_not_load_onnxruntime() -> None:
    code = "import sys, router.classifier; print('onnxruntime' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_test_split_aucs_match_the_metrics_file(classifier: OnnxClassifier) -> None:
    metrics = json.loads((models_dir() / "metrics.json").read_text("utf-8"))
    rows = read_split(DATASET, "test")
    for head in HEADS:
        picked = [r for r in rows if r[head] is not None]
        scores = classifier.score_batch([r["text"] for r in picked])
        y = np.array([float(r[head] >= 0.5) for r in picked])
        p = np.array([s[head] for s in scores])
        measured = head_metrics(y, p)
        expected = metrics["in_distribution"][head]["overall"]
        for key in ("roc_auc", "pr_auc"):
            assert abs(measured[key] - expected[key]) <= 0.005, (head, key)


def test_model_card_quotes_the_loso_headline() -> None:
    metrics = json.loads((models_dir() / "metrics.json").read_text("utf-8"))
    card = (models_dir() / "model_card.md").read_text("utf-8")
    for head in HEADS:
        assert f"{metrics['loso'][head]['pooled']['roc_auc']:.3f}" in card
    assert f"{metrics['probes'][DEFAULT_PROFILE]['agreement']:.3f}" in card


def test_ascii_fast_path_gives_the_full_tokenizers_ids(classifier: OnnxClassifier) -> None:
    """Printable-ASCII texts skip BERT's normaliser (lowercased in Python), others go through
    it before the normaliser-less tokenizer: same ids as the shipped tokenizer (normaliser
    included) on every test-split text, and on non-ASCII / control-character text."""
    from tokenizers import Tokenizer

    full = Tokenizer.from_file(str(models_dir() / TOKENIZER_FILE))
    full.no_padding()
    full.enable_truncation(MAX_TOKENS)
    texts = [normalize(r["text"]) for r in read_split(DATASET, "test")]
    texts += ["Ünïcödé CAFÉ résumé", "控制 Chinese mixed", "bell\x07char", "TAB\tand\nCAPS"]
    texts = [normalize(t) for t in texts]
    fast_ids, mask = classifier._token_ids(texts)
    assert any(t.isascii() for t in texts) and not all(t.isascii() for t in texts)
    for i, text in enumerate(texts):
        expected = full.encode(text, add_special_tokens=False).ids
        assert fast_ids[i, : int(mask[i].sum())].tolist() == expected, text[:80]
