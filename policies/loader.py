"""Load a policy file: YAML → strict `PolicyDocument`, or a `PolicyError` naming the file."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml
from pydantic import ValidationError

from policies.schema import PolicyDocument
from router.errors import PolicyError


@dataclass(frozen=True, slots=True)
class LoadedPolicy:
    """A validated policy with where it came from and its version (content hash)."""

    document: PolicyDocument
    path: str
    version: str


def default_policy_path() -> Path:
    """The embedded default policy shipped with the package."""
    return Path(str(resources.files("policies") / "examples" / "default.yaml"))


def load_policy(path: str | Path) -> LoadedPolicy:
    """Read and validate `path`. Raises `PolicyError` with file context on any problem."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PolicyError(f"{path}: cannot read policy file: {exc.strerror}") from exc
    return parse_policy(raw, str(path))


def parse_policy(raw: bytes, source: str) -> LoadedPolicy:
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise PolicyError(f"{source}: invalid YAML: {exc}") from exc
    try:
        document = PolicyDocument.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        location = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise PolicyError(f"{source}: {location}: {first['msg']}") from exc
    version = hashlib.sha256(raw).hexdigest()[:12]
    return LoadedPolicy(document=document, path=source, version=version)
