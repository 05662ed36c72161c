"""`hash`: irreversible `<EMAIL_ADDRESS#3fa2c1d9e0>`, salted per request, so equal values match
within a request and never across requests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from policies.pii.vault import Vault


@dataclass(frozen=True, slots=True)
class Hash:
    name: str = "hash"
    refuses: bool = False

    def replace(self, entity_type: str, value: str, vault: Vault) -> str | None:
        return vault.hash_token(entity_type, value)
