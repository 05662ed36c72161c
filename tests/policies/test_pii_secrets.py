"""Credentials: every provider format of the maintained ruleset (detect-secrets) and ours,
assignments in code, .env, JSON and connection strings; documentation samples are redacted."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import astuple

import pytest

from policies.pii import SECRET_TYPES, PiiScanner
from policies.pii.recognizers import ScanText, build_recognizers
from policies.pii.recognizers.base import AnchoredGroup, group_anchored
from policies.pii.recognizers.ruleset import RULESET

SCANNER = PiiScanner(use_model=False)
R = "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8s9T0u1V2w3X4y5Z6a7B8c9D0e1F2g3H4i5J6"

TOKENS = {
    "aws access key id": "AKIAZ3MHQ7RXWBNE5T2Q",
    "aws documentation sample": "AKIAIOSFODNN7EXAMPLE",
    "github classic": "ghp_" + R[:36],
    "github oauth": "gho_" + R[:36],
    "github user-to-server": "ghu_" + R[:36],
    "github server-to-server": "ghs_" + R[:36],
    "github refresh": "ghr_" + R[:36],
    "github fine-grained": "github_pat_" + R[:22] + "_" + R[:59],
    "github sample": "ghp_EXAMPLENOTAREALGITHUBTOKEN0000000000",
    "slack bot": "xoxb-123456789012-123456789012-AbCdEfGhIjKlMnOpQrStUvWx",
    "slack sample": "xoxb-00000-00000-EXAMPLENOTAREALTOKEN",
    "slack app": "xapp-1-A0123BCDE45-" + R[:30],
    "stripe live": "sk_live_" + R[:24],
    "stripe test": "sk_test_" + R[:24],
    "stripe restricted": "rk_live_" + R[:24],
    "google api key": "AIza" + R[:35],
    "google oauth secret": "GOCSPX-" + R[:28],
    "openai legacy": "sk-" + R[:20] + "T3BlbkFJ" + R[20:40],
    "openai project": "sk-proj-" + R[:40],
    "anthropic": "sk-ant-api03-" + R[:60],
    "gitlab pat": "glpat-" + R[:20],
    "hugging face": "hf_" + R[:34],
    "npm": "npm_" + R[:36],
    "pypi": "pypi-AgEIcHlwaS5vcmc" + R[:70],
    "sendgrid": "SG." + R[:22] + "." + R[:43],
}


@pytest.mark.parametrize("name", sorted(TOKENS))
def test_provider_token_found_whole(name: str) -> None:
    token = TOKENS[name]
    text = f"here it is: {token} (do not share)"
    found = [(f.entity_type, text[f.start : f.end]) for f in SCANNER.scan(text)]
    assert ("API_KEY", token) in found, found


ASSIGNMENTS = [
    ("password=Tr0ub4dor&3 for prod", "Tr0ub4dor&3"),
    ("DB_PASSWORD=hunter2x", "hunter2x"),
    ("export API_TOKEN=abc123def456", "abc123def456"),
    ('{"token": "abcd1234", "user": "bob"}', "abcd1234"),
    ("client_secret: 9f8e7d6c5b4a", "9f8e7d6c5b4a"),
    ("secret: changeme", "changeme"),  # a sample password is still a password
    ("Server=db;User Id=sa;Password=Secr3t!;", "Secr3t!"),
    ("postgres://app:Pa55word@db.internal:5432/main", "Pa55word"),
    ("amqp://guest:guest@rabbit:5672/", "guest"),
    ("Authorization: Bearer abc123.def456", "abc123.def456"),
    (
        "aws_secret_access_key = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    ),
]


@pytest.mark.parametrize(("text", "value"), ASSIGNMENTS)
def test_assigned_secret_found(text: str, value: str) -> None:
    found = [(f.entity_type, text[f.start : f.end]) for f in SCANNER.scan(text)]
    assert any(t in SECRET_TYPES and v == value for t, v in found), found


@pytest.mark.parametrize(
    "text",
    [
        "password: ${DB_PASSWORD}",
        "password = os.environ['PW']",
        "password reset link sent",
        "the token limit is large",
        'schema: {"password": "string"}',
    ],
)
def test_references_and_prose_are_not_secrets(text: str) -> None:
    assert SCANNER.scan(text) == []


def test_private_key_blocks() -> None:
    for kind in ("RSA PRIVATE KEY", "OPENSSH PRIVATE KEY", "PGP PRIVATE KEY BLOCK"):
        block = f"-----BEGIN {kind}-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END {kind}-----"
        text = f"key:\n{block}\nend"
        found = [(f.entity_type, text[f.start : f.end]) for f in SCANNER.scan(text)]
        assert ("PRIVATE_KEY", block) in found


def test_every_ruleset_rule_is_reachable() -> None:
    """Each detect-secrets rule we wire up compiles and is gated by a literal it contains."""
    assert len(RULESET) >= 20
    for rec in RULESET:
        assert rec.anchors or rec.prefilter or rec.gate


def test_grouping_anchored_formats_changes_no_finding() -> None:
    """The scanner skips the anchored credential formats together when none of their anchors
    occurs; wherever one does, it finds what each format finds alone."""
    alone = build_recognizers()
    grouped = group_anchored(alone)
    assert any(isinstance(r, AnchoredGroup) for r in grouped)
    texts = [f"here it is: {t} (do not share)" for t in TOKENS.values()]
    texts += [f"key {anchor}{R[:40]} end" for anchor in RULESET_ANCHORS]
    texts += ["no credential here", "sk-", "xoxb- ghp_ AKIA", ""]
    for text in texts:
        st_alone, st_grouped = ScanText(text), ScanText(text)
        want = sorted(astuple(f) for r in alone for f in r.find(st_alone))
        got = sorted(astuple(f) for r in grouped for f in r.find(st_grouped))
        assert got == want, text


RULESET_ANCHORS = sorted({a for r in RULESET for a in r.anchors or ()})


def test_secret_types_name_every_credential_recognizer() -> None:
    """SECRET_TYPES is declared apart from the recognizers (so that they load only when a
    policy wants one): it must still be exactly what they produce."""
    from policies.pii.recognizers import secret_recognizers

    assert {t for r in secret_recognizers() for t in r.entity_types} == SECRET_TYPES


def test_a_policy_without_secret_types_does_not_load_the_ruleset() -> None:
    """detect-secrets (and the `requests` it imports) costs a worker ~8 MiB RSS."""
    probe = (
        "import sys\n"
        "from policies.pii import PiiScanner\n"
        "PiiScanner(['EMAIL_ADDRESS'], use_model=False).scan('mail a@example.com')\n"
        "print('detect_secrets' in sys.modules, 'requests' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
