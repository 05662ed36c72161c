"""The seam every PII operator implements: what a found value becomes in the cloud's copy."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from policies.pii.vault import Vault


class PiiOperator(Protocol):
    """One operator. `refuses` operators stop the cloud hop instead of rewriting the value."""

    @property
    def name(self) -> str: ...

    @property
    def refuses(self) -> bool: ...

    def replace(self, entity_type: str, value: str, vault: Vault) -> str | None:
        """The text that stands for `value`; None leaves the value as it is."""
        ...
