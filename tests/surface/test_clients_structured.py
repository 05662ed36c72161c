"""The official openai SDK and LangChain, unchanged but for base_url, against a real uvicorn
server whose local tier is the shipped SmolLM2 GGUF: structured output and tool calls parse."""

from __future__ import annotations

import json
from typing import Literal

import httpx
import openai
import pytest
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI
from pydantic import BaseModel, Field
from support import TEST_KEY, serve_in_thread, smollm2_policy

from gateway.settings import Settings

pytestmark = pytest.mark.slow


class Verdict(BaseModel):
    answer: Literal["yes", "no"]
    confidence: int = Field(ge=0, le=100)


@tool
def get_weather(city: str) -> str:
    """Current weather for a city."""
    return f"sunny in {city}"


@pytest.fixture(scope="module")
def base_url(tmp_path_factory, cloud_mock):
    policy = tmp_path_factory.mktemp("clients") / "policy.yaml"
    policy.write_text(smollm2_policy(cloud_mock.base_url))
    settings = Settings(policy_file=policy, classifier="fake", local_threads=2, local_context=1024)
    with serve_in_thread(settings) as url:
        yield f"{url}/v1"


@pytest.fixture(scope="module")
def client(base_url):
    return openai.OpenAI(base_url=base_url, api_key=TEST_KEY, max_retries=0, timeout=300)


def _chat(base_url: str) -> ChatOpenAI:
    return ChatOpenAI(
        base_url=base_url,
        api_key=TEST_KEY,
        model="local",
        max_tokens=32,
        max_retries=0,
        timeout=300,
        temperature=0.2,
    )


def test_sdk_parse_returns_a_validated_object(client):
    completion = client.chat.completions.parse(
        model="local",
        messages=[{"role": "user", "content": "Is the sky blue?"}],
        response_format=Verdict,
        max_tokens=24,
        seed=1,
    )
    parsed = completion.choices[0].message.parsed
    assert isinstance(parsed, Verdict)


def test_sdk_tool_call_and_replayed_turn(client):
    tools = [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Current weather for a city.",
                "parameters": {
                    "type": "object",
                    "properties": {"city": {"type": "string", "maxLength": 24}},
                    "required": ["city"],
                    "additionalProperties": False,
                },
            },
        }
    ]
    messages: list = [{"role": "user", "content": "What is the weather in Rome?"}]
    first = client.chat.completions.create(
        model="local", messages=messages, tools=tools, tool_choice="required", max_tokens=32
    )
    message = first.choices[0].message
    [call] = message.tool_calls or []
    assert call.function.name == "get_weather"
    assert isinstance(json.loads(call.function.arguments)["city"], str)
    messages += [message, {"role": "tool", "tool_call_id": call.id, "content": "sunny"}]
    second = client.chat.completions.create(
        model="local", messages=messages, tools=tools, tool_choice="none", max_tokens=8
    )
    assert second.choices[0].message.content


def test_sdk_gets_a_400_for_a_wrong_type(base_url):
    reply = httpx.post(
        f"{base_url}/chat/completions",
        json={"model": "local", "messages": [{"role": "user", "content": "x"}], "stream": "yes"},
        headers={"authorization": f"Bearer {TEST_KEY}"},
    )
    assert reply.status_code == 400 and reply.json()["error"]["param"] == "stream"


@pytest.mark.parametrize("method", ["json_schema", "function_calling"])
def test_langchain_with_structured_output(base_url, method):
    verdict = (
        _chat(base_url)
        .with_structured_output(Verdict, method=method)
        .invoke("Is water wet? Answer yes or no with a confidence.")
    )
    assert isinstance(verdict, Verdict)


def test_langchain_bind_tools(base_url):
    reply = (
        _chat(base_url)
        .bind_tools([get_weather], tool_choice="get_weather")
        .invoke("What is the weather in Oslo?")
    )
    [call] = reply.tool_calls
    assert call["name"] == "get_weather" and isinstance(call["args"]["city"], str)
