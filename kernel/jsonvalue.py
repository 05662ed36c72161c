"""JSON values the gateway passes through untouched, bounded to what every encoder can write.

Integers beyond 64 bits are refused at validation (400): orjson, used on the upstream path,
cannot encode them, and a value accepted here must be sendable to every backend.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, Field

INT64_MIN = -(2**63)
UINT64_MAX = 2**64 - 1


def _within_64_bits(value: Any) -> Any:
    """Walk a JSON value; refuse any integer orjson could not encode."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, bool):
            continue
        if isinstance(item, int):
            if not INT64_MIN <= item <= UINT64_MAX:
                raise ValueError("integers must fit in 64 bits")
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return value


JsonObject = Annotated[dict[str, Any], AfterValidator(_within_64_bits)]
"""A JSON object passed through as is (tool definitions, schemas, content parts)."""

Int64 = Annotated[int, Field(ge=INT64_MIN, le=2**63 - 1)]
"""An integer parameter: a 400 beyond 64 bits, never a crash in an encoder."""
