"""Data handling behind `hybridgw router calibrate`: load labelled rows, score, fit, hold out.

With the committed dataset, the threshold is fitted on the validation split and reported on
the test split. With `--labelled FILE`, rows whose `split` is "test" are held out; when the
file has no split column, a deterministic half (by text hash) is held out. Rows that already
carry a `p_difficulty` score are not re-scored.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from training.router import calibrate
from training.router.build_data import read_split
from training.router.records import stable_id


@dataclass(frozen=True, slots=True)
class CalibrationResult:
    """The fitted threshold's operating point on the fitting and the held-out rows."""

    fitted: calibrate.Operating
    held_out: calibrate.Operating
    fit_rows: int
    held_rows: int


def read_rows(path: Path) -> list[dict[str, Any]]:
    """JSON lines, gzip'd or not."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _split(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    if any("split" in r for r in rows):
        return [r for r in rows if r.get("split") != "test"], [
            r for r in rows if r.get("split") == "test"
        ]
    held = [int(stable_id(r["text"]), 16) % 2 == 1 for r in rows]
    return [r for r, h in zip(rows, held, strict=True) if not h], [
        r for r, h in zip(rows, held, strict=True) if h
    ]


def _arrays(rows: list[dict[str, Any]], model: Path | None) -> tuple[np.ndarray, np.ndarray]:
    rows = [r for r in rows if r.get("difficulty") is not None]
    missing = [r for r in rows if "p_difficulty" not in r]
    if missing:
        from router.classifier import OnnxClassifier

        classifier = OnnxClassifier(model)
        for start in range(0, len(missing), 256):
            chunk = missing[start : start + 256]
            for r, s in zip(chunk, classifier.score_batch([r["text"] for r in chunk]), strict=True):
                r["p_difficulty"] = s["difficulty"]
    scores = np.array([float(r["p_difficulty"]) for r in rows])
    ok = np.array([1.0 - float(float(r["difficulty"]) >= 0.5) for r in rows])
    return scores, ok


def run_calibration(
    *,
    labelled: Path | None,
    dataset: Path,
    model: Path | None,
    target_local_share: float | None,
    quality_floor: float | None,
) -> CalibrationResult:
    """Fit the threshold on the fitting rows, report it on the held-out rows."""
    if labelled is not None:
        fit_rows, held_rows = _split(read_rows(labelled))
    else:
        fit_rows, held_rows = read_split(dataset, "validation"), read_split(dataset, "test")
    fit_scores, fit_ok = _arrays(fit_rows, model)
    held_scores, held_ok = _arrays(held_rows, model)
    fitted = calibrate.fit(fit_scores, fit_ok, target_local_share, quality_floor)
    held = calibrate.operating_point(fitted.threshold, held_scores, held_ok)
    return CalibrationResult(fitted, held, len(fit_scores), len(held_scores))
