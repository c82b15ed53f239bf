"""Confidence intervals for proportions, rates and rate ratios.

Pure, NumPy-vectorised functions. Every public function accepts scalars or array-likes
(broadcast against each other) and returns Python ``float`` values when every data input
is a scalar, otherwise ``numpy.ndarray`` of ``float64`` with the broadcast shape.

The methods follow the UKHSA/DHSC-maintained R package
PHEindicatormethods v2.1.0 (``ukhsa-collaboration/PHEindicatormethods@093fd288``), which is
the reference implementation of the methods in the PHE "Technical Guide: Confidence
Intervals" (Public Health Data Science, 25 May 2018) and APHO Technical Briefing 3
("Commonly used public health statistics and their confidence intervals", 2008). The
formulas are restated in ``docs/methods.md`` ("Confidence intervals") with their sources.

Conventions shared by every function here:

* ``confidence`` is a fraction strictly between 0 and 1 (0.95, 0.998, ...). A percentage
  such as 95 is rejected rather than guessed at.
* Counts and denominators must be finite and non-negative. Non-integer counts are allowed
  (PHEindicatormethods' own tests use 0.445 out of 1), so weighted counts work.
* Invalid input raises ``ValueError`` naming the argument. Valid input never raises and
  never emits a NumPy or SciPy warning: the only non-finite outputs are the documented
  ``nan`` values for quantities that are undefined (for example 0 events out of 0), which
  callers should display as "not available" (and ``inf`` only if a rate truly overflows
  float64, e.g. a denominator of 1e-320).
"""

from __future__ import annotations

import functools
import numbers

import numpy as np
import numpy.typing as npt
from scipy import special

__all__ = [
    "EXACT_COUNT_THRESHOLD",
    "byar_ci",
    "poisson_exact_ci",
    "proportion_ci",
    "rate_ci",
    "rate_ratio_ci",
    "risk_ratio_ci",
    "z_value",
]

FloatOrArray = float | npt.NDArray[np.float64]

#: Counts below this use the exact Poisson interval in :func:`rate_ci`; counts at or above
#: it use Byar's approximation. Source: PHEindicatormethods v2.1.0 ``R/Rates.R``
#: (``phe_rate``: ``if_else(x < 10, <exact>, <Byars>)``) and the PHE "Technical Guide:
#: Confidence Intervals" (2018), which states that for numerators of 10 or more Byar's
#: method is within 0.2% of the exact value at 95% confidence.
EXACT_COUNT_THRESHOLD = 10


# --------------------------------------------------------------------------------------
# Validation helpers
# --------------------------------------------------------------------------------------


def _check_confidence(confidence: float) -> float:
    """Return ``confidence`` as a float, or raise ``ValueError`` if it is not in (0, 1)."""
    if isinstance(confidence, bool) or not isinstance(confidence, numbers.Real):
        raise ValueError(f"confidence must be a real number between 0 and 1, got {confidence!r}")
    value = float(confidence)
    if not np.isfinite(value) or not 0.0 < value < 1.0:
        hint = ""
        if 1.0 < value <= 100.0:
            hint = f" (give a fraction: {value / 100:g}, not {value:g})"
        raise ValueError(f"confidence must be strictly between 0 and 1, got {confidence!r}{hint}")
    return value


def _as_array(value: npt.ArrayLike, name: str) -> npt.NDArray[np.float64]:
    """Convert a numeric scalar or array-like to a float64 array, rejecting non-numeric data."""
    raw = np.asarray(value)
    if raw.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be numeric (int or float), got data of dtype {raw.dtype}")
    arr = raw.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite: NaN and infinity are not valid input")
    return arr


def _non_negative(value: npt.ArrayLike, name: str) -> npt.NDArray[np.float64]:
    arr = _as_array(value, name)
    if np.any(arr < 0):
        raise ValueError(f"{name} must be greater than or equal to zero")
    return arr


def _broadcast(*arrays: npt.NDArray[np.float64]) -> tuple[npt.NDArray[np.float64], ...]:
    try:
        return tuple(np.broadcast_arrays(*arrays))
    except ValueError as exc:
        shapes = ", ".join(str(a.shape) for a in arrays)
        raise ValueError(f"inputs could not be broadcast together (shapes {shapes})") from exc


def _check_zero_denominator(
    count: npt.NDArray[np.float64], denominator: npt.NDArray[np.float64], count_name: str, denom_name: str
) -> None:
    """Events with a zero denominator are a data error; 0 events over 0 is merely undefined."""
    if np.any((denominator == 0) & (count > 0)):
        raise ValueError(
            f"{count_name} must be 0 where {denom_name} is 0 (events cannot occur in an empty denominator)"
        )


def _out(arr: npt.NDArray[np.float64], scalar: bool) -> FloatOrArray:
    return float(arr) if scalar else arr


# --------------------------------------------------------------------------------------
# Building blocks
# --------------------------------------------------------------------------------------


def z_value(confidence: float = 0.95) -> float:
    """Two-sided standard normal critical value for ``confidence``.

    ``z = Φ⁻¹(c + (1 − c)/2)``, as in PHEindicatormethods ``R/utils.R`` (``byars_lower``,
    ``wilson_lower``: ``qnorm(confidence + (1-confidence)/2)``). It is computed as
    ``−Φ⁻¹((1 − c)/2)``, which is the same number but keeps full precision for confidence
    levels very close to 1. Examples: 0.95 → 1.959964, 0.998 → 3.090232.

    Raises:
        ValueError: if ``confidence`` is not strictly between 0 and 1.
    """
    c = _check_confidence(confidence)
    return float(-special.ndtri((1.0 - c) / 2.0))


def poisson_exact_ci(count: npt.ArrayLike, confidence: float = 0.95) -> tuple[FloatOrArray, FloatOrArray]:
    """Exact (Garwood) Poisson confidence interval for an observed count, on the count scale.

    Formula (PHE "Technical Guide: Confidence Intervals", Appendix 2 "χ² exact method";
    PHEindicatormethods v2.1.0 ``R/Rates.R``, ``phe_rate``), with α = 1 − confidence:

    * lower = χ²_{α/2}(2x) / 2, defined as exactly 0 when x = 0
    * upper = χ²_{1−α/2}(2x + 2) / 2

    Evaluated as the inverse regularised incomplete gamma functions
    ``gammaincinv(x, α/2)`` and ``gammainccinv(x + 1, α/2)``, which equal the χ² quantiles
    above and stay accurate in the tails. Why exact: for small counts the Poisson
    distribution is too skewed for normal approximations; PHE uses this interval for
    counts below 10.

    Zero handling: ``count = 0`` gives lower exactly 0 and a finite upper bound
    (−ln(α/2), i.e. 3.689 at 95%). Non-integer counts are accepted.

    Raises:
        ValueError: negative or non-finite counts, or confidence outside (0, 1).
    """
    c = _check_confidence(confidence)
    x = _non_negative(count, "count")
    scalar = x.ndim == 0
    half_alpha = (1.0 - c) / 2.0
    with np.errstate(all="ignore"):
        safe_x = np.where(x > 0, x, 1.0)
        lower = np.where(x > 0, special.gammaincinv(safe_x, half_alpha), 0.0)
        upper = special.gammainccinv(x + 1.0, half_alpha)
    return _out(np.asarray(lower, dtype=np.float64), scalar), _out(np.asarray(upper, dtype=np.float64), scalar)


def byar_ci(count: npt.ArrayLike, confidence: float = 0.95) -> tuple[FloatOrArray, FloatOrArray]:
    """Byar's approximation to the exact Poisson interval for an observed count (count scale).

    Formula (Breslow & Day 1987, *Statistical Methods in Cancer Research* vol. II, ch. 2,
    who attribute it to Byar; PHE "Technical Guide: Confidence Intervals", Appendix 1 "Byar's method";
    PHEindicatormethods v2.1.0 ``R/utils.R``, ``byars_lower``/``byars_upper``), with
    z = :func:`z_value` (confidence):

    * lower = x · (1 − 1/(9x) − z/(3√x))³
    * upper = (x + 1) · (1 − 1/(9(x + 1)) + z/(3√(x + 1)))³

    Why: a closed form that is within 0.2% of the exact interval for counts of 10 or more
    (PHE Technical Guide), used by PHE for counts ≥ 10.

    Zero and small-count handling (deviation from PHEindicatormethods, documented): for
    x = 0 the lower formula divides by zero, and for very small x at high confidence it is
    negative; PHEindicatormethods returns NA in those cases, this function returns a lower
    bound of exactly 0 (the smallest possible count). :func:`rate_ci` never reaches this
    case because it only uses Byar's method for counts ≥ 10, where the lower bound is
    positive for every representable confidence below 1 (it needs z < 9.38).

    Raises:
        ValueError: negative or non-finite counts, or confidence outside (0, 1).
    """
    z = z_value(confidence)
    x = _non_negative(count, "count")
    scalar = x.ndim == 0
    with np.errstate(all="ignore"):
        safe_x = np.where(x > 0, x, 1.0)
        lower = safe_x * (1.0 - 1.0 / (9.0 * safe_x) - z / (3.0 * np.sqrt(safe_x))) ** 3
        lower = np.where((x > 0) & (lower > 0), lower, 0.0)
        x1 = x + 1.0
        upper = x1 * (1.0 - 1.0 / (9.0 * x1) + z / (3.0 * np.sqrt(x1))) ** 3
    return _out(np.asarray(lower, dtype=np.float64), scalar), _out(np.asarray(upper, dtype=np.float64), scalar)


# --------------------------------------------------------------------------------------
# Public indicator intervals
# --------------------------------------------------------------------------------------


def proportion_ci(
    numerator: npt.ArrayLike, denominator: npt.ArrayLike, confidence: float = 0.95
) -> tuple[FloatOrArray, FloatOrArray]:
    """Wilson score interval for a proportion, returned as proportions (0–1).

    Formula (Wilson 1927, JASA 22:209–212; Newcombe 1998, Stat Med 17:857–872, method 3;
    PHE "Technical Guide: Confidence Intervals", Appendix 3 "Wilson Score method";
    PHEindicatormethods v2.1.0 ``R/utils.R`` ``wilson_lower``/``wilson_upper`` as used by
    ``phe_proportion`` in ``R/Proportions.R``), with x events out of n and
    z = :func:`z_value` (confidence)::

        lower, upper = (2x + z² ∓ z·√(z² + 4x(1 − x/n))) / (2(n + z²))

    Why Wilson: it is PHE's and Fingertips' standard method for proportions, it never
    leaves [0, 1], and it keeps close to nominal coverage for small n and for proportions
    near 0 or 1, where the simple (Wald) interval collapses to zero width (Newcombe 1998).
    The caller multiplies by 100 (or 1,000) for a percentage (or per-1,000 figure).

    Zero handling:

    * numerator 0 → lower bound exactly 0 and a finite upper bound z²/(n + z²);
      numerator = denominator → upper bound exactly 1.
    * denominator 0 (so numerator 0) → ``nan`` for both bounds: the proportion is
      undefined and must be displayed as "not available". (PHEindicatormethods raises an
      error here instead; MatNeo returns ``nan`` so that one empty unit or month does not
      stop a vectorised calculation across many.)

    Raises:
        ValueError: negative or non-finite inputs, numerator > denominator, inputs that do
            not broadcast, or confidence outside (0, 1).
    """
    z = z_value(confidence)
    x = _non_negative(numerator, "numerator")
    n = _non_negative(denominator, "denominator")
    scalar = x.ndim == 0 and n.ndim == 0
    x, n = _broadcast(x, n)
    if np.any(x > n):
        raise ValueError("numerator must be less than or equal to denominator for a proportion")
    z2 = z * z
    with np.errstate(all="ignore"):
        safe_n = np.where(n > 0, n, 1.0)
        p = x / safe_n
        half_width = z * np.sqrt(z2 + 4.0 * x * (1.0 - p))
        scale = 2.0 * (safe_n + z2)
        lower = (2.0 * x + z2 - half_width) / scale
        upper = (2.0 * x + z2 + half_width) / scale
    lower = np.where(x == 0, 0.0, np.clip(lower, 0.0, 1.0))
    upper = np.where(x == n, 1.0, np.clip(upper, 0.0, 1.0))
    # Guard against floating-point rounding only: mathematically lower <= x/n <= upper.
    lower = np.minimum(lower, p)
    upper = np.maximum(upper, p)
    empty = n == 0
    lower = np.where(empty, np.nan, lower)
    upper = np.where(empty, np.nan, upper)
    return _out(lower, scalar), _out(upper, scalar)


def rate_ci(
    count: npt.ArrayLike,
    denominator: npt.ArrayLike,
    confidence: float = 0.95,
    multiplier: float = 1000,
) -> tuple[FloatOrArray, FloatOrArray]:
    """Confidence interval for a crude rate ``count / denominator × multiplier``.

    Method, as in PHEindicatormethods v2.1.0 ``R/Rates.R`` (``phe_rate``), the PHE
    "Technical Guide: Confidence Intervals" (2018) and the PHE "Tool for common PH stats
    and CIs" (February 2018: "rates and ISRs use exact CI method for numerators < 10 and
    Byar's CI method for numerators >= 10"):

    * count < 10 (:data:`EXACT_COUNT_THRESHOLD`): the exact Poisson interval
      (:func:`poisson_exact_ci`), because Byar's approximation is inaccurate for small
      counts;
    * count ≥ 10: Byar's approximation (:func:`byar_ci`), within 0.2% of exact at 95%.

    The count-scale bounds are divided by the denominator and multiplied by
    ``multiplier`` (default 1,000: MBRRACE-UK reports stillbirth and neonatal mortality
    per 1,000 births; PHEindicatormethods' default is 100,000). The point estimate is not
    returned; compute it as ``count / denominator * multiplier``.

    Zero handling:

    * count 0 → lower bound exactly 0 and a finite upper bound (3.689 / denominator ×
      multiplier at 95%).
    * denominator 0 with count 0 → ``nan`` for both bounds: the rate is undefined and must
      be displayed as "not available".
    * denominator 0 with count > 0 → ``ValueError`` (events in an empty denominator is a
      data error, not an undefined rate).

    A count larger than the denominator is allowed (rates per person-time can exceed 1).

    Raises:
        ValueError: negative or non-finite inputs, a positive count over a zero
            denominator, a non-positive or non-finite multiplier, inputs that do not
            broadcast, or confidence outside (0, 1).
    """
    c = _check_confidence(confidence)
    x = _non_negative(count, "count")
    d = _non_negative(denominator, "denominator")
    m = _as_array(multiplier, "multiplier")
    if m.ndim != 0 or m <= 0:
        raise ValueError(f"multiplier must be a single positive number, got {multiplier!r}")
    scalar = x.ndim == 0 and d.ndim == 0
    x, d = _broadcast(x, d)
    _check_zero_denominator(x, d, "count", "denominator")
    lower_count, upper_count = (np.array(b, dtype=np.float64, ndmin=1) for b in byar_ci(x, c))
    use_exact = np.atleast_1d(x < EXACT_COUNT_THRESHOLD)
    if use_exact.any():  # the exact interval only where it is used: its quantiles are the costly part
        small = np.atleast_1d(x)[use_exact]
        whole = small.astype(np.int64)
        if np.array_equal(whole, small):  # whole counts (always, for measures): look the quantiles up
            table_lower, table_upper = _exact_table(c)
            lower_count[use_exact], upper_count[use_exact] = table_lower[whole], table_upper[whole]
        else:
            exact_lower, exact_upper = poisson_exact_ci(small, c)
            lower_count[use_exact], upper_count[use_exact] = exact_lower, exact_upper
    lower_count, upper_count = lower_count.reshape(x.shape), upper_count.reshape(x.shape)
    with np.errstate(all="ignore"):
        safe_d = np.where(d > 0, d, 1.0)
        lower = np.where(d > 0, lower_count / safe_d * float(m), np.nan)
        upper = np.where(d > 0, upper_count / safe_d * float(m), np.nan)
    return _out(lower, scalar), _out(upper, scalar)


@functools.lru_cache(maxsize=16)
def _exact_table(confidence: float) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """:func:`poisson_exact_ci` of the counts 0 to ``EXACT_COUNT_THRESHOLD − 1`` (the same numbers,
    computed once per confidence level instead of once per cell: the quantiles were a fifth of
    ``compute``'s time, issue 10)."""
    lower, upper = poisson_exact_ci(np.arange(EXACT_COUNT_THRESHOLD, dtype=np.float64), confidence)
    return np.asarray(lower, dtype=np.float64), np.asarray(upper, dtype=np.float64)


def rate_ratio_ci(
    count1: npt.ArrayLike,
    denom1: npt.ArrayLike,
    count2: npt.ArrayLike,
    denom2: npt.ArrayLike,
    confidence: float = 0.95,
) -> tuple[FloatOrArray, FloatOrArray, FloatOrArray]:
    """Ratio of two rates ``(count1/denom1) / (count2/denom2)`` with a log-normal interval.

    Formula (Rothman, *Epidemiology: An Introduction*, 2nd edn 2012, ch. 9, "Example:
    confidence limits for incidence rate difference and incidence rate ratio", Table 9-2),
    with z = :func:`z_value` (confidence)::

        RR = (count1 / denom1) / (count2 / denom2)
        SE(ln RR) = √(1/count1 + 1/count2)
        lower, upper = RR · exp(∓ z · SE(ln RR))

    Why: the log of a ratio of Poisson rates is close to normal once both counts are
    moderate, and this is the standard large-sample interval for comparing a unit's rate
    with a comparator (group 2). With small counts (say under 10 in either group) the
    interval is approximate; interpret it with care.

    Zero handling (documented; no continuity correction is applied):

    * ``count1 = 0`` and ``count2 > 0`` → ratio 0.0 and ``nan`` bounds: ln(0) is
      undefined, so the log-normal interval does not exist.
    * ``count2 = 0`` → ratio ``nan`` (the comparator rate is zero, so the ratio is
      undefined or infinite) and ``nan`` bounds.
    * a denominator of 0 with its count 0 → ratio and bounds ``nan``.
    * a denominator of 0 with a positive count → ``ValueError`` (data error).

    Every ``nan`` here means "not available" for display. No infinities are returned.

    Returns:
        ``(ratio, lower, upper)``.

    Raises:
        ValueError: negative or non-finite inputs, a positive count over a zero
            denominator, inputs that do not broadcast, or confidence outside (0, 1).
    """
    return _log_ratio_ci(count1, denom1, count2, denom2, confidence, proportions=False)


def risk_ratio_ci(
    count1: npt.ArrayLike,
    denom1: npt.ArrayLike,
    count2: npt.ArrayLike,
    denom2: npt.ArrayLike,
    confidence: float = 0.95,
) -> tuple[FloatOrArray, FloatOrArray, FloatOrArray]:
    """Ratio of two proportions ``(count1/denom1) / (count2/denom2)`` with Katz's log interval.

    Formula (Katz, Baptista, Azen & Pike, "Obtaining confidence intervals for the risk ratio
    in cohort studies", Biometrics 1978; 34:469–474; also Rothman, *Epidemiology: An
    Introduction*, 2nd edn, ch. 9)::

        RR = (count1 / denom1) / (count2 / denom2)
        SE(ln RR) = √(1/count1 − 1/denom1 + 1/count2 − 1/denom2)
        lower, upper = RR · exp(∓ z · SE(ln RR))

    Why: for percentage measures (smoke-free at delivery, caesarean births) events are not
    rare, and the Poisson standard error of :func:`rate_ratio_ci` would overstate the
    uncertainty; for rare events the two intervals coincide. Zero handling is as in
    :func:`rate_ratio_ci`; counts must not exceed their denominators.
    """
    return _log_ratio_ci(count1, denom1, count2, denom2, confidence, proportions=True)


def _log_ratio_ci(
    count1: npt.ArrayLike,
    denom1: npt.ArrayLike,
    count2: npt.ArrayLike,
    denom2: npt.ArrayLike,
    confidence: float,
    proportions: bool,
) -> tuple[FloatOrArray, FloatOrArray, FloatOrArray]:
    z = z_value(confidence)
    o1 = _non_negative(count1, "count1")
    n1 = _non_negative(denom1, "denom1")
    o2 = _non_negative(count2, "count2")
    n2 = _non_negative(denom2, "denom2")
    scalar = all(a.ndim == 0 for a in (o1, n1, o2, n2))
    o1, n1, o2, n2 = _broadcast(o1, n1, o2, n2)
    _check_zero_denominator(o1, n1, "count1", "denom1")
    _check_zero_denominator(o2, n2, "count2", "denom2")
    if proportions and (np.any(o1 > n1) or np.any(o2 > n2)):
        raise ValueError("a count is larger than its denominator: a risk ratio needs proportions")
    ratio_defined = (n1 > 0) & (n2 > 0) & (o2 > 0)
    ci_defined = ratio_defined & (o1 > 0)
    with np.errstate(all="ignore"):
        safe_o1 = np.where(o1 > 0, o1, 1.0)
        safe_o2 = np.where(o2 > 0, o2, 1.0)
        safe_n1 = np.where(n1 > 0, n1, 1.0)
        safe_n2 = np.where(n2 > 0, n2, 1.0)
        ratio = (o1 / safe_n1) / (safe_o2 / safe_n2)
        variance = 1.0 / safe_o1 + 1.0 / safe_o2
        if proportions:
            variance = np.maximum(variance - 1.0 / safe_n1 - 1.0 / safe_n2, 0.0)
        spread = np.exp(z * np.sqrt(variance))
        lower = ratio / spread
        upper = ratio * spread
    ratio = np.where(ratio_defined, ratio, np.nan)
    lower = np.where(ci_defined, lower, np.nan)
    upper = np.where(ci_defined, upper, np.nan)
    return _out(ratio, scalar), _out(lower, scalar), _out(upper, scalar)
