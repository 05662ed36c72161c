"""Cloud embedding models through litellm's `aembedding` (same key and error rules as chat)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from cloud_backends.litellm_backend import import_litellm, map_litellm_error
from kernel.embeddings import Embedded
from kernel.errors import BackendError


class LiteLLMEmbedder:
    """One cloud embedding alias; litellm's retries are off, as for chat."""

    def __init__(
        self,
        model: str,
        *,
        api_base: str | None = None,
        api_key_env: str | None = None,
        timeout_s: float = 30.0,
    ) -> None:
        self._litellm = import_litellm()
        self._model = model
        self._api_base = api_base
        self._api_key_env = api_key_env
        self._timeout_s = timeout_s

    async def embed(self, texts: Sequence[str], *, dimensions: int | None = None) -> Embedded:
        kwargs = self._kwargs(texts, dimensions)
        try:
            async with asyncio.timeout(self._timeout_s):
                response = await self._litellm.aembedding(**kwargs)
        except Exception as exc:
            raise map_litellm_error(exc) from exc
        data = sorted(response.data, key=lambda item: _get(item, "index"))
        vectors = np.array([_get(item, "embedding") for item in data], dtype=np.float32)
        if vectors.shape[0] != len(texts):
            raise BackendError("The cloud embedding model returned the wrong number of vectors.")
        usage = getattr(response, "usage", None)
        tokens = int(getattr(usage, "prompt_tokens", 0) or 0)
        return Embedded(vectors, tokens)

    def _kwargs(self, texts: Sequence[str], dimensions: int | None) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "model": self._model,
            "input": list(texts),
            "timeout": self._timeout_s,
            "max_retries": 0,
            "num_retries": 0,
        }
        if dimensions is not None:
            kwargs["dimensions"] = dimensions
        if self._api_base:
            kwargs["api_base"] = self._api_base
        if self._api_key_env:
            key = os.environ.get(self._api_key_env)
            if not key:
                raise BackendError(
                    f"The cloud API key variable {self._api_key_env} is not set on the gateway."
                )
            kwargs["api_key"] = key
        elif self._api_base:
            kwargs["api_key"] = "unused"
        return kwargs


def _get(item: Any, key: str) -> Any:
    return item[key] if isinstance(item, dict) else getattr(item, key)
