"""The pipeline's view of the PII layer: scan a request into facts, redact cloud hops, restore.

Privacy *decisions* are not made here: `router.decide()` takes the facts computed here
(`PiiFacts` → `Features`) and alone decides which candidates may see text. This module only
carries out what the decision implies: every cloud hop gets the redacted copy whenever anything
was found, and answers from the cloud get their placeholders restored.

`Privacy` is built once per process. What depends only on the policy (its scanner, its operator
table, whether the model part must run) is computed once per loaded policy (`PolicyPrivacy`).
`Protection` is one request's immutable redaction result: its vault dies with the request.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property

from kernel.types import ChatChunk, ChatRequest, ChatResponse
from policies.entities import protected_types
from policies.pii import (
    OperatorTable,
    PiiScanner,
    RequestFindings,
    Vault,
    redact_request,
    resolve_operators,
)
from policies.pii.ner import MODEL_TYPES, NameEngine
from policies.pii.operators import REGISTRY
from policies.schema import PolicyDocument
from router.decision import Target

log = logging.getLogger(__name__)


def build_scanner(
    policy: PolicyDocument, *, engine: NameEngine, use_model: bool = True
) -> PiiScanner:
    """The one scanner construction for a policy (pipeline, `explain`, `pii redact`)."""
    return PiiScanner(
        protected_types(policy.pii.entities),
        use_model=use_model and policy.pii.scan_model,
        engine=engine,
    )


@dataclass(frozen=True, slots=True)
class PiiFacts:
    """What the scan found, as the router needs it (types only, never values)."""

    findings: RequestFindings
    types: frozenset[str]
    blocked: frozenset[str]
    unscanned: frozenset[str]


class PolicyPrivacy:
    """Everything about PII that depends only on one policy, computed once for it."""

    def __init__(self, policy: PolicyDocument, scanner: PiiScanner) -> None:
        self.policy = policy
        self.scanner = scanner
        self.operators: OperatorTable = resolve_operators(policy.pii.entities)
        self.model_types = frozenset(scanner.entities & MODEL_TYPES)

    @cached_property
    def model_part_needed(self) -> bool:
        """The model part (names, places) runs whenever the policy protects a type only it finds
        and some model alias is a cloud one: the text must be checked before any cloud hop."""
        has_cloud = any(m.tier == "cloud" for m in self.policy.models.values())
        return bool(self.model_types) and self.scanner.model_enabled and has_cloud

    def scan(self, req: ChatRequest) -> PiiFacts:
        """Scan every segment of `req` (blocking: call it off the event loop)."""
        include_model = self.model_part_needed
        findings = self.scanner.scan_request(req, include_model=include_model)
        unscanned = (
            self.model_types if include_model and not findings.model_checked else frozenset()
        )
        if unscanned:
            log.warning("PII model unavailable: cloud hops withheld for this request")
        types = findings.types
        blocked = frozenset(t for t in types if REGISTRY[self.operators[t]].refuses)
        return PiiFacts(findings, types, blocked, unscanned)

    def protect(
        self, req: ChatRequest, facts: PiiFacts, cloud_hops: tuple[Target, ...]
    ) -> Protection:
        """Redact the copy every cloud hop receives (nothing to do without findings or hops)."""
        if not facts.findings or not cloud_hops:
            return Protection(original=req, counts=facts.findings.counts)
        redacted, vault = redact_request(req, facts.findings, self.operators)
        return Protection(
            original=req, counts=facts.findings.counts, redacted=redacted, vault=vault
        )


class Privacy:
    """One `PolicyPrivacy` per loaded policy version, and one scanner per set of entity types."""

    def __init__(self, *, use_model: bool = True, engine: NameEngine = "tagger") -> None:
        self._use_model = use_model
        self._engine: NameEngine = engine
        self._scanners: dict[tuple[frozenset[str], bool], PiiScanner] = {}
        self._per_policy: dict[str, PolicyPrivacy] = {}

    def for_policy(self, version: str, policy: PolicyDocument) -> PolicyPrivacy:
        found = self._per_policy.get(version)
        if found is None:
            scanner = self._scanner(policy)
            found = self._per_policy[version] = PolicyPrivacy(policy, scanner)
            if len(self._per_policy) > 16:  # reloads: keep the newest few
                self._per_policy.pop(next(iter(self._per_policy)))
        return found

    def _scanner(self, policy: PolicyDocument) -> PiiScanner:
        key = (protected_types(policy.pii.entities), self._use_model and policy.pii.scan_model)
        if key not in self._scanners:
            self._scanners[key] = build_scanner(
                policy, engine=self._engine, use_model=self._use_model
            )
        return self._scanners[key]

    def warm_up(self, version: str, policy: PolicyDocument) -> bool:
        """Build the policy's scanner and load its model now (called at start-up)."""
        return self.for_policy(version, policy).scanner.load()


class Restorer:
    """Restores one streamed answer; a pass-through when nothing was redacted."""

    def __init__(self, vault: Vault | None) -> None:
        self._inner = vault.stream_restorer() if vault is not None else None

    @property
    def passthrough(self) -> bool:
        return self._inner is None

    def feed(self, chunk: ChatChunk) -> Iterator[ChatChunk]:
        yield chunk if self._inner is None else self._inner.restore_chunk(chunk)

    def flush(self, chunk_id: str, model: str) -> Iterator[ChatChunk]:
        if self._inner is not None and (tail := self._inner.drain_chunk(chunk_id, model)):
            yield tail


@dataclass(frozen=True, slots=True)
class Protection:
    """One request's redaction: what each hop receives and how its answer comes back."""

    original: ChatRequest
    counts: Mapping[str, int]
    redacted: ChatRequest | None = None
    vault: Vault | None = None

    def outgoing(self, target: Target) -> ChatRequest:
        """The request as `target` may see it: the redacted copy for cloud hops."""
        if target.tier == "cloud" and self.redacted is not None:
            return self.redacted
        return self.original

    def restores(self, target: Target | None) -> bool:
        return target is not None and target.tier == "cloud" and self.vault is not None

    def restore_response(self, response: ChatResponse, target: Target | None) -> ChatResponse:
        if self.vault is not None and self.restores(target):
            return self.vault.restore_response(response)
        return response

    def stream_restorer(self, target: Target | None) -> Restorer:
        return Restorer(self.vault if self.restores(target) else None)
