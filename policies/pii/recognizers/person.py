"""Names that context gives away, without a model: "Dear Anna Berg,", "Mr. Smith",
"my name is Tom Weller", "Name: Jo Park", and a name alone on the line after "Regards,".

This is the fast path's share of PERSON: cheap, precise, low recall. The NER model (`ner.py`)
finds the rest when a request may leave the machine.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from policies.pii.findings import Finding
from policies.pii.recognizers.base import Literals, ScanText

_WORD = r"[A-Z][a-zà-ÿ'’]+(?:-[A-Z][a-zà-ÿ'’]+)?"
_PARTICLE = r"(?:(?:van|von|de|der|den|du|da|di|del|della|la|le|bin|al)\s+)?"
_FULL = rf"{_WORD}(?:\s+{_PARTICLE}{_WORD}){{1,2}}"  # first + last (+ one more)

# The triggers are found in one pass (`Literals`), and the name pattern is matched right after.
_AFTER_TITLE = re.compile(rf"\.?\s+(?P<name>{_WORD}(?:\s+{_PARTICLE}{_WORD}){{0,2}})")
_AFTER_INTRO = re.compile(rf":?\s+(?P<name>{_FULL})")
_AFTER_INTRO_SINGLE = re.compile(rf"\s+(?P<name>{_WORD})(?=[,.!\s])")
_AFTER_CLOSING = re.compile(rf"[,!]?[ \t]*\n[ \t]*(?P<name>{_FULL})[ \t]*(?:\n|$)")
_TITLES = ("Mr", "Mrs", "Ms", "Miss", "Mx", "Dr", "Prof", "Sir", "Dame", "Herr", "Frau", "Mme")
_INTROS = (
    *("Dear", "Hi", "Hello", "My name is", "my name is", "Name", "I am", "I'm", "This is"),
    *("Attn", "Contact", "Patient", "Employee", "Customer", "Signed"),
)
_SINGLE_INTROS = ("Dear", "My name is", "my name is")
_CLOSINGS = ("regards", "sincerely", "thanks", "cheers", "wishes", "best")
_TRIGGERS: tuple[tuple[str, re.Pattern[str], float, bool], ...] = (
    *((t, _AFTER_TITLE, 0.75, False) for t in _TITLES),
    *((t, _AFTER_INTRO, 0.7, False) for t in _INTROS),
    *((t, _AFTER_INTRO_SINGLE, 0.6, False) for t in _SINGLE_INTROS),
    *((t, _AFTER_CLOSING, 0.7, True) for t in _CLOSINGS),
)
_Trigger = tuple[str, re.Pattern[str], float]


def _by_first_char() -> dict[tuple[bool, str], list[_Trigger]]:
    """The triggers by (found in the lower-cased text, first character)."""
    out: dict[tuple[bool, str], list[_Trigger]] = {}
    for trigger, rx, score, in_lower in _TRIGGERS:
        out.setdefault((in_lower, trigger[0]), []).append((trigger, rx, score))
    return out


_BY_FIRST = _by_first_char()
_CASED = Literals(t for t, _, _, in_lower in _TRIGGERS if not in_lower)
_LOWER = Literals(t for t, _, _, in_lower in _TRIGGERS if in_lower)
_NOT_NAMES = frozenset(
    {
        "Sir",
        "Madam",
        "Team",
        "All",
        "Customer",
        "Customers",
        "Colleagues",
        "Friends",
        "Everyone",
        "Support",
        "Hiring",
        "Manager",
        "There",
        "World",
        "Folks",
        "Guys",
        "Admin",
        "Sales",
        "Board",
        "Members",
        "Parents",
        "Students",
        "User",
        "Users",
        "Client",
    }
)


class PersonContextRecognizer:
    """PERSON where titles, greetings, introductions or signatures mark a name."""

    entity_types = frozenset({"PERSON"})

    def find(self, st: ScanText) -> Iterator[Finding]:
        text = st.text
        for in_lower, literals in ((False, _CASED), (True, _LOWER)):
            haystack = st.lower if in_lower else text
            for i in literals.starts(haystack):
                if i and haystack[i - 1].isalnum():
                    continue
                for trigger, rx, score in _BY_FIRST[in_lower, haystack[i]]:
                    if haystack.startswith(trigger, i):
                        m = rx.match(text, i + len(trigger))
                        if m is not None and self._plausible(m.group("name")):
                            yield Finding("PERSON", *m.span("name"), score)

    @staticmethod
    def _plausible(name: str) -> bool:
        words = name.split()
        return words[0] not in _NOT_NAMES and words[-1] not in _NOT_NAMES
