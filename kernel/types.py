"""Domain types shared by every package: the OpenAI-shaped request, response and stream chunk.

They mirror OpenAI's Chat Completions wire format closely enough that the official SDK works
unchanged, and are strict about what they accept: an unknown request argument is an error
(as it is at OpenAI), so nothing a client sends reaches a backend without being modelled here.
"""

from __future__ import annotations

import time
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Role = Literal["system", "developer", "user", "assistant", "tool"]
Tier = Literal["local", "cloud"]


class Message(BaseModel):
    """One chat message. `content` is a string or a list of OpenAI content parts."""

    model_config = ConfigDict(extra="forbid")

    role: Role
    content: str | list[dict[str, Any]] | None = None
    name: str | None = None
    tool_calls: list[dict[str, Any]] | None = None
    tool_call_id: str | None = None

    def text(self) -> str:
        """The message's text: the string content, or its text parts joined by newlines."""
        if self.content is None:
            return ""
        if isinstance(self.content, str):
            return self.content
        return "\n".join(
            str(part.get("text", "")) for part in self.content if part.get("type") == "text"
        )

    def has_non_text_parts(self) -> bool:
        """True when the message carries images, audio or files (only the cloud can read them)."""
        return isinstance(self.content, list) and any(
            part.get("type") != "text" for part in self.content
        )


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    include_usage: bool = False


class ChatRequest(BaseModel):
    """A Chat Completions request as the gateway accepts it."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(min_length=1)
    messages: list[Message] = Field(min_length=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, gt=0, le=1)
    stop: str | list[str] | None = None
    n: int | None = None
    user: str | None = None
    seed: int | None = None
    presence_penalty: float | None = Field(default=None, ge=-2, le=2)
    frequency_penalty: float | None = Field(default=None, ge=-2, le=2)
    response_format: dict[str, Any] | None = None
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] | None = None
    parallel_tool_calls: bool | None = None

    @field_validator("n")
    @classmethod
    def _only_one_choice(cls, value: int | None) -> int | None:
        if value is not None and value != 1:
            raise ValueError("only n=1 is supported")
        return value

    @field_validator("stop")
    @classmethod
    def _at_most_four_stops(cls, value: str | list[str] | None) -> str | list[str] | None:
        if isinstance(value, list) and len(value) > 4:
            raise ValueError("at most 4 stop sequences are allowed")
        return value

    def completion_limit(self) -> int | None:
        """The cap on generated tokens: `max_completion_tokens`, else the legacy `max_tokens`."""
        return self.max_completion_tokens or self.max_tokens

    def stop_list(self) -> list[str]:
        if self.stop is None:
            return []
        return [self.stop] if isinstance(self.stop, str) else list(self.stop)

    def wants_usage_chunk(self) -> bool:
        return bool(self.stream_options and self.stream_options.include_usage)

    def sampling_params(self) -> dict[str, Any]:
        """The generation parameters the client set, in OpenAI's names (unset ones omitted)."""
        params: dict[str, Any] = {}
        limit = self.completion_limit()
        if limit is not None:
            params["max_tokens"] = limit
        for field in ("temperature", "top_p", "seed", "presence_penalty", "frequency_penalty"):
            value = getattr(self, field)
            if value is not None:
                params[field] = value
        if self.stop is not None:
            params["stop"] = self.stop_list()
        return params


class Usage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0

    @field_validator("prompt_tokens", "completion_tokens", "total_tokens", mode="before")
    @classmethod
    def _null_is_zero(cls, value: Any) -> Any:
        return 0 if value is None else value

    @classmethod
    def of(cls, prompt_tokens: int, completion_tokens: int) -> Usage:
        return cls(
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            total_tokens=prompt_tokens + completion_tokens,
        )


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str | None = None
    tool_calls: list[dict[str, Any]] | None = None


class Choice(BaseModel):
    index: int = 0
    message: AssistantMessage
    finish_reason: str | None = "stop"


class ChatResponse(BaseModel):
    """A non-streamed completion in OpenAI's shape."""

    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int = Field(default_factory=lambda: int(time.time()))
    model: str
    choices: list[Choice]
    usage: Usage = Field(default_factory=Usage)


class Delta(BaseModel):
    """A streamed choice's increment. Liberal on input: upstreams send `role: null`, extra
    fields (`refusal`, `reasoning_content`, …) and null tool-call lists; all are accepted."""

    role: Literal["assistant"] | None = None
    content: str | None = None
    tool_calls: list[dict[str, Any]] | None = None

    @field_validator("role", mode="before")
    @classmethod
    def _any_role_is_assistant(cls, value: Any) -> Any:
        return None if value is None else "assistant"


class ChunkChoice(BaseModel):
    index: int = 0
    delta: Delta = Field(default_factory=Delta)
    finish_reason: str | None = None

    @field_validator("delta", mode="before")
    @classmethod
    def _null_delta(cls, value: Any) -> Any:
        return {} if value is None else value


class ChatChunk(BaseModel):
    """One streamed event in OpenAI's `chat.completion.chunk` shape.

    Real OpenAI-compatible servers omit `id`, `model`, `object` or `created`, send
    `choices: null` or `[]` on usage-only events, and add fields of their own: all accepted
    (missing strings become ""; the backend that parsed the chunk fills them in).
    """

    id: str = ""
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int = Field(default_factory=lambda: int(time.time()))
    model: str = ""
    choices: list[ChunkChoice] = Field(default_factory=list)
    usage: Usage | None = None

    @field_validator("object", mode="before")
    @classmethod
    def _any_object_name(cls, value: Any) -> Any:
        return "chat.completion.chunk"

    @field_validator("id", "model", mode="before")
    @classmethod
    def _null_is_empty(cls, value: Any) -> Any:
        return "" if value is None else str(value)

    @field_validator("created", mode="before")
    @classmethod
    def _created_as_int(cls, value: Any) -> Any:
        if isinstance(value, float):
            return int(value)
        return int(time.time()) if value is None else value

    @field_validator("choices", mode="before")
    @classmethod
    def _null_choices(cls, value: Any) -> Any:
        return [] if value is None else value
