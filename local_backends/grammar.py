"""JSON Schema → llama.cpp GBNF, and the JSON envelope local tool calls are generated in.

The grammar makes the model emit only text the schema's shape allows; what GBNF cannot express
(`minimum`, `pattern` on some keywords, `format`) is checked after generation with jsonschema.
llama-cpp-python's converter lets raw control characters into strings, which strict JSON
parsers refuse; the string rule is tightened here so every answer parses.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

_LOOSE_CHAR = 'char ::= [^"\\\\]'
_STRICT_CHAR = 'char ::= [^"\\\\\\x7F\\x00-\\x1F]'

ANY_OBJECT: Mapping[str, Any] = {"type": "object"}


class SchemaNotEnforceable(ValueError):
    """The schema uses something the local grammar converter cannot handle."""


def gbnf_for_schema(schema: Mapping[str, Any]) -> str:
    """GBNF accepting exactly the JSON texts of `schema`'s shape (strict JSON strings)."""
    import jsonschema  # imported on use: workers without structured local output never need it
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    try:
        jsonschema.Draft202012Validator.check_schema(dict(schema))
        text: str = json_schema_to_gbnf(json.dumps(schema))
    except Exception as exc:  # the converter raises bare Exceptions/KeyErrors on unknown forms
        raise SchemaNotEnforceable(f"{type(exc).__name__}: {exc}") from None
    return text.replace(_LOOSE_CHAR, _STRICT_CHAR)


def schema_errors(schema: Mapping[str, Any], value: Any) -> str | None:
    """The first validation error of `value` against `schema`, or None when it validates."""
    import jsonschema

    error = jsonschema.exceptions.best_match(
        jsonschema.Draft202012Validator(dict(schema)).iter_errors(value)
    )
    return None if error is None else error.message


@dataclass(frozen=True, slots=True)
class ToolSpec:
    name: str
    description: str
    parameters: Mapping[str, Any]


def tool_envelope(tools: Sequence[ToolSpec], *, may_answer: bool) -> dict[str, Any]:
    """The schema of one model turn: a call `{"name", "arguments"}`, or `{"answer"}` if allowed."""
    options: list[dict[str, Any]] = [
        {
            "type": "object",
            "properties": {"name": {"const": tool.name}, "arguments": dict(tool.parameters)},
            "required": ["name", "arguments"],
            "additionalProperties": False,
        }
        for tool in tools
    ]
    if may_answer:
        options.insert(
            0,
            {
                "type": "object",
                "properties": {"answer": {"type": "string"}},
                "required": ["answer"],
                "additionalProperties": False,
            },
        )
    return options[0] if len(options) == 1 else {"anyOf": options}


def tools_prompt(tools: Sequence[ToolSpec], *, may_answer: bool) -> str:
    """The system text that tells the model which functions exist and how to call one."""
    lines = ["You can call these functions:"]
    for tool in tools:
        lines.append(
            f"- {tool.name}: {tool.description} Parameters (JSON Schema): "
            + json.dumps(tool.parameters, separators=(",", ":"))
        )
    lines.append('To call a function, reply with JSON: {"name": <function>, "arguments": {...}}.')
    if may_answer:
        lines.append('To answer without a function, reply with JSON: {"answer": <text>}.')
    return "\n".join(lines)
