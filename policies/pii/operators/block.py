"""`block`: the value may not reach the cloud at all; `decide()` withholds every cloud hop
(PolicyBlocked names the entity TYPE, never the value)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from policies.pii.vault import Vault


@dataclass(frozen=True, slots=True)
class Block:
    name: str = "block"
    refuses: bool = True

    def replace(self, entity_type: str, value: str, vault: Vault) -> str | None:
        raise AssertionError("a blocked type is never redacted: the cloud hop is withheld")
