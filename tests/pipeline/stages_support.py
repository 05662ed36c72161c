"""Build a real `Pipeline` on scripted in-process backends: no sockets, no threads but its own."""

from __future__ import annotations

import textwrap
import uuid
from dataclasses import dataclass
from pathlib import Path

from gateway.accounting import Accountant
from gateway.auth import Caller
from gateway.backends import BackendPool
from gateway.ledger.memory import InMemoryLedger
from gateway.pipeline import Exchange, Pipeline
from gateway.privacy import Privacy
from kernel.backends import LocalDefaults
from kernel.fakes import ScriptedBackend
from kernel.types import ChatRequest, Message
from policies.loader import LoadedPolicy, load_policy
from router.fakes import FakeClassifier

POLICY = """\
version: 1
reference_model: cloud
models:
  local: {tier: local, backend: openai_compat, model: local-model, api_base: "http://127.0.0.1:9/v1"}
  cloud: {tier: cloud, backend: litellm, model: openai/gpt-4o-mini,
          input_cost_per_token: 0.000001, output_cost_per_token: 0.000002}
pii:
  entities:
    EMAIL_ADDRESS: placeholder
    PERSON: placeholder
    SECRET: block
route:
  - {name: hard, when: {difficulty_gte: 0.7}, action: cloud_redacted, target: cloud,
     fallbacks: [local]}
default: {action: local, target: local, fallbacks: [cloud]}
"""


@dataclass
class Rig:
    pipeline: Pipeline
    policy: LoadedPolicy
    local: ScriptedBackend
    cloud: ScriptedBackend
    ledger: InMemoryLedger

    def exchange(self, text: str, *, stream: bool = False, **params: object) -> Exchange:
        req = ChatRequest(
            model="auto", messages=[Message(role="user", content=text)], stream=stream, **params
        )
        return Exchange(uuid.uuid4().hex, Caller("t1", "app1"), self.policy, req)


def rig(
    tmp_path: Path,
    *,
    difficulty: float = 0.0,
    local: ScriptedBackend | None = None,
    cloud: ScriptedBackend | None = None,
    policy: str = POLICY,
) -> Rig:
    path = tmp_path / "policy.yaml"
    path.write_text(textwrap.dedent(policy))
    loaded = load_policy(path)
    local = local or ScriptedBackend.echo(name="local")
    cloud = cloud or ScriptedBackend.echo(name="cloud")
    pool = BackendPool(LocalDefaults(), overrides={"local": local, "cloud": cloud})
    pool.configure(loaded.document.models)
    ledger = InMemoryLedger()
    pipeline = Pipeline(
        classifier=FakeClassifier(difficulty, 0.0),
        privacy=Privacy(),
        backends=pool,
        ledger=ledger,
        accountant=Accountant(),
    )
    return Rig(pipeline, loaded, local, cloud, ledger)
