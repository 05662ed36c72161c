"""Names that context gives away, without a model: "Dear Anna Berg,", "Mr. Smith",
"my name is Tom Weller", "Name: Jo Park", and a name alone on the line after "Regards,".

This is the fast path's share of PERSON: cheap, precise, low recall. The NER model (`ner.py`)
finds the rest when a request may leave the machine.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from policies.pii.findings import Finding
from policies.pii.recognizers.base import ScanText

_WORD = r"[A-Z][a-zà-ÿ'’]+(?:-[A-Z][a-zà-ÿ'’]+)?"
_PARTICLE = r"(?:(?:van|von|de|der|den|du|da|di|del|della|la|le|bin|al)\s+)?"
_FULL = rf"{_WORD}(?:\s+{_PARTICLE}{_WORD}){{1,2}}"  # first + last (+ one more)

_TITLED = re.compile(
    rf"(?<![\w])(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Sir|Dame|Herr|Frau|Mme|Mlle|Sra|Sr)\.?\s+"
    rf"(?P<name>{_WORD}(?:\s+{_PARTICLE}{_WORD}){{0,2}})"
)
_INTRO = re.compile(
    rf"(?:(?<![\w])(?:[Dd]ear|[Hh]i|[Hh]ello|[Mm]y name is|[Nn]ame:|I am|I'm|[Tt]his is|[Aa]ttn:?|"
    rf"[Cc]ontact:|[Pp]atient:|[Ee]mployee:|[Cc]ustomer:|[Ss]igned,?)\s+)(?P<name>{_FULL})"
)
_SINGLE_AFTER = re.compile(rf"(?<![\w])(?:[Dd]ear|[Mm]y name is)\s+(?P<name>{_WORD})(?=[,.!\s])")
_SIGNATURE = re.compile(
    rf"(?im:^\s*(?:(?:best|kind|warm)\s+)?(?:regards|wishes|sincerely|thanks|cheers|best)"
    rf"[,!]?[ \t]*\n[ \t]*)(?-i:(?P<name>{_FULL}))[ \t]*$",
)
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
        for rx, score in ((_TITLED, 0.75), (_INTRO, 0.7), (_SINGLE_AFTER, 0.6), (_SIGNATURE, 0.7)):
            for m in rx.finditer(text):
                start, end = m.span("name")
                words = m.group("name").split()
                if words[0] in _NOT_NAMES or words[-1] in _NOT_NAMES:
                    continue
                yield Finding("PERSON", start, end, score)
