"""Legacy /v1/completions: one prompt → one user message; text_completion shapes; refusals."""

from __future__ import annotations

import json

from support import AUTH


async def test_plain_and_streamed_text_completion(gateway, local_mock):
    body = {"model": "auto", "prompt": "Say hello.", "stop": ["\n\n"]}
    async with gateway() as gw:
        plain = await gw.client.post("/v1/completions", json=body, headers=AUTH)
        streamed = await gw.client.post(
            "/v1/completions",
            json={**body, "stream": True, "stream_options": {"include_usage": True}},
            headers=AUTH,
        )
    assert plain.status_code == 200, plain.text
    out = plain.json()
    assert out["object"] == "text_completion" and out["id"].startswith("cmpl-")
    assert out["choices"][0]["text"] == "echo: Say hello."
    assert out["usage"]["completion_tokens"] > 0
    sent = local_mock.requests[0].json()
    assert sent["messages"] == [{"role": "user", "content": "Say hello."}]
    assert sent["max_tokens"] == 16 and sent["stop"] == ["\n\n"]  # OpenAI's legacy default
    lines = [line[6:] for line in streamed.text.split("\n") if line.startswith("data: ")]
    assert lines[-1] == "[DONE]"
    chunks = [json.loads(line) for line in lines[:-1]]
    assert all(c["object"] == "text_completion" for c in chunks)
    assert "".join(c["choices"][0]["text"] for c in chunks if c["choices"]) == "echo: Say hello."
    assert chunks[-1]["usage"]["completion_tokens"] > 0


async def test_unsupported_completion_options_are_400s(gateway):
    async with gateway() as gw:
        for extra in (
            {"echo": True},
            {"suffix": "x"},
            {"logprobs": 2},
            {"best_of": 3},
            {"n": 2},
            {"prompt": [1, 2, 3]},
            {"prompt": ["a", "b"]},
        ):
            body = {"model": "auto", "prompt": "hi", **extra}
            r = await gw.client.post("/v1/completions", json=body, headers=AUTH)
            assert r.status_code == 400, (extra, r.text)
            assert r.json()["error"]["type"] == "invalid_request_error"
