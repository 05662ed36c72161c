"""Every place text travels in a request is scanned and redacted: all roles, content parts,
tool results, tool-call arguments (names included), `name` fields; context across boundaries."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kernel.types import ChatRequest
from policies.pii import PiiScanner, redact_request
from policies.pii.segments import iter_segments, json_values_view

OPS = {"DEFAULT": "placeholder"}


@pytest.fixture(scope="module")
def scanner() -> PiiScanner:
    s = PiiScanner()
    assert s.load(), "the shipped name tagger must load"
    return s


def _req(*messages: dict[str, Any]) -> ChatRequest:
    return ChatRequest.model_validate({"model": "m", "messages": list(messages)})


def _redacted(scanner: PiiScanner, req: ChatRequest) -> ChatRequest:
    out, _ = redact_request(req, scanner.scan_request(req, include_model=True), OPS)
    return out


def _call(args: dict[str, Any], *, ascii_only: bool = False) -> dict[str, Any]:
    return {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "c1",
                "type": "function",
                "function": {
                    "name": "send_email",
                    "arguments": json.dumps(args, ensure_ascii=ascii_only),
                },
            }
        ],
    }


@pytest.mark.parametrize("ascii_only", [False, True])
def test_names_in_tool_call_arguments_are_found_and_json_stays_valid(
    scanner: PiiScanner, ascii_only: bool
) -> None:
    args = {
        "to": "Margaret Thompson",
        "cc": ["Rajesh Kumar", "José García"],
        "body": "Hi Anna, the contract is attached.",
        "priority": 2,
    }
    req = _req({"role": "user", "content": "Send it."}, _call(args, ascii_only=ascii_only))
    sent = _redacted(scanner, req).messages[1].tool_calls
    assert sent is not None
    raw = sent[0]["function"]["arguments"]
    decoded = json.loads(raw)  # still valid JSON
    for name in ("Margaret", "Thompson", "Rajesh", "Kumar", "José", "García", "Garc"):
        assert name not in raw and name not in json.dumps(decoded, ensure_ascii=False)
    assert decoded["priority"] == 2 and decoded["to"].startswith("<PERSON_")


def test_model_view_of_json_maps_back_to_raw_offsets() -> None:
    raw = json.dumps({"to": "Zoë Ng", "n": 1, "k": ["a\nb"]}, ensure_ascii=True)
    view = json_values_view(raw)
    i = view.text.index("Zoë Ng")
    start, end = view.raw_span(i, i + len("Zoë Ng"))
    assert json.loads(f'"{raw[start:end]}"') == "Zoë Ng"
    assert "to" not in view.text.split("\n")  # keys are not prose


def test_every_role_and_the_name_field_are_scanned(scanner: PiiScanner) -> None:
    req = _req(
        {"role": "system", "content": "Escalations go to ops-lead@corp.example.com."},
        {"role": "user", "content": "Summarise the thread.", "name": "Margaret_Thompson"},
        {"role": "tool", "tool_call_id": "c1", "content": "Ticket owner: priya@example.org"},
        {"role": "developer", "content": [{"type": "text", "text": "Call +44 20 7946 0958"}]},
    )
    out = _redacted(scanner, req)
    blob = json.dumps([m.model_dump() for m in out.messages])
    for value in ("ops-lead@corp", "priya@example", "7946", "Margaret", "Thompson"):
        assert value not in blob
    name = out.messages[1].name
    assert name is not None and name.replace("_", "").replace("-", "").isalnum()


@pytest.mark.parametrize(
    "messages",
    [
        # the context word in the previous message
        [
            {"role": "user", "content": "Here is my password:"},
            {"role": "user", "content": "Tr0ub4dor&3"},
        ],
        # ... or in the other half of a message split into text parts
        [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "the admin password is"},
                    {"type": "text", "text": " Tr0ub4dor&3 for prod"},
                ],
            }
        ],
    ],
)
def test_context_words_work_across_boundaries(
    scanner: PiiScanner, messages: list[dict[str, Any]]
) -> None:
    req = _req(*messages)
    found = scanner.scan_request(req, include_model=False)
    assert found.counts == {"PASSWORD": 1}  # found once, in the segment that holds it
    blob = json.dumps([m.model_dump() for m in _redacted(scanner, req).messages])
    assert "Tr0ub4dor" not in blob


def test_context_is_only_carried_between_prose_segments() -> None:
    req = _req(
        {"role": "user", "content": "one"},
        _call({"a": "b"}),
        {"role": "user", "content": [{"type": "text", "text": "x"}, {"type": "text", "text": "y"}]},
    )
    segs = list(iter_segments(req))
    assert [(s.kind, s.context_before) for s in segs] == [
        ("content", ""),
        ("tool_args", ""),
        ("part", "one\n"),
        ("part", "x"),
    ]


def test_tool_descriptions_are_scanned_and_redacted(scanner: PiiScanner) -> None:
    text = "Look up the record of jrmccalx@example.com, SSN 914-27-6083."
    req = ChatRequest.model_validate(
        {
            "model": "m",
            "messages": [{"role": "user", "content": "Summarise the attached record."}],
            "tools": [
                {"type": "function", "function": {"name": "lookup_record", "description": text}}
            ],
        }
    )
    found = scanner.scan_request(req, include_model=False)
    assert [(s.message_index, s.kind) for s in found.segments] == [(-1, "tool_description")]
    out, vault = redact_request(req, found, OPS)
    assert out.tools is not None
    sent = out.tools[0]["function"]["description"]
    assert "jrmccalx" not in sent and "6083" not in sent
    assert out.tools[0]["function"]["name"] == "lookup_record"
    assert vault.restore(sent) == text


def test_percent_encoded_values_are_found_and_come_back_encoded(scanner: PiiScanner) -> None:
    text = "see https://crm.example/find?q=jrmccalx%40example.com&tel=%28555%29%20234-5678"
    req = _req({"role": "user", "content": text})
    found = scanner.scan_request(req, include_model=False)
    assert set(found.types) == {"EMAIL_ADDRESS", "PHONE_NUMBER"}
    out, vault = redact_request(req, found, OPS)
    sent = out.messages[0].text()
    assert "jrmccalx" not in sent and "234-5678" not in sent
    assert vault.restore(sent) == text  # restored exactly as the user wrote it


def test_a_value_split_across_parts_is_redacted_on_both_sides(scanner: PiiScanner) -> None:
    req = _req(
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "my card is 4111 1111 "},
                {"type": "text", "text": "1111 1111, mail maria.gonz"},
                {"type": "text", "text": "alez@example.com today"},
            ],
        }
    )
    out, vault = redact_request(req, scanner.scan_request(req, include_model=False), OPS)
    content = out.messages[0].content
    assert isinstance(content, list)
    sent = "".join(part["text"] for part in content)
    for piece in ("4111", "1111", "maria", "gonz", "alez@", "example.com"):
        assert piece not in sent, sent
    assert (
        vault.restore(sent)
        == "my card is 4111 1111 1111 1111, mail maria.gonzalez@example.com today"
    )


def test_the_user_field_is_scanned_and_redacted(scanner: PiiScanner) -> None:
    req = ChatRequest.model_validate(
        {"model": "m", "user": "maria@example.com", "messages": [{"role": "user", "content": "hi"}]}
    )
    out, _ = redact_request(req, scanner.scan_request(req, include_model=False), OPS)
    assert out.user == "<EMAIL_ADDRESS_1>"
