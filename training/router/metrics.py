"""Metrics for the classifier and for routing: AUCs, calibration error, quality vs local share.

Routing model used by the curves: a request sent to the cloud is answered acceptably (quality
1); a request kept local is acceptable when its label says so (`local_ok = 1 - difficulty`).
A router orders requests from "most local-safe" to "least"; keeping the first share `s` local
gives quality Q(s) = mean over requests of (local_ok if local else 1).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from sklearn.metrics import average_precision_score, roc_auc_score

Array = NDArray[np.float64]
SHARES = np.linspace(0.0, 1.0, 101)


def head_metrics(y: Sequence[float] | Array, p: Sequence[float] | Array) -> dict[str, float]:
    """ROC-AUC, PR-AUC (average precision), ECE, rows and positive rate of one head."""
    y_arr = np.asarray(y, dtype=np.float64)
    p_arr = np.asarray(p, dtype=np.float64)
    both = len(set(y_arr.tolist())) == 2
    return {
        "rows": float(len(y_arr)),
        "positive_rate": float(y_arr.mean()) if len(y_arr) else float("nan"),
        "roc_auc": float(roc_auc_score(y_arr, p_arr)) if both else float("nan"),
        "pr_auc": float(average_precision_score(y_arr, p_arr)) if both else float("nan"),
        "ece": expected_calibration_error(y_arr, p_arr),
    }


def expected_calibration_error(y: Array, p: Array, bins: int = 10) -> float:
    """ECE with equal-width bins: sum over bins of |mean(y) - mean(p)| x bin share."""
    if len(y) == 0:
        return float("nan")
    index = np.minimum((p * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        mask = index == b
        if mask.any():
            total += abs(float(y[mask].mean()) - float(p[mask].mean())) * mask.mean()
    return float(total)


def quality_curve(local_ok: Array, order_key: Array) -> Array:
    """Q(s) on `SHARES` when requests are kept local in ascending `order_key` order."""
    order = np.argsort(order_key, kind="stable")
    ok_sorted = local_ok[order]
    n = len(ok_sorted)
    # quality = (sum of local_ok of the k kept local + (n - k) sent to cloud) / n
    cumulative = np.concatenate([[0.0], np.cumsum(ok_sorted)])
    curve = []
    for share in SHARES:
        k = round(share * n)
        curve.append((cumulative[k] + (n - k)) / n)
    return np.array(curve)


def random_curve(local_ok: Array) -> Array:
    """Expected Q(s) of a router that keeps a random share `s` local."""
    return np.asarray(1.0 - SHARES * (1.0 - float(local_ok.mean())), dtype=np.float64)


def oracle_curve(local_ok: Array) -> Array:
    """Q(s) of a router that knows the labels (local-OK requests first)."""
    return quality_curve(local_ok, -local_ok)


@dataclass(frozen=True, slots=True)
class RouterSummary:
    """Headline numbers of one router's curve."""

    name: str
    apgr: float
    area_over_random: float
    quality_at: dict[float, float]


def summarize(name: str, curve: Array, local_ok: Array) -> RouterSummary:
    """APGR (RouteLLM's average performance gap recovered), area above random, Q at shares.

    PGR(s) = (Q(s) - Q_all_local) / (Q_all_cloud - Q_all_local) with Q_all_cloud = 1; APGR is
    its mean over cloud shares 0..1 (random ≈ 0.5, oracle → 1).
    """
    all_local = float(local_ok.mean())
    gap = 1.0 - all_local
    pgr = (curve - all_local) / gap if gap > 0 else np.ones_like(curve)
    area = float(np.trapezoid(curve - random_curve(local_ok), SHARES))
    quality_at = {s: float(np.interp(s, SHARES, curve)) for s in (0.5, 0.7, 0.8)}
    return RouterSummary(name, float(np.trapezoid(pgr, SHARES)), area, quality_at)


def threshold_for_share(scores: Array, share: float) -> float:
    """The difficulty threshold that keeps `share` of these requests local (score < t)."""
    if share <= 0:
        return 0.0
    if share >= 1:
        return 1.0 + 1e-9
    ordered = np.sort(scores)
    k = round(share * len(ordered))
    return float((ordered[k - 1] + ordered[k]) / 2) if 0 < k < len(ordered) else 1.0


@dataclass(frozen=True, slots=True)
class RouteLLMMetrics:
    """RouteLLM's numbers for one router: PGR on `SHARES` (cloud share), APGR, CPT(50/80%)."""

    pgr: Array
    apgr: float
    cpt50: float
    cpt80: float


def routellm_metrics(weak_ok: Array, strong_ok: Array, difficulty: Array) -> RouteLLMMetrics:
    """Send the `c` most difficult requests to the strong (cloud) model, for c on `SHARES`.

    perf(c) = mean(strong_ok if sent else weak_ok); PGR(c) = (perf(c) - perf(0)) /
    (perf(1) - perf(0)); APGR = mean PGR over c (trapezoid); CPT(x) = the smallest cloud share
    whose PGR reaches x (RouteLLM, Ong et al. 2024).
    """
    order = np.argsort(-difficulty, kind="stable")
    gain = (strong_ok - weak_ok)[order]
    cumulative = np.concatenate([[0.0], np.cumsum(gain)])
    n = len(gain)
    base, top = float(weak_ok.mean()), float(strong_ok.mean())
    perf = np.array([base + cumulative[round(c * n)] / n for c in SHARES])
    pgr = (perf - base) / (top - base) if top > base else np.ones_like(perf)
    return RouteLLMMetrics(pgr, float(np.trapezoid(pgr, SHARES)), _cpt(pgr, 0.5), _cpt(pgr, 0.8))


def _cpt(pgr: Array, target: float) -> float:
    reached = np.nonzero(pgr >= target - 1e-12)[0]
    return float(SHARES[reached[0]]) if len(reached) else float("nan")
