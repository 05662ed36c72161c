"""The official OpenAI SDK, unchanged but for base_url, against a real uvicorn server."""

from __future__ import annotations

import hashlib
import socket
import textwrap
import threading
import time

import httpx
import openai
import pytest
import uvicorn
from support import TEST_KEY

from gateway.app import create_app
from gateway.settings import Settings

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server_url(tmp_path_factory, cloud_mock):
    digest = hashlib.sha256(TEST_KEY.encode()).hexdigest()
    policy = tmp_path_factory.mktemp("sdk") / "policy.yaml"
    policy.write_text(
        textwrap.dedent(f"""\
        version: 1
        reference_model: cloud
        models:
          local: {{tier: local, backend: llamacpp, model: smollm2-135m-instruct}}
          cloud: {{tier: cloud, backend: litellm, model: openai/gpt-4o-mini,
                  api_base: "{cloud_mock.base_url}"}}
        apps: [{{name: sdk-app, tenant: t1, key_sha256: {digest}}}]
        route:
          - {{name: pinned-cloud, when: {{models: [cloud]}}, action: cloud_redacted,
             target: cloud}}
        default: {{action: local, target: local}}
        """)
    )
    port = _free_port()
    app = create_app(Settings(policy_file=policy, classifier="fake", local_threads=2))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    else:
        pytest.fail("gateway did not become ready")
    yield f"{url}/v1"
    server.should_exit = True
    thread.join(10)


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
