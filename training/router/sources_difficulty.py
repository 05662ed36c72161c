"""Readers for the difficulty sources in `../shared/data/difficulty/` (see MANIFEST.md).

`difficulty` = 1 when the local model's answer is (or is taken to be) not acceptable. Label
sources, kept per row in `difficulty_source`:

- `gsm8k_smollm2` (measured): SmolLM2-135M through our llama.cpp backend, exact match on the
  final number (see `label_gsm8k.py`); difficulty = 1 - local_ok.
- `mmlu_mixtral` (proxy): 1 - Mixtral-8x7B correctness from RouteLLM's response files (a
  7B-class local model as stand-in for ours; SmolLM2 would do worse).
- `arena_hard_prior` (prior): Arena-hard prompts were chosen to be hard for strong models: 1.
- `easy_prior` (prior): Dolly open-QA, self-instruct user tasks and Vicuna's chat categories are
  short everyday requests: 0, "mostly local-OK". Vicuna's coding/math/fermi questions: 1.
- `everyday_smollm2` (measured): SmolLM2 on the templated everyday tasks of `gradable.py`.
- `smollm2_generation_prior` (prior): open-ended generation (self-instruct, Vicuna) fails on
  SmolLM2 (1); Dolly's open factual questions carry no SmolLM2 label.

Profile `7b-class` (`difficulty_7b`):

- `routerdc` (measured): RouterDC's correctness of seven 7-8B open models; 1 when their mean
  score is below 0.5 (most 7B-class models get it wrong).
- `mmlu_mixtral` (proxy), `arena_hard_prior`, `easy_prior` as above; `everyday_7b_prior`: the
  everyday tasks are taken as answerable (0) by a 7B model.

SmolLM2 on RouterDC / MMLU items (`smollm2_below_7b`, proxy): an item that a 7B-class model
fails is taken as failed by the 135M model too (1); items that all 7B models solve carry no
SmolLM2 label. Row `source` is the benchmark family (RouterDC's ARC-easy/-challenge are `arc`,
its MMLU and GSM8K rows join RouteLLM's MMLU and our GSM8K), so leave-one-source-out never
trains on the same benchmark it tests on.
"""

from __future__ import annotations

import csv
import gzip
import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from training.router.records import Row

GSM8K = "openai/grade-school-math@3101c7d5 grade_school_math/data/train.jsonl"
MMLU = "lm-sys/RouteLLM@0b64fdaf routellm/evals/mmlu/responses/"
ARENA_V01 = "lm-sys/arena-hard-auto@efc012e1 data/arena-hard-v0.1/question.jsonl"
ARENA_V20 = "lmarena/arena-hard-auto@196f6b82 data/arena-hard-v2.0/question.jsonl"
VICUNA = "lm-sys/FastChat@0e6d3e4b fastchat/llm_judge/data/vicuna_bench/question.jsonl"
SELF_INSTRUCT = "yizhongw/self-instruct@0b26ccaa human_eval/user_oriented_instructions.jsonl"
DOLLY = "prp-e/chinkara-openqa-dataset@6720f527 (databricks-dolly-15k open_qa)"
ROUTERDC = "shuhao02/RouterDC@0e63989c datasets/split2_model7/"
ROUTERDC_FILES = {
    "mmlu_train": ("mmlu", "MIT"),
    "gsm8k-train": ("gsm8k", "MIT"),
    "arc_challenge_train": ("arc", "CC-BY-SA-4.0"),
    "arc_easy_train": ("arc", "CC-BY-SA-4.0"),
    "humaneval_train": ("humaneval", "MIT"),
    "MATH_prealgebra": ("math", "MIT"),
    "mbpp": ("mbpp", "CC-BY-4.0"),
}
EVERYDAY = "training/router/gradable.py (templates, seeded)"
APACHE = "Apache-2.0"
SMOLLM2_GENERATION = "smollm2_generation_prior"
VICUNA_HARD = {"coding", "math", "fermi"}


def _jsonl(path: Path) -> Iterator[dict[str, object]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def gsm8k_rows(data: Path, labels_path: Path) -> Iterator[Row]:
    """GSM8K questions that the local model has been run on, with the measured label."""
    if not labels_path.exists():
        return
    questions = [str(r["question"]) for r in _jsonl(data / "difficulty/gsm8k/train.jsonl")]
    for record in _jsonl(labels_path):
        index = int(str(record["index"]))
        yield Row(
            text=questions[index],
            source="gsm8k",
            group=f"gsm8k:{index}",
            provenance=f"{GSM8K}#L{index + 1}",
            license="MIT",
            difficulty=0.0 if record["local_ok"] else 1.0,
            difficulty_source="gsm8k_smollm2",
            sensitivity=0.0,
            sensitivity_source="difficulty_prompt",
        )


def contaminated_prompts(data: Path) -> set[str]:
    """Prompts RouteLLM found in both its train and eval sets: dropped from every split."""
    out: set[str] = set()
    for record in _jsonl(data / "difficulty/mmlu_routellm/contaminated_prompts.jsonl"):
        out.add(str(record["train_prompt"]).strip())
        out.add(str(record["eval_prompt"]).strip())
    return out


def mmlu_rows(data: Path) -> Iterator[Row]:
    """MMLU prompts with Mixtral-8x7B's correctness as the difficulty proxy."""
    for path in sorted((data / "difficulty/mmlu_routellm").glob("mmlu_*.csv")):
        subject = path.stem.removeprefix("mmlu_")
        with path.open(encoding="utf-8", newline="") as handle:
            for i, record in enumerate(csv.DictReader(handle)):
                correct = record["mistralai/Mixtral-8x7B-Instruct-v0.1"].strip().lower() == "true"
                yield Row(
                    text=record["prompt"],
                    source="mmlu",
                    group=f"mmlu:{subject}:{i}",
                    provenance=f"{MMLU}{path.name}#row{i}",
                    license=APACHE,
                    difficulty=None if correct else 1.0,
                    difficulty_source=None if correct else "smollm2_below_7b",
                    difficulty_7b=0.0 if correct else 1.0,
                    difficulty_7b_source="mmlu_mixtral",
                    sensitivity=0.0,
                    sensitivity_source="difficulty_prompt",
                )


def arena_rows(data: Path) -> Iterator[Row]:
    """Arena-hard v0.1 and v2.0 prompts (first turn): needs cloud."""
    for record in _jsonl(data / "difficulty/arena_hard/v0.1_question.jsonl"):
        turns = record["turns"]
        assert isinstance(turns, list)
        qid = str(record["question_id"])
        yield _hard(str(turns[0]["content"]), f"arena:{qid}", f"{ARENA_V01}#{qid}")
    for record in _jsonl(data / "difficulty/arena_hard/v2.0_question.jsonl"):
        uid = str(record["uid"])
        yield _hard(str(record["prompt"]), f"arena:{uid}", f"{ARENA_V20}#{uid}")


def _hard(text: str, group: str, provenance: str) -> Row:
    return Row(
        text=text,
        source="arena_hard",
        group=group,
        provenance=provenance,
        license=APACHE,
        difficulty=1.0,
        difficulty_source="arena_hard_prior",
        difficulty_7b=1.0,
        difficulty_7b_source="arena_hard_prior",
        sensitivity=0.0,
        sensitivity_source="difficulty_prompt",
    )


def easy_rows(data: Path) -> Iterator[Row]:
    """Dolly open-QA, self-instruct and Vicuna prompts with the everyday-request priors.

    7b-class: all 0 (Vicuna coding/math/fermi 1). smollm2-135m: open-ended generation
    (self-instruct tasks, every Vicuna prompt) is 1 — SmolLM2 failed even sentiment labels and
    upper-casing in the measured everyday tasks; Dolly's open factual questions get no label.
    """
    for i, record in enumerate(_jsonl(data / "difficulty/dolly_open_qa/open_qa.jsonl")):
        question = str(record["text"]).split("### Assistant:")[0].removeprefix("### Human:")
        row = _easy(question.strip(), "dolly", f"dolly:{i}", f"{DOLLY}#L{i + 1}", "CC-BY-SA-3.0")
        yield replace(row, difficulty=None, difficulty_source=None)
    for record in _jsonl(data / "difficulty/self_instruct/user_oriented_instructions.jsonl"):
        instances = record["instances"]
        assert isinstance(instances, list)
        first = str(instances[0]["input"]).strip() if instances else ""
        text = f"{record['instruction']}\n\n{first}".strip()
        rid = str(record["id"])
        row = _easy(text, "self_instruct", f"self_instruct:{rid}", f"{SELF_INSTRUCT}#{rid}", APACHE)
        yield replace(row, difficulty=1.0, difficulty_source=SMOLLM2_GENERATION)
    for record in _jsonl(data / "difficulty/vicuna_bench/question.jsonl"):
        turns = record["turns"]
        assert isinstance(turns, list)
        qid = str(record["question_id"])
        row = _easy(str(turns[0]), "vicuna", f"vicuna:{qid}", f"{VICUNA}#{qid}", APACHE)
        row = replace(row, difficulty=1.0, difficulty_source=SMOLLM2_GENERATION)
        if record["category"] in VICUNA_HARD:
            row = replace(row, difficulty_7b=1.0)
        yield row


def _easy(text: str, source: str, group: str, provenance: str, license_: str) -> Row:
    return Row(
        text=text,
        source=source,
        group=group,
        provenance=provenance,
        license=license_,
        difficulty=0.0,
        difficulty_source="easy_prior",
        difficulty_7b=0.0,
        difficulty_7b_source="easy_prior",
        sensitivity=0.0,
        sensitivity_source="difficulty_prompt",
    )


def routerdc_rows(data: Path) -> Iterator[Row]:
    """RouterDC train questions with the seven 7-8B models' measured correctness."""
    for name, (family, license_) in ROUTERDC_FILES.items():
        records = json.loads((data / f"difficulty/routerdc/{name}.json").read_text("utf-8"))
        for i, record in enumerate(records):
            scores = [float(v) for v in record["scores"].values()]
            mean = sum(scores) / len(scores)
            all_solved = min(scores) >= 1.0
            yield Row(
                text=str(record["question"]).strip(),
                source=family,
                group=f"routerdc:{name}:{i}",
                provenance=f"{ROUTERDC}{name}.json#{i}",
                license=license_,
                difficulty=None if all_solved else 1.0,
                difficulty_source=None if all_solved else "smollm2_below_7b",
                difficulty_7b=1.0 if mean < 0.5 else 0.0,
                difficulty_7b_source="routerdc",
                sensitivity=0.0,
                sensitivity_source="difficulty_prompt",
            )


def everyday_rows(labels_path: Path) -> Iterator[Row]:
    """The everyday gradable tasks SmolLM2 was run on, with the measured label."""
    if not labels_path.exists():
        return
    for record in _jsonl(labels_path):
        item = str(record["id"])
        yield Row(
            text=str(record["text"]),
            source="everyday",
            group=f"everyday:{record['kind']}:{item}",
            provenance=f"{EVERYDAY} {item}",
            license=APACHE,
            difficulty=0.0 if record["local_ok"] else 1.0,
            difficulty_source="everyday_smollm2",
            difficulty_7b=0.0,
            difficulty_7b_source="everyday_7b_prior",
            sensitivity=0.0,
            sensitivity_source="difficulty_prompt",
        )
