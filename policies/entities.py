"""PII entity type names in a policy: which are known, and the group names that stand for several.

The known types are the ones `policies.pii` can detect. A group name (`SECRET`) may be written
wherever a type is expected (`pii.entities`, `pii_any`); the schema expands it to its member types
before validation, so the router and the scanner only ever see concrete types. A type named on its
own keeps its own operator over its group's. `DEFAULT` (or `*`) in `pii.entities` sets the operator
for every type not listed, and so makes the scanner look for every known type.
"""

from __future__ import annotations

from collections.abc import Mapping
from difflib import get_close_matches
from typing import Any

from policies.pii import SUPPORTED_TYPES
from policies.pii.operators import DEFAULT_KEYS
from policies.pii.operators import GROUPS as ENTITY_GROUPS
from router.policy import Loc, PolicyValueError


def protected_types(entities: Mapping[str, str]) -> frozenset[str]:
    """The types the scanner looks for under `pii.entities` (all of them with a DEFAULT key)."""
    if entities.keys() & DEFAULT_KEYS:
        return SUPPORTED_TYPES
    return frozenset(entities.keys() & SUPPORTED_TYPES)


def require_known_entity(loc: Loc, entity: str, *, default_allowed: bool = False) -> None:
    """Raise `PolicyValueError` at `loc` unless `entity` is a type `policies.pii` detects (or,
    with `default_allowed`, a DEFAULT key)."""
    if entity in SUPPORTED_TYPES or (default_allowed and entity in DEFAULT_KEYS):
        return
    known = sorted(SUPPORTED_TYPES | ENTITY_GROUPS.keys())
    close = get_close_matches(entity.upper(), known, n=1)
    hint = (
        f"did you mean '{close[0]}'?" if close else "known: " + ", ".join(sorted(SUPPORTED_TYPES))
    )
    raise PolicyValueError(loc, f"unknown PII entity type '{entity}' ({hint})")


def expand_entity_groups(data: Any) -> Any:
    """A copy of raw policy `data` with group names expanded in `pii.entities` and `pii_any`."""
    if not isinstance(data, dict):
        return data
    data = dict(data)
    pii = data.get("pii")
    if isinstance(pii, dict) and isinstance(pii.get("entities"), dict):
        data["pii"] = {**pii, "entities": _expand_operators(pii["entities"])}
    for stage in ("protect", "route"):
        rules = data.get(stage)
        if isinstance(rules, list):
            data[stage] = [_expand_rule(rule) for rule in rules]
    return data


def _expand_operators(entities: dict[Any, Any]) -> dict[Any, Any]:
    expanded: dict[Any, Any] = {}
    for key, operator in entities.items():
        for member in sorted(ENTITY_GROUPS.get(key, ())):
            expanded.setdefault(member, operator)
    for key, operator in entities.items():
        if key not in ENTITY_GROUPS:
            expanded[key] = operator
    return expanded


def _expand_rule(rule: Any) -> Any:
    when = rule.get("when") if isinstance(rule, dict) else None
    if not isinstance(when, dict) or not isinstance(when.get("pii_any"), list):
        return rule
    types: list[Any] = []
    for entity in when["pii_any"]:
        members = sorted(ENTITY_GROUPS[entity]) if entity in ENTITY_GROUPS else [entity]
        types.extend(m for m in members if m not in types)
    return {**rule, "when": {**when, "pii_any": types}}
