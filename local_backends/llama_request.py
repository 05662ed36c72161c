"""What one Chat Completions request asks of llama.cpp: a pure translation, no model needed.

`plan_local_call` returns the prompt messages, sampling arguments, the grammar (structured
output, tool calls) and the schema the answer must validate against. What the local tier cannot
do raises `UnsupportedByModel` (the next candidate may; else a 400 naming it); `LOCAL_IGNORED`
lists the parameters it accepts without honouring (reported in `x-hybridgw-ignored-params`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from kernel.errors import InvalidRequest, UnsupportedByModel
from kernel.types import ChatRequest, Message
from local_backends.grammar import (
    ANY_OBJECT,
    SchemaNotEnforceable,
    ToolSpec,
    gbnf_for_schema,
    tool_envelope,
    tools_prompt,
)

LOCAL_IGNORED = frozenset(
    {
        "user",
        "metadata",
        "store",
        "service_tier",
        "reasoning_effort",
        "verbosity",
        "audio",
        "prediction",
        "web_search_options",
        "prompt_cache_key",
        "prompt_cache_retention",
        "prompt_cache_options",
        "safety_identifier",
        "moderation",
    }
)
"""Accepted, passed nowhere: these only mean something to a hosted provider."""

ToolMode = Literal["tools", "functions"]


@dataclass(frozen=True, slots=True)
class LocalCall:
    """Everything `Llama.create_chat_completion` gets, plus how to read its answer."""

    messages: list[dict[str, str]]
    sampling: Mapping[str, Any]
    grammar: str | None = None
    schema: Mapping[str, Any] | None = None
    tool_mode: ToolMode | None = None


def ignored_params(req: ChatRequest) -> frozenset[str]:
    given = req.given()
    ignored = set(given & LOCAL_IGNORED)
    if req.modalities and "audio" in req.modalities:
        ignored.add("modalities")
    if req.stream_options is not None and req.stream_options.include_obfuscation is not None:
        ignored.add("stream_options.include_obfuscation")
    if not wants_logprobs(req):
        ignored |= given & {"logprobs", "top_logprobs"}
    return frozenset(ignored)


def wants_logprobs(req: ChatRequest) -> bool:
    """Token log-probabilities are recorded for text answers, streamed or not (not tool calls:
    those are decoded whole)."""
    return bool(req.logprobs) and not _tools(req)[0]


def plan_local_call(req: ChatRequest, defaults: Mapping[str, Any]) -> LocalCall:
    """The llama.cpp call for `req`; `defaults` are the backend's sampling defaults."""
    sampling = {**defaults, **_client_sampling(req)}
    tools, may_answer, mode = _tools(req)
    if tools:
        envelope = tool_envelope(tools, may_answer=may_answer)
        grammar = _grammar(envelope, "tools")
        system = tools_prompt(tools, may_answer=may_answer)
        return LocalCall(_messages(req, system), sampling, grammar, envelope, mode)
    schema = _response_schema(req)
    if schema is None:
        return LocalCall(_messages(req, None), sampling)
    return LocalCall(_messages(req, None), sampling, _grammar(schema, "response_format"), schema)


def _client_sampling(req: ChatRequest) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in ("temperature", "top_p", "seed", "presence_penalty", "frequency_penalty"):
        value = getattr(req, name)
        if value is not None:
            out[name] = value
    if req.stop is not None:
        out["stop"] = req.stop_list()
    if req.logit_bias:
        out["logit_bias"] = {int(token): bias for token, bias in req.logit_bias.items()}
    return out


def _response_schema(req: ChatRequest) -> Mapping[str, Any] | None:
    fmt = req.response_format
    if fmt is None or fmt["type"] == "text":
        return None
    if fmt["type"] == "json_object":
        return ANY_OBJECT
    schema: Mapping[str, Any] = fmt["json_schema"].get("schema") or ANY_OBJECT
    return schema


def _grammar(schema: Mapping[str, Any], param: str) -> str:
    try:
        return gbnf_for_schema(schema)
    except SchemaNotEnforceable as exc:
        raise UnsupportedByModel(
            f"The local model cannot enforce this JSON schema ({exc}).", param=param
        ) from None


def _tools(req: ChatRequest) -> tuple[list[ToolSpec], bool, ToolMode]:
    """(tools the model may call, may it answer in text instead?, wire style)."""
    if req.functions is not None:
        legacy = [_spec(f, "functions") for f in req.functions]
        return (*_choose(legacy, req.function_call, "function_call"), "functions")
    if not req.tools:
        return [], True, "tools"
    specs: list[ToolSpec] = []
    for tool in req.tools:
        if tool.get("type") != "function":
            raise UnsupportedByModel(
                f"The local model supports only function tools, not '{tool.get('type')}'.",
                param="tools",
            )
        specs.append(_spec(tool["function"], "tools"))
    return (*_choose(specs, req.tool_choice, "tool_choice"), "tools")


def _spec(function: Mapping[str, Any], param: str) -> ToolSpec:
    parameters = function.get("parameters") or {"type": "object", "properties": {}}
    if not isinstance(parameters, dict):
        raise InvalidRequest("A function's parameters must be a JSON Schema object.", param=param)
    return ToolSpec(str(function["name"]), str(function.get("description") or ""), parameters)


def _choose(
    specs: list[ToolSpec], choice: str | Mapping[str, Any] | None, param: str
) -> tuple[list[ToolSpec], bool]:
    """Apply tool_choice (or the legacy function_call): none, auto, required, named, allowed."""
    if choice is None or choice == "auto":
        return specs, True
    if choice == "none":
        return [], True
    if choice == "required":
        return specs, False
    if isinstance(choice, str):
        raise InvalidRequest(
            f"{param} must be 'none', 'auto', 'required' or an object.", param=param
        )
    if choice.get("type") == "allowed_tools":
        allowed = choice.get("allowed_tools") or {}
        names = {t.get("function", {}).get("name") for t in allowed.get("tools", [])}
        picked = [s for s in specs if s.name in names]
        if allowed.get("mode") == "required":
            return _named(picked, param), False
        return picked, True
    name = (choice.get("function") or {}).get("name") or choice.get("name")
    return _named([s for s in specs if s.name == name], param), False


def _named(picked: list[ToolSpec], param: str) -> list[ToolSpec]:
    if not picked:
        raise InvalidRequest(f"{param} names a function that is not in the request.", param=param)
    return picked


def _messages(req: ChatRequest, tool_system: str | None) -> list[dict[str, str]]:
    """Plain role/text messages for the chat template (developer → system, tool → user)."""
    out = [_plain(m) for m in req.messages]
    if tool_system is not None:
        if out and out[0]["role"] == "system":
            out[0] = {"role": "system", "content": out[0]["content"] + "\n\n" + tool_system}
        else:
            out.insert(0, {"role": "system", "content": tool_system})
    return out


def _plain(message: Message) -> dict[str, str]:
    if message.role == "developer":
        return {"role": "system", "content": message.text()}
    if message.role in ("tool", "function"):
        source = message.name or message.tool_call_id or "the function"
        return {"role": "user", "content": f"Result of {source}: {message.text()}"}
    calls = [c.get("function") or {} for c in message.tool_calls or []]
    if message.function_call:
        calls.append(message.function_call)
    if message.role == "assistant" and calls:
        text = "\n".join(
            json.dumps({"name": c.get("name"), "arguments": _arguments(c.get("arguments"))})
            for c in calls
        )
        return {"role": "assistant", "content": text}
    return {"role": message.role, "content": message.text()}


def _arguments(raw: Any) -> Any:
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    return raw
