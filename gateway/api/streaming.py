"""The streamed HTTP answer of every dialect: server-sent events that always end their stream.

Starlette drops a body iterator it never started: a client that left between the route's
decision and the first byte sent would leave no ledger row and a request counted as in
progress forever. `RelayedResponse` closes the pipeline's stream when the response ends,
however it ends (`Streamed.close`).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping

from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from gateway.pipeline import Streamed


class RelayedResponse(StreamingResponse):
    """`text/event-stream` of `events` (the dialect's encoding of `streamed`)."""

    def __init__(
        self, streamed: Streamed, events: AsyncGenerator[bytes, None], headers: Mapping[str, str]
    ) -> None:
        super().__init__(
            events,
            media_type="text/event-stream",
            headers={**headers, "cache-control": "no-cache"},
        )
        self._streamed = streamed
        self._events = events

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            try:
                await self._events.aclose()
            finally:
                await self._streamed.close()  # the ledger row, whatever closing the events did
