"""The pipeline's view of the PII layer: scan a request, protect its cloud hops, restore answers.

`Privacy` is built once and keeps one `PiiScanner` per set of protected entity types (so a policy
reload that changes them gets a fresh scanner). `Protection` lives for one request and holds that
request's vault, so placeholders and their values die with the request.

The scan is split as the policy layer designed it: the pattern-and-validator part runs on every
request; the model part (names, addresses) runs in a worker thread, and only when the decision
can still send the request to the cloud.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Literal

from policies.entities import protected_types
from policies.pii import PiiScanner, RequestFindings, Vault, redact_request
from policies.pii.ner import MODEL_TYPES, NameEngine
from policies.schema import PolicyDocument
from router.decision import RouteDecision, Target
from kernel.errors import PolicyBlocked
from kernel.types import ChatChunk, ChatRequest, ChatResponse

log = logging.getLogger(__name__)


class Restorer:
    """Restores one streamed answer; a pass-through when nothing was redacted."""

    def __init__(self, vault: Vault | None) -> None:
        self._inner = vault.stream_restorer() if vault is not None else None

    def feed(self, chunk: ChatChunk) -> Iterator[ChatChunk]:
        yield chunk if self._inner is None else self._inner.restore_chunk(chunk)

    def flush(self, chunk_id: str, model: str) -> Iterator[ChatChunk]:
        if self._inner is not None and (tail := self._inner.drain_chunk(chunk_id, model)):
            yield tail


@dataclass(slots=True)
class Protection:
    """One request's redaction state: what each backend receives and how answers come back."""

    original: ChatRequest
    redacted: ChatRequest | None = None
    vault: Vault | None = None
    counts: Mapping[str, int] = field(default_factory=dict)
    cloud_refused: str | None = None  # why no cloud hop is allowed (a `block` operator matched)
    refused_first_choice: bool = False  # ... and the decision's own target was a cloud model

    def allows(self, target: Target) -> bool:
        return target.tier == "local" or self.cloud_refused is None

    def outgoing(self, target: Target) -> ChatRequest:
        """The request as `target` may see it: the redacted copy for cloud hops."""
        if target.tier == "cloud" and self.redacted is not None:
            return self.redacted
        return self.original

    def restores(self, target: Target | None) -> bool:
        return target is not None and target.tier == "cloud" and self.vault is not None

    def restore_response(self, response: ChatResponse, target: Target | None) -> ChatResponse:
        if self.restores(target):
            assert self.vault is not None
            return self.vault.restore_response(response)
        return response

    def stream_restorer(self, target: Target | None) -> Restorer:
        return Restorer(self.vault if self.restores(target) else None)


ModelScan = Literal["now", "later", "never"]


def _rules_read_model_types(policy: PolicyDocument) -> bool:
    """True when some rule's outcome can depend on what only the model finds."""
    return any(
        rule.when.pii_present is not None or bool(MODEL_TYPES.intersection(rule.when.pii_any or ()))
        for rule in (*policy.protect, *policy.route)
    )


class Privacy:
    """Scans requests for the policy's PII entity types and redacts cloud-bound copies."""

    def __init__(self, *, use_model: bool = True, engine: NameEngine = "tagger") -> None:
        self._use_model = use_model
        self._engine: NameEngine = engine
        self._scanners: dict[frozenset[str], PiiScanner] = {}

    def scanner(self, policy: PolicyDocument) -> PiiScanner:
        types = protected_types(policy.pii.entities)
        if types not in self._scanners:
            use_model = self._use_model and policy.pii.scan_model
            self._scanners[types] = PiiScanner(types, use_model=use_model, engine=self._engine)
        return self._scanners[types]

    def warm_up(self, policy: PolicyDocument) -> bool:
        """Build the policy's scanner and load its model now (called at start-up)."""
        return self.scanner(policy).load()

    def scan_fast(self, req: ChatRequest, policy: PolicyDocument) -> RequestFindings:
        return self.scanner(policy).scan_request(req, include_model=False)

    async def scan_full(self, req: ChatRequest, policy: PolicyDocument) -> RequestFindings:
        scanner = self.scanner(policy)
        return await asyncio.to_thread(scanner.scan_request, req, include_model=True)

    def model_scan(self, decision: RouteDecision, policy: PolicyDocument) -> ModelScan:
        """When to run the model part (names, places), whose cost only pays off in two cases.

        `now`: the first choice is a cloud model (its copy must be redacted), or a rule of the
        policy looks at model-found types, so the findings can change the decision itself.
        `later`: only a fallback is a cloud model; scan just before that hop, if it happens.
        `never`: no cloud hop is possible, or the policy or installation has no model.
        """
        if not (policy.pii.scan_model and self.scanner(policy).model_enabled):
            return "never"
        cloud = [t for t in decision.candidates() if t.tier == "cloud"]
        if not cloud:
            return "now" if _rules_read_model_types(policy) else "never"
        if decision.target is cloud[0] or _rules_read_model_types(policy):
            return "now"
        return "later"

    def protect(
        self,
        req: ChatRequest,
        findings: RequestFindings,
        decision: RouteDecision,
        policy: PolicyDocument,
    ) -> Protection:
        """Redact the cloud-bound copy; a `block` operator match records why the cloud is off."""
        protection = Protection(original=req, counts=dict(findings.counts))
        cloud = [t for t in decision.candidates() if t.tier == "cloud"]
        if not findings or not decision.redact or not cloud:
            return protection
        try:
            protection.redacted, protection.vault = redact_request(
                req, findings, policy.pii.entities
            )
        except PolicyBlocked as exc:
            protection.cloud_refused = exc.message
            protection.refused_first_choice = decision.target is cloud[0]
        return protection
