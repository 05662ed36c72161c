"""Domain types shared by every package: the OpenAI-shaped request, response and stream chunk.

They mirror OpenAI's Chat Completions wire format closely enough that the official SDK works
unchanged, and are strict about what they accept: an unknown request argument is an error
(as it is at OpenAI), so nothing a client sends reaches a backend without being modelled here.
"""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from kernel.jsonvalue import Int64, JsonObject

Role = Literal["system", "developer", "user", "assistant", "tool", "function"]
Tier = Literal["local", "cloud"]

_STRICT = ConfigDict(extra="forbid", strict=True)


def _named_tool(tool: dict[str, Any]) -> dict[str, Any]:
    kind = tool.get("type")
    if kind not in ("function", "custom"):
        raise ValueError("a tool's type must be 'function' or 'custom'")
    spec = tool.get(kind)
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
        raise ValueError(f"a tool needs a '{kind}' object with a 'name'")
    return tool


Tool = Annotated[JsonObject, AfterValidator(_named_tool)]


class Message(BaseModel):
    """One chat message. `content` is a string or a list of OpenAI content parts.

    Besides what the gateway reads, it accepts every field OpenAI's SDK replays from an earlier
    answer (`refusal`, `annotations`, `audio`, the legacy `function_call`), so multi-turn
    clients work unchanged; those fields are forwarded to backends that understand them.
    """

    model_config = _STRICT

    role: Role
    content: str | list[JsonObject] | None = None
    name: str | None = None
    tool_calls: list[JsonObject] | None = None
    tool_call_id: str | None = None
    function_call: JsonObject | None = None
    refusal: str | None = None
    annotations: list[JsonObject] | None = None
    audio: JsonObject | None = None

    def text(self) -> str:
        """The message's text: the string content, or its text parts joined by newlines."""
        if self.content is None:
            return ""
        if isinstance(self.content, str):
            return self.content
        return "\n".join(
            str(part.get("text", "")) for part in self.content if part.get("type") == "text"
        )

    def wire(self) -> dict[str, Any]:
        """The message as sent upstream: unset fields and the response-only `annotations` left
        out (an SDK replays them; providers do not take them back)."""
        return self.model_dump(exclude_none=True, exclude={"annotations"})

    def has_non_text_parts(self) -> bool:
        """True when the message carries images, audio or files (only the cloud can read them)."""
        return isinstance(self.content, list) and any(
            part.get("type") != "text" for part in self.content
        )


class StreamOptions(BaseModel):
    model_config = _STRICT

    include_usage: bool = False
    include_obfuscation: bool | None = None


class ChatRequest(BaseModel):
    """A Chat Completions request as the gateway accepts it: every documented parameter.

    Types are strict (`"stream": "yes"` is a 400 naming the field, never coerced), integers are
    bounded to 64 bits, and an unknown argument is an error, as it is at OpenAI.
    """

    model_config = _STRICT

    model: str = Field(min_length=1)
    messages: list[Message] = Field(min_length=1)
    stream: bool | None = False
    stream_options: StreamOptions | None = None
    max_tokens: Int64 | None = Field(default=None, ge=1)
    max_completion_tokens: Int64 | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    stop: str | list[str] | None = None
    n: Int64 | None = None
    user: str | None = None
    seed: Int64 | None = None
    presence_penalty: float | None = Field(default=None, ge=-2, le=2)
    frequency_penalty: float | None = Field(default=None, ge=-2, le=2)
    logit_bias: dict[str, Annotated[float, Field(ge=-100, le=100)]] | None = None
    logprobs: bool | None = None
    top_logprobs: Int64 | None = Field(default=None, ge=0, le=20)
    response_format: JsonObject | None = None
    tools: list[Tool] | None = None
    tool_choice: str | JsonObject | None = None
    parallel_tool_calls: bool | None = None
    functions: list[JsonObject] | None = None
    function_call: str | JsonObject | None = None
    metadata: dict[str, str] | None = None
    store: bool | None = None
    service_tier: str | None = None
    reasoning_effort: str | None = None
    verbosity: Literal["low", "medium", "high"] | None = None
    modalities: list[Literal["text", "audio"]] | None = None
    audio: JsonObject | None = None
    prediction: JsonObject | None = None
    web_search_options: JsonObject | None = None
    prompt_cache_key: str | None = None
    prompt_cache_retention: Literal["in_memory", "24h"] | None = None
    prompt_cache_options: JsonObject | None = None
    safety_identifier: str | None = None
    moderation: JsonObject | None = None

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

    @field_validator("response_format")
    @classmethod
    def _known_format(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is None:
            return None
        kind = value.get("type")
        if kind not in ("text", "json_object", "json_schema"):
            raise ValueError("type must be one of 'text', 'json_object', 'json_schema'")
        if kind == "json_schema":
            spec = value.get("json_schema")
            if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
                raise ValueError("json_schema needs an object with a 'name'")
            if "schema" in spec and not isinstance(spec["schema"], dict):
                raise ValueError("json_schema.schema must be an object")
        return value

    @field_validator("logit_bias")
    @classmethod
    def _token_ids(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        if value and not all(key.isdigit() for key in value):
            raise ValueError("keys must be token ids (integers as strings)")
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

    def given(self) -> frozenset[str]:
        """The parameters the client set to something other than null."""
        return frozenset(name for name in self.model_fields_set if getattr(self, name) is not None)

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

    def passthrough_params(self) -> dict[str, Any]:
        """Every other parameter the client set, as sent, for backends that speak OpenAI."""
        return {name: getattr(self, name) for name in sorted(self.given() & PASSTHROUGH_PARAMS)}


PASSTHROUGH_PARAMS = frozenset(
    name
    for name in ChatRequest.model_fields
    if name
    not in (
        "model",
        "messages",
        "stream",
        "stream_options",
        "max_tokens",
        "max_completion_tokens",
        "temperature",
        "top_p",
        "seed",
        "presence_penalty",
        "frequency_penalty",
        "stop",
        "n",
    )
)
"""Parameters a backend forwards as the client sent them (after the sampling ones)."""


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
    function_call: dict[str, Any] | None = None


class Choice(BaseModel):
    index: int = 0
    message: AssistantMessage
    finish_reason: str | None = "stop"
    logprobs: dict[str, Any] | None = None


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
    logprobs: dict[str, Any] | None = None

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
