"""PII detection, redaction and restoration for the gateway's pipeline.

    scanner = PiiScanner()                                  # once, at start-up
    found = scanner.scan_request(req, include_model=may_go_to_cloud)
    redacted, vault = redact_request(req, found, {"EMAIL_ADDRESS": "placeholder", ...})
    answer = vault.restore_response(resp)                   # or vault.stream_restorer()

Findings carry entity type, offsets and score, never the value; the vault is the only holder of
values and lives as long as the request. Nothing here logs a value. See docs/pii.md.
"""

from policies.pii.findings import Finding, RequestFindings, SegmentFindings
from policies.pii.operators import OPERATORS, Operator, OperatorTable, mask_value, resolve_operators
from policies.pii.recognizers import SECRET_TYPES
from policies.pii.redact import blocked_types, redact_request
from policies.pii.restore import StreamRestorer
from policies.pii.scanner import SUPPORTED_TYPES, PiiScanner
from policies.pii.vault import PLACEHOLDER_RE, Vault

__all__ = [
    "OPERATORS",
    "PLACEHOLDER_RE",
    "SECRET_TYPES",
    "SUPPORTED_TYPES",
    "Finding",
    "Operator",
    "OperatorTable",
    "PiiScanner",
    "RequestFindings",
    "SegmentFindings",
    "StreamRestorer",
    "Vault",
    "blocked_types",
    "mask_value",
    "redact_request",
    "resolve_operators",
]
