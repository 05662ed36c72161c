"""Where things are in a YAML file: map a key path to a line and column, and find duplicate keys.

PyYAML's `compose` gives the node tree with a start mark (0-based line and column) per node;
`safe_load` would throw the positions away. A key path (`loc`) is what pydantic reports: mapping
keys and sequence indices from the document root, e.g. ``("route", 2, "when", "difficulty_gte")``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import yaml

Loc = Sequence[str | int]


@dataclass(frozen=True, slots=True)
class Position:
    """A 1-based line and column, as editors and compilers print them."""

    line: int
    column: int

    @classmethod
    def of(cls, node: yaml.Node, *, end: bool = False) -> Position:
        mark = node.end_mark if end else node.start_mark
        return cls(mark.line + 1, mark.column + 1)


def compose(raw: bytes) -> yaml.Node | None:
    """The node tree of a single-document YAML text (None when empty). Raises `yaml.YAMLError`."""
    return yaml.compose(raw, Loader=yaml.SafeLoader)


def locate(root: yaml.Node, loc: Loc, *, at_key: bool = False) -> Position:
    """The position of the deepest node of `loc` that exists in the tree.

    With `at_key`, a final mapping key points at the key itself rather than its value (for
    "unknown key" errors). Segments the tree does not have (a missing key, pydantic's own
    markers such as ``[key]``) stop the walk at the closest existing node.
    """
    node = root
    key_node: yaml.Node | None = None
    for depth, segment in enumerate(loc):
        if segment == "[key]" and key_node is not None:
            return Position.of(key_node)
        child = _child(node, segment)
        if child is None:
            break
        key_node, node = child
        if at_key and depth == len(loc) - 1 and key_node is not None:
            return Position.of(key_node)
    return Position.of(node)


def scalar_at(root: yaml.Node, loc: Loc) -> str | None:
    """The scalar value at `loc` (e.g. a rule's name), or None if there is none."""
    node: yaml.Node | None = root
    for segment in loc:
        child = _child(node, segment) if node is not None else None
        node = child[1] if child is not None else None
    return node.value if isinstance(node, yaml.ScalarNode) else None


def duplicate_keys(root: yaml.Node) -> Iterator[tuple[tuple[str | int, ...], Position]]:
    """Every mapping key that repeats an earlier key of the same mapping (PyYAML keeps the last)."""
    stack: list[tuple[tuple[str | int, ...], yaml.Node]] = [((), root)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key, value in node.value:
                name = key.value if isinstance(key, yaml.ScalarNode) else str(key.start_mark)
                if name in seen:
                    yield (*path, name), Position.of(key)
                seen.add(name)
                stack.append(((*path, name), value))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(((*path, index), item) for index, item in enumerate(node.value))


def _child(node: yaml.Node, segment: str | int) -> tuple[yaml.Node | None, yaml.Node] | None:
    """(key node, value node) of `segment` under `node`; the last match if keys repeat."""
    if isinstance(node, yaml.MappingNode):
        found = None
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == str(segment):
                found = (key, value)
        return found
    if isinstance(node, yaml.SequenceNode) and isinstance(segment, int):
        return (None, node.value[segment]) if 0 <= segment < len(node.value) else None
    return None
