"""Anthropic Messages ↔ the internal (OpenAI-shaped) request and response.

Requests: `system` → a system message; text blocks → text parts; images → `image_url` parts (so
the request needs the cloud); `tool_use` blocks → the assistant's `tool_calls`; `tool_result`
blocks → `tool` messages, placed before the rest of that user turn as OpenAI orders them.
Anything else (documents, thinking, server tools, …) is refused with a 400 naming it.
"""

from __future__ import annotations

import json
from typing import Any

from gateway.api.anthropic.wire import CountTokensRequest, MessagesRequest, ToolChoice, Turn
from gateway.api.internal import chat_request
from kernel.errors import InvalidRequest
from kernel.types import ChatRequest, ChatResponse, Message, StreamOptions

STOP_REASONS = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    "content_filter": "refusal",
}


def to_chat_request(req: MessagesRequest | CountTokensRequest) -> ChatRequest:
    """The internal request for `req` (streams always ask for usage: message_delta reports it)."""
    messages: list[Message] = []
    if req.system:
        messages.append(Message(role="system", content=_system_text(req.system)))
    for index, turn in enumerate(req.messages):
        messages += _turn(turn, f"messages.{index}.content")
    fields: dict[str, Any] = {"model": req.model, "messages": messages}
    if req.tools:
        fields["tools"] = [
            {
                "type": "function",
                "function": {
                    "name": tool.name,
                    **({"description": tool.description} if tool.description else {}),
                    "parameters": tool.input_schema,
                },
            }
            for tool in req.tools
        ]
    if req.tool_choice is not None:
        fields.update(_tool_choice(req.tool_choice))
    if isinstance(req, MessagesRequest):
        fields.update(
            max_tokens=req.max_tokens,
            temperature=req.temperature,
            top_p=req.top_p,
            stop=req.stop_sequences or None,
            user=req.metadata.user_id if req.metadata else None,
            stream=req.stream,
            stream_options=StreamOptions(include_usage=True) if req.stream else None,
        )
    return chat_request(fields)


def _system_text(system: str | list[dict[str, Any]]) -> str:
    if isinstance(system, str):
        return system
    for index, block in enumerate(system):
        if block.get("type") != "text":
            raise InvalidRequest("system blocks must be text blocks.", param=f"system.{index}")
    return "\n".join(str(block.get("text", "")) for block in system)


def _turn(turn: Turn, where: str) -> list[Message]:
    if isinstance(turn.content, str):
        return [Message(role=turn.role, content=turn.content)]
    parts: list[dict[str, Any]] = []
    tool_calls: list[dict[str, Any]] = []
    tool_results: list[Message] = []
    for index, block in enumerate(turn.content):
        kind, at = block.get("type"), f"{where}.{index}"
        if kind == "text":
            parts.append({"type": "text", "text": str(block.get("text", ""))})
        elif kind == "image" and turn.role == "user":
            parts.append({"type": "image_url", "image_url": {"url": _image_url(block, at)}})
        elif kind == "tool_use" and turn.role == "assistant":
            tool_calls.append(_tool_call(block, at))
        elif kind == "tool_result" and turn.role == "user":
            tool_results.append(_tool_result(block, at))
        else:
            raise InvalidRequest(
                f"Content block type '{kind}' is not supported in a {turn.role} turn.", param=at
            )
    out = list(tool_results)
    if turn.role == "assistant":
        text = "".join(part["text"] for part in parts) or None
        if text is not None or tool_calls:
            out.append(Message(role="assistant", content=text, tool_calls=tool_calls or None))
    elif parts:
        out.append(Message(role="user", content=parts))
    return out


def _image_url(block: dict[str, Any], at: str) -> str:
    source = block.get("source") or {}
    if source.get("type") == "base64" and source.get("media_type") and source.get("data"):
        return f"data:{source['media_type']};base64,{source['data']}"
    if source.get("type") == "url" and source.get("url"):
        return str(source["url"])
    raise InvalidRequest("An image needs a base64 or url source.", param=f"{at}.source")


def _tool_call(block: dict[str, Any], at: str) -> dict[str, Any]:
    if not block.get("id") or not block.get("name"):
        raise InvalidRequest("A tool_use block needs an id and a name.", param=at)
    arguments = json.dumps(block.get("input") or {}, ensure_ascii=False)
    return {
        "id": str(block["id"]),
        "type": "function",
        "function": {"name": str(block["name"]), "arguments": arguments},
    }


def _tool_result(block: dict[str, Any], at: str) -> Message:
    if not block.get("tool_use_id"):
        raise InvalidRequest("A tool_result block needs a tool_use_id.", param=at)
    content = block.get("content")
    if isinstance(content, list):
        if any(part.get("type") != "text" for part in content):
            raise InvalidRequest("tool_result content must be text blocks.", param=f"{at}.content")
        content = "\n".join(str(part.get("text", "")) for part in content)
    text = str(content or "")
    if block.get("is_error"):
        text = f"Error: {text}"
    return Message(role="tool", tool_call_id=str(block["tool_use_id"]), content=text)


def _tool_choice(choice: ToolChoice) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if choice.type == "tool":
        if not choice.name:
            raise InvalidRequest("tool_choice of type 'tool' needs a name.", param="tool_choice")
        fields["tool_choice"] = {"type": "function", "function": {"name": choice.name}}
    else:
        fields["tool_choice"] = {"auto": "auto", "any": "required", "none": "none"}[choice.type]
    if choice.disable_parallel_tool_use:
        fields["parallel_tool_calls"] = False
    return fields


def to_message(response: ChatResponse, message_id: str) -> dict[str, Any]:
    """The Anthropic `message` object for an internal response."""
    choice = response.choices[0]
    content: list[dict[str, Any]] = []
    if choice.message.content:
        content.append({"type": "text", "text": choice.message.content})
    for call in choice.message.tool_calls or []:
        function = call.get("function") or {}
        content.append(
            {
                "type": "tool_use",
                "id": call.get("id") or f"toolu_{len(content)}",
                "name": function.get("name", ""),
                "input": tool_input(function.get("arguments")),
            }
        )
    return {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": response.model,
        "content": content,
        "stop_reason": STOP_REASONS.get(choice.finish_reason or "stop", "end_turn"),
        "stop_sequence": None,
        "usage": {
            "input_tokens": response.usage.prompt_tokens,
            "output_tokens": response.usage.completion_tokens,
        },
    }


def tool_input(arguments: object) -> dict[str, Any]:
    """A tool call's arguments as the JSON object Anthropic's `input` is (non-JSON → wrapped)."""
    if isinstance(arguments, dict):
        return arguments
    try:
        parsed = json.loads(str(arguments or "{}"))
    except json.JSONDecodeError:
        return {"arguments": str(arguments)}
    return parsed if isinstance(parsed, dict) else {"value": parsed}
