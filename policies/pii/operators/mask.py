"""`mask`: irreversible; keeps the last 4 letters or digits of values with 8 or more."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from policies.pii.vault import Vault


def mask_value(value: str, keep_last: int = 4) -> str:
    """Letters and digits replaced by '*', keeping the last `keep_last` when there are 8+.

    Separators survive, so a card stays readable as a card: `**** **** **** 1111`.
    """
    alnum = sum(c.isalnum() for c in value)
    keep = keep_last if alnum >= 8 else 0
    out = []
    seen = 0
    for c in value:
        if c.isalnum():
            seen += 1
            out.append(c if seen > alnum - keep else "*")
        else:
            out.append(c)
    return "".join(out)


@dataclass(frozen=True, slots=True)
class Mask:
    name: str = "mask"
    refuses: bool = False

    def replace(self, entity_type: str, value: str, vault: Vault) -> str | None:
        return mask_value(value)
