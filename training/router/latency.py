"""Decision latency of the classifier: wall time of one `score()` call for prompts of a size.

Used by `bench/bench_classifier.py` and by `hybridgw router evaluate` (for the model card).
Never called from tests: timings are measurements, not assertions.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from router.classifier import OnnxClassifier

_FILLER = (
    "Please review the following paragraph about quarterly planning and suggest three "
    "improvements to its structure, tone and clarity, keeping the numbers 42, 7.5 and 2026. "
)


@dataclass(frozen=True, slots=True)
class Latency:
    """Percentiles in milliseconds for prompts of about `tokens` tokens."""

    tokens: int
    chars: int
    p50_ms: float
    p99_ms: float
    mean_ms: float
    runs: int
    cpu_p50_ms: float  # thread CPU time: the cost without waiting for a shared core
    cpu_p99_ms: float


def prompt_of(tokens: int) -> str:
    """A deterministic English prompt of about `tokens` tokens (4 characters per token)."""
    chars = tokens * 4
    return (_FILLER * (chars // len(_FILLER) + 1))[:chars]


def measure(
    path: str | Path | None = None,
    sizes: tuple[int, ...] = (50, 500, 4000),
    runs: int = 500,
    intra_op_threads: int = 1,
) -> list[Latency]:
    """Time `score()` (`runs` calls after 20 warm-up calls) for each prompt size."""
    classifier = OnnxClassifier(path, intra_op_threads=intra_op_threads)
    out: list[Latency] = []
    for tokens in sizes:
        text = prompt_of(tokens)
        for _ in range(20):
            classifier.score(text)
        samples = np.empty(runs)
        cpu = np.empty(runs)
        for i in range(runs):
            started, cpu_started = time.perf_counter(), time.thread_time()
            classifier.score(text)
            samples[i] = time.perf_counter() - started
            cpu[i] = time.thread_time() - cpu_started
        ms, cpu_ms = samples * 1000, cpu * 1000
        out.append(
            Latency(
                tokens=tokens,
                chars=len(text),
                p50_ms=float(np.percentile(ms, 50)),
                p99_ms=float(np.percentile(ms, 99)),
                mean_ms=float(ms.mean()),
                runs=runs,
                cpu_p50_ms=float(np.percentile(cpu_ms, 50)),
                cpu_p99_ms=float(np.percentile(cpu_ms, 99)),
            )
        )
    return out
