"""What the gateway would do with a prompt, as one JSON-able dict (CLI `policy explain` and
`POST /admin/explain` print exactly this).

PII findings are reported as entity types and character spans, never the matched values.
"""

from __future__ import annotations

from typing import Any

from policies.pii import RequestFindings
from router.decision import Features, RouteDecision, Target


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
            "blocked": sorted(features.pii_blocked),
            "unscanned": sorted(features.pii_unscanned),
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
            "withheld": [_target(t) for t in decision.withheld],
            "cloud_refused": decision.withheld_reason,
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
