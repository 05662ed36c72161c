"""Reading llama.cpp's output back into OpenAI's shape: text, JSON checked against its schema,
or tool calls decoded from the JSON envelope the grammar made the model write."""

from __future__ import annotations

import json
import uuid
from typing import Any

from kernel.errors import BackendError
from kernel.types import AssistantMessage
from local_backends.grammar import schema_errors
from local_backends.llama_request import LocalCall


def read_answer(call: LocalCall, text: str, finish_reason: str) -> tuple[AssistantMessage, str]:
    """The assistant message and finish reason for `text` generated under `call`.

    A truncated answer (`length`, the client's own token cap) is returned as text, as OpenAI
    does; a complete one that breaks its schema is a `BackendError` (the next candidate may try).
    """
    if call.schema is None or finish_reason == "length":
        return AssistantMessage(content=text), finish_reason
    try:
        value = json.loads(text)
    except ValueError:
        raise BackendError("The local model's structured answer is not valid JSON.") from None
    problem = schema_errors(call.schema, value)
    if problem is not None:
        raise BackendError(f"The local model's answer does not match the schema: {problem}")
    if call.tool_mode is None:
        return AssistantMessage(content=text), finish_reason
    if "answer" in value:
        return AssistantMessage(content=str(value["answer"])), "stop"
    name = value["name"]
    arguments = json.dumps(value["arguments"], ensure_ascii=False)
    if call.tool_mode == "functions":
        return AssistantMessage(function_call={"name": name, "arguments": arguments}), (
            "function_call"
        )
    tool_call: dict[str, Any] = {
        "id": f"call_{uuid.uuid4().hex[:24]}",
        "type": "function",
        "function": {"name": name, "arguments": arguments},
    }
    return AssistantMessage(tool_calls=[tool_call]), "tool_calls"
