"""Provider credential formats from a maintained ruleset: Yelp's `detect-secrets` plugins.

detect-secrets keeps one regex list (`denylist`) per provider plugin; those regexes are the
source of truth here, so a format fix upstream reaches the gateway with a package upgrade. What
this module adds on top:

- where each regex may match: the literal it starts with (`anchors`, found with `str.find`, so a
  2 kB prompt is not scanned two dozen times) or a literal it contains (`prefilter`);
- token boundaries around every match (detect-secrets scans source lines, not prose);
- scoring by our validators (`policies.pii.validators`): entropy and, for GitHub's classic
  tokens, the CRC32 check. A provider-prefixed value is a credential whatever its entropy —
  documentation samples (`AKIAIOSFODNN7EXAMPLE`) are redacted too, since letting a real key
  through because it looks like a sample is the costlier mistake; validators only raise the
  score. Shapes without a distinctive prefix (Twilio, Mailchimp) must also look random.

Providers detect-secrets does not know (Anthropic, Google, Hugging Face, ...) and formats it
matches too narrowly (Slack's mixed-case tokens, OpenAI project keys) are in `secrets.py`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from detect_secrets.plugins.aws import AWSKeyDetector
from detect_secrets.plugins.azure_storage_key import AzureStorageKeyDetector
from detect_secrets.plugins.base import RegexBasedDetector
from detect_secrets.plugins.github_token import GitHubTokenDetector
from detect_secrets.plugins.gitlab_token import GitLabTokenDetector
from detect_secrets.plugins.mailchimp import MailchimpDetector
from detect_secrets.plugins.npm import NpmDetector
from detect_secrets.plugins.openai import OpenAIDetector
from detect_secrets.plugins.pypi_token import PypiTokenDetector
from detect_secrets.plugins.sendgrid import SendGridDetector
from detect_secrets.plugins.slack import SlackDetector
from detect_secrets.plugins.square_oauth import SquareOAuthDetector
from detect_secrets.plugins.stripe import StripeDetector
from detect_secrets.plugins.twilio import TwilioKeyDetector

from policies.pii.recognizers.base import PatternRecognizer, ScanText, Validator
from policies.pii.validators import github_token_checksum_ok, shannon_entropy

_B = r"(?<![A-Za-z0-9_-])"  # token boundary before
_E = r"(?![A-Za-z0-9])"  # token boundary after


@dataclass(frozen=True, slots=True)
class _Rule:
    """Where detect-secrets rule `index` of `plugin` may match and which group is the secret."""

    plugin: type[RegexBasedDetector]
    index: int
    anchors: tuple[str, ...] | None = None
    prefilter: str | None = None
    gate: tuple[str, ...] | None = None
    group: int = 0
    needs_entropy: bool = False
    bounded: bool = True


_RULES: tuple[_Rule, ...] = (
    _Rule(AWSKeyDetector, 0, anchors=("AKIA", "ASIA", "ABIA", "ACCA", "A3T")),
    _Rule(AWSKeyDetector, 1, gate=("aws",), group=1, bounded=False),  # aws_secret_key = '…'
    _Rule(GitHubTokenDetector, 0, anchors=("ghp_", "gho_", "ghu_", "ghs_", "ghr_")),
    _Rule(GitLabTokenDetector, 0, anchors=("glpat-", "gldt-", "glft-", "glsoat-", "glrt-")),
    _Rule(GitLabTokenDetector, 1, anchors=("GR1348941",)),
    _Rule(GitLabTokenDetector, 2, anchors=("glcbt-",)),
    _Rule(GitLabTokenDetector, 3, anchors=("glimt-",)),
    _Rule(GitLabTokenDetector, 4, anchors=("glptt-",)),
    _Rule(GitLabTokenDetector, 5, anchors=("glagent-",)),
    _Rule(GitLabTokenDetector, 6, anchors=("gloas-",)),
    _Rule(SlackDetector, 0, anchors=tuple(f"xox{c}-" for c in "abposr")),
    _Rule(SlackDetector, 1, anchors=("https://hooks.slack.com/",)),
    _Rule(StripeDetector, 0, anchors=("sk_live_", "rk_live_")),
    _Rule(SendGridDetector, 0, anchors=("SG.",)),
    _Rule(OpenAIDetector, 0, anchors=("sk-",)),
    _Rule(PypiTokenDetector, 0, anchors=("pypi-",)),
    _Rule(PypiTokenDetector, 1, anchors=("pypi-",)),
    _Rule(SquareOAuthDetector, 0, anchors=("sq0csp-",)),
    _Rule(AzureStorageKeyDetector, 0, anchors=("AccountKey=",)),
    _Rule(NpmDetector, 0, prefilter=":_authToken=", group=1, bounded=False),
    _Rule(MailchimpDetector, 0, prefilter="-us", needs_entropy=True),
    _Rule(TwilioKeyDetector, 0, anchors=("AC",), needs_entropy=True),
    _Rule(TwilioKeyDetector, 1, anchors=("SK",), needs_entropy=True),
)

RANDOM_BITS_PER_CHAR = 3.0  # below this a value is a word or a pattern, not random


def provider_key_score(value: str) -> float:
    """How sure a provider-prefixed value is a live credential (always above the threshold)."""
    if value.startswith(("ghp_", "gho_", "ghu_", "ghs_", "ghr_")):
        return 1.0 if github_token_checksum_ok(value) else 0.7
    body = value.split("-", 1)[-1] if value.startswith("sk-") else value
    return 0.95 if shannon_entropy(body) >= RANDOM_BITS_PER_CHAR else 0.7


def _provider(value: str, m: re.Match[str], st: ScanText) -> float | None:
    return provider_key_score(value)


def _random_only(value: str, m: re.Match[str], st: ScanText) -> float | None:
    return 0.9 if shannon_entropy(value) >= RANDOM_BITS_PER_CHAR + 0.5 else None


def _compile(rule: _Rule) -> re.Pattern[str]:
    # `denylist` is a class attribute of each plugin (an abstract property on the base class).
    denylist = cast("Sequence[re.Pattern[str]]", vars(rule.plugin)["denylist"])
    source = denylist[rule.index]
    if not rule.bounded:
        return source
    return re.compile(f"{_B}(?:{source.pattern}){_E}", source.flags)


def ruleset_recognizers() -> tuple[PatternRecognizer, ...]:
    """One API_KEY recognizer per detect-secrets rule in `_RULES`."""
    out = []
    for rule in _RULES:
        validate: Validator = _random_only if rule.needs_entropy else _provider
        out.append(
            PatternRecognizer(
                "API_KEY",
                _compile(rule),
                validate,
                group=rule.group,
                prefilter=rule.prefilter,
                gate=rule.gate,
                anchors=rule.anchors,
            )
        )
    return tuple(out)


RULESET: tuple[PatternRecognizer, ...] = ruleset_recognizers()
