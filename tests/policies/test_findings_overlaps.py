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
