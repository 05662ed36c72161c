"""Restoration: whole responses, streams split at every point, tool calls, unknown placeholders,
and 100 concurrent requests that must each get back only their own values."""

from __future__ import annotations

import asyncio
import json
import random

import pytest

from kernel.types import AssistantMessage, ChatChunk, ChatResponse, Choice, ChunkChoice, Delta
from policies.pii import Vault


def _vault(**values: str) -> Vault:
    vault = Vault()
    for etype, value in values.items():
        vault.placeholder(etype.rstrip("_0123456789"), value)
    return vault


VAULT = _vault(PERSON="Ann Lee", EMAIL_ADDRESS='a"b@x.io', PERSON_2="Bo Chen")
# <PERSON_1>=Ann Lee, <EMAIL_ADDRESS_1>=a"b@x.io, <PERSON_2>=Bo Chen
ANSWER = "Hi <PERSON_1>! Mail <EMAIL_ADDRESS_1> or <PERSON_2>; not <PERSON_3> or <PERSON_1 >.<"
RESTORED = 'Hi Ann Lee! Mail a"b@x.io or Bo Chen; not <PERSON_3> or Ann Lee.<'


def test_restore_text_leaves_unknown_placeholders() -> None:
    assert VAULT.restore(ANSWER) == RESTORED


@pytest.mark.parametrize("cut", range(len(ANSWER) + 1))
def test_stream_split_at_every_point(cut: int) -> None:
    restorer = VAULT.stream_restorer()
    out = restorer.feed(0, ANSWER[:cut]) + restorer.feed(0, ANSWER[cut:]) + restorer.flush(0)
    assert out == RESTORED


def test_stream_one_character_at_a_time_holds_back_only_a_placeholder_prefix() -> None:
    restorer = VAULT.stream_restorer()
    out = []
    for ch in ANSWER:
        emitted = restorer.feed(0, ch)
        out.append(emitted)
    out.append(restorer.flush(0))
    assert "".join(out) == RESTORED
    # plain text is emitted at once: after "Hi " the first three characters are out
    restorer = VAULT.stream_restorer()
    assert restorer.feed(0, "Hi ") == "Hi "
    assert restorer.feed(0, "<PER") == "" and restorer.holding
    assert restorer.feed(0, "X>") == "<PERX>"


def test_stream_random_chunkings() -> None:
    rnd = random.Random(7)
    for _ in range(200):
        cuts = sorted(rnd.sample(range(1, len(ANSWER)), rnd.randint(1, 12)))
        pieces = [ANSWER[a:b] for a, b in zip([0, *cuts], [*cuts, len(ANSWER)], strict=True)]
        restorer = VAULT.stream_restorer()
        assert "".join(restorer.feed(0, p) for p in pieces) + restorer.flush(0) == RESTORED


def test_choices_are_independent() -> None:
    restorer = VAULT.stream_restorer()
    a = restorer.feed(0, "x <PERS") + restorer.feed(1, "<PERSON_2> y <EMA")
    a += restorer.feed(0, "ON_1>") + restorer.flush(1) + restorer.flush(0)
    assert a == "x Bo Chen y Ann Lee<EMA"


def test_restore_response_every_choice_and_tool_call() -> None:
    args = json.dumps({"to": "<EMAIL_ADDRESS_1>", "name": "<PERSON_1>"})
    resp = ChatResponse(
        id="r",
        model="m",
        choices=[
            Choice(index=0, message=AssistantMessage(content="Hi <PERSON_1>")),
            Choice(
                index=1,
                message=AssistantMessage(
                    tool_calls=[
                        {
                            "id": "t",
                            "type": "function",
                            "function": {"name": "f", "arguments": args},
                        }
                    ]
                ),
                finish_reason="tool_calls",
            ),
        ],
    )
    out = VAULT.restore_response(resp)
    assert out.choices[0].message.content == "Hi Ann Lee"
    restored_args = out.choices[1].message.tool_calls[0]["function"]["arguments"]  # type: ignore[index]
    assert json.loads(restored_args) == {"to": 'a"b@x.io', "name": "Ann Lee"}
    assert resp.choices[0].message.content == "Hi <PERSON_1>"  # the input is not mutated


def _chunk(
    index: int = 0,
    content: str | None = None,
    tools: list[dict] | None = None,
    finish: str | None = None,
) -> ChatChunk:  # type: ignore[type-arg]
    return ChatChunk(
        id="c",
        model="m",
        choices=[
            ChunkChoice(
                index=index, delta=Delta(content=content, tool_calls=tools), finish_reason=finish
            )
        ],
    )


def test_restore_chunk_flushes_on_finish_reason() -> None:
    restorer = VAULT.stream_restorer()
    first = restorer.restore_chunk(_chunk(content="Hello <PERSON_"))
    last = restorer.restore_chunk(_chunk(content="2", finish="stop"))
    assert first.choices[0].delta.content == "Hello "
    assert last.choices[0].delta.content == "<PERSON_2"  # never completed: emitted as is
    assert not restorer.holding


def test_streamed_tool_call_arguments_split_everywhere() -> None:
    args = json.dumps({"to": "<EMAIL_ADDRESS_1>", "cc": "<PERSON_2>"})
    for cut in range(len(args) + 1):
        restorer = VAULT.stream_restorer()
        out = ""
        for piece in (args[:cut], args[cut:]):
            chunk = restorer.restore_chunk(
                _chunk(tools=[{"index": 0, "function": {"arguments": piece}}])
            )
            out += chunk.choices[0].delta.tool_calls[0]["function"]["arguments"]  # type: ignore[index]
        end = restorer.restore_chunk(_chunk(finish="tool_calls"))
        for call in end.choices[0].delta.tool_calls or []:
            out += call["function"]["arguments"]
        assert json.loads(out) == {"to": 'a"b@x.io', "cc": "Bo Chen"}, cut


def test_next_tool_call_releases_the_previous_ones_tail() -> None:
    restorer = VAULT.stream_restorer()
    restorer.restore_chunk(_chunk(tools=[{"index": 0, "function": {"arguments": '{"a": "<PER'}}]))
    chunk = restorer.restore_chunk(
        _chunk(tools=[{"index": 1, "id": "t2", "function": {"arguments": "{}"}}])
    )
    calls = chunk.choices[0].delta.tool_calls or []
    assert calls[0] == {"index": 0, "function": {"arguments": "<PER"}}
    assert calls[1]["index"] == 1


def test_drain_chunk_when_the_stream_ends_without_finish_reason() -> None:
    restorer = VAULT.stream_restorer()
    restorer.restore_chunk(_chunk(content="bye <PERSON_1"))
    tail = restorer.drain_chunk("c", "m")
    assert tail is not None and tail.choices[0].delta.content == "<PERSON_1"
    assert restorer.drain_chunk("c", "m") is None


def test_usage_chunk_passes_through() -> None:
    chunk = ChatChunk(id="c", model="m", choices=[])
    assert VAULT.stream_restorer().restore_chunk(chunk) is chunk


async def test_100_concurrent_vaults_get_only_their_own_values() -> None:
    async def one_request(i: int) -> tuple[int, str]:
        vault = Vault()
        mine = f"user{i}@example.com"
        token = vault.placeholder("EMAIL_ADDRESS", mine)
        name = vault.placeholder("PERSON", f"Person Number{i}")
        answer = f"Dear {name}, we wrote to {token}."
        restorer = vault.stream_restorer()
        out = []
        for k in range(0, len(answer), 3):  # interleave with the other 99 tasks
            out.append(restorer.feed(0, answer[k : k + 3]))
            await asyncio.sleep(0)
        out.append(restorer.flush(0))
        return i, "".join(out)

    results = await asyncio.gather(*(one_request(i) for i in range(100)))
    for i, text in results:
        assert text == f"Dear Person Number{i}, we wrote to user{i}@example.com."
        others = {f"user{j}@" for j in range(100) if j != i}
        assert not any(o in text for o in others)


def test_placeholder_that_is_a_prefix_of_another() -> None:
    vault = Vault()
    names = [vault.placeholder("PERSON", f"Name{i}") for i in range(1, 12)]
    assert names[0] == "<PERSON_1>" and names[9] == "<PERSON_10>"
    answer = "<PERSON_1><PERSON_10> <PERSON_11>"
    for cut in range(len(answer) + 1):
        restorer = vault.stream_restorer()
        out = restorer.feed(0, answer[:cut]) + restorer.feed(0, answer[cut:]) + restorer.flush(0)
        assert out == "Name1Name10 Name11", cut


MANGLED = [
    "< PERSON_1 >",
    "<person_1>",
    "[PERSON_1]",
    "{PERSON 1}",
    "&lt;PERSON_1&gt;",
    "\\<PERSON_1\\>",
    "«PERSON-1»",
    "PERSON_1",
    "[ Person 1 ]",
]


@pytest.mark.parametrize("form", MANGLED)
def test_restore_survives_what_models_do_to_placeholders(form: str) -> None:
    answer = f"Dear {form}, thanks. Regards to {form}!"
    assert VAULT.restore(answer) == "Dear Ann Lee, thanks. Regards to Ann Lee!"
    for step in (1, 2, 3, 7):  # and split across chunks of every size
        restorer = VAULT.stream_restorer()
        pieces = [answer[i : i + step] for i in range(0, len(answer), step)]
        assert "".join(restorer.feed(0, p) for p in pieces) + restorer.flush(0) == (
            "Dear Ann Lee, thanks. Regards to Ann Lee!"
        )


@pytest.mark.parametrize(
    "text",
    ["the person 1 said", "PERSON_12 is not issued", "[PERSON_9]", "<PERSON_1 and", "x<5 & y>3"],
)
def test_only_issued_placeholders_in_recognised_forms_are_restored(text: str) -> None:
    assert VAULT.restore(text) == text
    restorer = VAULT.stream_restorer()
    assert "".join(restorer.feed(0, c) for c in text) + restorer.flush(0) == text


def test_upstream_chunks_without_id_or_model_are_accepted_and_restored() -> None:
    raw = [
        {"choices": [{"delta": {"content": "Hi <PERS"}}]},
        {"choices": [{"delta": {"content": "ON_1>", "refusal": None}, "logprobs": None}], "x": 1},
        {"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": None}},
        {"object": "chat.completion", "choices": None},
    ]
    chunks = [ChatChunk.model_validate(r) for r in raw]
    assert chunks[0].id == "" and chunks[2].usage is not None and chunks[3].choices == []
    restorer = VAULT.stream_restorer()
    text = "".join(
        c.choices[0].delta.content or "" for c in map(restorer.restore_chunk, chunks) if c.choices
    )
    assert text == "Hi Ann Lee"


def test_json_escaped_angle_brackets_in_tool_arguments_are_restored() -> None:
    args = '{"to": "\\u003cPERSON_1\\u003e", "note": "caf\\u00e9"}'
    restored = VAULT.restore_json(args)
    assert json.loads(restored) == {"to": "Ann Lee", "note": "café"}
    restorer = VAULT.stream_restorer()
    out = "".join(restorer.feed_tool_args(0, 0, c) for c in args) + restorer.flush_tool_args(0, 0)
    assert json.loads(out) == {"to": "Ann Lee", "note": "café"}
