"""The ledger's one schema, as numbered migrations rendered for SQLite and PostgreSQL.

A store applies, in order and inside one transaction, every migration whose version is not yet in
`ledger_schema`. Add a migration by appending to `MIGRATIONS`; never edit an applied one. Columns
map one to one onto `kernel.protocols.LedgerEntry` (docs/ledger.md explains each); there is no
column for prompt or answer text, by design.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from gateway.ledger import verdicts
from kernel.protocols import LedgerEntry


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    description: str
    sqlite: tuple[str, ...]
    postgres: tuple[str, ...]


def _create_ledger(ts: str, real: str, boolean: str, bigint: str) -> tuple[str, ...]:
    return (
        f"""CREATE TABLE ledger (
            request_id TEXT PRIMARY KEY,
            ts {ts} NOT NULL,
            tenant TEXT NOT NULL,
            app TEXT NOT NULL,
            policy_version TEXT NOT NULL,
            rule TEXT NOT NULL,
            tier TEXT,
            backend TEXT,
            model TEXT,
            reference_model TEXT,
            status INTEGER NOT NULL,
            error_code TEXT,
            prompt_tokens {bigint} NOT NULL,
            completion_tokens {bigint} NOT NULL,
            cost_usd {real} NOT NULL,
            counterfactual_cost_usd {real} NOT NULL,
            price_source TEXT,
            latency_ms {real} NOT NULL,
            ttft_ms {real},
            fallback_used {boolean} NOT NULL,
            pii_redacted {boolean} NOT NULL,
            pii_counts TEXT NOT NULL,
            cache_hit {boolean} NOT NULL
        )""",
        "CREATE INDEX ledger_ts ON ledger (ts)",
        "CREATE INDEX ledger_tenant_ts ON ledger (tenant, ts)",
    )


def _add_columns(real: str, boolean: str, bigint: str) -> tuple[str, ...]:
    """Version 2's columns. Rows written before it keep NULL inputs (what-if skips them)."""
    columns = (
        "baseline_model TEXT",
        f"baseline_cost_usd {real}",
        f"difficulty {real}",
        f"sensitivity {real}",
        "pii_types TEXT",
        "pii_blocked TEXT",
        "pii_unscanned TEXT",
        "requested_model TEXT",
        f"routed_prompt_tokens {bigint}",
        f"needs_cloud_features {boolean}",
        f"over_soft_budget {boolean}",
        "origin TEXT NOT NULL DEFAULT 'live'",
    )
    return tuple(f"ALTER TABLE ledger ADD COLUMN {column}" for column in columns)


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "ledger table: one row per request, no text",
        _create_ledger("TEXT", "REAL", "INTEGER", "INTEGER"),
        _create_ledger("TIMESTAMPTZ", "DOUBLE PRECISION", "BOOLEAN", "BIGINT"),
    ),
    Migration(
        2,
        "savings split (baseline), decision inputs for what-if replay, row origin",
        _add_columns("REAL", "INTEGER", "INTEGER"),
        _add_columns("DOUBLE PRECISION", "BOOLEAN", "BIGINT"),
    ),
    Migration(
        3,
        "shadow_verdicts table: one shadow-evaluation verdict per graded request, no text",
        verdicts.create_table("TEXT", "REAL", "INTEGER"),
        verdicts.create_table("TIMESTAMPTZ", "DOUBLE PRECISION", "BOOLEAN"),
    ),
)
LATEST = MIGRATIONS[-1].version

COLUMNS: tuple[str, ...] = (
    "request_id",
    "ts",
    "tenant",
    "app",
    "policy_version",
    "rule",
    "tier",
    "backend",
    "model",
    "reference_model",
    "status",
    "error_code",
    "prompt_tokens",
    "completion_tokens",
    "cost_usd",
    "counterfactual_cost_usd",
    "price_source",
    "latency_ms",
    "ttft_ms",
    "fallback_used",
    "pii_redacted",
    "pii_counts",
    "cache_hit",
    "baseline_model",
    "baseline_cost_usd",
    "difficulty",
    "sensitivity",
    "pii_types",
    "pii_blocked",
    "pii_unscanned",
    "requested_model",
    "routed_prompt_tokens",
    "needs_cloud_features",
    "over_soft_budget",
    "origin",
)
COLUMN_LIST = ", ".join(COLUMNS)


def to_row(entry: LedgerEntry) -> tuple[Any, ...]:
    """An entry as column values (timestamp a `datetime`, flags `bool`, PII counts JSON)."""
    return (
        entry.request_id,
        entry.timestamp,
        entry.tenant,
        entry.app,
        entry.policy_version,
        entry.rule,
        entry.tier,
        entry.backend,
        entry.model,
        entry.reference_model,
        entry.status,
        entry.error_code,
        entry.prompt_tokens,
        entry.completion_tokens,
        entry.cost_usd,
        entry.counterfactual_cost_usd,
        entry.price_source,
        entry.latency_ms,
        entry.ttft_ms,
        entry.fallback_used,
        entry.pii_redacted,
        orjson.dumps(dict(entry.pii_counts), option=orjson.OPT_SORT_KEYS).decode(),
        entry.cache_hit,
        entry.baseline_model,
        entry.baseline_cost_usd,
        entry.difficulty,
        entry.sensitivity,
        *(_types(t) for t in (entry.pii_types, entry.pii_blocked, entry.pii_unscanned)),
        entry.requested_model,
        entry.routed_prompt_tokens,
        entry.needs_cloud_features,
        entry.over_soft_budget,
        entry.origin,
    )


def _types(types: tuple[str, ...]) -> str:
    """Compact JSON, as `json.dumps(..., separators=(",", ":"))` writes it, ~10x faster."""
    return orjson.dumps(sorted(types)).decode()


def _untypes(text: str | None) -> tuple[str, ...]:
    return tuple(json.loads(text)) if text else ()


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def from_row(row: tuple[Any, ...], timestamp: datetime) -> LedgerEntry:
    """The entry of a fetched row (`timestamp` already converted by the store)."""
    values = dict(zip(COLUMNS, row, strict=True))
    return LedgerEntry(
        request_id=values["request_id"],
        timestamp=timestamp,
        tenant=values["tenant"],
        app=values["app"],
        policy_version=values["policy_version"],
        rule=values["rule"],
        tier=values["tier"],
        backend=values["backend"],
        model=values["model"],
        reference_model=values["reference_model"],
        status=int(values["status"]),
        error_code=values["error_code"],
        prompt_tokens=int(values["prompt_tokens"]),
        completion_tokens=int(values["completion_tokens"]),
        cost_usd=float(values["cost_usd"]),
        counterfactual_cost_usd=float(values["counterfactual_cost_usd"]),
        price_source=values["price_source"],
        latency_ms=float(values["latency_ms"]),
        ttft_ms=None if values["ttft_ms"] is None else float(values["ttft_ms"]),
        fallback_used=bool(values["fallback_used"]),
        pii_redacted=bool(values["pii_redacted"]),
        pii_counts=json.loads(values["pii_counts"]),
        cache_hit=bool(values["cache_hit"]),
        baseline_model=values["baseline_model"],
        baseline_cost_usd=_float(values["baseline_cost_usd"]),
        difficulty=_float(values["difficulty"]),
        sensitivity=_float(values["sensitivity"]),
        pii_types=_untypes(values["pii_types"]),
        pii_blocked=_untypes(values["pii_blocked"]),
        pii_unscanned=_untypes(values["pii_unscanned"]),
        requested_model=values["requested_model"],
        routed_prompt_tokens=None
        if values["routed_prompt_tokens"] is None
        else int(values["routed_prompt_tokens"]),
        needs_cloud_features=bool(values["needs_cloud_features"]),
        over_soft_budget=bool(values["over_soft_budget"]),
        origin=values["origin"],
    )
