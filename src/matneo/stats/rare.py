"""Charts made for rare events: the g-chart and exact (probability) limits for monthly counts.

Why: a Making Data Count P′ or XmR chart puts symmetric 3σ limits on monthly counts that are
mostly 0, 1 or 2, so a single unlucky month crosses the upper limit far more often than the
0.135% a 3σ limit promises; on MatNeo's benchmark monthly SPC on stillbirths, neonatal deaths
and brain injuries raised about 49 false alarms per 100 trust-years (docs/performance.md,
"Signals"). Two remedies from the rare-event SPC literature are implemented here as pure
functions:

* **g-chart** — plot the number of cases (births) between consecutive events, which follows a
  geometric distribution when the event rate is steady (Benneyan JC, Number-between g-type
  statistical quality control charts for monitoring adverse events, *Health Care Management
  Science* 2001;4(4):305-318; Kaminsky FC et al., *J Qual Technol* 1992;24(2):63-69). Limits as
  Provost and Murray give them (*The Health Care Data Guide*, Jossey-Bass 2011, pp. 228-229) and
  qicharts2 draws them (``qic(chart = "g")``, https://rdrr.io/cran/qicharts2/man/qic.html):
  centre line the geometric median ≈ 0.693 × ḡ (ln 2 × ḡ), UCL = ḡ + 3√(ḡ(ḡ + 1)),
  LCL = max(0, ḡ − 3√(ḡ(ḡ + 1))). A deterioration shows as *short* gaps: with rare events the
  lower limit is 0, so a deterioration is read from runs below the centre line, not single
  points. :func:`g_chart_probability_limits` gives Benneyan's probability limits instead.
* **exact limits** — the upper limit of a month's count is the smallest count whose upper tail
  under the expected Poisson (or binomial) distribution is at most α, so each in-control point
  has a false-alarm probability of at most α, whatever the expected count (the "probability
  limits" recommended for skewed count data by Benneyan 2001 and by Montgomery, *Introduction to
  Statistical Quality Control*, 7th ed., Wiley 2013). α = 0.00135 matches a one-sided 3σ
  limit, the Making Data Count "outside the limits" rule (NHS England, Making Data Count:
  Strengthening your decisions, 2019). The false-alarm rate of a chart with these limits is then
  known exactly (:func:`exact_false_alarm_probability`), which is what lets it be shown.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = [
    "ONE_SIDED_3_SIGMA",
    "GChart",
    "exact_false_alarm_probability",
    "exact_upper_limit",
    "g_chart",
    "g_chart_probability_limits",
    "gaps_between_events",
]

#: One-sided tail of a 3σ normal limit, P(Z > 3) = 0.00135: the false-alarm probability per
#: point a Shewhart chart's upper limit is meant to have (Montgomery 2013).
ONE_SIDED_3_SIGMA = 0.00135


@dataclass(frozen=True)
class GChart:
    """A g-chart: the gaps, their mean, the centre line (median) and the 3σ limits."""

    gaps: npt.NDArray[np.float64]
    mean: float
    centre: float
    upper: float
    lower: float


def gaps_between_events(outcomes: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Number of non-event cases before each event, from 0/1 outcomes in time order.

    By hand: outcomes 0 0 1 0 1 1 give gaps 2, 1, 0 (two births before the first event, one
    between the first and second, none between the second and third). Cases after the last
    event are an incomplete gap and are not returned.
    """
    y = np.asarray(outcomes, dtype=np.float64)
    if y.ndim != 1 or np.any((y != 0) & (y != 1)):
        raise ValueError("outcomes must be a one-dimensional sequence of 0 and 1")
    events = np.flatnonzero(y == 1)
    return np.diff(np.concatenate(([-1], events))).astype(np.float64) - 1.0


def g_chart(gaps: npt.ArrayLike) -> GChart:
    """g-chart centre line and limits (Provost and Murray 2011, pp. 228-229; qicharts2).

    ḡ = mean gap; centre = ln 2 × ḡ (≈ 0.693 ḡ, the median of a geometric distribution with
    that mean); UCL = ḡ + 3√(ḡ(ḡ + 1)); LCL = max(0, ḡ − 3√(ḡ(ḡ + 1))). The spread is the
    geometric distribution's: Var(G) = (1 − p)/p² = ḡ(ḡ + 1) with ḡ = (1 − p)/p.
    """
    g = np.asarray(gaps, dtype=np.float64)
    if g.ndim != 1 or g.size < 2 or np.any(g < 0) or not np.all(np.isfinite(g)):
        raise ValueError("gaps must be at least two non-negative finite numbers")
    mean = float(g.mean())
    spread = 3.0 * math.sqrt(mean * (mean + 1.0))
    return GChart(gaps=g, mean=mean, centre=math.log(2.0) * mean, upper=mean + spread, lower=max(0.0, mean - spread))


def g_chart_probability_limits(mean_gap: float, alpha: float = ONE_SIDED_3_SIGMA) -> tuple[float, float]:
    """Benneyan's probability limits for a g-chart: the α and 1 − α quantiles of the gap.

    The gap G (non-events before an event) is geometric with p = 1/(ḡ + 1):
    P(G ≤ k) = 1 − (1 − p)^(k+1). The lower limit is the largest k with P(G ≤ k) ≤ α and the
    upper the smallest k with P(G ≥ k) ≤ α, so a single gap beyond either has probability at
    most α in control. With rare events the lower limit is 0 (no single short gap is unusual).
    """
    if mean_gap <= 0 or not 0 < alpha < 0.5:
        raise ValueError("the mean gap must be positive and alpha in (0, 0.5)")
    q = 1.0 - 1.0 / (mean_gap + 1.0)  # 1 − p
    # P(G ≤ k) ≤ α  ⇔  (k + 1) ≤ ln(1 − α)/ln q
    lower = max(0.0, math.floor(math.log(1.0 - alpha) / math.log(q)) - 1.0)
    # P(G ≥ k) = q^k ≤ α  ⇔  k ≥ ln α / ln q
    upper = float(math.ceil(math.log(alpha) / math.log(q)))
    return lower, upper


def exact_upper_limit(
    expected: npt.ArrayLike, alpha: float = ONE_SIDED_3_SIGMA, trials: npt.ArrayLike | None = None
) -> npt.NDArray[np.float64]:
    """Smallest count u with P(X ≥ u) ≤ α: a point at or above u is special cause.

    X is Poisson with the given mean (``expected``: the month's expected events, e.g. its births
    × the reference rate, or the case-mix E), or binomial with ``trials`` births and p =
    expected / trials. By hand: for a mean of 2, P(X ≥ 7) = 0.00453 and P(X ≥ 8) = 0.00110,
    so at α = 0.00135 the limit is 8 events.
    """
    from scipy import stats  # here, not at the top: scipy.stats takes a second to import (signals refresh)

    mean = np.asarray(expected, dtype=np.float64)
    if np.any(mean < 0) or not 0 < alpha < 0.5:
        raise ValueError("expected counts must be ≥ 0 and alpha in (0, 0.5)")
    if trials is None:
        # isf gives the smallest k with P(X > k) ≤ α; the limit is k + 1 (P(X ≥ k + 1) ≤ α).
        return np.asarray(stats.poisson.isf(alpha, mean), dtype=np.float64) + 1.0
    n = np.asarray(trials, dtype=np.float64)
    p = np.divide(mean, n, out=np.zeros_like(mean), where=n > 0)
    return np.asarray(stats.binom.isf(alpha, n, p), dtype=np.float64) + 1.0


def exact_false_alarm_probability(
    expected: npt.ArrayLike, alpha: float = ONE_SIDED_3_SIGMA, trials: npt.ArrayLike | None = None
) -> npt.NDArray[np.float64]:
    """P(X ≥ u) in control for the limit u of :func:`exact_upper_limit`: at most α, often less.

    Counts are discrete, so the realised false-alarm probability sits below α by an amount that
    depends on the mean (for a mean of 2 it is 0.00110, not 0.00135). Summed over a trust's
    months it is the chart's expected false alarms, the figure the register quotes.
    """
    from scipy import stats

    limit = exact_upper_limit(expected, alpha, trials)
    mean = np.asarray(expected, dtype=np.float64)
    if trials is None:
        return np.asarray(stats.poisson.sf(limit - 1.0, mean), dtype=np.float64)
    n = np.asarray(trials, dtype=np.float64)
    p = np.divide(mean, n, out=np.zeros_like(mean), where=n > 0)
    return np.asarray(stats.binom.sf(limit - 1.0, n, p), dtype=np.float64)
