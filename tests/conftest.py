"""Shared fixtures: mock upstreams on 127.0.0.1, policy files, and an in-process gateway client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from support import policy_yaml

from cloud_backends.mock_upstream import MockUpstream
from gateway.app import create_app
from gateway.ledger.memory import InMemoryLedger
from gateway.settings import Settings
from router.fakes import FakeClassifier


@pytest.fixture(scope="session")
def cloud_mock() -> Any:
    mock = MockUpstream().start()
    yield mock
    mock.stop()


@pytest.fixture(scope="session")
def local_mock() -> Any:
    mock = MockUpstream().start()
    yield mock
    mock.stop()


@pytest.fixture(autouse=True)
def _fresh_recordings(request: pytest.FixtureRequest) -> None:
    for name in ("cloud_mock", "local_mock"):
        if name in request.fixturenames:
            request.getfixturevalue(name).requests.clear()


@pytest.fixture
def write_policy(
    tmp_path: Path, cloud_mock: MockUpstream, local_mock: MockUpstream
) -> Callable[..., Path]:
    def write(text: str | None = None, name: str = "policy.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text or policy_yaml(cloud_mock.base_url, local_mock.base_url))
        return path

    return write


@dataclass
class Gateway:
    client: httpx.AsyncClient
    ledger: InMemoryLedger
    classifier: FakeClassifier
    app: Any


@pytest.fixture
def gateway(
    write_policy: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Any]:
    """Factory: `async with gateway(difficulty=0.9) as gw:` → an in-process gateway."""
    monkeypatch.setenv("HYBRIDGW_TEST_CLOUD_KEY", "sk-cloud-secret")

    @asynccontextmanager
    async def start(
        *,
        difficulty: float = 0.0,
        sensitivity: float = 0.0,
        policy: Path | None = None,
        **settings: Any,
    ) -> AsyncIterator[Gateway]:
        ledger = InMemoryLedger()
        classifier = FakeClassifier(difficulty, sensitivity)
        app = create_app(
            Settings(
                policy_file=policy or write_policy(),
                load_local_on_start=False,
                classifier="fake",
                **settings,
            ),
            classifier=classifier,
            ledger=ledger,
        )
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
                yield Gateway(client, ledger, classifier, app)

    return start
