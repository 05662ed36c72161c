"""What the gateway would do with a prompt, as one JSON-able dict (CLI `policy explain` and
`POST /admin/explain` print exactly this).

PII findings are reported as entity types and character spans, never the matched values.
"""

from __future__ import annotations

from typing import Any

from policies.entities import protected_types
from policies.pii import PiiScanner, RequestFindings
from policies.schema import PolicyDocument
from router.decision import Features, RouteDecision, Target
from router.types import ChatRequest


class FindingsScanner:
    """Scans a request with a policy's PII entity types; one scanner kept per set of types."""

    def __init__(self) -> None:
        self._scanners: dict[tuple[frozenset[str], bool], PiiScanner] = {}

    def scan(
        self, req: ChatRequest, document: PolicyDocument, decision: RouteDecision
    ) -> RequestFindings:
        """Like the pipeline: names and addresses (the model part) only when a cloud hop is
        still possible and the policy enables it."""
        use_model = document.pii.scan_model
        key = (protected_types(document.pii.entities), use_model)
        if key not in self._scanners:
            self._scanners[key] = PiiScanner(key[0], use_model=use_model)
        may_reach_cloud = any(t.tier == "cloud" for t in decision.candidates())
        return self._scanners[key].scan_request(req, include_model=use_model and may_reach_cloud)


def explain_report(
    features: Features,
    decision: RouteDecision,
    findings: RequestFindings,
    *,
    policy_version: str,
) -> dict[str, Any]:
    """The explanation of one routing decision (see the module docstring)."""
    return {
        "policy_version": policy_version,
        "scores": dict(decision.scores or features.scores()),
        "request": {
            "prompt_tokens": features.prompt_tokens,
            "tenant": features.tenant,
            "app": features.app,
            "model": features.requested_model,
            "needs_cloud_features": features.needs_cloud_features,
            "over_soft_budget": features.over_soft_budget,
        },
        "pii": {
            "types": sorted(features.pii_types | findings.types),
            "counts": dict(findings.counts),
            "findings": [
                {
                    "type": finding.entity_type,
                    "message": segment.message_index,
                    "where": segment.kind,
                    "index": segment.index,
                    "start": finding.start,
                    "end": finding.end,
                    "score": round(finding.score, 3),
                }
                for segment in findings.segments
                for finding in segment.findings
            ],
        },
        "decision": {
            "action": decision.action,
            "rule": decision.rule,
            "reason": decision.reason,
            "target": _target(decision.target),
            "fallbacks": [_target(t) for t in decision.fallbacks],
            "redact": decision.redact,
            "message": decision.message,
        },
    }


def _target(target: Target | None) -> dict[str, str] | None:
    if target is None:
        return None
    return {
        "alias": target.alias,
        "tier": target.tier,
        "backend": target.backend,
        "model": target.model,
    }
