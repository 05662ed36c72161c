"""/v1/embeddings: the shipped local encoder by default, cloud by policy — and sensitive text or
PII never reaches a cloud embedding model (the recording mock proves it)."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest
from support import AUTH, policy_yaml

from cloud_backends.mock_upstream import MockUpstream
from policies.embeddings import EmbeddingsConfig

EMAIL, NAME = "maria.gonzalez@example.com", "Maria Gonzalez"


class EmbeddingMock(MockUpstream):
    """The recording mock, answering /embeddings with a vector derived from each input."""

    async def _respond(self, writer, path, body):
        if not path.rstrip("/").endswith("/embeddings"):
            return await super()._respond(writer, path, body)
        payload = json.loads(body)
        texts = payload["input"] if isinstance(payload["input"], list) else [payload["input"]]
        size = int(payload.get("dimensions") or 8)
        data = [
            {"object": "embedding", "index": i, "embedding": [float(len(t))] + [0.5] * (size - 1)}
            for i, t in enumerate(texts)
        ]
        tokens = sum(len(t.split()) for t in texts)
        usage = {"prompt_tokens": tokens, "total_tokens": tokens}
        return self._send(
            writer, 200, {"object": "list", "data": data, "model": "m", "usage": usage}
        )


@pytest.fixture(scope="module")
def embed_mock():
    mock = EmbeddingMock().start()
    yield mock
    mock.stop()


@pytest.fixture(autouse=True)
def _clear(embed_mock):
    embed_mock.requests.clear()


def _embeddings_policy(
    write_policy, cloud_mock, local_mock, embed_mock, local_target="", budgets=""
):
    extra = f"""\
{budgets}
pii:
  entities: {{EMAIL_ADDRESS: placeholder, PERSON: placeholder}}
embeddings:
  default: cloud-embed
  reference_model: cloud-embed
  sensitive_at: 0.6
  {local_target}
  models:
    minilm: {{tier: local, backend: onnx}}
    cloud-embed:
      tier: cloud
      backend: litellm
      model: openai/text-embedding-3-small
      api_base: "{embed_mock.base_url}"
      dimensions: [4, 8]
      input_cost_per_token: 0.00000002
"""
    return write_policy(policy_yaml(cloud_mock.base_url, local_mock.base_url, extra))


async def test_default_is_the_shipped_local_encoder(gateway):
    texts = [
        "A man is playing a guitar.",
        "Someone is playing an instrument.",
        "The central bank raised interest rates.",
    ]
    async with gateway() as gw:
        r = await gw.client.post(
            "/v1/embeddings", json={"model": "auto", "input": texts}, headers=AUTH
        )
        b64 = await gw.client.post(
            "/v1/embeddings",
            json={"model": "minilm", "input": texts[0], "encoding_format": "base64"},
            headers=AUTH,
        )
        entries = list(gw.ledger.entries)
    assert r.status_code == 200, r.text
    assert r.headers["x-route-tier"] == "local" and r.headers["x-route-model"] == "minilm"
    body = r.json()
    vectors = np.array([d["embedding"] for d in body["data"]])
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    sims = vectors @ vectors.T
    assert sims[0, 1] > 0.5 > sims[0, 2]  # paraphrases close, unrelated far
    decoded = np.frombuffer(base64.b64decode(b64.json()["data"][0]["embedding"]), "<f4")
    assert np.allclose(decoded, vectors[0], atol=1e-6)
    assert body["usage"]["prompt_tokens"] == entries[0].prompt_tokens > 0
    assert entries[0].tier == "local" and entries[0].backend == "onnx"
    assert entries[0].rule == "embeddings:default" and entries[0].cost_usd == 0.0


async def test_bad_embedding_requests_are_400s(gateway):
    cases = [
        {"model": "auto", "input": [1, 2, 3]},
        {"model": "auto", "input": [[1, 2]]},
        {"model": "auto", "input": []},
        {"model": "auto", "input": ""},
        {"model": "auto", "input": "x", "dimensions": 128},
        {"model": "auto", "input": "x", "encoding_format": "int8"},
    ]
    async with gateway() as gw:
        for body in cases:
            r = await gw.client.post("/v1/embeddings", json=body, headers=AUTH)
            assert r.status_code == 400, (body, r.text)
            assert r.json()["error"]["type"] == "invalid_request_error"
        missing = await gw.client.post(
            "/v1/embeddings", json={"model": "nope", "input": "x"}, headers=AUTH
        )
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "model_not_found"


async def test_clean_text_goes_to_the_cloud_model_and_is_priced(
    gateway, write_policy, cloud_mock, local_mock, embed_mock
):
    policy = _embeddings_policy(write_policy, cloud_mock, local_mock, embed_mock)
    body = {"model": "auto", "input": ["the weather is nice", "cats sleep a lot"], "dimensions": 4}
    async with gateway(sensitivity=0.1, policy=policy) as gw:
        r = await gw.client.post("/v1/embeddings", json=body, headers=AUTH)
        entry = gw.ledger.entries[0]
    assert r.status_code == 200, r.text
    assert r.headers["x-route-tier"] == "cloud"
    assert [d["embedding"][0] for d in r.json()["data"]] == [19.0, 16.0]
    sent = embed_mock.requests[0].json()
    assert sent["input"] == body["input"] and sent["dimensions"] == 4
    assert entry.prompt_tokens == 8 and entry.cost_usd == pytest.approx(8 * 2e-8)
    assert entry.tier == "cloud" and entry.model == "cloud-embed"


@pytest.mark.parametrize(
    ("sensitivity", "text"),
    [(0.1, f"Contact {NAME} at {EMAIL} about the invoice."), (0.9, "my diagnosis came back")],
    ids=["pii", "sensitive"],
)
async def test_sensitive_or_pii_text_never_reaches_a_cloud_embedding_model(
    sensitivity, text, gateway, write_policy, cloud_mock, local_mock, embed_mock
):
    policy = _embeddings_policy(write_policy, cloud_mock, local_mock, embed_mock)
    batch = {"model": "auto", "input": ["the weather is nice", text]}
    async with gateway(sensitivity=sensitivity, policy=policy) as gw:
        r = await gw.client.post("/v1/embeddings", json=batch, headers=AUTH)
        entry = gw.ledger.entries[0]
    assert r.status_code == 403, r.text
    assert "never sent to a cloud embedding model" in r.json()["error"]["message"]
    assert not embed_mock.requests  # the clean text in the same batch did not go either
    assert entry.status == 403 and entry.prompt_tokens == 0
    assert EMAIL not in r.text


async def test_sensitive_text_is_served_locally_when_the_policy_says_so(
    gateway, write_policy, cloud_mock, local_mock, embed_mock
):
    policy = _embeddings_policy(
        write_policy, cloud_mock, local_mock, embed_mock, "local_target: minilm"
    )
    body = {"model": "cloud-embed", "input": f"Write to {NAME} at {EMAIL}."}
    async with gateway(policy=policy) as gw:
        r = await gw.client.post("/v1/embeddings", json=body, headers=AUTH)
        entry = gw.ledger.entries[0]
    assert r.status_code == 200, r.text
    assert r.headers["x-route-rule"] == "embeddings:sensitive-local"
    assert r.headers["x-route-model"] == "minilm" and len(r.json()["data"][0]["embedding"]) == 384
    assert not embed_mock.requests
    assert entry.pii_counts["EMAIL_ADDRESS"] == 1 and entry.tier == "local"


@pytest.mark.parametrize("local_target", ["", "local_target: minilm"], ids=["refuse", "local"])
async def test_over_the_soft_budget_cloud_embeddings_pause(
    local_target, gateway, write_policy, cloud_mock, local_mock, embed_mock
):
    budgets = "budgets: {tenants: {t1: {monthly_usd: {soft: 0, hard: 100}}}}"
    policy = _embeddings_policy(
        write_policy, cloud_mock, local_mock, embed_mock, local_target, budgets
    )
    async with gateway(policy=policy) as gw:
        r = await gw.client.post(
            "/v1/embeddings", json={"model": "auto", "input": "the weather"}, headers=AUTH
        )
    assert not embed_mock.requests
    if local_target:
        assert r.status_code == 200 and r.headers["x-route-rule"] == "embeddings:soft-budget-local"
    else:
        assert r.status_code == 429 and r.json()["error"]["code"] == "budget_exceeded"


def test_embeddings_section_is_validated_strictly():
    with pytest.raises(ValueError, match="unknown embedding alias"):
        EmbeddingsConfig.model_validate({"default": "nope"})
    with pytest.raises(ValueError, match="must be a local alias"):
        EmbeddingsConfig.model_validate(
            {
                "default": "c",
                "local_target": "c",
                "models": {"c": {"tier": "cloud", "backend": "litellm", "model": "openai/x"}},
            }
        )
    with pytest.raises(ValueError, match="serves the local tier"):
        EmbeddingsConfig.model_validate(
            {"models": {"minilm": {"tier": "cloud", "backend": "onnx"}}}
        )
    with pytest.raises(ValueError, match="Extra inputs"):
        EmbeddingsConfig.model_validate({"threshold": 0.3})


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ("embeddings:\n  default: nope\n", "embeddings.default: unknown embedding alias 'nope'"),
        (
            "embeddings:\n  models:\n    local: {tier: local, backend: onnx}\n  default: local\n",
            "embeddings.models.local: embedding alias 'local' is also a chat model alias",
        ),
        ("embeddings:\n  sensitiv_at: 0.3\n", "did you mean 'sensitive_at'?"),
    ],
)
def test_policy_file_errors_in_the_embeddings_section_are_located(section, message):
    from policies.loader import default_policy_path, parse_policy

    text = default_policy_path().read_text() + section
    with pytest.raises(Exception, match=r"p\.yaml:\d+:\d+: ") as info:
        parse_policy(text.encode(), "p.yaml")
    assert message in str(info.value)
