"""Importing the app module builds nothing: no model load, no network, no settings read. And a
worker imports only what its configuration uses (each heavy package costs every worker RSS)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PROBE = """
import sys
import gateway.app
heavy = [m for m in ("llama_cpp", "litellm", "onnxruntime", "redis", "psycopg", "uvicorn")
         if m in sys.modules]
print(",".join(heavy))
"""

# Builds the app and every service for the configured policy (as a worker's lifespan does),
# then plans one request with PII in it (scan, classifier, decision); prints the heavy packages
# loaded by then.
REQUEST_PATH = """
import asyncio, sys

async def main():
    from gateway.app import create_app
    from gateway.auth import Caller
    from gateway.pipeline import Exchange
    from gateway.services import build_services
    from gateway.settings import Settings
    from kernel.types import ChatRequest, Message

    create_app()
    services = await build_services(Settings())
    try:
        text = "Mail anna.schmidt@example.com, she lives in Paris."
        req = ChatRequest(model="auto", messages=[Message(role="user", content=text)])
        ex = Exchange("probe", Caller(tenant="t", app="a"), services.policies.current, req)
        explanation = await services.pipeline.explain(ex)
        assert "EMAIL_ADDRESS" in explanation.findings.types, explanation.findings.types
    finally:
        await services.aclose()

asyncio.run(main())
heavy = ("redis", "aiohttp", "spacy", "litellm", "llama_cpp")
print(",".join(m for m in heavy if m in sys.modules))
"""

MODULES = """
import sys
import cloud_backends.registry, gateway.api.openai.chat, gateway.app, gateway.backends
import gateway.pipeline, gateway.services, local_backends.registry
heavy = ("redis", "aiohttp", "httpx", "spacy", "litellm", "numpy", "onnxruntime", "llama_cpp")
print(",".join(m for m in heavy if m in sys.modules))
"""

# Every route module (what `create_app` imports); numpy is for the models that use it (the
# classifier, the name tagger, embedders): a worker without them saves ~10 MiB RSS.
ROUTES = """
import sys
from gateway.app import create_app
create_app()
heavy = ("numpy", "onnxruntime", "tokenizers", "aiohttp", "litellm")
print(",".join(m for m in heavy if m in sys.modules))
"""

OPENAI_COMPAT_CLOUD = """\
version: 1
reference_model: cloud
models:
  local: {tier: local, backend: llamacpp, model: smollm2-135m-instruct}
  cloud: {tier: cloud, backend: openai_compat, model: m, api_base: "http://127.0.0.1:9/v1"}
pii:
  entities: {EMAIL_ADDRESS: placeholder, PERSON: placeholder}
default: {action: local, target: local}
"""


def _run(code: str, env: dict[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""


def _worker_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("HYBRIDGW_", "REDIS_URL", "DATABASE_URL"))
    }
    env.update(
        HYBRIDGW_DATABASE_URL=str(tmp_path / "ledger.db"),
        HYBRIDGW_LOAD_LOCAL_ON_START="false",
        HYBRIDGW_POLICY_WATCH="false",
        LITELLM_LOCAL_MODEL_COST_MAP="True",
        **extra,
    )
    return env


def test_import_gateway_app_constructs_nothing() -> None:
    env = {**os.environ, "HYBRIDGW_PORT": "not-a-port", "HYBRIDGW_POLICY_FILE": "/nonexistent"}
    assert _run(PROBE, env) == ""


def test_request_path_modules_import_no_backend_library() -> None:
    """Clients, stores and models are imported by what the configuration builds, not by the
    modules of the request path."""
    assert _run(MODULES, dict(os.environ)) == ""


def test_building_the_routes_imports_no_numpy_and_no_model_runtime() -> None:
    assert _run(ROUTES, dict(os.environ)) == ""


def test_default_configuration_loads_no_redis_and_no_spacy(tmp_path: Path) -> None:
    """The embedded default policy, no REDIS_URL, the tagger name model (not spaCy). Its cloud
    tier is litellm, which imports aiohttp itself (see the openai_compat case below)."""
    loaded = set(_run(REQUEST_PATH, _worker_env(tmp_path)).split(","))
    assert "litellm" in loaded  # the probe really built the default cloud backend
    assert not loaded & {"redis", "spacy", "llama_cpp"}  # the local model is not loaded at start


def test_openai_compat_cloud_loads_no_litellm_no_redis_no_spacy(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(OPENAI_COMPAT_CLOUD)
    env = _worker_env(tmp_path, HYBRIDGW_POLICY_FILE=str(policy))
    assert _run(REQUEST_PATH, env) == "aiohttp"  # its HTTP client, and nothing else heavy
