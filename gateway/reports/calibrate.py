"""`hybridgw router calibrate --from-ledger`: refit the difficulty threshold on your own traffic.

Two sources in the ledger (last `days` days):

* shadow verdicts (`shadow_verdicts`): sampled local answers with their difficulty score and
  whether the judge found them as good as the reference model's (`local_ok`);
* the decision inputs of every request (`difficulty`), i.e. the traffic's score distribution.

`--quality-floor Q` picks the highest threshold whose in-sample quality over the verdicts is at
least Q (a request at or above the threshold counts as served by the cloud, quality 1), capped at
the highest graded difficulty: verdicts exist only for requests that were served locally, so they
say nothing about prompts above the current threshold. `--target-local-share S` picks the
threshold that keeps S of the window's requests local. Either way the other figure is reported:
the traffic's local share, and the verdicts' quality with a Wilson interval.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from gateway.ledger.base import RecordSource
from gateway.ledger.verdicts import VerdictStore
from gateway.reports.quality import wilson

MIN_VERDICTS = 20


@dataclass(frozen=True, slots=True)
class LedgerFit:
    threshold: float
    verdicts: int
    quality: float  # share of graded requests acceptable at this threshold
    quality_ci: tuple[float, float]
    requests: int
    local_share: float  # share of the window's requests below the threshold
    capped: bool  # the quality fit was limited to the highest graded difficulty


def quality_floor_threshold(graded: list[tuple[float, bool]], floor: float) -> float:
    """The highest threshold whose quality over `graded` is >= `floor` (ties never split).

    Requests scoring >= the threshold count as served by the cloud (acceptable); below it, as
    their verdict says. The threshold is a midpoint between graded scores, or just above the
    highest one when every graded request may stay local.
    """
    ordered = sorted(graded)
    n = len(ordered)
    best, misses = ordered[0][0], 0
    for k in range(1, n + 1):
        misses += 0 if ordered[k - 1][1] else 1
        if k < n and ordered[k][0] == ordered[k - 1][0]:
            continue
        if 1 - misses / n >= floor:
            best = (ordered[k - 1][0] + ordered[k][0]) / 2 if k < n else ordered[-1][0] + 1e-6
    return best


def share_threshold(traffic: list[float], share: float) -> float:
    """The threshold keeping `share` of `traffic` local (score < threshold)."""
    ordered = sorted(traffic)
    k = round(share * len(ordered))
    if k <= 0:
        return 0.0
    if k >= len(ordered):
        return 1.0 + 1e-9
    return (ordered[k - 1] + ordered[k]) / 2


def fit(
    graded: list[tuple[float, bool]],
    traffic: list[float],
    *,
    quality_floor: float | None,
    target_local_share: float | None,
) -> LedgerFit:
    """The threshold and its operating point (pure: tests call this directly)."""
    capped = False
    if quality_floor is not None:
        threshold = quality_floor_threshold(graded, quality_floor)
        top = max(d for d, _ in graded)
        if threshold > top:  # every graded request may stay local: no evidence beyond `top`
            threshold, capped = top + 1e-6, True
    else:
        assert target_local_share is not None
        threshold = share_threshold(traffic, target_local_share)
    acceptable = sum(1 for d, good in graded if good or d >= threshold)
    local = sum(1 for d in traffic if d < threshold)
    return LedgerFit(
        threshold=threshold,
        verdicts=len(graded),
        quality=acceptable / len(graded),
        quality_ci=wilson(acceptable, len(graded)),
        requests=len(traffic),
        local_share=local / len(traffic) if traffic else 0.0,
        capped=capped,
    )


async def fit_from_ledger(
    ledger: object,
    *,
    days: int,
    quality_floor: float | None,
    target_local_share: float | None,
    min_verdicts: int = MIN_VERDICTS,
) -> LedgerFit:
    """Read the window's verdicts and decision inputs, then `fit`. ValueError when too few."""
    if not isinstance(ledger, VerdictStore) or not isinstance(ledger, RecordSource):
        raise ValueError("this ledger store keeps no shadow verdicts")
    until = datetime.now(UTC) + timedelta(seconds=1)
    since = until - timedelta(days=days)
    verdicts = await ledger.fetch_verdicts(since=since, until=until)
    graded = [(v.difficulty, v.local_ok) for v in verdicts if v.difficulty is not None]
    if len(graded) < min_verdicts:
        raise ValueError(
            f"only {len(graded)} shadow verdicts in the last {days} days (need {min_verdicts}); "
            "enable or raise the policy's shadow.sample_rate"
        )
    entries = await ledger.fetch(since=since, until=until)
    traffic = [e.difficulty for e in entries if e.difficulty is not None]
    return fit(graded, traffic, quality_floor=quality_floor, target_local_share=target_local_share)
