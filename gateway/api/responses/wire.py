"""OpenAI Responses request as the gateway accepts it (strict: unknown fields are a 400).

Stateless by design: `store` must be false and `previous_response_id` is refused, because a stored
conversation would be prompt text at rest (the ledger's rule: none).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class ResponsesRequest(BaseModel):
    """POST /v1/responses."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str = Field(min_length=1)
    input: str | list[dict[str, Any]]
    instructions: str | None = None
    max_output_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, gt=0, le=1)
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] | None = None
    parallel_tool_calls: bool | None = None
    metadata: dict[str, str] | None = None
    stream: bool = False
    store: bool = False
    previous_response_id: str | None = None
    text: dict[str, Any] | None = None
    truncation: Literal["disabled"] | None = None
    user: str | None = None
    safety_identifier: str | None = Field(default=None, description="Used as `user`.")
    prompt_cache_key: str | None = Field(default=None, description="Accepted and ignored.")
    include: list[str] | None = None
    reasoning: None = Field(default=None, description="Only null: no reasoning models here.")
    stream_options: dict[str, bool] | None = None

    @field_validator("include")
    @classmethod
    def _nothing_extra(cls, value: list[str] | None) -> list[str] | None:
        if value:
            raise ValueError(f"include values are not supported here: {', '.join(value)}")
        return value

    @field_validator("stream_options")
    @classmethod
    def _obfuscation_only(cls, value: dict[str, bool] | None) -> dict[str, bool] | None:
        if value and set(value) - {"include_obfuscation"}:
            raise ValueError("only stream_options.include_obfuscation is accepted (and ignored)")
        return value

    def ignored(self) -> list[str]:
        """Arguments accepted but without effect (reported in `x-gateway-ignored-params`)."""
        return [
            name
            for name in ("prompt_cache_key", "stream_options")
            if getattr(self, name) is not None
        ]

    @field_validator("store")
    @classmethod
    def _stateless(cls, value: bool) -> bool:
        if value:
            raise ValueError(
                "this gateway keeps no prompt or answer text at rest, so responses are never "
                "stored: send store=false (or omit it)"
            )
        return value

    @field_validator("previous_response_id")
    @classmethod
    def _no_history(cls, value: str | None) -> str | None:
        if value is not None:
            raise ValueError(
                "previous_response_id is not supported: responses are not stored (no text at "
                "rest); send the whole conversation in `input` instead"
            )
        return value
