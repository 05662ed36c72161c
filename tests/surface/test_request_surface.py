"""Every valid Chat Completions request is accepted (both tiers, through the mock upstreams);
every invalid one is a 400 naming its field; no input at all gives a 5xx."""

from __future__ import annotations

import json

import pytest
from support import AUTH
from surface_corpus import INVALID, USER, mutations, valid_bodies

VALID = list(valid_bodies())


@pytest.mark.parametrize("difficulty", [0.0, 0.9], ids=["local-openai-compat", "cloud-litellm"])
async def test_every_valid_request_is_answered(gateway, difficulty):
    failures = []
    async with gateway(difficulty=difficulty) as gw:
        for case, body in VALID:
            r = await gw.client.post("/v1/chat/completions", json=body, headers=AUTH)
            if r.status_code != 200:
                failures.append((case, r.status_code, r.text[:200]))
            elif body.get("stream"):
                assert r.text.rstrip().endswith("data: [DONE]"), case
            else:
                assert r.json()["choices"][0]["message"]["role"] == "assistant", case
    assert not failures


async def test_invalid_requests_are_400s_naming_the_field(gateway):
    async with gateway() as gw:
        for param, fields in INVALID:
            body = {"model": "auto", "messages": [USER], **fields}
            r = await gw.client.post(
                "/v1/chat/completions",
                content=_encode(body),
                headers={**AUTH, "content-type": "application/json"},
            )
            assert r.status_code == 400, (param, r.status_code, r.text)
            error = r.json()["error"]
            assert error["param"] == param, (param, error)
            assert error["type"] == "invalid_request_error"


async def test_mutated_requests_never_get_a_5xx(gateway):
    statuses: dict[int, int] = {}
    async with gateway() as gw:
        for body in mutations(seed=14, count=150):
            r = await gw.client.post(
                "/v1/chat/completions",
                content=_encode(body),
                headers={**AUTH, "content-type": "application/json"},
            )
            statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
            assert r.status_code < 500, (body, r.text)
            assert "error" in r.json() or r.json()["choices"]
    assert set(statuses) <= {200, 400} and statuses.get(400, 0) > 50, statuses


async def test_a_huge_integer_keeps_the_connection_usable(gateway):
    """It once crashed orjson on the upstream path (500) and reset the keep-alive connection."""
    async with gateway() as gw:
        bad = _encode({"model": "auto", "messages": [USER], "tools": [{"x": 10**30}]})
        headers = {**AUTH, "content-type": "application/json"}
        first = await gw.client.post("/v1/chat/completions", content=bad, headers=headers)
        again = await gw.client.post(
            "/v1/chat/completions", json={"model": "auto", "messages": [USER]}, headers=AUTH
        )
    assert first.status_code == 400 and again.status_code == 200


def _encode(body: object) -> bytes:
    """JSON with integers of any size (orjson refuses those beyond 64 bits, which is the point)."""
    return json.dumps(body).encode()
