"""The chat route's fast lane answers exactly as the framework's stack does, errors included."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from support import AUTH, chat_body

from gateway.app import create_app
from gateway.ledger.memory import InMemoryLedger
from gateway.settings import Settings
from router.fakes import FakeClassifier


class ExplodingClassifier(FakeClassifier):
    def score(self, text: str) -> dict[str, float]:
        raise RuntimeError("boom")


@asynccontextmanager
async def client(
    policy: Path, *, fast: bool, classifier: FakeClassifier | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(
        Settings(policy_file=policy, load_local_on_start=False, classifier="fake"),
        classifier=classifier or FakeClassifier(0.0, 0.0),
        ledger=InMemoryLedger(),
    )
    async with app.router.lifespan_context(app):
        assert app.fast_lane == {"/v1/chat/completions"}  # on by default
        if not fast:  # as with tracing on: every request takes the framework's stack
            assert not app.enable_fast_lane({"/v1/chat/completions": _never}, tracing=True)
            assert app.fast_lane == frozenset()
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as c:
            yield c


async def _never(request: Any) -> Any:
    raise AssertionError("the lane is off")


def _shape(r: httpx.Response) -> tuple[int, str | None, Any, bool]:
    error = r.json().get("error", {})
    return (
        r.status_code,
        r.headers.get("content-type"),
        error.get("code"),
        "x-request-id" in r.headers,
    )


@pytest.mark.parametrize(
    ("method", "body", "headers"),
    [
        ("POST", chat_body(), {}),  # no key: 401
        ("POST", {"model": "auto", "messages": "hi"}, AUTH),  # wrong type: 400
        ("GET", None, AUTH),  # wrong method: 405, from the router
    ],
)
async def test_errors_are_the_same_with_and_without_the_lane(write_policy, method, body, headers):
    shapes = []
    for fast in (True, False):
        async with client(write_policy(), fast=fast) as c:
            r = await c.request(method, "/v1/chat/completions", json=body, headers=headers)
            shapes.append(_shape(r))
    assert shapes[0] == shapes[1]
    assert shapes[0][0] in (400, 401, 405)


async def test_an_unexpected_error_is_a_500_with_the_request_id_on_both_paths(write_policy):
    answers = []
    for fast in (True, False):
        async with client(write_policy(), fast=fast, classifier=ExplodingClassifier()) as c:
            r = await c.post("/v1/chat/completions", json=chat_body(), headers=AUTH)
            answers.append(r)
    for r in answers:
        assert r.status_code == 500
        assert r.json()["error"]["message"] == (
            f"Internal error (request id {r.headers['x-request-id']})."
        )
        assert "boom" not in r.text


async def test_the_lane_stays_off_when_middleware_is_installed(write_policy):
    app = create_app(
        Settings(
            policy_file=write_policy(),
            load_local_on_start=False,
            classifier="fake",
            cors_origins="https://app.example.com",
        ),
        classifier=FakeClassifier(0.0, 0.0),
        ledger=InMemoryLedger(),
    )
    async with app.router.lifespan_context(app):
        assert app.fast_lane == frozenset()
    assert not app.enable_fast_lane({"/v1/chat/completions": _never}, tracing=False)
