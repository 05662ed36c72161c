"""What to do with each entity type: one module per operator, one registry, the table.

Operators (Presidio's anonymizer names where they exist):

    placeholder  reversible `<EMAIL_ADDRESS_1>`, restored in the answer
    mask         irreversible, keeps the last 4 letters/digits of values with 8 or more
    hash         irreversible, `<EMAIL_ADDRESS#3fa2c1d9e0>`: salted per request, so equal
                 values match within a request and never across requests
    block        refuse the request (PolicyBlocked names the entity TYPE, never the value)
    keep         leave the value as it is (detected and counted, not changed)

`resolve_operators` turns a policy's plain `Mapping[str, str]` into a complete, validated table.
Keys are entity types, plus group keys: `SECRET` (API_KEY, JWT, PRIVATE_KEY, PASSWORD),
`NATIONAL_ID` (SSNs, national numbers, passports, driver's licences, medical record numbers) and
`DEFAULT`/`*` (every type not named). A specific type beats its group.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, cast

from policies.pii.operators.base import PiiOperator
from policies.pii.operators.block import Block
from policies.pii.operators.hashing import Hash
from policies.pii.operators.keep import Keep
from policies.pii.operators.mask import Mask, mask_value
from policies.pii.operators.placeholder import Placeholder
from policies.pii.recognizers import NATIONAL_ID_TYPES, SECRET_TYPES

REGISTRY: dict[str, PiiOperator] = {
    op.name: op for op in (Placeholder(), Mask(), Hash(), Block(), Keep())
}
"""Operator name → operator: the policy schema validates against these names."""

Operator = Literal["placeholder", "mask", "hash", "block", "keep"]  # == REGISTRY's keys (tested)
OPERATORS: frozenset[str] = frozenset(REGISTRY)
GROUPS: dict[str, frozenset[str]] = {"SECRET": SECRET_TYPES, "NATIONAL_ID": NATIONAL_ID_TYPES}
DEFAULT_KEYS = frozenset({"DEFAULT", "*"})

__all__ = [
    "DEFAULT_KEYS",
    "GROUPS",
    "OPERATORS",
    "REGISTRY",
    "Operator",
    "OperatorTable",
    "PiiOperator",
    "mask_value",
    "resolve_operators",
]


class OperatorTable(dict[str, Operator]):
    """entity type → operator, with a fallback for types not listed."""

    def __init__(self, table: Mapping[str, Operator], default: Operator) -> None:
        super().__init__(table)
        self.default: Operator = default

    def __missing__(self, key: str) -> Operator:
        return self.default


def resolve_operators(
    config: Mapping[str, str], *, default: Operator = "placeholder"
) -> OperatorTable:
    """Validate `config` (entity type or group → operator name) into an `OperatorTable`.

    Raises ValueError naming the bad key or operator; unknown entity types are accepted (a
    recognizer added later may produce them) as long as they are upper-case identifiers.
    """
    table: dict[str, Operator] = {}
    fallback = default
    specific: dict[str, Operator] = {}
    for key, name in config.items():
        if name not in OPERATORS:
            raise ValueError(
                f"unknown PII operator {name!r} for {key!r}; use one of {sorted(OPERATORS)}"
            )
        op = cast(Operator, name)
        if key in DEFAULT_KEYS:
            fallback = op
        elif key in GROUPS:
            for member in GROUPS[key]:
                table.setdefault(member, op)
        elif key.replace("_", "").isalnum() and key.isupper():
            specific[key] = op
        else:
            raise ValueError(f"bad PII entity type {key!r}: expected e.g. EMAIL_ADDRESS")
    table.update(specific)
    return OperatorTable(table, fallback)
