"""Redaction of whole requests: operators, placeholder stability, blocking, tool arguments."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from kernel.errors import PolicyBlocked
from kernel.types import ChatRequest, Message
from policies.pii import (
    Finding,
    PiiScanner,
    RequestFindings,
    SegmentFindings,
    Vault,
    blocked_types,
    mask_value,
    redact_request,
    resolve_operators,
)

SCANNER = PiiScanner(use_model=False)
EMAIL = "jane.doe@example.com"
OTHER = "bob@example.org"
CARD = "4111 1111 1111 1111"


def _req(*messages: dict[str, Any]) -> ChatRequest:
    return ChatRequest(model="m", messages=list(messages))


def _redact(req: ChatRequest, ops: dict[str, str] | None = None) -> tuple[ChatRequest, Vault]:
    return redact_request(req, SCANNER.scan_request(req, include_model=False), ops or {})


def _all_text(req: ChatRequest) -> str:
    return req.model_dump_json()


def test_same_value_same_placeholder_across_messages() -> None:
    req = _req(
        {"role": "system", "content": f"Owner: {EMAIL}"},
        {"role": "user", "content": f"mail {EMAIL} and {OTHER}, again {EMAIL}"},
    )
    red, vault = _redact(req)
    assert red.messages[0].content == "Owner: <EMAIL_ADDRESS_1>"
    assert (
        red.messages[1].content
        == "mail <EMAIL_ADDRESS_1> and <EMAIL_ADDRESS_2>, again <EMAIL_ADDRESS_1>"
    )
    assert vault.restore(red.messages[1].text()) == req.messages[1].text()
    assert EMAIL not in _all_text(red) and OTHER not in _all_text(red)


def test_placeholders_already_in_the_prompt_are_not_reused() -> None:
    req = _req({"role": "user", "content": f"template uses <EMAIL_ADDRESS_1>; mine is {EMAIL}"})
    red, vault = _redact(req)
    assert red.messages[0].content == "template uses <EMAIL_ADDRESS_1>; mine is <EMAIL_ADDRESS_2>"
    assert vault.restore("<EMAIL_ADDRESS_1> <EMAIL_ADDRESS_2>") == f"<EMAIL_ADDRESS_1> {EMAIL}"


def test_operators_mask_hash_keep() -> None:
    req = _req({"role": "user", "content": f"card {CARD}, ip 203.0.113.9 and 203.0.113.9, {EMAIL}"})
    red, vault = _redact(
        req, {"CREDIT_CARD": "mask", "IP_ADDRESS": "hash", "EMAIL_ADDRESS": "keep"}
    )
    text = red.messages[0].text()
    assert "**** **** **** 1111" in text
    tags = [w.strip(",") for w in text.split() if w.startswith("<IP_ADDRESS#")]
    assert len(tags) == 2 and tags[0] == tags[1] and "203.0.113.9" not in text
    assert EMAIL in text
    assert len(vault) == 0  # nothing reversible was issued
    # the hash is salted per request: another request gets another tag
    red2, _ = _redact(req, {"IP_ADDRESS": "hash"})
    assert tags[0] not in red2.messages[0].text()


def test_block_names_the_type_not_the_value() -> None:
    req = _req({"role": "user", "content": f"my card {CARD}"})
    with pytest.raises(PolicyBlocked) as err:
        _redact(req, {"CREDIT_CARD": "block"})
    assert "CREDIT_CARD" in err.value.message and "4111" not in err.value.message


def test_secret_group_and_default() -> None:
    table = resolve_operators({"SECRET": "block", "DEFAULT": "mask", "PASSWORD": "placeholder"})
    assert table["API_KEY"] == "block" and table["PASSWORD"] == "placeholder"
    assert table["EMAIL_ADDRESS"] == "mask" and table["SOMETHING_NEW"] == "mask"


@pytest.mark.parametrize("bad", [{"EMAIL_ADDRESS": "shred"}, {"email": "mask"}])
def test_bad_operator_config(bad: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        resolve_operators(bad)


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("4111 1111 1111 1111", "**** **** **** 1111"),
        ("abc", "***"),
        ("DE89370400440532013000", "******************3000"),
    ],
)
def test_mask_value(value: str, masked: str) -> None:
    assert mask_value(value) == masked


def test_content_parts_and_non_text_parts() -> None:
    image = {"type": "image_url", "image_url": {"url": "https://x/y.png"}}
    req = _req({"role": "user", "content": [{"type": "text", "text": f"hi {EMAIL}"}, image]})
    red, _ = _redact(req)
    assert red.messages[0].content == [{"type": "text", "text": "hi <EMAIL_ADDRESS_1>"}, image]
    assert req.messages[0].content != red.messages[0].content  # the original is untouched


def test_tool_call_arguments_stay_valid_json() -> None:
    key = "-----BEGIN RSA PRIVATE KEY-----\nMIIEabc\n-----END RSA PRIVATE KEY-----"
    args = json.dumps({"to": EMAIL, "key": key, "note": 'say "hi"'})
    req = _req(
        {"role": "user", "content": f"send it to {EMAIL}"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "send", "arguments": args}}
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": f"sent to {EMAIL}"},
    )
    red, vault = _redact(req)
    new_args = red.messages[1].tool_calls[0]["function"]["arguments"]  # type: ignore[index]
    parsed = json.loads(new_args)
    assert parsed["to"] == "<EMAIL_ADDRESS_1>" and parsed["key"] == "<PRIVATE_KEY_1>"
    assert red.messages[2].content == "sent to <EMAIL_ADDRESS_1>"
    # the vault holds the decoded key (real newlines), and restores it JSON-escaped
    assert json.loads(vault.restore_json(new_args)) == json.loads(args)
    assert vault.restore("<PRIVATE_KEY_1>") == key


def test_nothing_found_returns_the_same_request() -> None:
    req = _req({"role": "user", "content": "what is 2+2?"})
    red, vault = _redact(req)
    assert red is req and len(vault) == 0


def test_findings_must_match_the_request() -> None:
    req = _req({"role": "user", "content": f"mail {EMAIL}"})
    other = _req({"role": "user", "content": "short"})
    with pytest.raises(ValueError):
        redact_request(other, SCANNER.scan_request(req, include_model=False), {})


def test_values_never_logged_or_shown(caplog: pytest.LogCaptureFixture) -> None:
    req = _req({"role": "user", "content": f"mail {EMAIL}, card {CARD}"})
    with caplog.at_level(logging.DEBUG):
        found = SCANNER.scan_request(req, include_model=False)
        _, vault = redact_request(req, found, {})
    shown = caplog.text + repr(vault) + repr(found)
    assert EMAIL not in shown and "4111" not in shown
    assert found.counts == {"CREDIT_CARD": 1, "EMAIL_ADDRESS": 1}


def test_vault_close_forgets_values() -> None:
    req = _req({"role": "user", "content": f"mail {EMAIL}"})
    with _redact(req)[1] as vault:
        assert vault.restore("<EMAIL_ADDRESS_1>") == EMAIL
    assert vault.restore("<EMAIL_ADDRESS_1>") == "<EMAIL_ADDRESS_1>"


def test_secret_group_blocks_any_secret() -> None:
    req = _req({"role": "user", "content": "use password=Hunter2!x please"})
    found = SCANNER.scan_request(req, include_model=False)
    assert blocked_types(found, {"SECRET": "block"}) == ["PASSWORD"]
    with pytest.raises(PolicyBlocked, match="PASSWORD"):
        redact_request(req, found, {"SECRET": "block"})


def test_span_crossing_json_syntax_falls_back_to_leaf_replacement() -> None:
    args = json.dumps({"to": EMAIL, "cc": EMAIL})
    req = _req(
        {
            "role": "assistant",
            "tool_calls": [
                {"id": "1", "type": "function", "function": {"name": "f", "arguments": args}}
            ],
        }
    )
    start = args.index(EMAIL) - 1  # a (bad) span that swallows the opening quote
    bad = RequestFindings(
        (
            SegmentFindings(
                0, "tool_args", 0, (Finding("EMAIL_ADDRESS", start, start + len(EMAIL) + 1, 0.9),)
            ),
        )
    )
    red, vault = redact_request(req, bad, {})
    new_args = red.messages[0].tool_calls[0]["function"]["arguments"]  # type: ignore[index]
    assert json.loads(new_args) == {"to": "<EMAIL_ADDRESS_1>", "cc": "<EMAIL_ADDRESS_1>"}
    assert json.loads(vault.restore_json(new_args)) == {"to": EMAIL, "cc": EMAIL}


def test_library_round_trip_with_context_names() -> None:
    req = _req(
        {"role": "system", "content": "Reply to the customer."},
        {
            "role": "user",
            "content": f"Dear Anna Berg, your card {CARD} and mail {EMAIL} are on file.",
        },
    )
    found = SCANNER.scan_request(req, include_model=False)
    assert found.types == {"PERSON", "CREDIT_CARD", "EMAIL_ADDRESS"}
    red, vault = redact_request(req, found, {"CREDIT_CARD": "mask"})
    assert red.messages[1].content == (
        "Dear <PERSON_1>, your card **** **** **** 1111 and mail <EMAIL_ADDRESS_1> are on file."
    )
    answer = "Hello <PERSON_1>, we will write to <EMAIL_ADDRESS_1>."
    assert vault.restore(answer) == f"Hello Anna Berg, we will write to {EMAIL}."


def test_one_operator_registry_backs_the_type_and_the_schema():
    from typing import get_args

    from policies.pii.operators import OPERATORS, REGISTRY, Operator

    assert set(get_args(Operator)) == set(REGISTRY) == OPERATORS
    assert [name for name, op in REGISTRY.items() if op.refuses] == ["block"]


def test_keep_is_accepted_by_the_policy_schema_and_leaves_the_value(tmp_path):
    from policies.pii import PiiScanner, redact_request
    from policies.schema import PiiConfig

    config = PiiConfig(entities={"EMAIL_ADDRESS": "keep", "PHONE_NUMBER": "placeholder"})
    text = "Mail ann@example.org or call +1 415 555 0132."
    req = ChatRequest(model="auto", messages=[Message(role="user", content=text)])
    findings = PiiScanner({"EMAIL_ADDRESS", "PHONE_NUMBER"}, use_model=False).scan_request(
        req, include_model=False
    )
    redacted, _vault = redact_request(req, findings, config.entities)
    out = redacted.messages[0].text()
    assert "ann@example.org" in out and "555 0132" not in out
