"""Credentials by their published formats, private-key blocks and `password=`-style assignments.

Entity types: API_KEY (provider tokens), JWT, PRIVATE_KEY, PASSWORD; the operator config may
name them together as SECRET. Documentation stand-ins (`AKIAIOSFODNN7EXAMPLE`, `sk-xxxx…`,
`${TOKEN}`) and low-entropy strings are not secrets. GitHub's current tokens carry a CRC32
check: those that pass it score 1.0, the rest (hand-made look-alikes) 0.6.
"""

from __future__ import annotations

import re

from policies.pii.recognizers.base import PatternRecognizer, ScanText
from policies.pii.validators import (
    github_token_checksum_ok,
    jwt_ok,
    looks_like_placeholder,
    shannon_entropy,
)

SECRET_TYPES = frozenset({"API_KEY", "JWT", "PRIVATE_KEY", "PASSWORD"})

_B = r"(?<![A-Za-z0-9_-])"  # token boundary before
_E = r"(?![A-Za-z0-9_-])"  # token boundary after

_API_KEY = re.compile(
    _B
    + "(?:"
    + "|".join(
        (
            r"sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}",  # OpenAI
            r"sk-ant-(?:api|admin)\d{2}-[A-Za-z0-9_-]{32,}",  # Anthropic
            r"(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{20,}",  # Stripe secret / restricted
            r"whsec_[A-Za-z0-9]{24,}",  # Stripe webhook secret
            r"(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}",  # AWS access key id
            r"gh[pousr]_[A-Za-z0-9]{36}",  # GitHub tokens (CRC32-checked)
            r"github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}",  # GitHub fine-grained PAT
            r"xox[abposr]-[A-Za-z0-9-]{10,}",  # Slack tokens
            r"xapp-\d-[A-Za-z0-9-]{20,}",  # Slack app-level token
            r"AIza[0-9A-Za-z_-]{35}",  # Google API key
            r"glpat-[A-Za-z0-9_-]{20}",  # GitLab PAT
            r"hf_[A-Za-z0-9]{34}",  # Hugging Face
            r"SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}",  # SendGrid
            r"npm_[A-Za-z0-9]{36}",  # npm
        )
    )
    + ")"
    + _E
)
_SLACK_WEBHOOK = re.compile(
    r"https://hooks\.slack\.com/services/T[A-Z0-9]+/B[A-Z0-9]+/[A-Za-z0-9]{20,}"
)


def _api_key(value: str, m: re.Match[str], st: ScanText) -> float | None:
    if looks_like_placeholder(value):
        return None
    if value.startswith(("ghp_", "gho_", "ghu_", "ghs_", "ghr_")):
        return 1.0 if github_token_checksum_ok(value) else 0.6
    body = value.split("-", 1)[-1] if value.startswith("sk-") else value
    if shannon_entropy(body) < 3.0:
        return None  # sk-aaaaaaaa…, AKIA0000…: not random, not a key
    return 0.95


_KEY_PREFIXES = (
    *("sk-", "sk_", "rk_", "whsec_", "AKIA", "ASIA", "ABIA", "ACCA", "ghp_", "gho_", "ghu_"),
    *("ghs_", "ghr_", "github_pat_", "xox", "xapp-", "AIza", "glpat-", "hf_", "SG.", "npm_"),
)
API_KEY = PatternRecognizer("API_KEY", _API_KEY, _api_key, anchors=_KEY_PREFIXES)
SLACK_WEBHOOK = PatternRecognizer(
    "API_KEY", _SLACK_WEBHOOK, lambda v, m, st: 0.95, prefilter="hooks.slack.com"
)

_JWT = re.compile(_B + r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{10,}" + _E)
JWT = PatternRecognizer("JWT", _JWT, lambda v, m, st: 0.95 if jwt_ok(v) else None, prefilter="eyJ")

# A PEM private-key block (RSA, EC, OPENSSH, ENCRYPTED, …). An unterminated block runs to the end
# of the text: a truncated key is still a key. Also matches blocks inside JSON (literal "\n").
_PRIVATE_KEY = re.compile(
    r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----"
    r"(?:.*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----|.*\Z)",
    re.DOTALL,
)
PRIVATE_KEY = PatternRecognizer(
    "PRIVATE_KEY", _PRIVATE_KEY, lambda v, m, st: 1.0, prefilter="PRIVATE KEY-----"
)

# `password = "hunter2"`, `"pwd": "…"`, `PASSWORD: …`, `--password hunter2`. The span is the value.
_PASSWORD = re.compile(
    r"(?i)(?<![a-z0-9])(?:password|passwd|passphrase|pwd|pass|secret|client_secret|"
    r"api[_-]?key|access[_-]?token|auth[_-]?token|secret[_-]?key)"
    r"(?:[\"']?\s*[:=]\s*|\s+(?:is|was)\s+|\s+)"
    r"(?P<q>[\"'`]?)(?P<value>[^\s\"'`,;}{)(\]\[<>]{4,128})(?P=q)"
)
# scheme://user:password@host
_URL_PASSWORD = re.compile(
    r"(?i)\b[a-z][a-z0-9+.-]{1,15}://[^\s:@/]{1,64}:(?P<value>[^\s@/]{1,128})@"
)
_NOT_A_PASSWORD = frozenset(
    {"none", "null", "true", "false", "required", "optional", "string", "example", "hidden"}
)


def _password(value: str, m: re.Match[str], st: ScanText) -> float | None:
    low = value.lower()
    if low in _NOT_A_PASSWORD or looks_like_placeholder(value) or value.startswith("%"):
        return None
    if "(" in value or low.startswith(("os.", "env", "process.", "getenv", "settings.")):
        return None
    # Plain prose after "password" ("password reset link") is not a credential: require the
    # value to look like one (a digit or symbol, or an assignment operator before it).
    assigned = ":" in m.group() or "=" in m.group()
    if not assigned and value.isalpha():
        return None
    return 0.9 if assigned else 0.6


PASSWORD = PatternRecognizer(
    "PASSWORD",
    _PASSWORD,
    _password,
    group="value",
    anchors=("pass", "pwd", "secret", "client_secret", "api", "access", "auth"),
    anchors_in_lower=True,
)
URL_PASSWORD = PatternRecognizer(
    "PASSWORD",
    _URL_PASSWORD,
    lambda v, m, st: None if looks_like_placeholder(v) else 0.98,  # beats the e-mail look-alike
    group="value",
    prefilter="://",
    gate=("@",),
)

SECRETS: tuple[PatternRecognizer, ...] = (
    API_KEY,
    SLACK_WEBHOOK,
    JWT,
    PRIVATE_KEY,
    PASSWORD,
    URL_PASSWORD,
)
