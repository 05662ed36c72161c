"""Credentials: provider tokens, private-key blocks and `password=`-style assignments.

Entity types: API_KEY (provider tokens), JWT, PRIVATE_KEY, PASSWORD; the operator config may
name them together as SECRET. Provider formats come first from detect-secrets' maintained rules
(`ruleset.py`); the rules below cover providers it does not know (Anthropic, Google, Hugging
Face, npm, ...) and formats it matches too narrowly (mixed-case Slack tokens, OpenAI project
keys). Credential-shaped documentation samples are credentials too: nothing is skipped for
looking like an example; only template references (`${TOKEN}`, `os.environ[...]`) are.
"""

from __future__ import annotations

import re

from policies.pii.recognizers.base import PatternRecognizer, ScanText
from policies.pii.recognizers.ruleset import RULESET, provider_key_score
from policies.pii.validators import is_template_reference, jwt_ok

_B = r"(?<![A-Za-z0-9_-])"  # token boundary before
_E = r"(?![A-Za-z0-9_-])"  # token boundary after

_API_KEY = re.compile(
    _B
    + "(?:"
    + "|".join(
        (
            r"sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}",  # OpenAI (all key kinds)
            r"sk-ant-(?:api|admin|oat)\d{2}-[A-Za-z0-9_-]{32,}",  # Anthropic
            r"(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{20,}",  # Stripe secret / restricted
            r"whsec_[A-Za-z0-9]{24,}",  # Stripe webhook secret
            r"(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}",  # AWS access key id
            r"gh[pousr]_[A-Za-z0-9]{30,}",  # GitHub tokens (CRC32-checked when 36 long)
            r"github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}",  # GitHub fine-grained PAT
            r"xox[abposre]-[A-Za-z0-9-]{10,}",  # Slack tokens, any case
            r"xapp-\d-[A-Za-z0-9-]{20,}",  # Slack app-level token
            r"AIza[0-9A-Za-z_-]{35}",  # Google API key
            r"GOCSPX-[0-9A-Za-z_-]{28}",  # Google OAuth client secret
            r"ya29\.[0-9A-Za-z_-]{20,}",  # Google OAuth access token
            r"gl(?:pat|dt|rt|ft|soat)-[A-Za-z0-9_-]{20,}",  # GitLab tokens
            r"hf_[A-Za-z0-9]{30,}",  # Hugging Face
            r"SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}",  # SendGrid
            r"npm_[A-Za-z0-9]{36}",  # npm
            r"pypi-[A-Za-z0-9_-]{50,}",  # PyPI
            r"dop_v1_[a-f0-9]{64}",  # DigitalOcean
            r"shp(?:at|ss|ca|pa)_[a-fA-F0-9]{32}",  # Shopify
            r"gsk_[A-Za-z0-9]{40,}",  # Groq
            r"xai-[A-Za-z0-9]{40,}",  # xAI
            r"r8_[A-Za-z0-9]{30,}",  # Replicate
            r"pplx-[A-Za-z0-9]{40,}",  # Perplexity
        )
    )
    + ")"
    + _E
)


def _api_key(value: str, m: re.Match[str], st: ScanText) -> float | None:
    return provider_key_score(value)


_KEY_PREFIXES = (
    *("sk-", "sk_", "rk_", "whsec_", "AKIA", "ASIA", "ABIA", "ACCA", "ghp_", "gho_", "ghu_"),
    *("ghs_", "ghr_", "github_pat_", "xox", "xapp-", "AIza", "GOCSPX-", "ya29.", "glpat-"),
    *("gldt-", "glrt-", "glft-", "glsoat-", "hf_", "SG.", "npm_", "pypi-", "dop_v1_", "shp"),
    *("gsk_", "xai-", "r8_", "pplx-"),
)
API_KEY = PatternRecognizer("API_KEY", _API_KEY, _api_key, anchors=_KEY_PREFIXES)

_JWT = re.compile(_B + r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{10,}" + _E)
JWT = PatternRecognizer("JWT", _JWT, lambda v, m, st: 0.95 if jwt_ok(v) else None, prefilter="eyJ")

# A PEM private-key block (RSA, EC, OPENSSH, ENCRYPTED, …). An unterminated block runs to the end
# of the text: a truncated key is still a key. Also matches blocks inside JSON (literal "\n").
_PRIVATE_KEY = re.compile(
    r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
    r"(?:.*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|.*\Z)"
    r"|PuTTY-User-Key-File-\d: .*?(?:Private-MAC: [0-9a-f]+|\Z)",
    re.DOTALL,
)
PRIVATE_KEY = PatternRecognizer(
    "PRIVATE_KEY",
    _PRIVATE_KEY,
    lambda v, m, st: 1.0,
    anchors=("-----BEGIN ", "PuTTY-User-Key-File-"),
)

# `password = "hunter2"`, `"pwd": "…"`, `PASSWORD: …`, `--password hunter2`, `DB_TOKEN=…`,
# `Authorization: Bearer …`, `Password=…;` in a connection string. The span is the value.
_KEYWORDS = (
    r"password|passwd|passphrase|pwd|pass|secret|client_secret|private[_-]?key|"
    r"api[_-]?key|apikey|access[_-]?key|access[_-]?token|auth[_-]?token|_authtoken|token|"
    r"secret[_-]?key|credentials?|bearer"
)
_PASSWORD = re.compile(
    rf"(?i)(?<![a-z0-9])(?:{_KEYWORDS})"
    r"(?:[\"']?\s*(?::=|=>|[:=])\s*|\s+(?:is|was)\s*:?\s+|\s+)"
    r"(?P<q>[\"'`]?)(?P<value>[^\s\"'`,;}{)(\]\[<>]{4,256})(?P=q)"
)
# scheme://user:password@host (database and broker connection strings, basic auth URLs)
_URL_PASSWORD = re.compile(
    r"(?i)\b[a-z][a-z0-9+.-]{1,15}://[^\s:@/]{0,64}:(?P<value>[^\s@/]{1,128})@"
)
# Words that fill a password slot in schemas and prose, never a credential.
_NOT_A_PASSWORD = frozenset(
    {"none", "null", "nil", "true", "false", "required", "optional", "string", "str", "type"}
)


def _password(value: str, m: re.Match[str], st: ScanText) -> float | None:
    low = value.lower()
    if low in _NOT_A_PASSWORD or is_template_reference(value):
        return None
    # Plain prose after "password"/"token" ("password reset link", "token limit") is not a
    # credential: without an assignment operator the value must contain a digit or symbol.
    assigned = any(op in m.group() for op in (":", "="))
    if not assigned and value.isalpha():
        return None
    return 0.9 if assigned else 0.6


PASSWORD = PatternRecognizer(
    "PASSWORD",
    _PASSWORD,
    _password,
    group="value",
    anchors=(
        *("pass", "pwd", "secret", "api", "access", "auth", "token", "private", "cred"),
        "bearer",
    ),
    anchors_in_lower=True,
)
URL_PASSWORD = PatternRecognizer(
    "PASSWORD",
    _URL_PASSWORD,
    lambda v, m, st: None if is_template_reference(v) else 0.98,  # beats the e-mail look-alike
    group="value",
    prefilter="://",
    gate=("@",),
)

SECRETS: tuple[PatternRecognizer, ...] = (
    *RULESET,
    API_KEY,
    JWT,
    PRIVATE_KEY,
    PASSWORD,
    URL_PASSWORD,
)
