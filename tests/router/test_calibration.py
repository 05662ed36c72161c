"""Threshold calibration and routing curves on synthetic sets with known answers."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from training.router import calibrate
from training.router.metrics import (
    SHARES,
    expected_calibration_error,
    oracle_curve,
    quality_curve,
    random_curve,
    summarize,
)


def _known_set() -> tuple[np.ndarray, np.ndarray]:
    """1000 requests, scores 0.0005..0.9995; the 700 lowest are local-OK, the rest are not."""
    scores = (np.arange(1000) + 0.5) / 1000
    ok = (np.arange(1000) < 700).astype(float)
    return scores, ok


def test_target_local_share_returns_the_quantile() -> None:
    scores, ok = _known_set()
    point = calibrate.for_share(scores, ok, 0.8)
    assert abs(point.threshold - 0.8) < 1e-9
    assert point.local_share == 0.8
    assert abs(point.quality - 0.9) < 1e-9  # 100 of the 800 local ones fail


def test_quality_floor_returns_the_largest_safe_share() -> None:
    scores, ok = _known_set()
    perfect = calibrate.for_quality_floor(scores, ok, 1.0)
    assert perfect.local_share == 0.7
    assert abs(perfect.threshold - 0.7) < 1e-9
    floor = calibrate.for_quality_floor(scores, ok, 0.95)
    assert floor.local_share == 0.75  # 50 failures out of 1000 = quality 0.95


def test_quality_floor_never_splits_tied_scores() -> None:
    scores = np.array([0.1, 0.1, 0.1, 0.9])
    ok = np.array([1.0, 0.0, 1.0, 0.0])
    point = calibrate.for_quality_floor(scores, ok, 0.9)
    assert point.local_share == 0.0


def test_write_policy_keeps_layout(tmp_path: Path) -> None:
    policy = tmp_path / "p.yaml"
    policy.write_text("route:\n  - name: hard  # comment\n    when: {difficulty_gte: 0.7}\n")
    assert calibrate.write_policy(policy, 0.4321) == 1
    assert policy.read_text() == (
        "route:\n  - name: hard  # comment\n    when: {difficulty_gte: 0.4321}\n"
    )


def test_curves_of_known_routers() -> None:
    scores, ok = _known_set()
    ours = quality_curve(ok, scores)
    assert np.allclose(ours, oracle_curve(ok))
    # the oracle keeps PGR = 1 up to 70% local, then loses 1/0.3 per unit: 0.7 + 0.15
    assert abs(summarize("ours", ours, ok).apgr - 0.85) < 1e-9
    rand = random_curve(ok)
    assert abs(summarize("random", rand, ok).apgr - 0.5) < 1e-9
    assert rand[0] == 1.0 and abs(rand[-1] - 0.7) < 1e-12
    assert len(ours) == len(SHARES)


def test_ece_is_zero_when_calibrated_and_large_when_not() -> None:
    y = np.array([0.0, 1.0] * 50)
    assert expected_calibration_error(y, np.full(100, 0.5)) < 1e-9
    assert expected_calibration_error(y, np.full(100, 0.95)) > 0.4
