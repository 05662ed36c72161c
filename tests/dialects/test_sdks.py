"""The official `anthropic` and `openai` SDKs, unchanged but for base_url, against a real server
on the embedded default (SmolLM2 in-process) with a mock cloud for tools and images."""

from __future__ import annotations

import anthropic
import openai
import pytest
from support import TEST_KEY, serve_in_thread, smollm2_policy

from gateway.settings import Settings

pytestmark = pytest.mark.slow

ROUTE = """\
route:
  - {name: tools-to-cloud, when: {needs_cloud_features: true}, action: cloud_redacted,
     target: cloud}
"""


@pytest.fixture(scope="module")
def server_url(tmp_path_factory, cloud_mock):
    policy = tmp_path_factory.mktemp("sdks") / "policy.yaml"
    policy.write_text(smollm2_policy(cloud_mock.base_url, ROUTE))
    settings = Settings(policy_file=policy, classifier="fake", local_threads=2)
    with serve_in_thread(settings) as url:
        yield url


@pytest.fixture(scope="module")
def claude(server_url):
    return anthropic.Anthropic(base_url=server_url, api_key=TEST_KEY, max_retries=0, timeout=120)


@pytest.fixture(scope="module")
def oai(server_url):
    return openai.OpenAI(base_url=f"{server_url}/v1", api_key=TEST_KEY, max_retries=0, timeout=120)


def test_anthropic_plain_message_from_smollm2(claude):
    raw = claude.messages.with_raw_response.create(
        model="auto",
        max_tokens=24,
        system="You answer briefly.",
        messages=[{"role": "user", "content": "What is the capital of France?"}],
    )
    message = raw.parse()
    assert raw.headers["x-route-tier"] == "local"
    assert message.role == "assistant" and message.content[0].type == "text"
    assert message.content[0].text.strip()
    assert message.stop_reason in ("end_turn", "max_tokens")
    assert 0 < message.usage.output_tokens <= 24 and message.usage.input_tokens > 0


def test_anthropic_streaming_from_smollm2(claude):
    with claude.messages.stream(
        model="auto", max_tokens=16, messages=[{"role": "user", "content": "Name a fruit."}]
    ) as stream:
        pieces = list(stream.text_stream)
        final = stream.get_final_message()
    assert len(pieces) >= 3 and "".join(pieces).strip()
    assert final.content[0].text == "".join(pieces)
    assert final.usage.output_tokens > 0


def test_anthropic_tool_use_round_trip(claude, cloud_mock):
    tools = [
        {
            "name": "get_weather",
            "description": "Weather for a city",
            "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
        }
    ]
    message = claude.messages.create(
        model="auto",
        max_tokens=64,
        tools=tools,
        messages=[
            {"role": "user", "content": "Weather in Paris?"},
            {
                "role": "assistant",
                "content": [
                    {
                        "type": "tool_use",
                        "id": "toolu_01",
                        "name": "get_weather",
                        "input": {"city": "Paris"},
                    },
                ],
            },
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": "toolu_01", "content": "18C, sunny"},
                    {"type": "text", "text": "Summarise it."},
                ],
            },
        ],
    )
    assert message.content[0].text == "echo: Summarise it."  # the mock cloud echoes
    sent = cloud_mock.requests[-1].json()
    assert [m["role"] for m in sent["messages"]] == ["user", "assistant", "tool", "user"]
    assert sent["messages"][2]["tool_call_id"] == "toolu_01"
    assert sent["tools"][0]["function"]["name"] == "get_weather"


def test_anthropic_sdk_sees_anthropic_errors(claude):
    with pytest.raises(anthropic.NotFoundError) as info:
        claude.messages.create(
            model="nope", max_tokens=5, messages=[{"role": "user", "content": "x"}]
        )
    assert info.value.body["error"]["type"] == "not_found_error"
    bad = anthropic.Anthropic(base_url=claude.base_url, api_key="wrong", max_retries=0)
    with pytest.raises(anthropic.AuthenticationError):
        bad.messages.create(model="auto", max_tokens=5, messages=[{"role": "user", "content": "x"}])


def test_anthropic_count_tokens(claude):
    counted = claude.messages.count_tokens(
        model="auto", messages=[{"role": "user", "content": "x" * 40}]
    )
    assert counted.input_tokens == 10


def test_responses_plain_from_smollm2(oai):
    raw = oai.responses.with_raw_response.create(
        model="auto",
        instructions="You answer briefly.",
        input="What is the capital of France?",
        max_output_tokens=24,
    )
    response = raw.parse()
    assert raw.headers["x-route-tier"] == "local"
    assert response.output_text.strip()
    assert response.status in ("completed", "incomplete")
    assert 0 < response.usage.output_tokens <= 24


def test_responses_streaming_from_smollm2(oai):
    events = list(
        oai.responses.create(
            model="auto",
            input=[{"role": "user", "content": [{"type": "input_text", "text": "Name a fruit."}]}],
            max_output_tokens=16,
            stream=True,
        )
    )
    deltas = [e.delta for e in events if e.type == "response.output_text.delta"]
    assert len(deltas) >= 3 and "".join(deltas).strip()
    final = events[-1]
    assert final.type in ("response.completed", "response.incomplete")
    assert final.response.output_text == "".join(deltas)
    assert final.response.usage.output_tokens > 0


def test_responses_stream_helper_accumulates(oai):
    with oai.responses.stream(model="auto", input="Say hi.", max_output_tokens=64) as stream:
        events = list(stream)
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    # the helper's snapshot is rebuilt from the events, so it checks their ids and indices
    assert events[-1].type in ("response.completed", "response.incomplete")
    assert events[-1].response.output_text == text
    if events[-1].type == "response.completed":
        assert stream.get_final_response().output_text == text


def test_responses_refusal_reaches_the_sdk(oai):
    with pytest.raises(openai.BadRequestError) as info:
        oai.responses.create(model="auto", input="hi", previous_response_id="resp_123")
    assert "not supported" in info.value.message


def test_embeddings_from_the_shipped_local_encoder(oai):
    texts = ["How do I reset my password?", "I forgot my login credentials.", "Paris in spring."]
    raw = oai.embeddings.with_raw_response.create(model="auto", input=texts)  # SDK asks base64
    result = raw.parse()
    assert raw.headers["x-route-tier"] == "local"
    vectors = [item.embedding for item in result.data]
    assert [len(v) for v in vectors] == [384, 384, 384]

    def cos(a, b):
        return sum(x * y for x, y in zip(a, b, strict=True))

    assert cos(vectors[0], vectors[1]) > 0.5 > cos(vectors[0], vectors[2])
    plain = oai.embeddings.create(model="auto", input=texts[0], encoding_format="float")
    assert plain.data[0].embedding == pytest.approx(vectors[0], abs=1e-6)
    assert result.usage.prompt_tokens > 0
