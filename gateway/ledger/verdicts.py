"""Shadow-evaluation verdicts: one row per graded request, keyed by its request id. Never text.

A verdict says whether a local answer was judged as good as the cloud reference model's answer
to the same request (`local_ok`), by which judge, and what the grading cost. The table is created
by ledger migration 3 (`gateway.ledger.schema`) in the same database as the ledger.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class Verdict:
    request_id: str
    timestamp: datetime
    tenant: str
    app: str
    policy_version: str
    local_model: str
    reference_model: str
    judge: str  # "model" or "exact_match"
    local_ok: bool  # judged as good as the reference's answer
    reference_ok: bool | None = None  # exact_match: the reference matched the gold answer
    difficulty: float | None = None  # the router's score, for `router calibrate --from-ledger`
    cost_usd: float = 0.0  # what the reference and judge calls cost


@runtime_checkable
class VerdictStore(Protocol):
    async def record_verdict(self, verdict: Verdict) -> None: ...

    async def fetch_verdicts(
        self, *, since: datetime, until: datetime, tenant: str | None = None
    ) -> list[Verdict]: ...


def create_table(ts: str, real: str, boolean: str) -> tuple[str, ...]:
    return (
        f"""CREATE TABLE shadow_verdicts (
            request_id TEXT PRIMARY KEY,
            ts {ts} NOT NULL,
            tenant TEXT NOT NULL,
            app TEXT NOT NULL,
            policy_version TEXT NOT NULL,
            local_model TEXT NOT NULL,
            reference_model TEXT NOT NULL,
            judge TEXT NOT NULL,
            local_ok {boolean} NOT NULL,
            reference_ok {boolean},
            difficulty {real},
            cost_usd {real} NOT NULL
        )""",
        "CREATE INDEX shadow_verdicts_ts ON shadow_verdicts (ts)",
    )


COLUMNS = (
    "request_id",
    "ts",
    "tenant",
    "app",
    "policy_version",
    "local_model",
    "reference_model",
    "judge",
    "local_ok",
    "reference_ok",
    "difficulty",
    "cost_usd",
)
COLUMN_LIST = ", ".join(COLUMNS)


def insert_sql(mark: str) -> str:
    return (
        f"INSERT INTO shadow_verdicts ({COLUMN_LIST}) VALUES ({', '.join(mark for _ in COLUMNS)})"
        " ON CONFLICT (request_id) DO NOTHING"
    )


def select_sql(mark: str, tenant: bool) -> str:
    sql = f"SELECT {COLUMN_LIST} FROM shadow_verdicts WHERE ts >= {mark} AND ts < {mark}"
    return sql + (f" AND tenant = {mark}" if tenant else "") + " ORDER BY ts, request_id"


def to_row(v: Verdict, ts: Any) -> tuple[Any, ...]:
    return (
        v.request_id,
        ts,
        v.tenant,
        v.app,
        v.policy_version,
        v.local_model,
        v.reference_model,
        v.judge,
        v.local_ok,
        v.reference_ok,
        v.difficulty,
        v.cost_usd,
    )


def from_row(row: tuple[Any, ...], timestamp: datetime) -> Verdict:
    values = dict(zip(COLUMNS, row, strict=True))
    return Verdict(
        request_id=values["request_id"],
        timestamp=timestamp,
        tenant=values["tenant"],
        app=values["app"],
        policy_version=values["policy_version"],
        local_model=values["local_model"],
        reference_model=values["reference_model"],
        judge=values["judge"],
        local_ok=bool(values["local_ok"]),
        reference_ok=None if values["reference_ok"] is None else bool(values["reference_ok"]),
        difficulty=None if values["difficulty"] is None else float(values["difficulty"]),
        cost_usd=float(values["cost_usd"]),
    )
