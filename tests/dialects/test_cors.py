"""CORS for browser clients: off by default, on for the configured origins only."""

from __future__ import annotations

from support import AUTH, chat_body

PREFLIGHT = {
    "origin": "https://app.example.com",
    "access-control-request-method": "POST",
    "access-control-request-headers": "x-api-key, content-type, anthropic-version",
}


async def test_cors_is_off_by_default(gateway):
    async with gateway() as gw:
        r = await gw.client.options("/v1/messages", headers=PREFLIGHT)
    assert "access-control-allow-origin" not in r.headers


async def test_configured_origin_may_call_every_dialect(gateway):
    async with gateway(cors_origins="https://app.example.com, https://other.example.com") as gw:
        pre = await gw.client.options("/v1/messages", headers=PREFLIGHT)
        call = await gw.client.post(
            "/v1/chat/completions",
            json=chat_body(),
            headers={**AUTH, "origin": "https://app.example.com"},
        )
        foreign = await gw.client.options(
            "/v1/messages", headers={**PREFLIGHT, "origin": "https://evil.example.com"}
        )
    assert pre.status_code == 200
    assert pre.headers["access-control-allow-origin"] == "https://app.example.com"
    assert "x-api-key" in pre.headers["access-control-allow-headers"].lower()
    assert call.headers["access-control-allow-origin"] == "https://app.example.com"
    assert "x-route-tier" in call.headers["access-control-expose-headers"]
    assert "access-control-allow-origin" not in foreign.headers
