"""Admin API: policy status, reload (good, bad, unchanged), explain; all admin-key only."""

from __future__ import annotations

import pytest
from support import AUTH, chat_body

ADMIN = {"authorization": "Bearer sk-admin-test"}
EMAIL_PII = "pii:\n  scan_model: false\n  entities: {EMAIL_ADDRESS: placeholder}\n"


@pytest.fixture
def admin_gateway(gateway):
    def start(**kwargs):
        return gateway(admin_key="sk-admin-test", policy_watch=False, **kwargs)

    return start


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/admin/policy"), ("POST", "/admin/policy/reload"), ("POST", "/admin/explain")],
)
async def test_admin_routes_need_the_admin_key(admin_gateway, method, path):
    async with admin_gateway() as gw:
        missing = await gw.client.request(method, path)
        app_key = await gw.client.request(method, path, headers=AUTH)
    assert missing.status_code == 401
    assert app_key.status_code == 403
    assert app_key.json()["error"]["code"] == "permission_denied"


async def test_status_shows_version_path_and_no_error(admin_gateway, write_policy):
    path = write_policy()
    async with admin_gateway(policy=path) as gw:
        r = await gw.client.get("/admin/policy", headers=ADMIN)
    body = r.json()
    assert r.status_code == 200
    assert body["path"] == str(path) and len(body["version"]) == 12
    assert body["last_error"] is None and body["reload_failures"] == 0
    assert body["loaded_at"].endswith("+00:00")


async def test_reload_swaps_to_the_new_version_and_requests_record_it(admin_gateway, write_policy):
    path = write_policy()
    async with admin_gateway(policy=path) as gw:
        before = (await gw.client.get("/admin/policy", headers=ADMIN)).json()["version"]
        path.write_text(path.read_text().replace("difficulty_gte: 0.7", "difficulty_gte: 0.5"))
        r = await gw.client.post("/admin/policy/reload", headers=ADMIN)
        chat = await gw.client.post("/v1/chat/completions", json=chat_body(), headers=AUTH)
        [entry] = gw.ledger.entries
    assert r.status_code == 200, r.text
    assert r.json()["previous_version"] == before and r.json()["changed"] is True
    after = r.json()["version"]
    assert after != before
    assert chat.headers["x-route-policy"] == after
    assert entry.policy_version == after


async def test_unchanged_file_reloads_as_a_no_op(admin_gateway):
    async with admin_gateway() as gw:
        r = await gw.client.post("/admin/policy/reload", headers=ADMIN)
    assert r.status_code == 200 and r.json()["changed"] is False


async def test_bad_reload_is_422_with_location_and_old_policy_stays(admin_gateway, write_policy):
    path = write_policy()
    async with admin_gateway(policy=path) as gw:
        before = (await gw.client.get("/admin/policy", headers=ADMIN)).json()["version"]
        path.write_text(path.read_text().replace("target: cloud", "target: gpt-5"))
        r = await gw.client.post("/admin/policy/reload", headers=ADMIN)
        status = (await gw.client.get("/admin/policy", headers=ADMIN)).json()
        chat = await gw.client.post("/v1/chat/completions", json=chat_body(), headers=AUTH)
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["code"] == "policy_error" and error["param"] == "policy_file"
    assert error["message"].startswith(f"{path}:")
    assert "route.0.target: rule 'hard': unknown model alias 'gpt-5'" in error["message"]
    assert status["version"] == before
    assert status["last_error"] == error["message"] and status["reload_failures"] == 1
    assert chat.status_code == 200 and chat.headers["x-route-policy"] == before


async def test_explain_reports_scores_pii_spans_rule_and_targets(admin_gateway, write_policy):
    from support import policy_yaml

    text = policy_yaml("http://127.0.0.1:9/v1", "http://127.0.0.1:9/v1", extra=EMAIL_PII)
    path = write_policy(text)
    prompt = "Write to ada@example.com about the proof."
    async with admin_gateway(policy=path, difficulty=0.9) as gw:
        r = await gw.client.post(
            "/admin/explain", json={"prompt": prompt, "app": "app1"}, headers=ADMIN
        )
        version = (await gw.client.get("/admin/policy", headers=ADMIN)).json()["version"]
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["policy_version"] == version
    assert body["scores"] == {"difficulty": 0.9, "sensitivity": 0.0}
    assert body["request"]["app"] == "app1" and body["request"]["tenant"] == "t1"
    [finding] = body["pii"]["findings"]
    assert finding["type"] == "EMAIL_ADDRESS" and finding["message"] == 0
    assert prompt[finding["start"] : finding["end"]] == "ada@example.com"
    assert "ada@example.com" not in r.text
    decision = body["decision"]
    assert (decision["rule"], decision["action"], decision["redact"]) == (
        "hard",
        "cloud_redacted",
        True,
    )
    assert decision["reason"] == "difficulty 0.90 >= 0.70"
    assert decision["target"]["alias"] == "cloud" and decision["target"]["tier"] == "cloud"
    assert [f["alias"] for f in decision["fallbacks"]] == ["local"]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({}, None),
        ({"prompt": "hi", "messages": [{"role": "user", "content": "hi"}]}, None),
        ({"prompt": "hi", "app": "nope"}, "app"),
        ({"prompt": "hi", "colour": "blue"}, "colour"),
    ],
)
async def test_explain_rejects_bad_bodies(admin_gateway, body, param):
    async with admin_gateway() as gw:
        r = await gw.client.post("/admin/explain", json=body, headers=ADMIN)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["param"] == param


async def test_explain_accepts_messages_and_a_pinned_model(admin_gateway):
    body = {
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Say hello."},
        ],
        "model": "cloud",
    }
    async with admin_gateway() as gw:
        r = await gw.client.post("/admin/explain", json=body, headers=ADMIN)
    assert r.status_code == 200, r.text
    decision = r.json()["decision"]
    assert decision["rule"] == "pinned:cloud" and decision["action"] == "cloud_redacted"
    assert r.json()["request"]["model"] == "cloud"
