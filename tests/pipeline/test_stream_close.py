"""A stream nobody reads still ends: one ledger row (499) and the request no longer counted as
being served, whether the client left before the first byte was sent or mid-way."""

from __future__ import annotations

import contextlib

from stages_support import rig
from starlette.requests import ClientDisconnect

from gateway.api.openai.sse import sse_events
from gateway.api.streaming import RelayedResponse


async def test_a_stream_never_read_is_recorded_as_abandoned_once(tmp_path):
    r = rig(tmp_path)
    streamed = await r.pipeline.stream(r.exchange("hello", stream=True))
    assert r.pipeline._planner._serving == 1
    await streamed.close()
    await streamed.close()  # a second close records nothing more
    assert [(e.status, e.error_code) for e in r.ledger.entries] == [(499, "client_closed_request")]
    assert r.pipeline._planner._serving == 0


async def test_a_stream_read_to_the_end_keeps_its_own_row(tmp_path):
    r = rig(tmp_path)
    streamed = await r.pipeline.stream(r.exchange("hello", stream=True))
    chunks = [c async for c in streamed.chunks]
    await streamed.close()
    assert chunks and [e.status for e in r.ledger.entries] == [200]
    assert r.pipeline._planner._serving == 0


async def test_a_stream_left_mid_way_is_a_499(tmp_path):
    r = rig(tmp_path)
    streamed = await r.pipeline.stream(r.exchange("hello there, a longer answer", stream=True))
    await anext(streamed.chunks)
    await streamed.close()
    assert [(e.status, e.error_code) for e in r.ledger.entries] == [(499, "client_closed_request")]


async def _served(response: RelayedResponse, send_fails_at: str) -> list[str]:
    """Run the ASGI response; `send` raises OSError (the client is gone) on `send_fails_at`."""
    sent: list[str] = []

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, object]) -> None:
        sent.append(str(message["type"]))
        if message["type"] == send_fails_at:
            raise OSError("connection reset by peer")

    scope = {"type": "http", "asgi": {"spec_version": "2.4"}, "method": "POST", "path": "/"}
    with contextlib.suppress(ClientDisconnect):  # what Starlette makes of the OSError
        await response(scope, receive, send)
    return sent


async def test_the_http_response_records_a_client_gone_before_the_first_byte(tmp_path):
    r = rig(tmp_path)
    streamed = await r.pipeline.stream(r.exchange("hello", stream=True))
    sent = await _served(
        RelayedResponse(streamed, sse_events(streamed.chunks), {}), "http.response.start"
    )
    assert sent == ["http.response.start"]
    assert [(e.status, e.error_code) for e in r.ledger.entries] == [(499, "client_closed_request")]
    assert r.pipeline._planner._serving == 0


async def test_the_http_response_streams_every_event_and_records_200(tmp_path):
    r = rig(tmp_path)
    streamed = await r.pipeline.stream(r.exchange("hello", stream=True))
    response = RelayedResponse(streamed, sse_events(streamed.chunks), {"x-a": "1"})
    sent = await _served(response, "never")
    assert sent[0] == "http.response.start" and sent.count("http.response.body") >= 2
    assert response.headers["cache-control"] == "no-cache"
    assert response.media_type == "text/event-stream"
    assert [e.status for e in r.ledger.entries] == [200]
