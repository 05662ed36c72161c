"""The one internal request each dialect's translation ends in."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from kernel.errors import InvalidRequest
from kernel.types import ChatRequest


def chat_request(fields: dict[str, Any]) -> ChatRequest:
    """`ChatRequest` of translated fields; a value it cannot hold is a 400 naming the field
    (the internal name, e.g. `stop` for Anthropic's `stop_sequences`), never echoing input."""
    try:
        return ChatRequest.model_validate(fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        param = ".".join(str(part) for part in first["loc"]) or None
        message = f"{param}: {first['msg']}" if param else first["msg"]
        raise InvalidRequest(message, param=param) from None
