"""Reading and validating a JSON request body with exact, client-facing errors."""

from __future__ import annotations

from typing import TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError

from kernel.errors import InvalidRequest, PayloadTooLarge, UnsupportedMediaType

ModelT = TypeVar("ModelT", bound=BaseModel)


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, refusing non-JSON content types and bodies over `limit` bytes."""
    content_type = request.headers.get("content-type", "")
    if content_type.split(";")[0].strip().lower() != "application/json":
        raise UnsupportedMediaType(
            f"Content-Type must be application/json, not '{content_type or 'missing'}'."
        )
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"Request body exceeds the limit of {limit} bytes.")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"Request body exceeds the limit of {limit} bytes.")
        chunks.append(chunk)
    return b"".join(chunks)


def parse_model(model: type[ModelT], raw: bytes) -> ModelT:
    """Validate `raw` JSON as `model`; errors name the offending field like OpenAI's do."""
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        if first["type"] in ("json_invalid", "json_type"):
            raise InvalidRequest(
                "The request body is not valid JSON: "
                + str(first.get("ctx", {}).get("error", first["msg"]))
            ) from None
        param = ".".join(str(part) for part in first["loc"] if not _union_tag(part)) or None
        message = first["msg"].removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            message = "Unrecognized request argument supplied"
        elif first["type"] == "missing":
            message = "Missing required parameter"
        raise InvalidRequest(f"{param}: {message}" if param else message, param=param) from None


_TYPE_TAGS = frozenset({"str", "int", "float", "bool", "dict", "list", "none"})


def _union_tag(part: str | int) -> bool:
    """Pydantic names the union member it tried (`str`, `list[...]`); clients need the field."""
    return isinstance(part, str) and (part in _TYPE_TAGS or "[" in part)
