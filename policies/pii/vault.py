"""The per-request vault: placeholder ↔ original value, and restoration of answers.

One `Vault` per request, created by `redact_request` and dropped with the request (no registry,
no persistence; `close()` empties it early). Inside a request the same value always gets the
same placeholder (`<PERSON_1>` in every message that mentions it) and different values never
share one; numbers already present in the request's own text are skipped, so a user who typed
`<PERSON_1>` does not get someone else's value back.

Restoration replaces only placeholders this vault issued, in whatever form a model rewrote them
to (spacing, case, other brackets, HTML escapes; `placeholders.py`): a model that invents
`<PERSON_9>` sees it passed through unchanged. `repr()` shows counts, never values.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from kernel.types import AssistantMessage, ChatResponse
from policies.pii.placeholders import KeyPrefixes, key, restore_forms

if TYPE_CHECKING:
    from policies.pii.restore import StreamRestorer

# Anything shaped like one of our placeholders (issued by us or not).
PLACEHOLDER_RE = re.compile(r"<([A-Z][A-Z0-9_]*)_([1-9][0-9]{0,5})>")


def json_escape(value: str) -> str:
    """`value` as it must appear inside a JSON string literal (without the quotes)."""
    return json.dumps(value, ensure_ascii=False)[1:-1]


class Vault:
    """Reversible placeholders and salted hashes for one request."""

    __slots__ = (
        *("_by_placeholder", "_by_value", "_counters", "_keyed", "_prefixes", "_salt"),
        "_taken",
    )

    def __init__(self, *, taken: Iterable[str] = (), salt: bytes | None = None) -> None:
        self._by_value: dict[str, str] = {}
        self._by_placeholder: dict[str, str] = {}
        self._counters: Counter[str] = Counter()
        self._taken = frozenset(taken)
        self._salt = salt if salt is not None else secrets.token_bytes(16)
        self._prefixes: KeyPrefixes | None = None
        self._keyed: dict[str, str] | None = None

    # -- issuing -------------------------------------------------------------------------------

    def placeholder(self, entity_type: str, value: str) -> str:
        """The placeholder for `value` (issued on first sight; stable for the request)."""
        existing = self._by_value.get(value)
        if existing is not None:
            return existing
        while True:
            self._counters[entity_type] += 1
            token = f"<{entity_type}_{self._counters[entity_type]}>"
            if token not in self._taken:
                break
        self._by_value[value] = token
        self._by_placeholder[token] = value
        self._prefixes = self._keyed = None
        return token

    def hash_token(self, entity_type: str, value: str) -> str:
        """An irreversible, per-request salted tag: equal values give equal tags in a request."""
        digest = hmac.new(self._salt, value.encode("utf-8"), hashlib.sha256).hexdigest()[:10]
        return f"<{entity_type}#{digest}>"

    # -- restoring -----------------------------------------------------------------------------

    def restore(self, text: str) -> str:
        """`text` with every placeholder this vault issued replaced by its value, also in the
        forms models rewrite it to (`< PERSON_1 >`, `[person_1]`, `&lt;PERSON_1&gt;`, a bare
        `PERSON_1`; see `policies.pii.placeholders`)."""
        if not self._by_placeholder:
            return text
        return restore_forms(text, self._by_key().get)

    def restore_json(self, text: str) -> str:
        """Like `restore`, for text inside JSON strings (tool-call arguments): values escaped."""
        if not self._by_placeholder:
            return text
        keyed = self._by_key()
        return restore_forms(
            text, lambda k: json_escape(v) if (v := keyed.get(k)) is not None else None
        )

    def _by_key(self) -> dict[str, str]:
        if self._keyed is None:
            self._keyed = {key(p.strip("<>")): v for p, v in self._by_placeholder.items()}
        return self._keyed

    def restore_response(self, resp: ChatResponse) -> ChatResponse:
        """A copy of `resp` with content and tool-call arguments of every choice restored."""
        if not self._by_placeholder:
            return resp
        choices = []
        for choice in resp.choices:
            msg = choice.message
            update: dict[str, Any] = {}
            if msg.content:
                update["content"] = self.restore(msg.content)
            if msg.tool_calls:
                update["tool_calls"] = [self.restore_tool_call(c) for c in msg.tool_calls]
            new_msg: AssistantMessage = msg.model_copy(update=update) if update else msg
            choices.append(choice.model_copy(update={"message": new_msg}))
        return resp.model_copy(update={"choices": choices})

    def restore_tool_call(self, call: dict[str, Any]) -> dict[str, Any]:
        """A copy of an OpenAI tool call (or tool-call delta) with its arguments restored."""
        fn = call.get("function")
        if not isinstance(fn, dict) or not isinstance(fn.get("arguments"), str):
            return call
        return {**call, "function": {**fn, "arguments": self.restore_json(fn["arguments"])}}

    def stream_restorer(self) -> StreamRestorer:
        """A restorer for one streamed answer (all its choices and tool calls)."""
        from policies.pii.restore import StreamRestorer

        return StreamRestorer(self)

    def partial_placeholder(self, tail: str) -> bool:
        """True when `tail` may still grow into a form of a placeholder this vault issued."""
        if self._prefixes is None:
            self._prefixes = KeyPrefixes(self._by_placeholder)
        return self._prefixes.could_complete(tail)

    # -- bookkeeping ---------------------------------------------------------------------------

    @property
    def counts(self) -> dict[str, int]:
        """Placeholders issued per entity type (safe to log)."""
        return dict(self._counters)

    def __len__(self) -> int:
        return len(self._by_placeholder)

    def __bool__(self) -> bool:
        return True

    def __contains__(self, placeholder: object) -> bool:
        return placeholder in self._by_placeholder

    def close(self) -> None:
        """Forget every value now (the vault is unusable for restoration afterwards)."""
        self._by_value.clear()
        self._by_placeholder.clear()
        self._prefixes = self._keyed = None

    def __enter__(self) -> Vault:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Vault(placeholders={len(self._by_placeholder)}, counts={self.counts})"
