"""`placeholder`: reversible `<EMAIL_ADDRESS_1>`, restored in the answer from the vault."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from policies.pii.vault import Vault


@dataclass(frozen=True, slots=True)
class Placeholder:
    name: str = "placeholder"
    refuses: bool = False

    def replace(self, entity_type: str, value: str, vault: Vault) -> str | None:
        return vault.placeholder(entity_type, value)
