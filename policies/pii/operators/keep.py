"""`keep`: leave the value as it is (detected and counted, not changed)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from policies.pii.vault import Vault


@dataclass(frozen=True, slots=True)
class Keep:
    name: str = "keep"
    refuses: bool = False

    def replace(self, entity_type: str, value: str, vault: Vault) -> str | None:
        return None
