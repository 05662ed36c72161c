"""Pick the ledger store from settings: `HYBRIDGW_DATABASE_URL` names it.

* `postgresql://…` (or `postgres://…`) → `PostgresLedger`;
* `sqlite:///path` or a plain file path → `SqliteLedger` at that path;
* unset → `SqliteLedger` on `hybridgw.db` in the working directory.

Either store is wrapped in a `SpooledLedger` with its spool at `HYBRIDGW_LEDGER_SPOOL_PATH`,
by default a file named after the store, so gateways of different stores sharing a working
directory never drain each other's records, and a restarted one finds its own. Its journal
(`HYBRIDGW_LEDGER_JOURNAL`, on by default) is the folder beside the spool with the suffix
`.journal`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from pathlib import Path

from gateway.circuit import Circuit, circuit_config
from gateway.ledger.journal import Journal
from gateway.ledger.spool import Spool
from gateway.ledger.spooled import SpooledLedger
from gateway.settings import Settings
from kernel.protocols import Ledger

DEFAULT_SQLITE = "hybridgw.db"


def spool_path(settings: Settings) -> Path:
    """The configured spool file, or one named after the store (its password not included)."""
    if settings.ledger_spool_path is not None:
        return settings.ledger_spool_path
    store = describe_store(settings.database_url)
    return Path(f"hybridgw-spool-{hashlib.sha256(store.encode()).hexdigest()[:12]}.db")


def describe_store(url: str | None) -> str:
    """Where the ledger lives, for humans (never prints a password)."""
    kind, target = parse_url(url)
    if kind == "postgres":
        return "PostgreSQL " + target.split("@")[-1]
    return f"SQLite {Path(target).resolve()}"


def parse_url(url: str | None) -> tuple[str, str]:
    """("postgres", dsn) or ("sqlite", path)."""
    if not url:
        return "sqlite", DEFAULT_SQLITE
    if url.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
        return "postgres", url.replace("postgresql+psycopg://", "postgresql://", 1)
    if url.startswith("sqlite:///"):
        return "sqlite", url.removeprefix("sqlite:///")
    if "://" in url:
        raise ValueError(f"unsupported ledger URL scheme in {url.split('://')[0]}://…")
    return "sqlite", url


def journal_path(settings: Settings) -> Path:
    """The journal's folder: beside the spool, named after it (so after the store too)."""
    return spool_path(settings).with_suffix(".journal")


async def build_ledger(settings: Settings) -> SpooledLedger:
    """Open the configured store (creating and migrating as needed) behind its spool and, by
    default, its journal; commit what dead processes left in the journal before returning."""
    store = await open_store(settings)
    spool = await Spool.open(spool_path(settings), "FULL")  # outage-only: fsync each commit
    circuit = Circuit("ledger", circuit_config(settings))
    journal = None
    if settings.ledger_journal:
        fsync = settings.ledger_journal_fsync or settings.ledger_sqlite_synchronous == "FULL"
        journal = Journal(journal_path(settings), fsync=fsync)
    wait_s = settings.ledger_wait_ms / 1000
    ledger = SpooledLedger(store, spool, circuit, wait_s=wait_s, journal=journal).start()
    await ledger.recover()
    return ledger


async def _postgres(target: str, settings: Settings) -> Ledger:
    from gateway.ledger.postgres import PostgresLedger

    return await PostgresLedger.open(target)


async def _sqlite(target: str, settings: Settings) -> Ledger:
    from gateway.ledger.sqlite import SqliteLedger

    return await SqliteLedger.open(Path(target), settings.ledger_sqlite_synchronous)


STORES: dict[str, Callable[[str, Settings], Awaitable[Ledger]]] = {
    "postgres": _postgres,
    "sqlite": _sqlite,
}
"""The named ledger stores `parse_url` can name (each imports its driver only when opened)."""


async def open_store(settings: Settings) -> Ledger:
    """The configured store alone."""
    kind, target = parse_url(settings.database_url)
    return await STORES[kind](target, settings)
