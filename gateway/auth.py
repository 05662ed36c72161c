"""API keys → callers, compared as SHA-256 digests; a key is never stored or logged."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from kernel.errors import AuthenticationFailed
from policies.schema import PolicyDocument


@dataclass(frozen=True, slots=True)
class Caller:
    tenant: str
    app: str
    cache: bool = False
    key_id: str = ""  # first 12 hex of the key's SHA-256: names the key in limits, never the key


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def bearer_token(authorization: str | None) -> str:
    """The token of an `Authorization: Bearer …` header, or `AuthenticationFailed`."""
    if not authorization:
        raise AuthenticationFailed("Missing API key: send it as 'Authorization: Bearer <key>'.")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationFailed("Malformed Authorization header: expected 'Bearer <key>'.")
    return token.strip()


def authenticate(policy: PolicyDocument, authorization: str | None) -> Caller:
    """The caller of an `Authorization: Bearer <key>` header (the OpenAI SDKs' way)."""
    return authenticate_key(policy, bearer_token(authorization))


def authenticate_key(policy: PolicyDocument, key: str) -> Caller:
    """The caller whose key digest matches `key`, compared in constant time.

    Each dialect reads the key the way its SDK sends it, then calls this."""
    digest = key_digest(key)
    for app in policy.apps:
        if hmac.compare_digest(app.key_sha256, digest):
            return Caller(tenant=app.tenant, app=app.name, cache=app.cache, key_id=digest[:12])
    raise AuthenticationFailed("Invalid API key.")


def check_secret(expected: str | None, authorization: str | None) -> bool:
    """True when the bearer token equals `expected` (a configured admin or finance key)."""
    if not expected:
        return False
    try:
        token = bearer_token(authorization)
    except AuthenticationFailed:
        return False
    return hmac.compare_digest(token.encode(), expected.encode())
