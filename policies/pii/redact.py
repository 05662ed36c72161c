"""Redaction of a request: apply each finding's operator, return the new request and its vault.

    findings = scanner.scan_request(req, include_model=True)
    redacted, vault = redact_request(req, findings, {"EMAIL_ADDRESS": "placeholder", ...})
    answer = vault.restore_response(await backend.complete(redacted, model=...))

`block` is checked first, over the whole request, so nothing is half-redacted when a request is
refused. Tool-call arguments are JSON: the value behind a span is JSON-decoded before it goes
into the vault, and replacements are JSON-escaped, so the arguments stay valid JSON (a span that
crosses JSON syntax is handled by replacing decoded string values instead).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from typing import Any

from kernel.errors import PolicyBlocked
from kernel.types import ChatRequest, Message
from policies.pii.findings import Finding, RequestFindings
from policies.pii.operators import REGISTRY, Operator, OperatorTable, resolve_operators
from policies.pii.segments import iter_segments, tool_arguments, tool_description
from policies.pii.vault import PLACEHOLDER_RE, Vault, json_escape

log = logging.getLogger(__name__)

_SegKey = tuple[int, str, int]  # message index, kind, index
_NOT_NAME_CHARS = re.compile(r"[^A-Za-z0-9_-]")


def blocked_types(findings: RequestFindings, operators: Mapping[str, str]) -> list[str]:
    """The entity types in `findings` whose operator is `block` (sorted)."""
    table = _table(operators)
    return sorted(t for t in findings.types if REGISTRY[table[t]].refuses)


def redact_request(
    req: ChatRequest,
    findings: RequestFindings,
    operators: Mapping[str, str],
    *,
    vault: Vault | None = None,
) -> tuple[ChatRequest, Vault]:
    """A redacted copy of `req` and the vault that restores its placeholders.

    `operators` maps entity types (or `SECRET`, `DEFAULT`) to operator names; see
    `policies.pii.operators`. Raises PolicyBlocked (naming types only) when a found type's
    operator is `block`, and ValueError when `findings` do not fit `req`'s texts.
    """
    table = _table(operators)
    if blocked := blocked_types(findings, table):
        raise PolicyBlocked(f"request blocked by PII policy: it contains {', '.join(blocked)}")
    segments = {(s.message_index, s.kind, s.index): s.text for s in iter_segments(req)}
    if vault is None:
        taken = {m[0] for text in segments.values() for m in PLACEHOLDER_RE.finditer(text)}
        vault = Vault(taken=taken)
    new_texts: dict[_SegKey, str] = {}
    for seg in findings.segments:  # in request order, so numbering follows the text
        key = (seg.message_index, seg.kind, seg.index)
        text = segments.get(key)
        if text is None or any(f.end > len(text) for f in seg.findings):
            raise ValueError(f"findings do not match the request at {key}")
        if seg.kind == "tool_args" and not _spans_keep_json(text, seg.findings):
            new = _redact_json_leaves(text, seg.findings, table, vault)
        else:
            new = _redact_text(text, seg.findings, table, vault, is_json=seg.kind == "tool_args")
        new_texts[key] = _name_safe(new) if seg.kind == "name" else new
    if not new_texts:
        return req, vault
    update: dict[str, Any] = {
        "messages": [_rebuild(i, m, new_texts) for i, m in enumerate(req.messages)]
    }
    if (-1, "user", 0) in new_texts:
        update["user"] = new_texts[(-1, "user", 0)]
    if req.tools and any(k[1] == "tool_description" for k in new_texts):
        update["tools"] = [_rebuild_tool(j, t, new_texts) for j, t in enumerate(req.tools)]
    log.debug("pii redacted: %s", vault.counts)  # counts only, never values
    return req.model_copy(update=update), vault


def _table(operators: Mapping[str, str]) -> OperatorTable:
    return operators if isinstance(operators, OperatorTable) else resolve_operators(operators)


def _replacement(op: Operator, entity_type: str, value: str, vault: Vault) -> str | None:
    return REGISTRY[op].replace(entity_type, value, vault)  # block was refused before


def _decode_json_fragment(raw: str) -> str:
    """The string a JSON string-literal fragment stands for (`raw` itself if not decodable)."""
    if "\\" not in raw:
        return raw
    try:
        decoded = json.loads(f'"{raw}"')
    except ValueError:
        return raw
    return decoded if isinstance(decoded, str) else raw


def _redact_text(
    text: str,
    findings: tuple[Finding, ...],
    table: OperatorTable,
    vault: Vault,
    *,
    is_json: bool,
) -> str:
    parts: list[str] = []
    pos = 0
    for f in sorted(findings, key=lambda f: f.start):
        if f.start < pos:
            continue  # overlapping findings: the first one wins
        raw = text[f.start : f.end]
        value = _decode_json_fragment(raw) if is_json else raw
        repl = _replacement(table[f.entity_type], f.entity_type, value, vault)
        if repl is None:
            continue
        parts.append(text[pos : f.start])
        parts.append(json_escape(repl) if is_json else repl)
        pos = f.end
    parts.append(text[pos:])
    return "".join(parts)


def _spans_keep_json(text: str, findings: tuple[Finding, ...]) -> bool:
    """True when replacing each span by a plain token keeps `text` valid JSON (or it never was
    JSON, e.g. a truncated stream): the usual case, where every span lies inside a string."""
    try:
        json.loads(text)
    except ValueError:
        return True
    probe = _redact_spans(text, findings, "x")
    try:
        json.loads(probe)
    except ValueError:
        return False
    return True


def _redact_spans(text: str, findings: tuple[Finding, ...], token: str) -> str:
    parts, pos = [], 0
    for f in sorted(findings, key=lambda f: f.start):
        if f.start >= pos:
            parts += [text[pos : f.start], token]
            pos = f.end
    parts.append(text[pos:])
    return "".join(parts)


def _redact_json_leaves(
    text: str, findings: tuple[Finding, ...], table: OperatorTable, vault: Vault
) -> str:
    """A span crossed JSON syntax (e.g. swallowed a quote): redact the decoded string leaves
    by value instead, and re-serialise."""
    pairs: list[tuple[str, str]] = []
    for f in findings:
        value = _decode_json_fragment(text[f.start : f.end].strip('"'))
        repl = _replacement(table[f.entity_type], f.entity_type, value, vault)
        if value and repl is not None:
            pairs.append((value, repl))
    pairs.sort(key=lambda p: -len(p[0]))
    return json.dumps(_replace_leaves(json.loads(text), pairs), ensure_ascii=False)


def _replace_leaves(data: Any, pairs: list[tuple[str, str]]) -> Any:
    if isinstance(data, str):
        for value, repl in pairs:
            data = data.replace(value, repl)
        return data
    if isinstance(data, list):
        return [_replace_leaves(x, pairs) for x in data]
    if isinstance(data, dict):
        return {k: _replace_leaves(v, pairs) for k, v in data.items()}
    return data


def _rebuild_tool(j: int, tool: dict[str, Any], new_texts: Mapping[_SegKey, str]) -> dict[str, Any]:
    new = new_texts.get((-1, "tool_description", j))
    if new is None or tool_description(tool) is None:
        return tool
    return {**tool, "function": {**tool["function"], "description": new}}


def _name_safe(name: str) -> str:
    """A redacted `name` field kept to OpenAI's `^[A-Za-z0-9_-]{1,64}$` (`<PERSON_1>` ->
    `PERSON_1`); names never come back in answers, so nothing needs restoring."""
    return _NOT_NAME_CHARS.sub("", name.replace("#", "_"))[:64] or "redacted"


def _rebuild(i: int, msg: Message, new_texts: Mapping[_SegKey, str]) -> Message:
    update: dict[str, Any] = {}
    if (i, "name", 0) in new_texts:
        update["name"] = new_texts[(i, "name", 0)]
    if (i, "content", 0) in new_texts:
        update["content"] = new_texts[(i, "content", 0)]
    elif isinstance(msg.content, list) and any(k[0] == i and k[1] == "part" for k in new_texts):
        update["content"] = [
            {**part, "text": new_texts[(i, "part", j)]} if (i, "part", j) in new_texts else part
            for j, part in enumerate(msg.content)
        ]
    if msg.tool_calls and any(k[0] == i and k[1] == "tool_args" for k in new_texts):
        calls = []
        for j, call in enumerate(msg.tool_calls):
            if (i, "tool_args", j) in new_texts and tool_arguments(call) is not None:
                call = {
                    **call,
                    "function": {**call["function"], "arguments": new_texts[(i, "tool_args", j)]},
                }
            calls.append(call)
        update["tool_calls"] = calls
    return msg.model_copy(update=update) if update else msg
