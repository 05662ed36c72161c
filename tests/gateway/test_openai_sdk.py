"""The official OpenAI SDK, unchanged but for base_url, against a real uvicorn server."""

from __future__ import annotations

import openai
import pytest
from support import TEST_KEY, serve_in_thread, smollm2_policy

from gateway.settings import Settings

pytestmark = pytest.mark.slow

ROUTE = """\
route:
  - {name: pinned-cloud, when: {models: [cloud]}, action: cloud_redacted, target: cloud}
"""


@pytest.fixture(scope="module")
def server_url(tmp_path_factory, cloud_mock):
    policy = tmp_path_factory.mktemp("sdk") / "policy.yaml"
    policy.write_text(smollm2_policy(cloud_mock.base_url, ROUTE))
    settings = Settings(policy_file=policy, classifier="fake", local_threads=2)
    with serve_in_thread(settings) as url:
        yield f"{url}/v1"


@pytest.fixture(scope="module")
def client(server_url):
    return openai.OpenAI(base_url=server_url, api_key=TEST_KEY, max_retries=0, timeout=120)


def test_non_streaming_answer_from_smollm2(client):
    raw = client.chat.completions.with_raw_response.create(
        model="auto",
        messages=[{"role": "user", "content": "What is the capital of France?"}],
        max_tokens=24,
    )
    completion = raw.parse()
    assert raw.headers["x-route-tier"] == "local"
    assert completion.choices[0].message.content.strip()
    assert 0 < completion.usage.completion_tokens <= 24


def test_streaming_answer_from_smollm2(client):
    stream = client.chat.completions.create(
        model="auto",
        messages=[{"role": "user", "content": "Name a fruit."}],
        max_tokens=16,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.strip()
    assert sum(1 for c in chunks if c.choices and c.choices[0].delta.content) >= 3
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0


def test_models_list(client):
    ids = [m.id for m in client.models.list()]
    assert ids == ["auto", "local", "cloud"]


def test_sdk_sees_openai_errors(client):
    with pytest.raises(openai.NotFoundError) as info:
        client.chat.completions.create(model="nope", messages=[{"role": "user", "content": "x"}])
    assert info.value.code == "model_not_found"
