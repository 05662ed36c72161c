"""`explain`: what the gateway would do with a request, without calling any backend.

Shared by `POST /admin/explain` and `hybridgw policy explain`, so both print the same JSON
(`policies.explain.explain_report`).
"""

from __future__ import annotations

import uuid
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from gateway.auth import Caller
from gateway.pipeline import Exchange
from gateway.services import Services
from kernel.errors import InvalidRequest
from kernel.types import ChatRequest, Message
from policies.explain import explain_report
from policies.schema import PolicyDocument


class ExplainRequest(BaseModel):
    """A prompt (or chat messages) to explain, as if sent by `app` asking for `model`."""

    model_config = ConfigDict(extra="forbid")

    prompt: str | None = Field(default=None, min_length=1)
    messages: list[Message] | None = Field(default=None, min_length=1)
    app: str | None = Field(default=None, description="A policy app name (default: no app).")
    model: str = Field(default="auto", min_length=1, description="'auto' or a model alias.")

    @model_validator(mode="after")
    def _one_input(self) -> Self:
        if (self.prompt is None) == (self.messages is None):
            raise ValueError("give exactly one of 'prompt' or 'messages'")
        return self

    def chat_request(self) -> ChatRequest:
        messages = self.messages or [Message(role="user", content=self.prompt)]
        return ChatRequest(model=self.model, messages=messages)


def caller_for(document: PolicyDocument, app: str | None) -> Caller:
    """The caller `app` stands for in the policy; without an app, tenant and app `default`."""
    if app is None:
        return Caller(tenant="default", app="default")
    for entry in document.apps:
        if entry.name == app:
            return Caller(tenant=entry.tenant, app=entry.name, cache=entry.cache)
    known = ", ".join(a.name for a in document.apps) or "none"
    raise InvalidRequest(f"no app named '{app}' in the policy (apps: {known})", param="app")


async def explain(services: Services, request: ExplainRequest) -> dict[str, Any]:
    """Scores, PII findings (types and spans), the decision and the policy version."""
    policy = services.policies.current
    caller = caller_for(policy.document, request.app)
    ex = Exchange(uuid.uuid4().hex, caller, policy, request.chat_request())
    result = await services.pipeline.explain(ex)
    return explain_report(
        result.features, result.decision, result.findings, policy_version=result.policy_version
    )
