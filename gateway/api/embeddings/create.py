"""POST /v1/embeddings — OpenAI's embeddings API (errors in OpenAI's format).

`input` is a string or a list of strings (token arrays are refused: send text, so it can be
classified and scanned); `encoding_format` float or base64 (little-endian float32, what the openai
SDK asks for by default); `dimensions` only where the model can shorten its vectors.
"""

from __future__ import annotations

import base64
from typing import Any, Literal

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from gateway.api.body import parse_model, read_body
from gateway.api.deps import ServicesDep
from gateway.api.edge import new_request_id
from gateway.auth import authenticate
from gateway.pipeline.embedding import Embeddings
from kernel.errors import InvalidRequest

router = APIRouter()

MAX_INPUTS = 2048


class EmbeddingsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str = Field(min_length=1)
    input: str | list[str] | list[int] | list[list[int]]
    encoding_format: Literal["float", "base64"] = "float"
    dimensions: int | None = Field(default=None, ge=1)
    user: str | None = None

    def texts(self, max_chars: int) -> list[str]:
        items: list[Any] = [self.input] if isinstance(self.input, str) else list(self.input)
        if not items:
            raise InvalidRequest("input must not be empty.", param="input")
        if len(items) > MAX_INPUTS:
            raise InvalidRequest(f"input holds more than {MAX_INPUTS} items.", param="input")
        if not all(isinstance(item, str) for item in items):
            raise InvalidRequest(
                "Token arrays are not supported: send the text (it is classified and scanned "
                "for personal data before any routing).",
                param="input",
            )
        for index, text in enumerate(items):
            if not text:
                raise InvalidRequest("input strings must not be empty.", param=f"input.{index}")
            if len(text) > max_chars:
                raise InvalidRequest(
                    f"input {index} exceeds {max_chars} characters.", param=f"input.{index}"
                )
        return items


@router.post("/v1/embeddings")
async def create_embeddings(request: Request, services: ServicesDep) -> Response:
    request_id = new_request_id(request)
    policy = services.policies.current
    caller = authenticate(policy.document, request.headers.get("authorization"))
    raw = await read_body(request, services.settings.max_body_bytes)
    wire = parse_model(EmbeddingsRequest, raw)
    texts = wire.texts(services.settings.max_prompt_chars)
    embeddings = Embeddings(
        services.pipeline, services.ledger, services.metrics, services.state, services.settings
    )
    result = await embeddings.embed(request_id, caller, policy, wire.model, texts, wire.dimensions)
    vectors = result.embedded.vectors
    data: list[dict[str, Any]] = [
        {
            "object": "embedding",
            "index": index,
            "embedding": base64.b64encode(row.astype("<f4").tobytes()).decode()
            if wire.encoding_format == "base64"
            else row.tolist(),
        }
        for index, row in enumerate(vectors)
    ]
    tokens = result.embedded.tokens
    body = {
        "object": "list",
        "data": data,
        "model": result.route.alias,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }
    headers = {
        "x-request-id": request_id,
        "x-route-rule": result.route.rule,
        "x-route-policy": policy.version,
        "x-route-tier": result.route.spec.tier,
        "x-route-model": result.route.alias,
    }
    return Response(orjson.dumps(body), media_type="application/json", headers=headers)
