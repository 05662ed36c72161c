"""End to end through HTTP: the mock cloud never sees a protected value; the client gets it back."""

from __future__ import annotations

import asyncio
import json

import pytest
from support import AUTH, chat_body, policy_yaml

PII_SECTION = """\
pii:
  entities:
    EMAIL_ADDRESS: placeholder
    PHONE_NUMBER: placeholder
    PERSON: placeholder
    CREDIT_CARD: mask
    SECRET: block
"""

EMAIL, PHONE, NAME, CARD = (
    "maria.gonzalez@example.com",
    "+1 415 555 0132",
    "Maria Gonzalez",
    ("4111 1111 1111 1111"),
)
PROMPT = f"Write to {NAME} at {EMAIL} or call {PHONE}; her card is {CARD}. Summarise politely."


def _policy(write_policy, cloud_mock, local_mock, extra: str = PII_SECTION):
    return write_policy(policy_yaml(cloud_mock.base_url, local_mock.base_url, extra))


def _leaks(raw: bytes) -> list[str]:
    digits_of_card = CARD.replace(" ", "")
    return [v for v in (EMAIL, PHONE, NAME, CARD, digits_of_card) if v.encode() in raw]


async def test_cloud_sees_placeholders_and_client_gets_values_back(
    gateway, write_policy, cloud_mock, local_mock
):
    async with gateway(difficulty=0.9, policy=_policy(write_policy, cloud_mock, local_mock)) as gw:
        r = await gw.client.post("/v1/chat/completions", json=chat_body(PROMPT), headers=AUTH)
    assert r.status_code == 200, r.text
    assert r.headers["x-route-tier"] == "cloud"
    assert _leaks(cloud_mock.raw_bytes()) == []
    sent = cloud_mock.requests[0].json()["messages"][0]["content"]
    assert "<EMAIL_ADDRESS_1>" in sent and "<PHONE_NUMBER_1>" in sent and "<PERSON_1>" in sent
    answer = r.json()["choices"][0]["message"]["content"]
    assert EMAIL in answer and PHONE in answer and NAME in answer
    assert CARD not in answer and "1111" in answer  # masked: irreversible by design
    entry = gw.ledger.entries[0]
    counts = dict(entry.pii_counts)
    assert counts.pop("PERSON") >= 1  # the NER model may flag more words than the name
    assert counts == {"CREDIT_CARD": 1, "EMAIL_ADDRESS": 1, "PHONE_NUMBER": 1}


async def test_streaming_restores_placeholders_split_across_chunks(
    gateway, write_policy, cloud_mock, local_mock
):
    assert cloud_mock.stream_piece == 3  # every placeholder spans several chunks
    body = chat_body(PROMPT, stream=True)
    async with gateway(difficulty=0.9, policy=_policy(write_policy, cloud_mock, local_mock)) as gw:
        r = await gw.client.post("/v1/chat/completions", json=body, headers=AUTH)
    assert r.status_code == 200
    chunks = [json.loads(line[6:]) for line in r.text.split("\n") if line.startswith("data: {")]
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert EMAIL in text and PHONE in text and NAME in text
    assert "<EMAIL" not in text and "<PERSON" not in text
    assert _leaks(cloud_mock.raw_bytes()) == []


async def test_local_answers_are_not_redacted(gateway, write_policy, cloud_mock, local_mock):
    async with gateway(difficulty=0.1, policy=_policy(write_policy, cloud_mock, local_mock)) as gw:
        r = await gw.client.post("/v1/chat/completions", json=chat_body(PROMPT), headers=AUTH)
    assert r.headers["x-route-tier"] == "local"
    assert local_mock.requests[0].json()["messages"][0]["content"] == PROMPT
    assert not cloud_mock.requests


async def test_blocked_entity_never_reaches_the_cloud(
    gateway, write_policy, cloud_mock, local_mock
):
    prompt = "Debug this: OPENAI_API_KEY=sk-proj-4fQ9xT2mLw8ZpR7vKc3NbY6hJd1sGe5aUo0iTq"
    async with gateway(difficulty=0.9, policy=_policy(write_policy, cloud_mock, local_mock)) as gw:
        r = await gw.client.post("/v1/chat/completions", json=chat_body(prompt), headers=AUTH)
    assert r.status_code == 403, r.text
    assert r.json()["error"]["code"] == "policy_blocked"
    assert "sk-proj" not in r.text and not cloud_mock.requests


async def test_protected_local_traffic_with_local_down_gets_503_not_cloud(
    gateway, write_policy, cloud_mock, local_mock
):
    protect = (
        PII_SECTION
        + """\
protect:
  - {name: people-stay-local, when: {pii_any: [PERSON]}, action: local, target: local-down}
"""
    )
    policy = _policy(write_policy, cloud_mock, local_mock, protect)
    async with gateway(difficulty=0.9, policy=policy) as gw:
        r = await gw.client.post("/v1/chat/completions", json=chat_body(PROMPT), headers=AUTH)
    assert r.status_code == 503, r.text
    assert r.json()["error"]["code"] == "backend_unavailable"
    assert not cloud_mock.requests


async def test_hundred_concurrent_requests_get_only_their_own_values(
    gateway, write_policy, cloud_mock, local_mock
):
    async def ask(i: int):
        email = f"user{i:03d}@corp{i:03d}.example.org"
        body = chat_body(f"Please reply to {email} about ticket {i}.")
        r = await gw.client.post("/v1/chat/completions", json=body, headers=AUTH)
        return i, email, r

    async with gateway(difficulty=0.9, policy=_policy(write_policy, cloud_mock, local_mock)) as gw:
        results = await asyncio.gather(*(ask(i) for i in range(100)))
    for i, email, r in results:
        assert r.status_code == 200, r.text
        answer = r.json()["choices"][0]["message"]["content"]
        assert email in answer
        others = [f"user{j:03d}@" for j in range(100) if j != i]
        assert not any(o in answer for o in others)
    assert b"@corp" not in cloud_mock.raw_bytes()


async def test_names_are_found_before_the_decision_even_when_local_answers(
    gateway, write_policy, cloud_mock, local_mock
):
    # local first, cloud fallback: the plan is complete before dispatch, so the fallback's
    # redacted copy exists whether or not it is needed (nothing is scanned later)
    async with gateway(difficulty=0.1, policy=_policy(write_policy, cloud_mock, local_mock)) as gw:
        r = await gw.client.post("/v1/chat/completions", json=chat_body(PROMPT), headers=AUTH)
    assert r.headers["x-route-tier"] == "local"
    assert gw.ledger.entries[0].pii_counts.get("PERSON", 0) >= 1


async def test_deferred_name_scan_still_redacts_a_cloud_fallback(
    gateway, write_policy, cloud_mock, local_mock
):
    text = policy_yaml(cloud_mock.base_url, local_mock.base_url, PII_SECTION).replace(
        "default: {action: local, target: local, fallbacks: [cloud]}",
        "default: {action: local, target: local-down, fallbacks: [cloud]}",
    )
    async with gateway(difficulty=0.1, policy=write_policy(text)) as gw:
        r = await gw.client.post("/v1/chat/completions", json=chat_body(PROMPT), headers=AUTH)
    assert r.status_code == 200 and r.headers["x-route-fallback"] == "true"
    assert _leaks(cloud_mock.raw_bytes()) == []
    assert NAME in r.json()["choices"][0]["message"]["content"]
    assert gw.ledger.entries[0].pii_counts.get("PERSON", 0) >= 1


@pytest.mark.parametrize("stream", [False, True])
async def test_a_name_only_prompt_never_reaches_a_cloud_fallback_in_clear(
    gateway, write_policy, cloud_mock, local_mock, stream
):
    # The reported leak: the shipped default's shape (local first, cloud fallback), the local
    # backend down, and a prompt whose only PII is a name that only the model part finds.
    text = policy_yaml(cloud_mock.base_url, local_mock.base_url, PII_SECTION).replace(
        "default: {action: local, target: local, fallbacks: [cloud]}",
        "default: {action: local, target: local-down, fallbacks: [cloud]}",
    )
    prompt = "Summarise what Margaret Thompson said in yesterday's meeting."
    async with gateway(difficulty=0.1, policy=write_policy(text)) as gw:
        r = await gw.client.post(
            "/v1/chat/completions", json=chat_body(prompt, stream=stream), headers=AUTH
        )
    assert r.status_code == 200, r.text
    assert r.headers["x-route-fallback"] == "true" and r.headers["x-route-tier"] == "cloud"
    raw = cloud_mock.raw_bytes()
    assert b"Margaret" not in raw and b"Thompson" not in raw
    assert b"<PERSON_1>" in raw
    assert "Margaret Thompson" in r.text  # restored for the client, streamed or not


@pytest.mark.parametrize("stream", [False, True])
async def test_names_in_assistant_tool_call_arguments_never_reach_the_cloud(
    gateway, write_policy, cloud_mock, local_mock, stream
):
    # A multi-turn agent replays the assistant's tool call; its JSON arguments carry a name.
    arguments = json.dumps({"recipient": "Margaret Thompson", "subject": "Quarterly review"})
    body = {
        "model": "auto",
        "stream": stream,
        "messages": [
            {"role": "user", "content": "Send the quarterly review e-mail."},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "send_email", "arguments": arguments},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": "sent"},
            {"role": "user", "content": "Summarise what you did."},
        ],
    }
    policy = _policy(write_policy, cloud_mock, local_mock)
    async with gateway(difficulty=0.9, policy=policy) as gw:
        r = await gw.client.post("/v1/chat/completions", json=body, headers=AUTH)
    assert r.status_code == 200, r.text
    raw = cloud_mock.raw_bytes()
    assert raw and b"Margaret" not in raw and b"Thompson" not in raw
    sent = json.loads(cloud_mock.requests[-1].body)
    replayed = sent["messages"][1]["tool_calls"][0]["function"]["arguments"]
    assert json.loads(replayed)["subject"] == "Quarterly review"  # still valid JSON


async def test_a_password_split_from_its_context_word_never_reaches_the_cloud(
    gateway, write_policy, cloud_mock, local_mock
):
    secret_policy = PII_SECTION.replace("SECRET: block", "SECRET: placeholder")
    body = {
        "model": "auto",
        "messages": [
            {"role": "user", "content": "The staging box rejects me. My password is"},
            {"role": "user", "content": "Tr0ub4dor&3xQ"},
            {"role": "user", "content": "Why does the login keep failing?"},
        ],
    }
    policy = _policy(write_policy, cloud_mock, local_mock, secret_policy)
    async with gateway(difficulty=0.9, policy=policy) as gw:
        r = await gw.client.post("/v1/chat/completions", json=body, headers=AUTH)
    assert r.status_code == 200, r.text
    raw = cloud_mock.raw_bytes()
    assert raw and b"Tr0ub4dor" not in raw
