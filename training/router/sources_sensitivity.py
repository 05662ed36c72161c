"""Readers for the sensitivity sources in `../shared/data/sensitivity/` (see MANIFEST.md).

`sensitivity` = 1 when the prompt carries personal data or confidential matter. Sources, kept
per row in `sensitivity_source`:

- `presidio` : synthetic sentences with PII spans; 1 when a span identifies a person (name,
  address, card, phone, e-mail, SSN, IBAN, licence, IP), 0 for the same templates without one.
- `privacylens`: stories and agent observations carrying sensitive matter (medical, legal...): 1.
- `confaide_t3`: tier-3 secret-sharing stories: 1; their tier-3 control questions (same topic
  words, no disclosed story): 0.
- `synthpai`: Reddit-style comments of synthetic profiles whose attributes humans could infer: 1.
- `medquad`: impersonal health questions: 0 (health *topic* without personal data).
- `banking77`: bank customer intents without identifiers: 0 (finance topic, no personal data).
- `meqsum`: real consumer health questions to the US NLM (mostly first person, symptoms,
  medications, relatives): 1; each one's impersonal one-line summary: 0, in the same group.
"""

from __future__ import annotations

import csv
import json
import re
import tarfile
from collections.abc import Iterator
from pathlib import Path

from training.router.records import Row, stable_id

PRESIDIO = "microsoft/presidio-research@7622dec1 tests/data/generated_large.json"
PRIVACYLENS = "SALT-NLP/PrivacyLens@9c2ee07b data/main_data.json"
CONFAIDE = "skywalker023/confAIde@3174c63e benchmark/"
SYNTHPAI = "eth-sri/SynthPAI@ba9edc9c data/thread/comments_eval_revised.jsonl"
MEDQUAD = "abachaa/MedQuAD@577bd37b"
BANKING = "PolyAI-LDN/task-specific-datasets@57ec275d banking_data/"
MEQSUM = "abachaa/MeQSum@51e36cf6 MeQSum_ACL2019_BenAbacha_Demner-Fushman.xlsx"
IDENTIFYING = {
    "PERSON",
    "ADDRESS",
    "CREDIT_CARD",
    "PHONE_NUMBER",
    "EMAIL_ADDRESS",
    "US_SSN",
    "IBAN_CODE",
    "US_DRIVER_LICENSE",
    "IP_ADDRESS",
}
_QUESTION = re.compile(r"<Question[^>]*>(.*?)</Question>", re.DOTALL)
_FIRST_PERSON = re.compile(r"\b(I|I'm|I've|my|me|we|our)\b")


def _row(text: str, source: str, group: str, provenance: str, label: float) -> Row:
    licenses = {"medquad": "CC-BY-4.0", "banking77": "CC-BY-4.0", "meqsum": "CC-BY-4.0"}
    return Row(
        text=text.strip(),
        source=source,
        group=group,
        provenance=provenance,
        license=licenses.get(source, "MIT"),
        sensitivity=label,
        sensitivity_source=source,
    )


def presidio_rows(data: Path) -> Iterator[Row]:
    """Presidio's generated sentences, labelled by whether a span identifies someone."""
    records = json.loads((data / "sensitivity/presidio/generated_large.json").read_text("utf-8"))
    for i, record in enumerate(records):
        types = {span["entity_type"] for span in record["spans"]}
        label = 1.0 if types & IDENTIFYING else 0.0
        group = f"presidio:t{record.get('template_id', i)}"
        yield _row(record["full_text"], "presidio", group, f"{PRESIDIO}#{i}", label)


def privacylens_rows(data: Path) -> Iterator[Row]:
    """Each PrivacyLens case twice: the vignette, and the instruction with what the agent saw."""
    cases = json.loads((data / "sensitivity/privacylens/main_data.json").read_text("utf-8"))
    for case in cases:
        name = str(case["name"])
        group = f"privacylens:{name}"
        yield _row(case["vignette"]["story"], "privacylens", group, f"{PRIVACYLENS}#{name}", 1.0)
        trajectory = case["trajectory"]
        observations = re.findall(r"Observation: (.*)", trajectory["executable_trajectory"])
        seen = "\n".join(observations)[:2000]
        text = f"{trajectory['user_instruction']}\n\n{seen}"
        yield _row(text, "privacylens", group, f"{PRIVACYLENS}#{name}/trajectory", 1.0)


def confaide_rows(data: Path) -> Iterator[Row]:
    """Tier-3 stories (1) and their matched control questions (0), grouped by scenario."""
    raw = (data / "sensitivity/confaide/tier_3.txt").read_text("utf-8")
    stories = re.findall(r"<BEGIN><[^>]*>\n(.*?)<END>", raw, re.DOTALL)
    controls = (data / "sensitivity/confaide/tier_3_control.txt").read_text("utf-8").splitlines()
    for i, story in enumerate(stories):
        yield _row(story, "confaide_t3", f"confaide:{i}", f"{CONFAIDE}tier_3.txt#{i}", 1.0)
    for i, control in enumerate(c for c in controls if c.strip()):
        prov = f"{CONFAIDE}tier_3_control.txt#L{i + 1}"
        yield _row(control, "confaide_t3_control", f"confaide:{i}", prov, 0.0)


def synthpai_rows(data: Path, max_chars: int = 1200) -> Iterator[Row]:
    """One text per profile with human-inferable attributes: its first-person comments."""
    path = data / "sensitivity/synthpai/comments_eval_revised.jsonl"
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            profile = json.loads(line)
            reviews = profile.get("reviews", {}).get("human", {})
            certain = [v for v in reviews.values() if isinstance(v, dict)]
            if not any(int(v.get("certainty", 0)) >= 3 for v in certain):
                continue
            texts = [c["text"] for c in profile["comments"] if _FIRST_PERSON.search(c["text"])]
            text = "\n".join(texts)[:max_chars]
            if text:
                user = profile["username"]
                yield _row(text, "synthpai", f"synthpai:{user}", f"{SYNTHPAI}#{user}", 1.0)


def medquad_rows(data: Path, keep: int = 2000) -> Iterator[Row]:
    """Distinct MedQuAD questions, a deterministic sample of `keep`."""
    questions: dict[str, str] = {}
    with tarfile.open(data / "sensitivity/medquad/MedQuAD_xml.tar.gz") as tar:
        for member in tar:
            handle = tar.extractfile(member) if member.isfile() else None
            if handle is None:
                continue
            for question in _QUESTION.findall(handle.read().decode("utf-8", "replace")):
                questions.setdefault(" ".join(question.split()), member.name)
    ranked = sorted(questions, key=lambda q: stable_id("medquad", q))[:keep]
    for question in ranked:
        where = questions[question]
        group = f"medquad:{stable_id(question)}"
        yield _row(question, "medquad", group, f"{MEDQUAD} {where}", 0.0)


def banking_rows(data: Path, keep: int = 1500) -> Iterator[Row]:
    """A deterministic sample of banking77 customer queries."""
    rows: list[tuple[str, str]] = []
    for name in ("train.csv", "test.csv"):
        with (data / "sensitivity/banking77" / name).open(encoding="utf-8", newline="") as handle:
            rows += [(r["text"], f"{name}#row{i}") for i, r in enumerate(csv.DictReader(handle))]
    rows.sort(key=lambda r: stable_id("banking77", r[0]))
    for text, where in rows[:keep]:
        yield _row(text, "banking77", f"banking77:{stable_id(text)}", f"{BANKING}{where}", 0.0)


def meqsum_rows(data: Path) -> Iterator[Row]:
    """MeQSum questions (1) and their impersonal summaries (0), one group per question."""
    with (data / "sensitivity/meqsum/meqsum.jsonl").open(encoding="utf-8") as handle:
        for i, line in enumerate(handle):
            record = json.loads(line)
            group = f"meqsum:{i}"
            prov = f"{MEQSUM} (as meqsum.jsonl#L{i + 1})"
            yield _row(record["question"], "meqsum", group, prov, 1.0)
            yield _row(record["summary"], "meqsum", group, f"{prov}/summary", 0.0)
