"""The demo's prompts: a seeded sample of the shared data sets, each with the app that sends it.

Sources (see /work/shared/data/MANIFEST.md; licences kept with every prompt):

| app (tenant)                    | source                                   | licence      |
|---------------------------------|------------------------------------------|--------------|
| helpdesk (corporate)            | databricks-dolly-15k open_qa             | CC BY-SA 3.0 |
| helpdesk (corporate)            | self-instruct user-oriented instructions | Apache-2.0   |
| banking-assistant (retail)      | PolyAI banking77                         | CC BY 4.0    |
| crm-notes (retail)              | presidio-research synthetic PII sentences| MIT          |
| analyst-copilot (corporate)     | GSM8K grade-school maths                 | MIT          |
| analyst-copilot (corporate)     | Arena-Hard v0.1 questions                | Apache-2.0   |

Without the shared data (a plain clone), `sample_prompts.json` beside this module holds a small
committed sample drawn from the permissively licensed sources.
"""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"


@dataclass(frozen=True, slots=True)
class DemoPrompt:
    text: str
    app: str
    tenant: str
    source: str


def _jsonl(path: Path) -> Iterator[dict[str, object]]:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def _dolly(root: Path) -> list[str]:
    rows = _jsonl(root / "difficulty/dolly_open_qa/open_qa.jsonl")
    return [
        str(r["text"]).split("### Assistant:")[0].removeprefix("### Human:").strip() for r in rows
    ]


def _self_instruct(root: Path) -> list[str]:
    out = []
    for r in _jsonl(root / "difficulty/self_instruct/user_oriented_instructions.jsonl"):
        instances = r.get("instances") or [{}]
        given = str(instances[0].get("input", "")) if isinstance(instances, list) else ""
        out.append(f"{r['instruction']}\n\n{given}".strip())
    return out


def _banking(root: Path) -> list[str]:
    with (root / "sensitivity/banking77/test.csv").open(encoding="utf-8") as handle:
        return [row["text"] for row in csv.DictReader(handle)]


def _presidio(root: Path) -> list[str]:
    data = json.loads((root / "sensitivity/presidio/generated_large.json").read_text("utf-8"))
    return [str(item["full_text"]) for item in data]


def _gsm8k(root: Path) -> list[str]:
    return [str(r["question"]) for r in _jsonl(root / "difficulty/gsm8k/train.jsonl")]


def _arena(root: Path) -> list[str]:
    return [
        str(r["turns"][0]["content"])  # type: ignore[index]
        for r in _jsonl(root / "difficulty/arena_hard/v0.1_question.jsonl")
    ]


# (share of the workload, app, tenant, source name, loader)
MIX: tuple[tuple[float, str, str, str, Callable[[Path], list[str]]], ...] = (
    (0.30, "helpdesk", "corporate", "dolly_open_qa", _dolly),
    (0.10, "helpdesk", "corporate", "self_instruct", _self_instruct),
    (0.20, "banking-assistant", "retail", "banking77", _banking),
    (0.10, "crm-notes", "retail", "presidio", _presidio),
    (0.15, "analyst-copilot", "corporate", "gsm8k", _gsm8k),
    (0.15, "analyst-copilot", "corporate", "arena_hard", _arena),
)


def load_workload(n: int, seed: int = 2026, root: Path | None = None) -> list[DemoPrompt]:
    """`n` prompts in a seeded, shuffled mix; from the committed sample without shared data."""
    rng = random.Random(seed)
    root = root or SHARED_DATA
    if not root.is_dir():
        return _committed_sample(n, rng)
    prompts: list[DemoPrompt] = []
    for share, app, tenant, source, loader in MIX:
        texts = [t for t in loader(root) if 0 < len(t) <= 2000]
        count = max(1, round(n * share))
        prompts += [DemoPrompt(t, app, tenant, source) for t in rng.sample(texts, count)]
    rng.shuffle(prompts)
    return prompts[:n]


def _committed_sample(n: int, rng: random.Random) -> list[DemoPrompt]:
    raw = resources.files("gateway.demo").joinpath("sample_prompts.json").read_text("utf-8")
    items = [DemoPrompt(**item) for item in json.loads(raw)["prompts"]]
    return [rng.choice(items) for _ in range(n)]
