"""The scanner over requests, the model part and its graceful absence, and the eval sets."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from kernel.types import ChatRequest
from policies.pii import PiiScanner
from policies.pii import scanner as scanner_module
from policies.pii.ner import NameEngine
from policies.pii.ner_spacy import SpacyNer
from policies.pii.ner_tagger import NameTagger
from training.pii.eval import load_jsonl, score

DATA = Path(__file__).parents[1] / "data" / "pii" / "synthetic.jsonl"
HAS_SPACY = SpacyNer.available()


def test_scan_request_walks_every_segment() -> None:
    args = json.dumps({"email": "x@y.io"})
    req = ChatRequest(
        model="m",
        messages=[
            {"role": "system", "content": "no pii here"},
            {"role": "user", "content": [{"type": "text", "text": "ip 203.0.113.7"}]},
            {
                "role": "assistant",
                "tool_calls": [
                    {"id": "1", "type": "function", "function": {"name": "f", "arguments": args}}
                ],
            },
            {"role": "tool", "tool_call_id": "1", "content": "card 4111 1111 1111 1111"},
        ],
    )
    found = PiiScanner(use_model=False).scan_request(req, include_model=False)
    where = [(s.message_index, s.kind, s.index, s.findings[0].entity_type) for s in found.segments]
    assert where == [
        (1, "part", 0, "IP_ADDRESS"),
        (2, "tool_args", 0, "EMAIL_ADDRESS"),
        (3, "content", 0, "CREDIT_CARD"),
    ]
    assert found.types == {"IP_ADDRESS", "EMAIL_ADDRESS", "CREDIT_CARD"}
    assert found.counts == {"CREDIT_CARD": 1, "EMAIL_ADDRESS": 1, "IP_ADDRESS": 1}
    assert not found.model_checked


def test_without_model_the_scanner_degrades_visibly(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    missing = tmp_path / "no_such_model.npz"
    monkeypatch.setattr(
        scanner_module, "name_model", lambda engine, types: NameTagger(missing, types)
    )
    scanner = PiiScanner()
    with caplog.at_level(logging.WARNING):
        assert scanner.load() is False
        assert scanner.scan_model("Angela Merkel visited Paris.") == []
        scanner.scan_model("again")
    assert not scanner.model_loaded and scanner.model_enabled
    assert caplog.text.count("PII name tagger disabled") == 1
    # the fast path still finds context-marked names
    assert [f.entity_type for f in scanner.scan("Dear Anna Berg,")] == ["PERSON"]


def test_use_model_false_never_loads() -> None:
    scanner = PiiScanner(use_model=False)
    assert not scanner.model_enabled and scanner.load() is False
    assert scanner.scan_model("Angela Merkel visited Paris.") == []


@pytest.mark.parametrize(
    "engine",
    [
        "tagger",
        pytest.param(
            "spacy", marks=pytest.mark.skipif(not HAS_SPACY, reason="spaCy model not installed")
        ),
    ],
)
def test_model_finds_names_and_places(engine: NameEngine) -> None:
    scanner = PiiScanner(engine=engine)
    assert scanner.load() and scanner.model_loaded
    text = "Yesterday Angela Merkel met Emmanuel Macron in Berlin. Mail: am@example.de"
    found = {
        (f.entity_type, text[f.start : f.end]) for f in scanner.scan_text(text, include_model=True)
    }
    assert {
        ("PERSON", "Angela Merkel"),
        ("PERSON", "Emmanuel Macron"),
        ("LOCATION", "Berlin"),
    } <= found
    assert ("EMAIL_ADDRESS", "am@example.de") in found


def test_synthetic_set_decoys_survive_and_pattern_recall_holds() -> None:
    scanner = PiiScanner(use_model=False)
    report = score(load_jsonl(DATA), scanner.scan)
    assert report.decoys >= 300 and report.decoys_survived == report.decoys, report.decoy_hits
    for etype in (
        "EMAIL_ADDRESS",
        "CREDIT_CARD",
        "IBAN_CODE",
        "US_SSN",
        "API_KEY",
        "JWT",
        "PRIVATE_KEY",
    ):
        assert report.by_type[etype].recall == 1.0, etype
    for etype, ts in report.by_type.items():
        assert ts.precision in (None, 1.0), etype
