"""The PII end-to-end guarantees on every dialect: the recording cloud mock never sees a protected
value, the client gets it back (streaming and fallback included), blocked entities stay home."""

from __future__ import annotations

import pytest
from dialects import ALL, Dialect
from support import policy_yaml

PII_SECTION = """\
pii:
  entities:
    EMAIL_ADDRESS: placeholder
    PHONE_NUMBER: placeholder
    PERSON: placeholder
    SECRET: block
"""
EMAIL, PHONE, NAME = "maria.gonzalez@example.com", "+1 415 555 0132", "Maria Gonzalez"
PROMPT = f"Write to {NAME} at {EMAIL} or call {PHONE}. Summarise politely."
BLOCKED = "Debug this: OPENAI_API_KEY=sk-proj-4fQ9xT2mLw8ZpR7vKc3NbY6hJd1sGe5aUo0iTq"

pytestmark = pytest.mark.parametrize("dialect", ALL, ids=str)


def _leaks(raw: bytes) -> list[str]:
    return [v for v in (EMAIL, PHONE, NAME) if v.encode() in raw]


def _policy(write_policy, cloud_mock, local_mock, *, local_down: bool = False):
    text = policy_yaml(cloud_mock.base_url, local_mock.base_url, PII_SECTION)
    if local_down:
        text = text.replace(
            "default: {action: local, target: local, fallbacks: [cloud]}",
            "default: {action: local, target: local-down, fallbacks: [cloud]}",
        )
    return write_policy(text)


async def _ask(gw, dialect: Dialect, text: str, stream: bool):
    return await gw.client.post(
        dialect.path, json=dialect.body(text, stream), headers=dialect.headers
    )


def _text(dialect: Dialect, r, stream: bool) -> str:
    return dialect.streamed(r.text) if stream else dialect.answer(r.json())


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
async def test_cloud_sees_placeholders_client_gets_values(
    dialect, stream, gateway, write_policy, cloud_mock, local_mock
):
    assert cloud_mock.stream_piece == 3  # placeholders span several chunks
    async with gateway(difficulty=0.9, policy=_policy(write_policy, cloud_mock, local_mock)) as gw:
        r = await _ask(gw, dialect, PROMPT, stream)
        entry = gw.ledger.entries[0]
    assert r.status_code == 200, r.text
    assert r.headers["x-route-tier"] == "cloud"
    assert _leaks(cloud_mock.raw_bytes()) == []
    assert "<EMAIL_ADDRESS_1>" in cloud_mock.requests[0].body.decode()
    answer = _text(dialect, r, stream)
    assert EMAIL in answer and PHONE in answer and NAME in answer
    assert "<EMAIL" not in answer and "<PERSON" not in answer
    assert entry.pii_redacted and entry.pii_counts["EMAIL_ADDRESS"] == 1


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
async def test_fallback_to_cloud_is_redacted_and_restored(
    dialect, stream, gateway, write_policy, cloud_mock, local_mock
):
    policy = _policy(write_policy, cloud_mock, local_mock, local_down=True)
    async with gateway(difficulty=0.1, policy=policy) as gw:
        r = await _ask(gw, dialect, PROMPT, stream)
        entry = gw.ledger.entries[0]
    assert r.status_code == 200, r.text
    assert r.headers["x-route-fallback"] == "true"
    assert _leaks(cloud_mock.raw_bytes()) == []
    assert NAME in _text(dialect, r, stream)
    assert entry.fallback_used and entry.tier == "cloud"


async def test_blocked_entity_never_reaches_the_cloud(
    dialect, gateway, write_policy, cloud_mock, local_mock
):
    async with gateway(difficulty=0.9, policy=_policy(write_policy, cloud_mock, local_mock)) as gw:
        r = await _ask(gw, dialect, BLOCKED, False)
    assert r.status_code == 403, r.text
    assert dialect.error_code(r.json()) in ("policy_blocked", "permission_error")
    assert "sk-proj" not in r.text and not cloud_mock.requests


async def test_local_answers_are_not_redacted(
    dialect, gateway, write_policy, cloud_mock, local_mock
):
    async with gateway(difficulty=0.1, policy=_policy(write_policy, cloud_mock, local_mock)) as gw:
        r = await _ask(gw, dialect, PROMPT, False)
    assert r.headers["x-route-tier"] == "local"
    assert PROMPT.encode() in local_mock.requests[0].body
    assert not cloud_mock.requests
