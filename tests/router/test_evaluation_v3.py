"""Evaluation building blocks: gradable tasks, personal pairs, RouteLLM metrics, probe routes."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from router.profiles import difficulty_key
from training.router import gradable
from training.router.metrics import routellm_metrics
from training.router.paths import PROBES
from training.router.probe_eval import agreement, read_probes, route
from training.router.synth_personal import personal_rows


def test_gradable_tasks_are_deterministic_and_cover_every_kind() -> None:
    first, again = gradable.tasks(5), gradable.tasks(5)
    assert first == again
    assert {t.kind for t in first} == set(gradable.GENERATORS)


def test_grading_rules() -> None:
    num = gradable.Task("arithmetic", "What is 29 + 42?", ("71",), "number")
    assert gradable.grade(num, "29 + 42 = 71")
    assert not gradable.grade(num, "29 + 42 = 108")
    choice = gradable.Task("sentiment", "?", ("positive", "negative"), "choice")
    assert gradable.grade(choice, "Positive.")
    assert not gradable.grade(choice, "It is positive but also negative")
    upper = gradable.Task("uppercase", "?", ("BLUE LAMP",), "verbatim")
    assert gradable.grade(upper, "BLUE LAMP") and not gradable.grade(upper, "blue lamp")


def test_personal_rows_come_in_same_group_pairs_with_opposite_labels() -> None:
    rows = [r for r in personal_rows(per_domain=5) if r.source == "synth_personal"]
    by_group: dict[str, list[float]] = {}
    for r in rows:
        by_group.setdefault(r.group, []).append(float(r.sensitivity or 0.0))
    assert len(by_group) == 20
    assert all(sorted(v) == [0.0, 1.0] for v in by_group.values())


def test_routellm_metrics_of_oracle_random_and_inverse_routers() -> None:
    rng = np.random.default_rng(1)
    weak = (rng.random(2000) < 0.6).astype(float)
    strong = np.maximum(weak, (rng.random(2000) < 0.8).astype(float))
    oracle = routellm_metrics(weak, strong, strong - weak)
    rand = routellm_metrics(weak, strong, rng.random(2000))
    worst = routellm_metrics(weak, strong, weak - strong)
    assert oracle.apgr > 0.8 and oracle.cpt80 < 0.4
    assert abs(rand.apgr - 0.5) < 0.05
    assert worst.apgr < 0.2
    assert oracle.pgr[0] == 0.0 and abs(oracle.pgr[-1] - 1.0) < 1e-9


def test_probe_route_order_sensitivity_first() -> None:
    th = {"sensitivity": 0.5, difficulty_key("smollm2-135m"): 0.5}
    hard_secret = {"sensitivity": 0.9, difficulty_key("smollm2-135m"): 0.9}
    assert route(hard_secret, "smollm2-135m", th) == "local-sensitive"
    assert (
        route({"sensitivity": 0.1, difficulty_key("smollm2-135m"): 0.9}, "smollm2-135m", th)
        == "cloud"
    )
    assert (
        route({"sensitivity": 0.1, difficulty_key("smollm2-135m"): 0.1}, "smollm2-135m", th)
        == "local"
    )


def test_committed_probe_set_is_large_and_labelled_for_every_profile() -> None:
    probes = read_probes(PROBES)
    assert len(probes) >= 150
    wanted = {"local", "cloud", "local-sensitive"}
    assert all(p["route@smollm2-135m"] in wanted and p["route@7b-class"] in wanted for p in probes)
    assert len({p["text"] for p in probes}) == len(probes)


def test_agreement_counts_hits_per_category() -> None:
    probes = [
        {"id": "a", "category": "x", "text": "t1", "route@smollm2-135m": "cloud",
         "route@7b-class": "local"},
        {"id": "b", "category": "y", "text": "t2", "route@smollm2-135m": "local-sensitive",
         "route@7b-class": "local-sensitive"},
    ]  # fmt: skip
    scores = {"t1": 0.9, "t2": 0.2}

    def score(texts: list[str]) -> list[dict[str, float]]:
        return [
            {"sensitivity": 0.0 if t == "t1" else 0.9, difficulty_key("smollm2-135m"): scores[t],
             difficulty_key("7b-class"): scores[t]}
            for t in texts
        ]  # fmt: skip

    th = {"sensitivity": 0.5, difficulty_key("smollm2-135m"): 0.5, difficulty_key("7b-class"): 0.5}
    out = agreement(probes, score, th)
    assert out["smollm2-135m"]["agreement"] == 1.0
    assert out["7b-class"]["by_category"] == {"x": 0.0, "y": 1.0}


def test_choice_grading_matches_whole_words_only() -> None:
    task = gradable.Task("compare", "?", ("no", "yes"), "choice")
    assert gradable.grade(task, "No.")
    assert not gradable.grade(task, "I know the answer: yes")


def test_retime_replaces_only_the_latency_and_rerenders_the_card(tmp_path: Path) -> None:
    import json
    import shutil

    from router.classifier import models_dir
    from training.router.publish import retime

    models = tmp_path / "models"
    shutil.copytree(models_dir(), models)
    before = json.loads((models / "metrics.json").read_text("utf-8"))
    (models / "model_card.md").write_text("stale", encoding="utf-8")
    after = retime(models, tmp_path / "docs", latency_runs=3)
    assert [t["runs"] for t in after["latency"]] == [3, 3, 3]
    assert after["loso"] == json.loads((models / "metrics.json").read_text("utf-8"))["loso"]
    assert after["loso"] == before["loso"] and after["probes"] == before["probes"]
    assert "leave-one-source-out" in (models / "model_card.md").read_text("utf-8")
    assert (tmp_path / "docs" / "router.md").exists()
