"""The floor of a Python gateway: an ASGI app that only forwards the body to the upstream.

    BENCH_UPSTREAM=http://127.0.0.1:PORT/v1 python -m uvicorn bench.floor_proxy:app \
        --workers 2 --loop uvloop --http httptools --no-access-log

No parsing, no authentication, no routing, no PII scan, no classifier, no ledger: the request
body goes to `$BENCH_UPSTREAM/chat/completions` through one pooled aiohttp session (the client
our `openai_compat` backend uses) and the upstream's bytes come back, streamed chunk by chunk
when the upstream streams. It runs on the same server stack as `hybridgw serve` (uvicorn,
httptools, uvloop), so `bench/bench_peers.py` can show what any gateway on this stack pays
before it does anything, next to ours and to the Rust gateways. Not a gateway: a measuring stick.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import aiohttp

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_session: aiohttp.ClientSession | None = None


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    global _session
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        if _session is not None:
            await _session.close()
        await send({"type": "lifespan.shutdown.complete"})
        return
    if scope["type"] != "http":
        return
    body = bytearray()
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    if _session is None:
        _session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
    url = os.environ["BENCH_UPSTREAM"].rstrip("/") + "/chat/completions"
    authorization = dict(scope["headers"]).get(b"authorization", b"").decode()
    headers = {"content-type": "application/json", "authorization": authorization}
    async with _session.post(url, data=bytes(body), headers=headers) as upstream:
        content_type = upstream.headers.get("content-type", "application/json").encode()
        await send(
            {
                "type": "http.response.start",
                "status": upstream.status,
                "headers": [(b"content-type", content_type)],
            }
        )
        async for chunk in upstream.content.iter_any():
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
    await send({"type": "http.response.body", "body": b"", "more_body": False})
