"""What a ledger write adds to a request: `record()` latency per store, alone and under load.

Run: `.venv/bin/python -m bench.bench_ledger [--requests 1000] [--concurrency 16] [--no-write]`

The pipeline awaits `ledger.record(entry)` before it returns the answer (that is the durability
guarantee), so the time `record()` takes is added to every request. Measured: c=1 (one request
at a time: the per-request cost) and c=N concurrent writers (group commit shares one commit
among the waiting records). Stores: in-memory (the floor), SQLite WAL with synchronous=NORMAL
and FULL (a temporary file), PostgreSQL on 127.0.0.1:5432 (a schema of its own, dropped after).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from bench.report import Report, command_line, fmt
from gateway.ledger.memory import InMemoryLedger
from gateway.ledger.postgres import PostgresLedger
from gateway.ledger.sqlite import SqliteLedger
from kernel.protocols import Ledger, LedgerEntry

PG_BASE = "postgresql://postgres@127.0.0.1:5432/test"
ENTRY = LedgerEntry(
    request_id="",
    timestamp=datetime.now(UTC),
    tenant="bench",
    app="bench-app",
    policy_version="v1",
    rule="default",
    tier="local",
    backend="llamacpp",
    model="local",
    status=200,
    prompt_tokens=120,
    completion_tokens=48,
    counterfactual_cost_usd=0.00078,
    latency_ms=900.0,
    ttft_ms=310.0,
    pii_counts={"EMAIL_ADDRESS": 1},
    reference_model="gpt-4o",
    price_source="local-zero",
)


async def measure(ledger: Ledger, requests: int, concurrency: int) -> dict[str, float]:
    """Per-call latencies (µs) of `record()` with `concurrency` writers; throughput per second."""
    latencies: list[float] = []
    queue = list(range(requests))

    async def writer() -> None:
        while queue:
            queue.pop()
            entry = replace(ENTRY, request_id=uuid.uuid4().hex, timestamp=datetime.now(UTC))
            started = time.perf_counter()
            await ledger.record(entry)
            latencies.append((time.perf_counter() - started) * 1e6)

    started = time.perf_counter()
    await asyncio.gather(*(writer() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "p50": statistics.median(latencies),
        "p99": latencies[int(len(latencies) * 0.99) - 1],
        "mean": statistics.fmean(latencies),
        "rps": requests / elapsed,
    }


async def stores(tmp: Path, schema: str) -> list[tuple[str, Callable[[], Awaitable[Ledger]]]]:
    async def memory() -> Ledger:
        return InMemoryLedger()

    async def sqlite_normal() -> Ledger:
        return await SqliteLedger.open(tmp / "normal.db", "NORMAL")

    async def sqlite_full() -> Ledger:
        return await SqliteLedger.open(tmp / "full.db", "FULL")

    async def postgres() -> Ledger:
        return await PostgresLedger.open(f"{PG_BASE}?options=-csearch_path%3D{schema}")

    return [
        ("in-memory (floor)", memory),
        ("SQLite WAL, synchronous=NORMAL", sqlite_normal),
        ("SQLite WAL, synchronous=FULL (default)", sqlite_full),
        ("PostgreSQL 127.0.0.1, synchronous_commit=on", postgres),
    ]


async def run(requests: int, concurrency: int) -> list[list[str]]:
    schema = f"bench_ledger_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_BASE, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    rows = []
    try:
        with tempfile.TemporaryDirectory(prefix="bench-ledger-") as tmp:
            for name, build in await stores(Path(tmp), schema):
                ledger = await build()
                try:
                    await measure(ledger, 50, 1)  # warm up
                    one = await measure(ledger, requests, 1)
                    many = await measure(ledger, requests, concurrency)
                finally:
                    await ledger.aclose()
                rows.append(
                    [
                        name,
                        fmt(one["p50"], 0),
                        fmt(one["p99"], 0),
                        fmt(one["rps"], 0),
                        fmt(many["p50"], 0),
                        fmt(many["p99"], 0),
                        fmt(many["rps"], 0),
                    ]
                )
    finally:
        with psycopg.connect(PG_BASE, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--no-write", action="store_true", help="Print only.")
    args = parser.parse_args()
    rows = asyncio.run(run(args.requests, args.concurrency))
    report = Report("Ledger write cost per request", command=command_line("bench.bench_ledger"))
    c = args.concurrency
    report.table(
        [
            "store",
            "c=1 p50 µs",
            "c=1 p99 µs",
            "c=1 records/s",
            f"c={c} p50 µs",
            f"c={c} p99 µs",
            f"c={c} records/s",
        ],
        rows,
        caption=f"{args.requests} `record()` calls per level; each returns after its commit.",
    )
    report.text(
        "The c=1 p50 is what one request's answer waits for its record. Under concurrency the "
        "writer commits the records that queued during the previous commit together, so the "
        "per-record cost falls while each caller still waits for its own commit."
    )
    report.emit(write=not args.no_write)


if __name__ == "__main__":
    main()
