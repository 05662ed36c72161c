"""Load a policy file: YAML → strict `PolicyDocument`, or a `PolicyFileError` that says where.

Every problem is reported as ``path/to/file.yaml:LINE:COL: dotted.key: message``: YAML syntax
errors at their mark, duplicate keys (which PyYAML would silently collapse) at the repeated key,
and pydantic errors mapped back from their key path to the YAML node. Cross-reference errors
(`PolicyValueError`) carry the path of the exact offending value, e.g. a rule's target.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from difflib import get_close_matches
from importlib import resources
from pathlib import Path
from types import UnionType
from typing import Any, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from kernel.errors import PolicyError
from policies import yaml_positions
from policies.schema import PolicyDocument
from router.policy import PolicyValueError

_RULE_STAGES = ("protect", "route")


@dataclass(frozen=True, slots=True)
class LoadedPolicy:
    """A validated policy with where it came from and its version (content hash)."""

    document: PolicyDocument
    path: str
    version: str


@dataclass(frozen=True, slots=True)
class PolicyProblem:
    """One thing wrong with a policy file, located by line and column (1-based)."""

    source: str
    line: int
    column: int
    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}:{self.column}: {self.key}: {self.message}"


class PolicyFileError(PolicyError):
    """A policy file was refused. `problems` lists each one; the message prints them all."""

    def __init__(self, problems: list[PolicyProblem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = tuple(problems)


def default_policy_path() -> Path:
    """The embedded default policy shipped with the package."""
    return Path(str(resources.files("policies") / "examples" / "default.yaml"))


def load_policy(path: str | Path) -> LoadedPolicy:
    """Read and validate `path`. Raises `PolicyFileError` naming file, line and column."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        problem = PolicyProblem(str(path), 1, 1, "file", f"cannot read: {exc.strerror}")
        raise PolicyFileError([problem]) from exc
    return parse_policy(raw, str(path))


def parse_policy(raw: bytes, source: str) -> LoadedPolicy:
    """Validate policy text `raw`; `source` names it in error messages."""
    try:
        root = yaml_positions.compose(raw)
        data = yaml.safe_load(raw)
    except yaml.MarkedYAMLError as exc:
        raise PolicyFileError([_syntax_problem(source, exc)]) from exc
    except yaml.YAMLError as exc:
        raise PolicyFileError([PolicyProblem(source, 1, 1, "yaml", str(exc))]) from exc
    if root is None:
        raise PolicyFileError([PolicyProblem(source, 1, 1, "document", "the file is empty")])
    duplicates = [
        PolicyProblem(source, pos.line, pos.column, _dotted(loc), "duplicate key")
        for loc, pos in yaml_positions.duplicate_keys(root)
    ]
    if duplicates:
        raise PolicyFileError(sorted(duplicates, key=lambda p: (p.line, p.column)))
    try:
        document = PolicyDocument.model_validate(data)
    except ValidationError as exc:
        problems = [_validation_problem(source, root, error) for error in exc.errors()]
        raise PolicyFileError(sorted(problems, key=lambda p: (p.line, p.column))) from exc
    version = hashlib.sha256(raw).hexdigest()[:12]
    return LoadedPolicy(document=document, path=source, version=version)


def _syntax_problem(source: str, exc: yaml.MarkedYAMLError) -> PolicyProblem:
    mark = exc.problem_mark or exc.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    detail = exc.problem or "invalid YAML"
    if exc.context and detail.startswith("but "):  # "expected X, but found Y"
        detail = f"{exc.context}, {detail}"
    elif exc.context:
        detail = f"{detail} ({exc.context})"
    return PolicyProblem(source, line, column, "yaml", f"syntax error: {detail}")


def _validation_problem(source: str, root: yaml.Node, error: ErrorDetails) -> PolicyProblem:
    loc: tuple[str | int, ...] = tuple(error["loc"])
    cause = error.get("ctx", {}).get("error")
    if isinstance(cause, PolicyValueError):
        loc = (*loc, *cause.loc)
        message = str(cause)
    else:
        message = _message(error, loc)
    position = yaml_positions.locate(root, loc, at_key=error["type"] == "extra_forbidden")
    loc = tuple(segment for segment in loc if segment != "[key]")
    rule = _rule_name(root, loc)
    if rule is not None and f"'{rule}'" not in message:
        message = f"rule '{rule}': {message}"
    return PolicyProblem(source, position.line, position.column, _dotted(loc), message)


def _message(error: ErrorDetails, loc: tuple[str | int, ...]) -> str:
    kind, given = error["type"], error["input"]
    if kind == "extra_forbidden":
        return _unknown_key_message(loc)
    if kind == "missing":
        return f"missing required key '{loc[-1]}'" if loc else "missing required key"
    message = error["msg"].removeprefix("Value error, ")
    message = re.sub(r" or instance of \w+$", "", message)  # pydantic's model-type wording
    if isinstance(given, str | int | float | bool):
        message = f"{message} (got {given!r})"
    return message


def _unknown_key_message(loc: tuple[str | int, ...]) -> str:
    key = str(loc[-1]) if loc else "?"
    allowed = _allowed_keys(loc[:-1])
    if not allowed:
        return f"unknown key '{key}'"
    close = get_close_matches(key, allowed, n=1)
    hint = f"did you mean '{close[0]}'?" if close else "allowed: " + ", ".join(allowed)
    return f"unknown key '{key}' ({hint})"


def _allowed_keys(loc: tuple[str | int, ...]) -> list[str]:
    """The keys the schema accepts in the mapping at `loc` (empty if it is not a model)."""
    current: Any = PolicyDocument
    for segment in loc:
        current = _unwrap_optional(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(segment))
            current = field.annotation if field else None
        elif get_origin(current) is list:
            current = get_args(current)[0]
        elif get_origin(current) is dict:
            current = get_args(current)[1]
        else:
            return []
    current = _unwrap_optional(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _unwrap_optional(annotation: Any) -> Any:
    if get_origin(annotation) in (Union, UnionType):
        members = [a for a in get_args(annotation) if a is not type(None)]
        return members[0] if len(members) == 1 else annotation
    return annotation


def _rule_name(root: yaml.Node, loc: tuple[str | int, ...]) -> str | None:
    if len(loc) >= 2 and loc[0] in _RULE_STAGES and isinstance(loc[1], int):
        return yaml_positions.scalar_at(root, (loc[0], loc[1], "name"))
    return None


def _dotted(loc: tuple[str | int, ...] | list[str | int]) -> str:
    return ".".join(str(segment) for segment in loc) or "document"
