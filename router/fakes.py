"""First-class fakes of the router's protocols: real implementations with configured behaviour."""

from __future__ import annotations

from collections.abc import Mapping


class FakeClassifier:
    """A `Classifier` that returns fixed scores, optionally overridden per exact text."""

    def __init__(
        self,
        difficulty: float = 0.0,
        sensitivity: float = 0.0,
        by_text: Mapping[str, Mapping[str, float]] | None = None,
    ) -> None:
        self._default = {"difficulty": difficulty, "sensitivity": sensitivity}
        self._by_text = dict(by_text or {})

    def score(self, text: str) -> Mapping[str, float]:
        return {**self._default, **self._by_text.get(text, {})}
