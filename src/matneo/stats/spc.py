"""Statistical process control (SPC) charts in the NHS England "Making Data Count" style.

One pure, NumPy-vectorised entry point, :func:`spc`, builds either

* an **XmR chart** (individuals chart) of a monthly series: the chart NHS England's
  "Making Data Count" (MDC) programme uses for board reporting, or
* a **P′ chart** (Laney 2002) of monthly proportions, numerator/denominator, with per-point
  limits because the denominators vary; ``laney=False`` gives the classical P chart.

It marks special-cause variation with the four MDC rules, classifies every point as
improvement, concern or neutral, and derives the MDC variation and assurance icons.

Sources (restated in maths; no code was copied):

* NHS England / NHS Improvement, *Making Data Count* and *Making Data Count: strengthening your
  decisions* (https://www.england.nhs.uk/publication/making-data-count/): XmR limits
  mean ± 2.66 × average moving range, the four special-cause rules, the variation and
  assurance icons, and the Excel tool that trusts use.
* NHS-R Community, R package NHSRplotthedots (``nhs-r-community/NHSRplotthedots``), the
  reference implementation of MDC: ``R/ptd_spc_standard.R`` (limits, outlier screening,
  fixing, rebasing), ``R/ptd_calculate_point_type.R`` (rules, their precedence and the point
  types), ``R/ptd_calculate_assurance_type.R`` (assurance), ``vignettes/deviations.Rmd``
  (the Excel tool does not screen outliers) and ``vignettes/number-of-points-required.Rmd``
  (fewer than 12 points give trial limits).
* Laney DB. Improved control charts for attributes. *Quality Engineering* 2002;14(4):531–537
  (the P′ chart: a P chart whose sigma is widened or narrowed by the point-to-point variation
  of the standardised values, so that large denominators do not turn every month into a
  false alarm through over-dispersion).
* Nelson LS. Control charts for individual measurements. *Journal of Quality Technology*
  1982;14(3):172–173 (screening moving ranges above 3.267 × their average).

The formulas, rules, defaults and the reasons for them are in ``docs/methods.md``
("Statistical process control (Making Data Count)").
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

__all__ = [
    "D2",
    "LIMIT_FACTOR",
    "NEAR_LIMIT_FACTOR",
    "RULES",
    "RUN_LENGTH",
    "SCREEN_FACTOR",
    "TREND_LENGTH",
    "TRIAL_LIMIT_POINTS",
    "SpcResult",
    "spc",
]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]
StrArray = npt.NDArray[np.str_]
Improvement = Literal["increase", "decrease", "neither"]

#: XmR process limits are mean ± 2.66 × average moving range: 2.66 = 3 / d₂ rounded, where
#: d₂ = 1.128 is the expected range of two normal observations in σ units. MDC and
#: NHSRplotthedots (``R/ptd_spc_standard.R``, ``limit <- 2.66``) use the rounded 2.66.
LIMIT_FACTOR = 2.66
#: The "near" (2σ) limits used by the two-in-three rule: mean ± (2/3) × 2.66 × AMR
#: (NHSRplotthedots ``R/ptd_spc_standard.R``, ``limitclose <- 2 * (limit / 3)``).
NEAR_LIMIT_FACTOR = 2.0 * LIMIT_FACTOR / 3.0
#: Moving ranges at or above 3.267 × AMR are screened out when ``screen_outliers=True``:
#: 3.267 = D₄ for subgroups of two, the upper limit of a moving-range chart (Nelson 1982;
#: NHSRplotthedots ``R/ptd_spc_standard.R``, which keeps MRs strictly below it).
SCREEN_FACTOR = 3.267
#: d₂ for two observations: σ̂ = mean moving range / 1.128 (Laney 2002 for σ_z).
D2 = 1.128
#: Groups whose limits rest on fewer than 12 points get a "trial limits" warning
#: (NHSRplotthedots ``vignettes/number-of-points-required.Rmd``: "The package provides a
#: warning for any groups with less than 12 data points, advising that trial limits are in
#: place").
TRIAL_LIMIT_POINTS = 12
#: A shift is a run of 7 or more points on one side of the mean (MDC; NHSRplotthedots).
RUN_LENGTH = 7
#: A trend is 7 points each strictly above (or below) the one before: 6 consecutive
#: increases (or decreases) (MDC; NHSRplotthedots ``ptd_seven_point_trend``).
TREND_LENGTH = 7

#: The special-cause rules in order of precedence, as the values of :attr:`SpcResult.rule`.
#: When several rules mark a point the first one in this tuple is reported
#: (NHSRplotthedots ``ptd_special_cause_type``: outside limits, then trend, then two in
#: three, then run).
RULES = ("outside_limits", "trend", "two_in_three", "run")

_DIRECTIONS = {"increase": 1, "decrease": -1, "neither": 0}


# --------------------------------------------------------------------------------------
# Result
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class SpcResult:
    """An SPC chart: one entry per input point in every array, plus the chart's icons.

    Arrays are read-only NumPy arrays of the input's length. Limits are per point because
    they change at a rebase and, for P′ and P charts, with each month's denominator.
    ``nan`` marks a value or limit that is not available (a missing point, or a group with
    too few points to estimate the spread).
    """

    #: ``"xmr"``, ``"p_prime"`` (Laney) or ``"p"``.
    chart: str
    #: ``"increase"``, ``"decrease"`` or ``"neither"``: which direction is improvement.
    improvement: str
    #: The target used for the assurance icon, or ``None``.
    target: float | None
    #: Plotted values: the input values (XmR) or numerator/denominator (P′, P).
    values: FloatArray
    #: Numerators and denominators as given (P′ and P charts), else ``None``.
    numerators: FloatArray | None
    denominators: FloatArray | None
    #: Centre line (mean for XmR, p̄ for P′/P), per point.
    mean: FloatArray
    #: Lower and upper process limits (3σ), per point.
    lpl: FloatArray
    upl: FloatArray
    #: Lower and upper near limits (2σ), per point.
    lnl: FloatArray
    unl: FloatArray
    #: True where the value is missing (NaN, or a zero denominator): excluded from every
    #: calculation and never flagged.
    missing: BoolArray
    #: True where any special-cause rule marks the point.
    special_cause: BoolArray
    #: ``common_cause``, ``special_cause_improvement``, ``special_cause_concern``,
    #: ``special_cause_neutral_high`` or ``special_cause_neutral_low``.
    point_type: StrArray
    #: The rule that marked the point (one of :data:`RULES`), or ``""``.
    rule: StrArray
    #: Rebase group of each point: 0 before the first rebase, then 1, 2, ...
    group: IntArray
    #: MDC variation icon from the last non-missing point: ``common_cause``,
    #: ``improvement_high``, ``improvement_low``, ``concern_high``, ``concern_low``,
    #: ``neutral_high`` or ``neutral_low``; ``None`` when there is no non-missing point.
    variation_icon: str | None
    #: MDC assurance icon: ``pass``, ``fail`` or ``inconsistent``; ``None`` without a target,
    #: with ``improvement="neither"``, or when the last limits are not available.
    assurance_icon: str | None
    #: Index of the point both icons describe: the latest non-missing point (NHSRplotthedots
    #: ``ptd_get_icons`` takes the point with the latest date); ``None`` when every point is
    #: missing. A headline must name this point, so that it cannot be read as describing
    #: another one.
    icon_point: int | None
    #: Plain-English caveats (trial limits, missing points, degenerate spread, ...).
    warnings: tuple[str, ...]

    def __len__(self) -> int:
        return int(self.values.size)

    def to_records(self) -> list[dict[str, Any]]:
        """One JSON-ready dict per point, for APIs and charts.

        Keys: ``index``, ``group``, ``value``, ``numerator``, ``denominator``, ``mean``,
        ``lpl``, ``upl``, ``lnl``, ``unl``, ``missing``, ``special_cause``, ``point_type``,
        ``rule``. Floats are Python floats; ``nan`` becomes ``None`` (JSON has no NaN), as do
        ``numerator`` and ``denominator`` on an XmR chart.
        """
        columns = {
            "value": self.values,
            "numerator": self.numerators,
            "denominator": self.denominators,
            "mean": self.mean,
            "lpl": self.lpl,
            "upl": self.upl,
            "lnl": self.lnl,
            "unl": self.unl,
        }
        records: list[dict[str, Any]] = []
        for i in range(len(self)):
            record: dict[str, Any] = {"index": i, "group": int(self.group[i])}
            for key, column in columns.items():
                record[key] = None if column is None else _json_float(column[i])
            record["missing"] = bool(self.missing[i])
            record["special_cause"] = bool(self.special_cause[i])
            record["point_type"] = str(self.point_type[i])
            record["rule"] = str(self.rule[i])
            records.append(record)
        return records


def _json_float(value: np.float64) -> float | None:
    """``nan`` → ``None``; anything else → a Python float."""
    return None if np.isnan(value) else float(value)


# --------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------


def _as_series(data: npt.ArrayLike, name: str) -> FloatArray:
    """Return ``data`` as a new 1-D float64 array; ``None`` and NaN mean missing.

    Infinity, strings and other non-numeric data are rejected: a chart of them would be
    meaningless, and guessing (e.g. parsing "12") hides data errors upstream.
    """
    raw = np.asarray(data)
    if raw.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional (one value per period), got shape {raw.shape}")
    if raw.dtype == object:
        bad = [x for x in raw.tolist() if x is not None and (isinstance(x, str) or not isinstance(x, numbers.Real))]
        if bad:
            raise ValueError(f"{name} must be numeric (None or NaN for missing), got {bad[0]!r}")
        arr = np.array([np.nan if x is None else float(x) for x in raw.tolist()], dtype=np.float64)
    elif raw.dtype.kind in "biuf":
        arr = raw.astype(np.float64)  # astype copies, so the caller's array is never touched
    else:
        raise ValueError(f"{name} must be numeric (int or float), got data of dtype {raw.dtype}")
    if np.any(np.isinf(arr)):
        raise ValueError(f"{name} must not contain infinity (use NaN for a missing value)")
    return arr


def _check_improvement(improvement: str) -> int:
    if not isinstance(improvement, str) or improvement not in _DIRECTIONS:
        hint = " (NHSRplotthedots calls it 'neutral'; here it is 'neither')" if improvement == "neutral" else ""
        raise ValueError(f"improvement must be 'increase', 'decrease' or 'neither', got {improvement!r}{hint}")
    return _DIRECTIONS[improvement]


def _check_target(target: float | None) -> float | None:
    if target is None:
        return None
    if isinstance(target, bool) or not isinstance(target, numbers.Real) or not np.isfinite(float(target)):
        raise ValueError(f"target must be a finite number or None, got {target!r}")
    return float(target)


def _check_count(value: int | None, name: str, minimum: int) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or int(value) < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum} or None, got {value!r}")
    return int(value)


def _groups(n: int, rebase_at: Sequence[int] | None) -> IntArray:
    """Rebase group per point: the cumulative count of rebases at or before each index."""
    starts = np.zeros(n, dtype=np.int64)
    if rebase_at is None:
        return starts
    if isinstance(rebase_at, (str, bytes)) or not isinstance(rebase_at, Sequence | np.ndarray):
        raise ValueError(f"rebase_at must be a sequence of point indices or None, got {rebase_at!r}")
    for index in rebase_at:
        if isinstance(index, bool) or not isinstance(index, numbers.Integral):
            raise ValueError(f"rebase_at must contain integer point indices, got {index!r}")
        if not 0 < int(index) < n:
            raise ValueError(
                f"rebase_at index {index} is out of range: a new group must start at a point index "
                f"from 1 to {n - 1} (index 0 already starts the first group)"
            )
        starts[int(index)] = 1  # duplicates are harmless: the same group starts once
    return np.cumsum(starts)


# --------------------------------------------------------------------------------------
# Special-cause rules (on the non-missing points of one group, in time order)
# --------------------------------------------------------------------------------------


def _mark_windows(ends: BoolArray, width: int) -> BoolArray:
    """Mark every point of each qualifying window, given the window's last point.

    ``ends[j]`` says the window of ``width`` points ending at ``j`` qualifies; point ``i`` is
    marked when any window ending in ``[i, i + width - 1]`` qualifies (a cumulative-sum count,
    so the whole operation is vectorised). All points of a run or trend are special cause,
    not just the seventh (MDC; NHSRplotthedots ``ptd_part_of_seven_trend``).
    """
    m = ends.size
    cum = np.concatenate(([0], np.cumsum(ends, dtype=np.int64)))
    start = np.arange(m)
    return (cum[np.minimum(start + width, m)] - cum[start]) > 0


def _trend_points(y: FloatArray) -> tuple[BoolArray, IntArray]:
    """Points in a trend of 7 (6 consecutive strict increases or decreases), and its direction.

    Ties (equal neighbours) break a trend, and a trend may cross the mean (MDC;
    NHSRplotthedots ``ptd_seven_point_trend``). The direction is +1 for a rising trend and −1
    for a falling one. A point at a peak or trough belongs to a rising and a falling trend; it
    takes the direction of the trend that continues to its right, as NHSRplotthedots does.
    """
    m = y.size
    marked = np.zeros(m, dtype=bool)
    direction = np.zeros(m, dtype=np.int64)
    if m < TREND_LENGTH:
        return marked, direction
    steps = np.sign(np.diff(y)).astype(np.int64)
    windows = sliding_window_view(steps, TREND_LENGTH - 1)
    up_end = np.zeros(m, dtype=bool)
    down_end = np.zeros(m, dtype=bool)
    up_end[TREND_LENGTH - 1 :] = np.all(windows == 1, axis=1)
    down_end[TREND_LENGTH - 1 :] = np.all(windows == -1, axis=1)
    up = _mark_windows(up_end, TREND_LENGTH)
    down = _mark_windows(down_end, TREND_LENGTH)
    direction[up] = 1
    direction[down] = -1
    both = np.flatnonzero(up & down)  # a turning point: one trend ends here, the other starts
    direction[both] = steps[both]
    return up | down, direction


def _run_points(side: IntArray) -> BoolArray:
    """Points in a run of 7 or more on the same side of the mean.

    ``side`` is sign(value − mean); a point exactly on the mean (0) breaks a run
    (NHSRplotthedots ``ptd_seven_point_one_side_mean``).
    """
    m = side.size
    if m < RUN_LENGTH:
        return np.zeros(m, dtype=bool)
    windows = sliding_window_view(side, RUN_LENGTH)
    ends = np.zeros(m, dtype=bool)
    ends[RUN_LENGTH - 1 :] = (windows[:, 0] != 0) & np.all(windows == windows[:, :1], axis=1)
    return _mark_windows(ends, RUN_LENGTH)


def _two_in_three_points(close: BoolArray, side: IntArray) -> BoolArray:
    """Close-to-limit points that make two (or three) of three beyond a near limit.

    A window of 3 consecutive points qualifies when at least 2 are close to the limits
    (beyond a near limit, not outside the process limits) and all 3 are on the same side of
    the mean. Only the close points are marked. Requiring all three on one side is the
    NHSRplotthedots fix for its issue #143: without it, one point just above the upper near
    limit and the next just below the lower one would count as a signal.
    """
    m = close.size
    if m < 3:
        return np.zeros(m, dtype=bool)
    enough_close = sliding_window_view(close.astype(np.int64), 3).sum(axis=1) >= 2
    same_side = np.abs(sliding_window_view(side, 3).sum(axis=1)) == 3
    ends = np.zeros(m, dtype=bool)
    ends[2:] = enough_close & same_side
    return _mark_windows(ends, 3) & close


def _classify(
    y: FloatArray, mean: FloatArray, lpl: FloatArray, upl: FloatArray, lnl: FloatArray, unl: FloatArray
) -> tuple[StrArray, IntArray]:
    """Rule (by precedence) and direction (+1 high, −1 low, 0 none) of each point.

    The direction is the side of the mean for a point outside the limits, in a two-in-three
    or in a run, and the trend's direction for a point in a trend (NHSRplotthedots
    ``ptd_special_cause_type``/``ptd_point_type``: "Increasing" counts as high), so that a
    rising trend that starts below the mean is read as rising throughout.
    """
    with np.errstate(invalid="ignore"):  # NaN limits (too few points) compare False: no signal
        outside = (y > upl) | (y < lpl)
        close = ~outside & ((y > unl) | (y < lnl))
    side = np.sign(y - mean).astype(np.int64)
    trend, trend_direction = _trend_points(y)
    two_in_three = _two_in_three_points(close, side)
    run = _run_points(side)
    rule = np.select([outside, trend, two_in_three, run], list(RULES), default="")
    direction = np.where(rule == "trend", trend_direction, np.where(rule == "", 0, side))
    return rule.astype(np.str_), direction.astype(np.int64)


def _point_types(direction: IntArray, improvement_sign: int) -> StrArray:
    """MDC point type from each point's direction and the improvement direction."""
    if improvement_sign == 0:
        choices = ["special_cause_neutral_high", "special_cause_neutral_low"]
        return np.select([direction > 0, direction < 0], choices, default="common_cause").astype(np.str_)
    oriented = direction * improvement_sign
    choices = ["special_cause_improvement", "special_cause_concern"]
    return np.select([oriented > 0, oriented < 0], choices, default="common_cause").astype(np.str_)


# --------------------------------------------------------------------------------------
# Limits (one rebase group at a time)
# --------------------------------------------------------------------------------------


def _average_moving_range(x: FloatArray, screen_outliers: bool) -> float:
    """Mean of |xᵢ − xᵢ₋₁|, optionally after dropping moving ranges ≥ 3.267 × that mean.

    NaN when there are fewer than 2 values. Screening is a single pass against the
    unscreened average, keeping moving ranges strictly below 3.267 × AMR (NHSRplotthedots
    ``R/ptd_spc_standard.R``). When the average is 0 there is nothing to screen.
    """
    if x.size < 2:
        return float("nan")
    moving_ranges = np.abs(np.diff(x))
    amr = float(moving_ranges.mean())
    if screen_outliers and amr > 0:
        amr = float(moving_ranges[moving_ranges < SCREEN_FACTOR * amr].mean())
    return amr


def _describe(group: int, idx: IntArray) -> str:
    return f"group {group} (points {idx[0]}–{idx[-1]})"


def _spread_warnings(label: str, n_used: int, minimum: int, zero_spread: bool, what: str) -> list[str]:
    notes = []
    if n_used < minimum:
        notes.append(
            f"{label}: limits need at least {minimum} non-missing point{'s' if minimum > 1 else ''} and "
            f"{n_used} {'was' if n_used == 1 else 'were'} available, so the limits are not available (NaN)"
        )
    elif n_used < TRIAL_LIMIT_POINTS:
        notes.append(
            f"{label}: limits are calculated from {n_used} points, fewer than {TRIAL_LIMIT_POINTS}, so they "
            f"are trial limits that will move as data arrive (NHSRplotthedots vignette "
            f"'number-of-points-required')"
        )
    if zero_spread:
        notes.append(
            f"{label}: {what} is 0, so the limits equal the centre line and any later value that differs "
            f"from it is outside the limits"
        )
    return notes


# --------------------------------------------------------------------------------------
# Public function
# --------------------------------------------------------------------------------------


def spc(
    values: npt.ArrayLike,
    denominators: npt.ArrayLike | None = None,
    improvement: Improvement = "neither",
    target: float | None = None,
    fix_after_n_points: int | None = None,
    rebase_at: Sequence[int] | None = None,
    screen_outliers: bool = False,
    laney: bool = True,
) -> SpcResult:
    """Build a Making Data Count SPC chart: limits, special causes, point types and icons.

    Args:
        values: 1-D array-like of values, one per period in time order (monthly for MatNeo).
            With ``denominators`` these are the numerators, and the chart is of
            numerator/denominator. ``None`` or NaN marks a missing period.
        denominators: ``None`` for an XmR chart; otherwise a 1-D array-like of the same
            length for a P′ chart (or P chart with ``laney=False``). A zero denominator (with
            a zero numerator) is a missing period.
        improvement: ``"increase"`` or ``"decrease"`` (which direction is better), or
            ``"neither"``. The default is ``"neither"`` so that no point is called an
            improvement or a concern unless the caller has said which way is better
            (NHSRplotthedots defaults to "increase", which is wrong for most maternity harm
            measures such as stillbirth or PPH rates).
        target: optional target for the assurance icon (ignored with ``"neither"``).
        fix_after_n_points: ``k`` to calculate each group's centre and spread from its first
            ``k`` non-missing points only, extending those limits over the rest of the group
            ("locked" baseline limits; NHSRplotthedots ``vignettes/number-of-points-required.Rmd``
            describes locking them after 12 points).
            ``None`` (default) uses all points, as NHSRplotthedots does. Must be ≥ 2: a
            moving range needs two points.
        rebase_at: point indices (0-based) where a new group with new limits starts, e.g.
            after a change in practice. Each must be from 1 to ``len(values) - 1``.
        screen_outliers: drop moving ranges ≥ 3.267 × AMR and recompute the AMR before
            setting the limits (Nelson 1982). Default ``False`` to match the NHS England MDC
            Excel tool that trusts use, so MatNeo's charts agree with board papers
            (NHSRplotthedots defaults to ``True``; its ``vignettes/deviations.Rmd`` says to
            set ``False`` to replicate the Excel tool). For P′ charts it screens the moving
            ranges of the z-scores.
        laney: for charts with denominators, ``True`` (default) for Laney's P′ chart,
            ``False`` for the classical P chart (σ_z = 1). P′ is the default because with the
            large denominators of national and trust data the binomial P chart's limits are
            too narrow whenever there is between-month variation beyond the binomial
            (over-dispersion), and nearly every point becomes a false alarm (Laney 2002).

    Returns:
        An :class:`SpcResult` with per-point arrays, the icons and any warnings.

    Raises:
        ValueError: for non-numeric, multi-dimensional or infinite data; mismatched lengths;
            negative numerators or denominators; a numerator above its denominator; an
            unknown ``improvement``; a bad ``target``, ``fix_after_n_points`` or ``rebase_at``.

    Chart calculations, within each rebase group, on its non-missing points:

    * XmR (MDC; NHSRplotthedots ``R/ptd_spc_standard.R``): mean x̄; moving ranges
      |xᵢ − xᵢ₋₁| and their average AMR; process limits x̄ ± 2.66·AMR; near limits
      x̄ ± (2/3)·2.66·AMR.
    * P′ (Laney 2002): p̄ = Σx/Σn; σ_pᵢ = √(p̄(1 − p̄)/nᵢ); zᵢ = (pᵢ − p̄)/σ_pᵢ;
      σ_z = (average moving range of z)/1.128; process limits p̄ ± 3·σ_pᵢ·σ_z, near limits
      p̄ ± 2·σ_pᵢ·σ_z, both clipped to [0, 1]. The P chart is the same with σ_z = 1.

    Missing points are left out of every calculation, and the rules run on the sequence of
    non-missing points, so a gap neither breaks nor creates a run or trend. This keeps each
    rule's false-alarm rate: for a stable process the order of the observed values carries
    the same information with or without the gap. Missing points are never flagged.

    Special-cause rules, in precedence order (MDC; NHSRplotthedots
    ``R/ptd_calculate_point_type.R``): a point above the upper or below the lower process
    limit; a trend of 7 points each strictly above (below) the last, all 7 marked, ties break
    it; two of three consecutive points beyond the same near limit with all three on that
    side of the mean, only the close points marked; a run of 7 or more on one side of the
    mean, all marked, a point on the mean breaks it. The result's ``rule`` says which fired.

    Point types: a special-cause point is "high" when it is above the mean (or in a rising
    trend) and "low" when below (or in a falling trend); it is an improvement when that
    matches ``improvement``, a concern when it does not, and neutral with ``"neither"``.
    The variation icon comes from the last non-missing point's type. The assurance icon
    uses the limits at that point: a target beyond the upper limit is "fail" when higher is
    better and "pass" when lower is better, a target below the lower limit the reverse, and
    anything else "inconsistent" (NHSRplotthedots ``R/ptd_calculate_assurance_type.R``).

    Degenerate cases: if every baseline value is equal (AMR 0, or p̄ of 0 or 1, or σ_z 0)
    the limits collapse onto the centre line and a warning says so; a group with fewer than
    2 non-missing points (1 for a P chart) has no limits (NaN); a group whose limits use
    fewer than 12 points gets a trial-limits warning.
    """
    improvement_sign = _check_improvement(improvement)
    target_value = _check_target(target)
    fix = _check_count(fix_after_n_points, "fix_after_n_points", 2)
    if not isinstance(screen_outliers, bool | np.bool_):
        raise ValueError(f"screen_outliers must be True or False, got {screen_outliers!r}")
    if not isinstance(laney, bool | np.bool_):
        raise ValueError(f"laney must be True or False, got {laney!r}")

    series = _as_series(values, "values")
    n = series.size
    notes: list[str] = []

    numerators: FloatArray | None = None
    denoms: FloatArray | None = None
    if denominators is None:
        chart = "xmr"
        plotted = series
    else:
        chart = "p_prime" if laney else "p"
        numerators = series
        denoms = _as_series(denominators, "denominators")
        if denoms.size != n:
            raise ValueError(f"values and denominators must have the same length, got {n} and {denoms.size}")
        with np.errstate(invalid="ignore"):
            if np.any(numerators < 0):
                raise ValueError("values (numerators) must not be negative")
            if np.any(denoms < 0):
                raise ValueError("denominators must not be negative")
            above = np.flatnonzero(numerators > denoms)
        if above.size:
            i = int(above[0])
            raise ValueError(
                f"a numerator cannot exceed its denominator: point {i} has {numerators[i]:g} out of {denoms[i]:g}"
            )
        zero = np.flatnonzero(denoms == 0)
        if zero.size:
            notes.append(
                f"{zero.size} point(s) with a zero denominator (indices {', '.join(map(str, zero[:10].tolist()))}"
                f"{', ...' if zero.size > 10 else ''}) have no proportion and are treated as missing"
            )
        with np.errstate(invalid="ignore", divide="ignore"):
            plotted = np.where(denoms > 0, numerators / denoms, np.nan)

    missing = np.isnan(plotted)
    group = _groups(n, rebase_at)

    mean = np.full(n, np.nan)
    lpl = np.full(n, np.nan)
    upl = np.full(n, np.nan)
    lnl = np.full(n, np.nan)
    unl = np.full(n, np.nan)
    rule = np.full(n, "", dtype="<U16")
    direction = np.zeros(n, dtype=np.int64)

    for g in range(int(group[-1]) + 1 if n else 0):
        idx = np.flatnonzero(group == g)
        label = _describe(g, idx)
        observed = idx[~missing[idx]]
        baseline = observed[:fix] if fix is not None else observed
        if chart == "xmr":
            minimum = 2
            centre = float(plotted[baseline].mean()) if baseline.size else float("nan")
            amr = _average_moving_range(plotted[baseline], screen_outliers)
            mean[idx] = centre
            upl[idx] = centre + LIMIT_FACTOR * amr
            lpl[idx] = centre - LIMIT_FACTOR * amr
            unl[idx] = centre + NEAR_LIMIT_FACTOR * amr
            lnl[idx] = centre - NEAR_LIMIT_FACTOR * amr
            zero_spread, what = amr == 0, "the average moving range"
        else:
            assert numerators is not None and denoms is not None
            minimum = 2 if chart == "p_prime" else 1
            total = float(denoms[baseline].sum())
            centre = float(numerators[baseline].sum()) / total if baseline.size else float("nan")
            sigma_p = np.sqrt(centre * (1.0 - centre) / denoms[observed])
            if centre in (0.0, 1.0):
                # No binomial variation is possible; σ_z is undefined (0/0) but irrelevant.
                sigma_z, zero_spread, what = 0.0, True, f"p̄ = {centre:g}, so the binomial sigma"
            elif chart == "p_prime":
                z = (plotted[baseline] - centre) / np.sqrt(centre * (1.0 - centre) / denoms[baseline])
                sigma_z = _average_moving_range(z, screen_outliers) / D2
                zero_spread, what = sigma_z == 0, "the moving range of the z-scores (σ_z)"
            else:
                sigma_z, zero_spread, what = 1.0, False, ""
            width = sigma_p * sigma_z
            mean[idx] = centre
            upl[observed] = np.minimum(centre + 3.0 * width, 1.0)
            lpl[observed] = np.maximum(centre - 3.0 * width, 0.0)
            unl[observed] = np.minimum(centre + 2.0 * width, 1.0)
            lnl[observed] = np.maximum(centre - 2.0 * width, 0.0)
        notes.extend(_spread_warnings(label, int(baseline.size), minimum, bool(zero_spread), what))
        if observed.size:
            r, d = _classify(
                plotted[observed], mean[observed], lpl[observed], upl[observed], lnl[observed], unl[observed]
            )
            rule[observed] = r
            direction[observed] = d

    n_missing = int(missing.sum())
    if n == 0:
        notes.append("no points: there is nothing to chart")
    elif n_missing:
        notes.append(
            f"{n_missing} of {n} point(s) are missing and were left out of the limits and the special-cause rules"
        )

    special_cause = rule != ""
    point_type = _point_types(direction, improvement_sign)

    variation_icon: str | None = None
    assurance_icon: str | None = None
    last: int | None = None
    observed_all = np.flatnonzero(~missing)
    if observed_all.size:
        last = int(observed_all[-1])
        if last != n - 1:
            notes.append(f"the last point (index {n - 1}) is missing: the icons describe point {last}")
        variation_icon = _variation_icon(str(point_type[last]), improvement_sign)
        if target_value is not None:
            if improvement_sign == 0:
                notes.append("a target was given but improvement is 'neither', so there is no assurance icon")
            elif np.isnan(upl[last]) or np.isnan(lpl[last]):
                notes.append("the limits at the last point are not available, so there is no assurance icon")
            else:
                assurance_icon = _assurance_icon(target_value, float(lpl[last]), float(upl[last]), improvement_sign)

    return SpcResult(
        chart=chart,
        improvement=improvement,
        target=target_value,
        values=_frozen(plotted),
        numerators=None if numerators is None else _frozen(numerators),
        denominators=None if denoms is None else _frozen(denoms),
        mean=_frozen(mean),
        lpl=_frozen(lpl),
        upl=_frozen(upl),
        lnl=_frozen(lnl),
        unl=_frozen(unl),
        missing=_frozen(missing),
        special_cause=_frozen(special_cause),
        point_type=_frozen(point_type),
        rule=_frozen(rule.astype(np.str_)),
        group=_frozen(group),
        variation_icon=variation_icon,
        assurance_icon=assurance_icon,
        icon_point=last,
        warnings=tuple(notes),
    )


def _variation_icon(point_type: str, improvement_sign: int) -> str:
    """MDC variation icon for a point type (NHSRplotthedots ``inst/icons/variation``).

    Improvement is "high" when higher is better, concern is "low" then, and the reverse when
    lower is better.
    """
    if point_type == "common_cause":
        return "common_cause"
    if point_type.startswith("special_cause_neutral_"):
        return point_type.removeprefix("special_cause_")
    high_is_better = improvement_sign > 0
    if point_type == "special_cause_improvement":
        return "improvement_high" if high_is_better else "improvement_low"
    return "concern_low" if high_is_better else "concern_high"


def _assurance_icon(target: float, lower: float, upper: float, improvement_sign: int) -> str:
    """MDC assurance: will the process consistently pass, consistently fail, or hit and miss?

    Comparisons are strict, as in NHSRplotthedots ``R/ptd_calculate_assurance_type.R``: a
    target exactly on a limit is "inconsistent".
    """
    if target > upper:
        return "fail" if improvement_sign > 0 else "pass"
    if target < lower:
        return "pass" if improvement_sign > 0 else "fail"
    return "inconsistent"


def _frozen(arr: np.ndarray) -> np.ndarray:
    """Make an array read-only so a (frozen) result cannot be changed in place."""
    arr.setflags(write=False)
    return arr
