"""Constants and builders shared by tests (fixtures live in conftest.py)."""

from __future__ import annotations

import hashlib
import socket
import subprocess
import textwrap
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

TEST_KEY = "sk-test-app1"
AUTH = {"authorization": f"Bearer {TEST_KEY}"}


def policy_yaml(cloud_base: str, local_base: str, extra: str = "") -> str:
    """A test policy: local tier = the local mock server, cloud tier = litellm → the cloud mock."""
    digest = hashlib.sha256(TEST_KEY.encode()).hexdigest()
    return (
        textwrap.dedent(f"""\
        version: 1
        reference_model: cloud
        models:
          local:
            {{tier: local, backend: openai_compat, model: local-echo, api_base: "{local_base}"}}
          local-down:
            {{tier: local, backend: openai_compat, model: x, api_base: "http://127.0.0.1:9/v1",
             timeout_s: 2}}
          cloud:
            tier: cloud
            backend: litellm
            model: openai/gpt-4o-mini
            api_base: "{cloud_base}"
            api_key_env: HYBRIDGW_TEST_CLOUD_KEY
            input_cost_per_token: 0.000001
            output_cost_per_token: 0.000002
          cloud-fail:
            {{tier: cloud, backend: litellm, model: openai/fail-500, api_base: "{cloud_base}",
             input_cost_per_token: 0.000001, output_cost_per_token: 0.000002}}
          cloud-slow: {{tier: cloud, backend: litellm, model: openai/slow-3000,
                        api_base: "{cloud_base}", timeout_s: 0.5,
                        input_cost_per_token: 0.000001, output_cost_per_token: 0.000002}}
        apps:
          - {{name: app1, tenant: t1, key_sha256: {digest}}}
        """)
        + textwrap.dedent(extra)
        + textwrap.dedent("""\
        route:
          - name: hard
            when: {difficulty_gte: 0.7}
            action: cloud_redacted
            target: cloud
            fallbacks: [local]
        default: {action: local, target: local, fallbacks: [cloud]}
        """)
    )


def chat_body(text: str = "Say hello.", **extra: Any) -> dict[str, Any]:
    return {"model": "auto", "messages": [{"role": "user", "content": text}], **extra}


def wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout_s: float = 180.0) -> None:
    """Poll `url`/healthz until the gateway process answers 200 (bounded; raises if it exits)."""
    deadline = time.monotonic() + timeout_s  # imports take long on a busy 2-core machine
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gateway exited with {proc.returncode}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gateway at {url} did not start within {timeout_s:g} s")


def smollm2_policy(cloud_base: str, route: str = "") -> str:
    """A policy whose local tier is the shipped SmolLM2 GGUF in-process, cloud the mock."""
    digest = hashlib.sha256(TEST_KEY.encode()).hexdigest()
    return (
        textwrap.dedent(f"""\
        version: 1
        reference_model: cloud
        models:
          local: {{tier: local, backend: llamacpp, model: smollm2-135m-instruct}}
          cloud: {{tier: cloud, backend: litellm, model: openai/gpt-4o-mini,
                  api_base: "{cloud_base}"}}
        apps: [{{name: sdk-app, tenant: t1, key_sha256: {digest}}}]
        """)
        + textwrap.dedent(route)
        + "default: {action: local, target: local}\n"
    )


@contextmanager
def serve_in_thread(settings: Any, ready_within_s: float = 120.0) -> Iterator[str]:
    """A real uvicorn server for `create_app(settings)` on a free 127.0.0.1 port, until /readyz
    says 200 (bounded); yields its root URL (`http://127.0.0.1:PORT`) and stops it after."""
    import uvicorn

    from gateway.app import create_app

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + ready_within_s
    try:
        while True:
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"gateway at {url} not ready within {ready_within_s:g} s")
            time.sleep(0.2)
        yield url
    finally:
        server.should_exit = True
        thread.join(10)
