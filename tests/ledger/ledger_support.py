"""Sample ledger records shared by the ledger tests (a module of its own: conftest names are
ambiguous when several test directories are collected together)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from kernel.protocols import LedgerEntry

START = datetime(2026, 11, 1, tzinfo=UTC)


def sample_entries(n: int = 300, seed: int = 7) -> list[LedgerEntry]:
    """A seeded mixed workload over 5 days: tiers, tenants, apps, errors, fallbacks, PII."""
    rng = random.Random(seed)
    entries = []
    for i in range(n):
        tier = rng.choice(["local", "local", "local", "cloud", None])
        status = 200 if tier else rng.choice([403, 429, 503])
        prompt, completion = rng.randint(5, 900), rng.randint(0, 400) if tier else 0
        cloud_model = rng.choice(["gpt-4o-mini", "gpt-4o"])
        model = {"local": "local", "cloud": cloud_model, None: None}[tier]
        counterfactual = (prompt * 2.5e-6 + completion * 1e-5) if tier else 0.0
        cost = {"local": 0.0, "cloud": prompt * 1.5e-7 + completion * 6e-7, None: 0.0}[tier]
        if model == "gpt-4o":
            cost = counterfactual
        entries.append(
            LedgerEntry(
                request_id=f"req-{seed}-{i:05d}",
                timestamp=START + timedelta(seconds=rng.randint(0, 5 * 86400 - 1), microseconds=i),
                tenant=rng.choice(["acme", "globex"]),
                app=rng.choice(["support-bot", "search", "hr-assistant"]),
                policy_version="v1-abc",
                rule=rng.choice(["default", "hard-to-cloud", "sensitive-stays-local"]),
                tier=tier,  # type: ignore[arg-type]
                backend={"local": "llamacpp", "cloud": "litellm", None: None}[tier],
                model=model,
                status=status,
                prompt_tokens=prompt,
                completion_tokens=completion,
                cost_usd=cost,
                counterfactual_cost_usd=counterfactual,
                latency_ms=rng.uniform(20, 3000),
                ttft_ms=rng.uniform(5, 500) if tier else None,
                fallback_used=rng.random() < 0.05,
                pii_counts={"EMAIL_ADDRESS": 1} if rng.random() < 0.2 else {},
                cache_hit=rng.random() < 0.1,
                error_code=None if tier else "rate_limited",
                pii_redacted=tier == "cloud" and rng.random() < 0.3,
                reference_model="gpt-4o",
                price_source={"local": "local-zero", "cloud": "litellm", None: None}[tier],
            )
        )
    return entries
