"""API keys → callers; admin and finance roles; keys compared by digest and never logged."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest
from pydantic import SecretStr
from support import AUTH, TEST_KEY, chat_body

from gateway.api.roles import require_role
from gateway.auth import authenticate, bearer_token, check_secret, key_digest
from kernel.errors import AuthenticationFailed, PermissionDenied
from policies.schema import AppKey, PolicyDocument


def document(*apps: AppKey) -> PolicyDocument:
    return PolicyDocument.model_validate(
        {
            "version": 1,
            "reference_model": "cloud",
            "models": {
                "local": {
                    "tier": "local",
                    "backend": "openai_compat",
                    "model": "m",
                    "api_base": "http://127.0.0.1:9/v1",
                },
                "cloud": {"tier": "cloud", "backend": "litellm", "model": "openai/gpt-4o-mini"},
            },
            "apps": [a.model_dump() for a in apps],
            "default": {"action": "local", "target": "local"},
        }
    )


POLICY = document(
    AppKey(name="app1", tenant="t1", key_sha256=key_digest("sk-one"), cache=True),
    AppKey(name="app2", tenant="t2", key_sha256=key_digest("sk-two")),
)


@pytest.mark.parametrize(
    ("header", "tenant", "app"),
    [("Bearer sk-one", "t1", "app1"), ("bearer   sk-two ", "t2", "app2")],
)
def test_a_known_key_maps_to_its_tenant_and_app(header, tenant, app):
    caller = authenticate(POLICY, header)
    assert (caller.tenant, caller.app) == (tenant, app)
    assert caller.key_id == key_digest(header.split()[-1])[:12]


def test_the_cache_opt_in_travels_with_the_caller():
    assert authenticate(POLICY, "Bearer sk-one").cache is True
    assert authenticate(POLICY, "Bearer sk-two").cache is False


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (None, "Missing API key"),
        ("", "Missing API key"),
        ("Basic sk-one", "Malformed Authorization header"),
        ("Bearer ", "Malformed Authorization header"),
        ("Bearer sk-three", "Invalid API key"),
        ("Bearer SK-ONE", "Invalid API key"),
    ],
)
def test_missing_malformed_or_unknown_keys_are_401(header, message):
    with pytest.raises(AuthenticationFailed, match=message) as caught:
        authenticate(POLICY, header)
    assert caught.value.status == 401


def test_the_policy_holds_digests_not_keys():
    assert "sk-one" not in POLICY.model_dump_json()
    with pytest.raises(ValueError, match="key_sha256"):
        AppKey(name="a", tenant="t", key_sha256="sk-one")


def test_check_secret_needs_a_configured_key_and_an_exact_match():
    assert check_secret("adm", "Bearer adm")
    assert not check_secret("adm", "Bearer adm2")
    assert not check_secret(None, "Bearer adm")
    assert not check_secret("", "Bearer ")
    assert not check_secret("adm", None)
    assert bearer_token("Bearer  x ") == "x"


def fake_request(header: str | None, admin: str | None, finance: str | None) -> SimpleNamespace:
    settings = SimpleNamespace(
        admin_key=SecretStr(admin) if admin else None,
        finance_key=SecretStr(finance) if finance else None,
    )
    app = SimpleNamespace(state=SimpleNamespace(services=SimpleNamespace(settings=settings)))
    return SimpleNamespace(app=app, headers={"authorization": header} if header else {})


@pytest.mark.parametrize(
    ("header", "role", "outcome"),
    [
        ("Bearer adm", "admin", None),
        ("Bearer adm", "finance", None),
        ("Bearer fin", "finance", None),
        ("Bearer fin", "admin", PermissionDenied),
        ("Bearer sk-one", "finance", PermissionDenied),
        (None, "admin", AuthenticationFailed),
    ],
)
def test_admin_key_grants_everything_and_finance_key_only_finance(header, role, outcome):
    request = fake_request(header, "adm", "fin")
    if outcome is None:
        require_role(request, request.app.state.services, role)  # type: ignore[arg-type]
    else:
        with pytest.raises(outcome):
            require_role(request, request.app.state.services, role)  # type: ignore[arg-type]


def test_an_unconfigured_role_says_how_to_enable_it():
    with pytest.raises(PermissionDenied, match="HYBRIDGW_ADMIN_KEY"):
        request = fake_request("Bearer x", None, None)
        require_role(request, request.app.state.services, "admin")  # type: ignore[arg-type]


async def test_keys_never_reach_the_log(gateway, caplog):
    caplog.set_level(logging.DEBUG)
    async with gateway() as gw:
        ok = await gw.client.post("/v1/chat/completions", json=chat_body(), headers=AUTH)
        bad = await gw.client.post(
            "/v1/chat/completions",
            json=chat_body(),
            headers={"authorization": "Bearer sk-wrong-secret"},
        )
    assert (ok.status_code, bad.status_code) == (200, 401)
    assert TEST_KEY not in caplog.text and "sk-wrong-secret" not in caplog.text
    assert "sk-wrong-secret" not in bad.text
