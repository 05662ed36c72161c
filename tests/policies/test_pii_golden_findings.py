"""Golden findings: every finding (type, span, score) on the synthetic set, fast part and name
tagger, as committed in tests/data/pii/synthetic_findings.jsonl.

A change meant to be a pure speed-up must leave this file as it is; a change of what is found
regenerates it (`PYTHONPATH=. python tests/policies/test_pii_golden_findings.py`) and the diff
shows every finding it moved.
"""

from __future__ import annotations

import json
from pathlib import Path

from policies.pii import PiiScanner

DATA = Path(__file__).parents[1] / "data" / "pii"
TEXTS = DATA / "synthetic.jsonl"
GOLDEN = DATA / "synthetic_findings.jsonl"


def findings() -> list[str]:
    """One JSON line per synthetic text: its fast findings, then its merged findings."""
    scanner = PiiScanner()
    assert scanner.load()
    lines = []
    for line in TEXTS.read_text().splitlines():
        text = json.loads(line)["text"]
        fast = [[f.entity_type, f.start, f.end, f.score] for f in scanner.scan(text)]
        both = scanner.scan_text(text, include_model=True)
        merged = [[f.entity_type, f.start, f.end, f.score] for f in both]
        lines.append(json.dumps([fast, merged]))
    return lines


def test_findings_match_the_golden_file() -> None:
    expected = GOLDEN.read_text().splitlines()
    got = findings()
    changed = [i for i, (a, b) in enumerate(zip(expected, got, strict=True)) if a != b]
    assert not changed, f"{len(changed)} texts changed, first at line {changed[0] + 1}"


if __name__ == "__main__":
    GOLDEN.write_text("\n".join(findings()) + "\n")
