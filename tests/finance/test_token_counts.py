"""One counting rule: a streamed and a non-streamed answer to the same prompt, from the same
mock upstream, are recorded (and reported to the client) with the same token counts."""

from __future__ import annotations

import json

import pytest
from support import AUTH, chat_body

PROMPT = "Count the words in this sentence for the ledger, please: one two three."


def stream_usage(text: str) -> dict:
    events = [
        line.removeprefix("data: ") for line in text.splitlines() if line.startswith("data: ")
    ]
    [usage] = [
        json.loads(e)["usage"] for e in events if e != "[DONE]" and json.loads(e).get("usage")
    ]
    return usage


@pytest.mark.parametrize("difficulty, tier", [(0.1, "local"), (0.9, "cloud")])
async def test_stream_and_non_stream_count_alike(gateway, difficulty, tier):
    async with gateway(difficulty=difficulty) as gw:
        plain = await gw.client.post("/v1/chat/completions", json=chat_body(PROMPT), headers=AUTH)
        streamed = await gw.client.post(
            "/v1/chat/completions",
            json=chat_body(PROMPT, stream=True, stream_options={"include_usage": True}),
            headers=AUTH,
        )
    assert plain.status_code == streamed.status_code == 200
    first, second = gw.ledger.entries
    assert first.tier == second.tier == tier
    assert (first.prompt_tokens, first.completion_tokens) == (
        second.prompt_tokens,
        second.completion_tokens,
    )
    assert first.prompt_tokens > 0 and first.completion_tokens > 0
    assert first.cost_usd == second.cost_usd
    body_usage, chunk_usage = plain.json()["usage"], stream_usage(streamed.text)
    assert body_usage == chunk_usage
    assert body_usage["prompt_tokens"] == first.prompt_tokens
    assert body_usage["completion_tokens"] == first.completion_tokens


async def test_client_not_asking_for_usage_is_still_counted_alike(gateway):
    async with gateway(difficulty=0.1) as gw:
        await gw.client.post("/v1/chat/completions", json=chat_body(PROMPT), headers=AUTH)
        r = await gw.client.post(
            "/v1/chat/completions", json=chat_body(PROMPT, stream=True), headers=AUTH
        )
        assert r.status_code == 200 and '"usage"' not in r.text  # not asked, not sent
    first, second = gw.ledger.entries
    assert (first.prompt_tokens, first.completion_tokens) == (
        second.prompt_tokens,
        second.completion_tokens,
    )
