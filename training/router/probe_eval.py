"""Agreement with the committed probe set: the route a careful admin would want.

`training/router/probes.jsonl` holds hand-written enterprise prompts (never trained on), each
with the wanted route per profile: `local`, `cloud` or `local-sensitive` (protected: stays on
premises whatever its difficulty). The classifier's route: sensitivity >= its threshold →
local-sensitive; else difficulty@profile >= the profile's threshold → cloud; else local. This
is the classifier alone — the PII recognizers, which also keep secrets local, are not run.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from router.profiles import PROFILES, SENSITIVITY, difficulty_key

Scorer = Callable[[list[str]], Sequence[Mapping[str, float]]]


def read_probes(path: Path) -> list[dict[str, Any]]:
    """The probe rows."""
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def route(scores: Mapping[str, float], profile: str, thresholds: Mapping[str, float]) -> str:
    """The classifier's route for one prompt under `profile`."""
    if scores[SENSITIVITY] >= thresholds[SENSITIVITY]:
        return "local-sensitive"
    key = difficulty_key(profile)
    return "cloud" if scores[key] >= thresholds[key] else "local"


def agreement(
    probes: list[dict[str, Any]], score: Scorer, thresholds: Mapping[str, float]
) -> dict[str, Any]:
    """Per profile: overall agreement, per category, the confusion counts and the misses."""
    scored = score([p["text"] for p in probes])
    out: dict[str, Any] = {}
    for profile in PROFILES:
        per: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        confusion: dict[str, int] = defaultdict(int)
        misses = []
        for probe, s in zip(probes, scored, strict=True):
            want, got = probe[f"route@{profile}"], route(s, profile, thresholds)
            per[probe["category"]][0] += int(want == got)
            per[probe["category"]][1] += 1
            confusion[f"{want}->{got}"] += 1
            if want != got:
                misses.append({"id": probe["id"], "want": want, "got": got})
        hits = sum(v[0] for v in per.values())
        out[profile] = {
            "agreement": hits / len(probes),
            "by_category": {c: v[0] / v[1] for c, v in sorted(per.items())},
            "counts": {c: v[1] for c, v in sorted(per.items())},
            "confusion": dict(sorted(confusion.items())),
            "misses": misses,
        }
    return out
