"""Training on a tiny subset: valid ONNX, parity with scikit-learn, determinism; data helpers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from router.classifier import OnnxClassifier
from router.profiles import HEADS
from training.router.build_data import clean, read_split
from training.router.features import Tfidf
from training.router.label_gsm8k import gold_answer, predicted_answer
from training.router.paths import DATASET_VERSION
from training.router.records import Row, split_of
from training.router.train import TrainConfig, Trained, save, train

DATASET = Path(__file__).resolve().parents[2] / "training" / "router" / "data" / DATASET_VERSION
TINY = TrainConfig(
    dataset_dir=DATASET, word_features=1500, char_features=1500, c_grid=(1.0,), max_rows=500
)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[Trained, Path]:
    trained = train(TINY)
    rep = Tfidf(TINY.word_features, TINY.char_features)
    path = save(trained, TINY, tmp_path_factory.mktemp("model"), "ci-tiny", rep)
    return trained, path


@pytest.fixture(scope="module")
def probe_texts() -> list[str]:
    return [r["text"] for r in read_split(DATASET, "test")[:200]] + ["", "say hello"]


def test_tiny_training_exports_a_valid_onnx_model(tiny: tuple[Trained, Path]) -> None:
    import onnx

    _, path = tiny
    model = onnx.load(str(path))
    onnx.checker.check_model(model)
    assert [o.name for o in model.graph.output] == ["probabilities"]


def test_onnx_matches_scikit_learn(tiny: tuple[Trained, Path], probe_texts: list[str]) -> None:
    trained, path = tiny
    expected = trained.probabilities(probe_texts)
    scores = OnnxClassifier(path).score_batch(probe_texts)
    got = np.array([[s[h] for h in HEADS] for s in scores])
    assert np.abs(got - expected).max() < 1e-4


def test_static_features_model_matches_its_numpy_side(
    tmp_path: Path, probe_texts: list[str]
) -> None:
    """The shipped kind of model (static table + surface features): trained on a tiny subset,
    exported, saved twice into one folder (retraining in place keeps its tokenizer), scored by
    onnxruntime equal to numpy."""
    from router.classifier import models_dir
    from training.router.features import Static, StaticFeatures
    from training.router.recipe import static_table
    from training.router.static_embed import tokenizer
    from training.router.train import fit, load

    shipped = models_dir()
    rep = StaticFeatures(Static(static_table(shipped), tokenizer(shipped)))
    trained = fit(load(TINY, "train"), load(TINY, "validation"), TINY, rep)
    save(trained, TINY, tmp_path, "ci-static-features", rep, shipped / "tokenizer.json")
    path = save(trained, TINY, tmp_path, "ci-static-features", rep, tmp_path / "tokenizer.json")
    scores = OnnxClassifier(path).score_batch(probe_texts)
    got = np.array([[s[h] for h in HEADS] for s in scores])
    assert np.abs(got - trained.probabilities(probe_texts)).max() < 1e-4


def test_seeded_training_is_deterministic(
    tiny: tuple[Trained, Path], probe_texts: list[str]
) -> None:
    trained, _ = tiny
    again = train(TINY)
    assert np.array_equal(trained.probabilities(probe_texts), again.probabilities(probe_texts))


def _row(text: str, group: str) -> Row:
    return Row(text=text, source="t", group=group, provenance="p", license="MIT", sensitivity=0.0)


def test_clean_drops_duplicates_and_contaminated_prompts() -> None:
    rows = [_row("What is 2+2?", "a"), _row("what is  2+2?", "b"), _row("leaked", "c")]
    kept, dropped = clean(rows, contaminated={"leaked"})
    assert [r.group for r in kept] == ["a"]
    assert dropped == {"duplicate:t": 1, "routellm_contaminated": 1}


def test_a_duplicate_gives_the_kept_row_the_labels_it_lacks() -> None:
    measured = Row("Q?", "gsm8k", "a", "p", "MIT", difficulty=1.0, difficulty_source="m")
    other = Row("q?", "gsm8k", "b", "p2", "MIT", difficulty=0.0, difficulty_source="x",
                difficulty_7b=0.0, difficulty_7b_source="routerdc")  # fmt: skip
    (kept,), _ = clean([measured, other], contaminated=set())
    record = kept.to_json("train")
    assert record["difficulty@smollm2-135m"] == 1.0  # the first label wins
    assert record["difficulty@7b-class"] == 0.0
    assert record["difficulty@7b-class_source"] == "routerdc"


def test_split_is_by_group_and_stable() -> None:
    assert split_of("gsm8k:17") == split_of("gsm8k:17")
    shares = [split_of(f"g{i}") for i in range(4000)]
    assert 0.12 < shares.count("test") / 4000 < 0.18
    assert 0.12 < shares.count("validation") / 4000 < 0.18


def test_committed_splits_share_no_group() -> None:
    groups = {s: {r["group"] for r in read_split(DATASET, s)} for s in ("train", "test")}
    assert not groups["train"] & groups["test"]


@pytest.mark.parametrize(
    ("completion", "expected"),
    [
        ("12 + 30 = 42\nThe answer is 42.", "42"),
        ("The answer is $1,200.", "1200"),
        ("So she has 7 apples left", "7"),
        ("The answer is 3.50", "3.5"),
        ("I do not know", None),
    ],
)
def test_final_number_extraction(completion: str, expected: str | None) -> None:
    assert predicted_answer(completion) == expected


def test_gold_answer() -> None:
    assert gold_answer("48/2 = 24\n#### 1,072") == "1072"


def _labelled_rows(n: int, source: str, flip: bool) -> list[dict[str, object]]:
    """Rows with one feature x = ±1 and a 7b-class label equal to x > 0 (flipped on request)."""
    head = "difficulty@7b-class"
    return [
        {
            **{h: None for h in HEADS},
            head: float((i % 2 == 0) != flip),
            f"{head}_source": source,
            "source": source,
        }
        for i in range(n)
    ]


def test_an_excluded_label_source_never_trains_its_head() -> None:
    """Proxy rows whose labels contradict the measured ones: with the pair excluded, the head
    learns only the measured rows; without, the contradiction pulls it to chance."""
    from dataclasses import replace

    from training.router.train import EXCLUDED_LABELS, fit_heads

    head = "difficulty@7b-class"
    assert (head, "mmlu_mixtral") in EXCLUDED_LABELS
    rows = _labelled_rows(40, "routerdc", flip=False) + _labelled_rows(400, "mmlu_mixtral", True)
    x = np.array([[1.0 if i % 2 == 0 else -1.0] for n in (40, 400) for i in range(n)])
    config = replace(TINY, balance_sources=False)
    kept = fit_heads(x, rows, x, rows, config, (head,))[head]
    assert kept.coef[0] > 0  # follows the measured rows
    pooled = fit_heads(x, rows, x, rows, replace(config, excluded_labels=()), (head,))[head]
    assert pooled.coef[0] < 0  # the 400 contradicting rows win when they train


def test_a_model_trained_before_exclusions_is_rebuilt_without_them() -> None:
    import json

    from router.classifier import models_dir
    from training.router.recipe import recipe_from

    training = json.loads((models_dir() / "training.json").read_text("utf-8"))
    assert "excluded_labels" in training  # the shipped model records what it left out
    old = {k: v for k, v in training.items() if k != "excluded_labels"}
    config, _ = recipe_from(old, DATASET, models_dir())
    assert config.excluded_labels == ()
    config, _ = recipe_from(training, DATASET, models_dir())
    assert ("difficulty@7b-class", "mmlu_mixtral") in config.excluded_labels


def test_label_balanced_weights_give_every_family_and_label_the_same_total() -> None:
    from training.router.train import source_weights

    rows = [
        *({"source": "a", "sensitivity": 1.0} for _ in range(9)),
        {"source": "a", "sensitivity": 0.0},
        *({"source": "b", "sensitivity": 0.0} for _ in range(30)),
    ]
    by_family = source_weights(rows)
    assert np.isclose(by_family[:10].sum(), by_family[10:].sum())  # a and b weigh the same
    by_cell = source_weights(rows, "sensitivity")
    cells = (by_cell[:9].sum(), by_cell[9], by_cell[10:].sum())
    assert np.allclose(cells, cells[0])  # a's 9 positives, its one negative and b's 30 negatives
    assert np.isclose(by_cell.mean(), 1.0)


def test_a_model_trained_before_label_balancing_is_rebuilt_without_it() -> None:
    import json

    from router.classifier import models_dir
    from training.router.recipe import recipe_from

    training = json.loads((models_dir() / "training.json").read_text("utf-8"))
    assert training["label_balanced"] == ["difficulty@smollm2-135m", "sensitivity"]
    old = {k: v for k, v in training.items() if k != "label_balanced"}
    assert recipe_from(old, DATASET, models_dir())[0].label_balanced == ()
    assert recipe_from(training, DATASET, models_dir())[0].label_balanced == tuple(
        training["label_balanced"]
    )
