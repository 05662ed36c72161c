"""`resolve_overlaps` keeps the same findings as the plain quadratic rule, in O(n log n)."""

from __future__ import annotations

import itertools
import random

from policies.pii.findings import Finding, resolve_overlaps


def _reference(findings: list[Finding]) -> list[Finding]:
    ranked = sorted(findings, key=lambda f: (-f.score, -(f.end - f.start), f.start, f.entity_type))
    kept: list[Finding] = []
    for cand in ranked:
        if all(cand.end <= k.start or cand.start >= k.end for k in kept):
            kept.append(cand)
    return sorted(kept, key=lambda f: f.start)


def test_same_result_as_the_reference_rule_on_random_spans():
    rng = random.Random(20261201)
    for _ in range(500):
        findings = []
        for _ in range(rng.randint(0, 60)):
            start = rng.randint(0, 200)
            score = rng.choice([0.5, 0.6, 0.9, 1.0])
            findings.append(Finding(rng.choice("ABC"), start, start + rng.randint(1, 15), score))
        assert resolve_overlaps(findings) == _reference(findings)


def test_a_hostile_number_of_candidates_is_resolved():
    findings = [Finding("A", i * 3, i * 3 + 5, 0.5 + (i % 5) / 10) for i in range(20_000)]
    kept = resolve_overlaps(findings)
    assert kept and all(a.end <= b.start for a, b in itertools.pairwise(kept))


def test_windowed_scanning_finds_everything_the_whole_pass_finds(monkeypatch):
    from policies.pii import PiiScanner
    from policies.pii import scanner as module

    rng = random.Random(7)
    pieces = [
        "mail ann.lee@example.org",
        "call +1 415 555 0132",
        "card 4111 1111 1111 1111",
        "token ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8",
        "iban GB82 WEST 1234 5698 7654 32",
        "order 7731-2291",
    ]
    text = " ".join(
        rng.choice(pieces) + " " + "lorem ipsum " * rng.randint(0, 40) for _ in range(900)
    )
    scanner = PiiScanner(use_model=False)
    windowed = set(scanner.scan(text))
    monkeypatch.setattr(module, "WINDOW_CHARS", 10**9)
    whole = set(scanner.scan(text))
    assert len(text) > 4 * 16_384 and whole <= windowed  # a window never loses a finding
