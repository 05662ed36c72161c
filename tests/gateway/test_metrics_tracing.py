"""Pipeline stages run inside OpenTelemetry spans when a tracer is configured, none otherwise."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from support import AUTH, chat_body

from gateway import tracing


class RecordingTracer:
    def __init__(self) -> None:
        self.spans: list[str] = []

    @contextmanager
    def start_as_current_span(self, name: str) -> Iterator[None]:
        self.spans.append(name)
        yield


async def test_pipeline_stages_are_traced_in_order(gateway, monkeypatch):
    tracer = RecordingTracer()
    monkeypatch.setattr(tracing, "_tracer", lambda: tracer)
    async with gateway() as gw:
        r = await gw.client.post("/v1/chat/completions", json=chat_body(), headers=AUTH)
    assert r.status_code == 200
    assert tracer.spans == [
        "hybridgw.admit",
        "hybridgw.plan",
        "hybridgw.cache",
        "hybridgw.dispatch",
        "hybridgw.record",
    ]


def test_without_a_configured_provider_there_is_no_tracer():
    tracing._tracer.cache_clear()
    try:
        assert tracing._tracer() is None
    finally:
        tracing._tracer.cache_clear()
