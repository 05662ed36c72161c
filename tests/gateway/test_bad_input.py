"""A user's mistake gets the right status and OpenAI's error JSON — never a 500 or a traceback."""

from __future__ import annotations

import json

import pytest
from support import AUTH, chat_body

JSON = {"content-type": "application/json", **AUTH}

CASES = [
    # (name, raw body, headers, status, code, param)
    ("malformed JSON", b'{"model": "auto", "messages": [', JSON, 400, "invalid_request", None),
    (
        "missing messages",
        json.dumps({"model": "auto"}).encode(),
        JSON,
        400,
        "invalid_request",
        "messages",
    ),
    (
        "empty messages",
        json.dumps({"model": "auto", "messages": []}).encode(),
        JSON,
        400,
        "invalid_request",
        "messages",
    ),
    (
        "wrong role",
        json.dumps({"model": "auto", "messages": [{"role": "wizard", "content": "hi"}]}).encode(),
        JSON,
        400,
        "invalid_request",
        "messages.0.role",
    ),
    ("n=2", json.dumps(chat_body(n=2)).encode(), JSON, 400, "invalid_request", "n"),
    (
        "unknown argument",
        json.dumps(chat_body(frobnicate=True)).encode(),
        JSON,
        400,
        "invalid_request",
        "frobnicate",
    ),
    (
        "temperature out of range",
        json.dumps(chat_body(temperature=7)).encode(),
        JSON,
        400,
        "invalid_request",
        "temperature",
    ),
    (
        "unknown model",
        json.dumps({**chat_body(), "model": "gpt-9"}).encode(),
        JSON,
        404,
        "model_not_found",
        "model",
    ),
    (
        "non-JSON content type",
        json.dumps(chat_body()).encode(),
        {"content-type": "text/plain", **AUTH},
        415,
        "unsupported_media_type",
        None,
    ),
    (
        "oversized body",
        json.dumps(chat_body("x" * 5000)).encode(),
        JSON,
        413,
        "payload_too_large",
        None,
    ),
    (
        "missing key",
        json.dumps(chat_body()).encode(),
        {"content-type": "application/json"},
        401,
        "invalid_api_key",
        None,
    ),
    (
        "wrong key",
        json.dumps(chat_body()).encode(),
        {"content-type": "application/json", "authorization": "Bearer sk-nope"},
        401,
        "invalid_api_key",
        None,
    ),
    ("JSON array body", b"[1, 2]", JSON, 400, "invalid_request", None),
]


@pytest.mark.parametrize(
    ("name", "body", "headers", "status", "code", "param"), CASES, ids=[c[0] for c in CASES]
)
async def test_bad_request_table(gateway, name, body, headers, status, code, param):
    async with gateway(max_body_bytes=4096) as gw:
        r = await gw.client.post("/v1/chat/completions", content=body, headers=headers)
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["code"] == code
    assert error["param"] == param
    assert "Traceback" not in r.text and error["message"]
    assert not gw.ledger.entries or gw.ledger.entries[-1].status == status


async def test_oversized_prompt_is_400(gateway):
    async with gateway(max_prompt_chars=100) as gw:
        r = await gw.client.post("/v1/chat/completions", json=chat_body("y" * 500), headers=AUTH)
    assert r.status_code == 400 and r.json()["error"]["param"] == "messages"


async def test_unknown_route_and_method_are_openai_errors(gateway):
    async with gateway() as gw:
        missing = await gw.client.get("/v1/nothing")
        wrong_method = await gw.client.get("/v1/chat/completions")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert wrong_method.status_code == 405


async def test_models_and_probes(gateway):
    async with gateway() as gw:
        models = await gw.client.get("/v1/models", headers=AUTH)
        health = await gw.client.get("/healthz")
        ready = await gw.client.get("/readyz")
    ids = [m["id"] for m in models.json()["data"]]
    assert ids[0] == "auto" and "local" in ids and "cloud" in ids
    assert health.json() == {"status": "ok"}
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
