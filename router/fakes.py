"""First-class fakes of the router's protocols: real implementations with configured behaviour."""

from __future__ import annotations

from collections.abc import Mapping

from router.profiles import PROFILES, difficulty_key


class FakeClassifier:
    """A `Classifier` that returns fixed scores, optionally overridden per exact text.

    `difficulty` is returned under the plain key and under every profile's key (unless a
    profile key is overridden explicitly).
    """

    def __init__(
        self,
        difficulty: float = 0.0,
        sensitivity: float = 0.0,
        by_text: Mapping[str, Mapping[str, float]] | None = None,
    ) -> None:
        self._default = {"difficulty": difficulty, "sensitivity": sensitivity}
        self._by_text = dict(by_text or {})

    def score(self, text: str) -> Mapping[str, float]:
        scores = {**self._default, **self._by_text.get(text, {})}
        return {**{difficulty_key(p): scores["difficulty"] for p in PROFILES}, **scores}
