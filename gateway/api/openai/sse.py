"""Server-sent events in OpenAI's format: `data: {chunk}` lines, then `data: [DONE]`."""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, AsyncIterator

from gateway.api.openai.errors import error_body
from kernel.errors import GatewayError
from kernel.types import ChatChunk

log = logging.getLogger(__name__)

DONE = b"data: [DONE]\n\n"


async def sse_events(chunks: AsyncIterator[ChatChunk]) -> AsyncGenerator[bytes, None]:
    """Encode chunks as SSE. A failure after the first byte becomes an `error` event."""
    try:
        async for chunk in chunks:
            yield b"data: " + chunk.model_dump_json(exclude_none=True).encode() + b"\n\n"
    except GatewayError as exc:
        yield b"data: " + error_body(exc.message, exc.type, exc.code, exc.param) + b"\n\n"
        return
    except Exception:
        log.exception("stream failed after the first byte")
        yield b"data: " + error_body("The stream failed.", "api_error", "internal_error") + b"\n\n"
        return
    yield DONE
