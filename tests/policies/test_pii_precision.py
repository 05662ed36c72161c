"""Precision of the name model: words are not people, places are places (the filter after the
tagger), and the decoy suite's look-alikes survive the whole scan."""

from __future__ import annotations

from pathlib import Path

import pytest

from policies.pii import PiiScanner
from training.pii.eval import load_jsonl, score

DATA = Path(__file__).parents[1] / "data" / "pii" / "synthetic.jsonl"


@pytest.fixture(scope="module")
def scanner() -> PiiScanner:
    s = PiiScanner()
    assert s.load()
    return s


def _found(scanner: PiiScanner, text: str) -> list[tuple[str, str]]:
    return [
        (f.entity_type, text[f.start : f.end]) for f in scanner.scan_text(text, include_model=True)
    ]


@pytest.mark.parametrize(
    "text",
    [
        "Draft a reply to the customer.",
        "Convert this CSV to JSON.",
        "Generate SQL for the Orders table.",
        "Summarise the attached report.",
        "Write a haiku about autumn.",
        "Bearer token expired.",
        "Review the Pull Request.",
        "Fix the bug in Main.",
        "Flights are cheaper in July.",
    ],
)
def test_words_are_not_names_or_places(scanner: PiiScanner, text: str) -> None:
    assert _found(scanner, text) == []


@pytest.mark.parametrize("text", ["Sydney is lovely in spring.", "I flew to Sydney last week."])
def test_a_city_is_a_location_not_a_person(scanner: PiiScanner, text: str) -> None:
    assert _found(scanner, text) == [("LOCATION", "Sydney")]


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Summarise what Margaret Thompson said in yesterday's meeting.", "Margaret Thompson"),
        ("Ask Mark about the invoice.", "Mark"),  # a first name mid-sentence is kept
        ("Please forward this to Rajesh Kumar.", "Rajesh Kumar"),
    ],
)
def test_real_names_are_kept(scanner: PiiScanner, text: str, name: str) -> None:
    assert ("PERSON", name) in _found(scanner, text)


def test_decoy_suite_is_large_and_almost_all_survive(scanner: PiiScanner) -> None:
    samples = load_jsonl(DATA)
    report = score(samples, lambda t: scanner.scan_text(t, include_model=True))
    assert report.decoys >= 300
    # Measured 371/372 (one "Chelsea" taken for a person): fail on any regression beyond that.
    assert report.decoys_survived >= report.decoys - 1, report.decoy_hits
