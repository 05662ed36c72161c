"""What models do to placeholders, and how restoration still recognises them.

The vault issues `<PERSON_1>`; a model may answer with `< PERSON_1 >`, `<person_1>`,
`[PERSON_1]`, `{PERSON 1}`, `&lt;PERSON_1&gt;`, `\\<PERSON_1\\>`, `«PERSON-1»`, the
JSON-escaped `\\u003cPERSON_1\\u003e` (Go and some JS serialisers) or a bare `PERSON_1`.
Every such form maps to one *key* (letters and digits, upper case: `PERSON1`), and only keys
of placeholders the vault issued are restored; anything else is left as written.

A bare form must be the canonical upper-case `TYPE_N` (so "person 1" in prose is never taken for
a placeholder); bracketed forms may change case, spacing and separators.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

_OPEN = r"(?:<|\[|\{|«|&lt;|\\<|\\u003[cC])"
_CLOSE = r"(?:>|\]|\}|»|&gt;|\\>|\\u003[eE])"
FORMS = re.compile(
    rf"{_OPEN}[ \t]*(?P<body>[A-Za-z][A-Za-z_ -]{{0,40}}?[ _-]?[0-9]{{1,6}})[ \t]*{_CLOSE}"
    r"|(?<![A-Za-z0-9_<\[{])(?P<bare>[A-Z][A-Z_]*_[0-9]{1,6})(?![A-Za-z0-9_])"
)
_SEPARATORS = re.compile(r"[\s_-]+")
# A tail that may still grow into a bracketed or bare form: an opener (or part of `&lt;`),
# then letters, separators and digits.
_OPENER_PREFIX = re.compile(r"(?:<|\[|\{|«|&(?:l(?:t;?)?)?|\\(?:<|u(?:0(?:0(?:3[cC]?)?)?)?)?)")
_BODY_PREFIX = re.compile(
    r"[ \t]*(?P<body>[A-Za-z][A-Za-z_ -]*[0-9]*[ \t]*)?"
    r"(?:&(?:g(?:t)?)?|\\(?:u(?:0(?:0(?:3[eE]?)?)?)?)?)?"  # + a closer's start: `&gt`, `\u003`
)
_FULL_OPENERS = frozenset(("<", "[", "{", "«", "&lt;", "\\<", "\\u003c", "\\u003C"))
MAX_FORM = 64  # no form is longer: streaming never holds back more than this


def key(text: str) -> str:
    """The key of a placeholder body: letters and digits only, upper case."""
    return _SEPARATORS.sub("", text).upper()


def restore_forms(text: str, lookup: Callable[[str], str | None]) -> str:
    """`text` with every recognised form whose key `lookup` knows replaced by its value."""

    def sub(m: re.Match[str]) -> str:
        value = lookup(key(m["body"] or m["bare"]))
        return m[0] if value is None else value

    return FORMS.sub(sub, text)


class KeyPrefixes:
    """Which tails of a stream may still become a form of one of `placeholders`."""

    __slots__ = ("_bare", "_bracketed")

    def __init__(self, placeholders: Iterable[str]) -> None:
        keys = {key(p.strip("<>")) for p in placeholders}
        bare = {p.strip("<>") for p in placeholders}
        self._bracketed = frozenset(k[:i] for k in keys for i in range(1, len(k) + 1))
        self._bare = frozenset(b[:i] for b in bare for i in range(1, len(b) + 1))

    def could_complete(self, tail: str) -> bool:
        """True when `tail` (the end of the text so far) may still grow into a form (a complete
        bare form too: the next character may show it is longer, `PERSON_12`)."""
        if len(tail) > MAX_FORM:
            return False
        opener = _OPENER_PREFIX.match(tail)
        if opener is None:
            return tail in self._bare
        rest = tail[opener.end() :]
        if rest and opener[0] not in _FULL_OPENERS:
            return False  # `&l` or `\\u00` followed by something else is not an opener
        m = _BODY_PREFIX.fullmatch(rest)
        if m is None:
            return False
        body = m["body"]
        return body is None or key(body) in self._bracketed
