"""OpenAI Responses ↔ the internal (Chat Completions-shaped) request and response.

`input` items: messages (input_text / output_text / input_image parts), function_call items
(→ the assistant's tool_calls, consecutive calls merged) and function_call_output items (→ tool
messages). Only function tools are served; every other item, part or tool type is a 400.
"""

from __future__ import annotations

import time
from typing import Any

from gateway.api.internal import chat_request
from gateway.api.responses.wire import ResponsesRequest
from kernel.errors import InvalidRequest
from kernel.types import ChatRequest, ChatResponse, Message, StreamOptions, Usage

_ROLES = ("user", "assistant", "system", "developer")


def to_chat_request(req: ResponsesRequest) -> ChatRequest:
    messages: list[Message] = []
    if req.instructions:
        messages.append(Message(role="system", content=req.instructions))
    if isinstance(req.input, str):
        messages.append(Message(role="user", content=req.input))
    else:
        for index, item in enumerate(req.input):
            _add_item(messages, item, f"input.{index}")
    if not messages:
        raise InvalidRequest("input must contain at least one message.", param="input")
    fields: dict[str, Any] = {
        "model": req.model,
        "messages": messages,
        "max_tokens": req.max_output_tokens,
        "temperature": req.temperature,
        "top_p": req.top_p,
        "parallel_tool_calls": req.parallel_tool_calls,
        "user": req.user or req.safety_identifier,
        "stream": req.stream,
        "stream_options": StreamOptions(include_usage=True) if req.stream else None,
    }
    if req.tools:
        fields["tools"] = [_tool(tool, f"tools.{i}") for i, tool in enumerate(req.tools)]
    if req.tool_choice is not None:
        fields["tool_choice"] = _tool_choice(req.tool_choice)
    if req.text is not None:
        fields["response_format"] = _response_format(req.text)
    return chat_request(fields)


def _add_item(messages: list[Message], item: dict[str, Any], at: str) -> None:
    kind = item.get("type", "message")
    if kind == "message":
        role = item.get("role")
        if role not in _ROLES:
            raise InvalidRequest(f"Unknown message role '{role}'.", param=f"{at}.role")
        messages.append(Message(role=role, content=_content(item.get("content"), f"{at}.content")))
    elif kind == "function_call":
        if not item.get("call_id") or not item.get("name"):
            raise InvalidRequest("A function_call item needs call_id and name.", param=at)
        call = {
            "id": str(item["call_id"]),
            "type": "function",
            "function": {"name": str(item["name"]), "arguments": str(item.get("arguments", ""))},
        }
        last = messages[-1] if messages else None
        if last is not None and last.role == "assistant":
            calls = [*(last.tool_calls or []), call]
            messages[-1] = last.model_copy(update={"tool_calls": calls})
        else:
            messages.append(Message(role="assistant", tool_calls=[call]))
    elif kind == "function_call_output":
        if not item.get("call_id"):
            raise InvalidRequest("A function_call_output item needs a call_id.", param=at)
        output = item.get("output", "")
        text = output if isinstance(output, str) else _text_only(output, f"{at}.output")
        messages.append(Message(role="tool", tool_call_id=str(item["call_id"]), content=text))
    else:
        raise InvalidRequest(f"Input item type '{kind}' is not supported.", param=f"{at}.type")


def _content(content: object, at: str) -> str | list[dict[str, Any]]:
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise InvalidRequest("content must be a string or a list of parts.", param=at)
    parts: list[dict[str, Any]] = []
    for index, part in enumerate(content):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind in ("input_text", "output_text"):
            parts.append({"type": "text", "text": str(part.get("text", ""))})
        elif kind == "input_image" and part.get("image_url"):
            image = {"url": str(part["image_url"])}
            if part.get("detail"):
                image["detail"] = str(part["detail"])
            parts.append({"type": "image_url", "image_url": image})
        else:
            raise InvalidRequest(
                f"Content part type '{kind}' is not supported (file ids and files are not).",
                param=f"{at}.{index}",
            )
    return parts


def _text_only(parts: object, at: str) -> str:
    if not isinstance(parts, list) or any(
        not isinstance(p, dict) or p.get("type") not in ("input_text", "output_text") for p in parts
    ):
        raise InvalidRequest("Only text output is supported here.", param=at)
    return "\n".join(str(p.get("text", "")) for p in parts)


def _tool(tool: dict[str, Any], at: str) -> dict[str, Any]:
    if tool.get("type") != "function" or not tool.get("name"):
        raise InvalidRequest(
            f"Tool type '{tool.get('type')}' is not supported: only function tools are.",
            param=f"{at}.type",
        )
    function = {"name": tool["name"], "parameters": tool.get("parameters") or {"type": "object"}}
    if tool.get("description"):
        function["description"] = tool["description"]
    if tool.get("strict") is not None:
        function["strict"] = tool["strict"]
    return {"type": "function", "function": function}


def _tool_choice(choice: str | dict[str, Any]) -> str | dict[str, Any]:
    if isinstance(choice, str):
        if choice not in ("auto", "none", "required"):
            raise InvalidRequest(f"Unknown tool_choice '{choice}'.", param="tool_choice")
        return choice
    if choice.get("type") == "function" and choice.get("name"):
        return {"type": "function", "function": {"name": choice["name"]}}
    raise InvalidRequest("tool_choice must name a function tool.", param="tool_choice")


def _response_format(text: dict[str, Any]) -> dict[str, Any] | None:
    unknown = set(text) - {"format"}
    if unknown:
        raise InvalidRequest(f"text.{sorted(unknown)[0]} is not supported.", param="text")
    fmt = text.get("format") or {"type": "text"}
    if fmt.get("type") in ("text", "json_object"):
        return {"type": fmt["type"]}
    if fmt.get("type") == "json_schema":
        schema = {k: fmt[k] for k in ("name", "schema", "strict", "description") if k in fmt}
        return {"type": "json_schema", "json_schema": schema}
    raise InvalidRequest(f"Unknown text.format type '{fmt.get('type')}'.", param="text.format")


def usage_object(usage: Usage) -> dict[str, Any]:
    return {
        "input_tokens": usage.prompt_tokens,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": usage.completion_tokens,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": usage.total_tokens,
    }


def response_object(
    req: ResponsesRequest,
    response_id: str,
    model: str,
    *,
    output: list[dict[str, Any]],
    status: str,
    usage: Usage | None = None,
    incomplete: str | None = None,
    created_at: int | None = None,
) -> dict[str, Any]:
    """The `response` object, echoing the request's settings as OpenAI does."""
    return {
        "id": response_id,
        "object": "response",
        "created_at": created_at or int(time.time()),
        "status": status,
        "model": model,
        "output": output,
        "error": None,
        "incomplete_details": {"reason": incomplete} if incomplete else None,
        "instructions": req.instructions,
        "max_output_tokens": req.max_output_tokens,
        "metadata": req.metadata or {},
        "parallel_tool_calls": req.parallel_tool_calls is not False,
        "previous_response_id": None,
        "store": False,
        "temperature": req.temperature,
        "top_p": req.top_p,
        "tool_choice": req.tool_choice or "auto",
        "tools": req.tools or [],
        "text": req.text or {"format": {"type": "text"}},
        "truncation": "disabled",
        "user": req.user,
        "usage": usage_object(usage) if usage is not None else None,
    }


def message_item(item_id: str, text: str, status: str = "completed") -> dict[str, Any]:
    return {
        "type": "message",
        "id": item_id,
        "status": status,
        "role": "assistant",
        "content": [{"type": "output_text", "text": text, "annotations": []}] if text else [],
    }


def call_item(item_id: str, call: dict[str, Any], status: str = "completed") -> dict[str, Any]:
    function = call.get("function") or {}
    return {
        "type": "function_call",
        "id": item_id,
        "call_id": call.get("id") or item_id,
        "name": function.get("name", ""),
        "arguments": function.get("arguments", ""),
        "status": status,
    }


def to_response(req: ResponsesRequest, response: ChatResponse, request_id: str) -> dict[str, Any]:
    choice = response.choices[0]
    output: list[dict[str, Any]] = []
    if choice.message.content:
        output.append(message_item(f"msg_{request_id}", choice.message.content))
    for index, call in enumerate(choice.message.tool_calls or []):
        output.append(call_item(f"fc_{request_id}_{index}", call))
    truncated = choice.finish_reason == "length"
    return response_object(
        req,
        f"resp_{request_id}",
        response.model,
        output=output,
        status="incomplete" if truncated else "completed",
        usage=response.usage,
        incomplete="max_output_tokens" if truncated else None,
        created_at=response.created,
    )
