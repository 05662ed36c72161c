"""Local-model profiles: which local model a difficulty score is about.

Difficulty means P(this local model's answer is not acceptable), so the classifier carries one
difficulty head per profile and returns `difficulty@<profile>` for each; a policy picks its
profile (`router_profile`) and the planner reads `scores[difficulty_key(profile)]`. Each
profile's recommended threshold (fitted by `hybridgw router evaluate`) is shipped in
`router/models/thresholds.json`; `hybridgw router calibrate --local-model` refits it for the
model actually deployed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

DEFAULT_PROFILE = "smollm2-135m"
SENSITIVITY = "sensitivity"


@dataclass(frozen=True, slots=True)
class Profile:
    """A shipped local-model profile."""

    name: str
    description: str
    fallback_threshold: float  # used only when thresholds.json lacks the profile


PROFILES: dict[str, Profile] = {
    "smollm2-135m": Profile(
        "smollm2-135m",
        "SmolLM2-135M-Instruct (the embedded default): measured on GSM8K and everyday tasks.",
        0.5,
    ),
    "7b-class": Profile(
        "7b-class",
        "A 7-8B open instruct model (Mistral-7B, Llama-3-8B class): RouterDC measured labels.",
        0.5,
    ),
}


def difficulty_key(profile: str) -> str:
    """The score key of a profile's difficulty head."""
    return f"difficulty@{profile}"


HEADS: tuple[str, ...] = (*(difficulty_key(p) for p in PROFILES), SENSITIVITY)


def require_profile(name: str) -> Profile:
    """The profile called `name`; ValueError naming the shipped ones otherwise."""
    try:
        return PROFILES[name]
    except KeyError:
        known = ", ".join(sorted(PROFILES))
        raise ValueError(f"unknown router_profile '{name}' (shipped: {known})") from None


def default_thresholds(models_dir: Path) -> dict[str, float]:
    """Per-head recommended thresholds from `thresholds.json` (profile fallbacks if missing)."""
    path = models_dir / "thresholds.json"
    raw = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    out = {difficulty_key(p.name): p.fallback_threshold for p in PROFILES.values()}
    out.update({k: float(v) for k, v in raw.items() if isinstance(v, int | float)})
    return out
