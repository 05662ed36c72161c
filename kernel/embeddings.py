"""What an embedding backend returns, local or cloud (the wire shape is the dialect's business)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # a type only: numpy is imported by whoever makes the vectors
    import numpy as np
    from numpy.typing import NDArray


@dataclass(frozen=True, slots=True)
class Embedded:
    """Vectors (one row per input, float32) and the input tokens they cost."""

    vectors: NDArray[np.float32]
    tokens: int
