"""Trajectories to the National Maternity Safety Ambition: targets, the expected line, on-track status.

Pure functions. Nothing here reads data: callers pass a baseline, a latest value with its
confidence interval, and get back targets, the expected value on the line for any year,
and whether the organisation is ahead of, on or off the trajectory.

The ambition (DHSC *Safer Maternity Care*, Nov 2015, brought forward to 2025 in Nov 2017;
values in :data:`matneo.reference.codes.AMBITION`) is a 20% reduction by 2020 and a 50%
reduction by 2025 from a 2010 baseline, and for preterm birth an absolute fall from 8% to
6% by 2025. The published targets are rounded to one decimal, and the published values
(ONS blog "Explaining trends in baby loss in England and Wales", 20 Feb 2020: 2.6; DHSC written
answer PQ 84835, 3 Nov 2025: 2.5; see the sources in :mod:`matneo.reference.codes`) show that one
rule applied to the rounded baselines cannot reproduce all of them. This module therefore:

* does every target calculation in exact decimal arithmetic (:class:`fractions.Fraction`
  built from the decimal a number prints as), so that 5.1 × 0.5 is exactly 2.55 and the
  rounding rule, not binary floating point, decides the last digit. (Python's own
  ``round(5.1 * 0.5, 1)`` gives 2.5 only because the float product is 2.54999…; exact
  half-up *and* half-even both give 2.6.)
* rounds half up by default: it is the one standard rule that reproduces every stated
  target that can be reproduced at all (half-even turns 2.9 × 0.5 = 1.45 into 1.4, but
  ONS publishes 1.5);
* leaves the evidence for that rule out of the product: which stated target comes out of the
  calculation and, if not, which unrounded baselines would have produced it, is research kept
  with the tests (``tests/measures/published_targets.py``, checked by
  ``tests/measures/test_trajectory.py``). Two stated targets do not come out of any public
  baseline: the DHSC 2025 stillbirth target 2.5 and the 2020 brain-injury target 3.5. See
  ``docs/methods.md ("Trajectories to the ambition")``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from types import MappingProxyType
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from matneo.reference.codes import AMBITION, AmbitionMeasure
from matneo.stats.ci import proportion_ci, rate_ci

__all__ = [
    "DEFAULT_REDUCTIONS",
    "FULL_YEAR_MONTHS",
    "ROUNDING_RULES",
    "AmbitionProgress",
    "Baseline",
    "LatestValue",
    "Target",
    "TrajectoryPoint",
    "ambition_progress",
    "ambition_targets",
    "latest_proportion",
    "latest_rate",
    "national_baseline",
    "national_targets",
    "organisation_baseline",
    "round_value",
    "status",
    "trajectory",
]

Kind = Literal["relative", "absolute"]
Rounding = Literal["half_up", "half_even"]
Direction = Literal["lower_is_better", "higher_is_better"]
Status = Literal["ahead", "on_track", "off_track"]
TrajectoryBasis = Literal["unrounded", "rounded"]
Number = float | int | Decimal | Fraction

ROUNDING_RULES: tuple[Rounding, ...] = ("half_up", "half_even")

_STILLBIRTH = AMBITION["stillbirth_rate"]


def _required(value: float | None, what: str) -> float:
    if value is None:  # pragma: no cover - guards the reference data, not user input
        raise ValueError(f"reference data is missing {what}")
    return value


DEFAULT_REDUCTIONS: Mapping[int, float] = MappingProxyType(
    {
        2020: _required(_STILLBIRTH.reduction_2020, "the 2020 reduction"),
        2025: _required(_STILLBIRTH.reduction_2025, "the 2025 reduction"),
    }
)
"""The ambition's reductions from the baseline by target year (20% by 2020, 50% by 2025).

Read from :data:`matneo.reference.codes.AMBITION` (DHSC *Safer Maternity Care*, Nov 2015,
brought forward to 2025 in Nov 2017), where every relative ambition measure has the same two.
"""


# -- exact decimal arithmetic ---------------------------------------------------------------
def _exact(value: Number, name: str) -> Fraction:
    """``value`` as an exact fraction; a float is read as the decimal it prints as (5.1 is 51/10).

    Why: published figures are decimals. Reading a float through ``repr`` keeps 5.1 × 0.5 at
    exactly 2.55, so the rounding rule decides its last digit rather than the binary
    representation (the float product is 2.549999…).
    """
    if isinstance(value, bool | np.bool_):
        raise ValueError(f"{name} must be a number, not a boolean")
    if isinstance(value, float | np.floating):
        number = float(value)
        if not math.isfinite(number):
            raise ValueError(f"{name} must be finite, got {value!r}")
        return Fraction(repr(number))
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{name} must be finite, got {value!r}")
        return Fraction(value)
    if isinstance(value, int | np.integer | Fraction):
        return Fraction(int(value)) if isinstance(value, np.integer) else Fraction(value)
    raise ValueError(f"{name} must be a number, got {type(value).__name__} {value!r}")


def _non_negative(value: Number, name: str) -> Fraction:
    exact = _exact(value, name)
    if exact < 0:
        raise ValueError(f"{name} must not be negative, got {value!r}")
    return exact


def _check_rounding(rounding: str, decimals: int) -> None:
    if rounding not in ROUNDING_RULES:
        raise ValueError(f"rounding must be one of {', '.join(ROUNDING_RULES)}, got {rounding!r}")
    if isinstance(decimals, bool) or not isinstance(decimals, int) or decimals < 0:
        raise ValueError(f"decimals must be a non-negative integer, got {decimals!r}")


def _round_exact(value: Fraction, decimals: int, rounding: Rounding) -> Fraction:
    scale = Fraction(10) ** decimals
    scaled = value * scale
    whole = math.floor(scaled)
    remainder = scaled - whole
    half = Fraction(1, 2)
    if remainder > half or (remainder == half and (rounding == "half_up" or whole % 2 == 1)):
        whole += 1
    return Fraction(whole) / scale


def round_value(value: Number, decimals: int = 1, rounding: Rounding = "half_up") -> float:
    """``value`` rounded to ``decimals`` places by ``rounding``, in exact decimal arithmetic.

    * ``"half_up"``: a tie (…5 exactly) goes up: 2.55 → 2.6, 1.45 → 1.5, 2.15 → 2.2.
    * ``"half_even"``: a tie goes to the even last digit: 2.55 → 2.6, 1.45 → 1.4, 2.15 → 2.2.

    Values must be ≥ 0 (rates and percentages), so "up" and "away from zero" agree. A float
    is read as the decimal it prints as (see module docstring); this is why a rounded target
    can be recomputed from ``Target.unrounded`` and give the same answer.

    Raises:
        ValueError: negative or non-finite value, unknown rule, negative decimals.
    """
    _check_rounding(rounding, decimals)
    return float(_round_exact(_non_negative(value, "value"), decimals, rounding))


def _fraction_reduction(reduction: Number, year: int) -> Fraction:
    r = _exact(reduction, f"reduction for {year}")
    if not 0 <= r <= 1:
        raise ValueError(f"reduction for {year} must be a fraction from 0 to 1 (0.2 for 20%), got {reduction!r}")
    return r


# -- targets --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Target:
    """One target year: the exact computed value and the value rounded for publication.

    ``reduction`` is the fractional reduction from the baseline for a relative target and None
    for an absolute one (preterm 6%). ``unrounded`` is exact to float precision (for a
    relative target it is baseline × (1 − reduction) computed in decimal arithmetic).
    """

    year: int
    unrounded: float
    rounded: float
    kind: Kind
    reduction: float | None
    decimals: int
    rounding: Rounding

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form."""
        return {
            "year": self.year,
            "unrounded": self.unrounded,
            "rounded": self.rounded,
            "kind": self.kind,
            "reduction": self.reduction,
            "decimals": self.decimals,
            "rounding": self.rounding,
        }


def _check_year(year: int, name: str) -> int:
    if isinstance(year, bool) or not isinstance(year, int | np.integer):
        raise ValueError(f"{name} must be an integer year, got {year!r}")
    return int(year)


def ambition_targets(
    baseline_value: Number,
    baseline_year: int = 2010,
    kind: Kind = "relative",
    reductions: Mapping[int, Number] | None = None,
    absolute_targets: Mapping[int, Number] | None = None,
    decimals: int = 1,
    rounding: Rounding = "half_up",
) -> dict[int, Target]:
    """Targets by year for a baseline: relative (baseline × (1 − reduction)) or absolute (as given).

    Formula and source: the ambition (DHSC *Safer Maternity Care*, Nov 2015 and Nov 2017;
    :data:`matneo.reference.codes.AMBITION`) is a reduction of 20% by 2020 and 50% by 2025
    from the baseline (``reductions`` defaults to :data:`DEFAULT_REDUCTIONS`), so

        target(year) = baseline × (1 − reduction(year))

    computed exactly and then rounded to ``decimals`` places. Preterm birth is ``kind=
    "absolute"``: ``absolute_targets={2025: 6.0}`` from a baseline of 8% (HL428), and the
    target is the stated value itself.

    Rounding rule: ``"half_up"`` (default) reproduces every stated target that can be
    reproduced from public baselines; ``"half_even"`` is offered for comparison and differs
    only on exact ties (2.9 × 0.5 = 1.45 → 1.4, where ONS publishes 1.5). Which stated
    targets come out and which do not: ``derive_published_targets`` in
    ``tests/measures/published_targets.py``.

    Raises:
        ValueError: negative or non-finite values, target years not after the baseline year,
            reductions outside 0–1, ``reductions`` with an absolute kind or
            ``absolute_targets`` with a relative one, an unknown kind or rounding rule.
    """
    _check_rounding(rounding, decimals)
    base_year = _check_year(baseline_year, "baseline_year")
    baseline = _non_negative(baseline_value, "baseline_value")
    exact: dict[int, tuple[Fraction, float | None]] = {}
    if kind == "relative":
        if absolute_targets is not None:
            raise ValueError("absolute_targets apply only to kind='absolute'")
        for year, reduction in (DEFAULT_REDUCTIONS if reductions is None else reductions).items():
            r = _fraction_reduction(reduction, year)
            exact[_check_year(year, "target year")] = (baseline * (1 - r), float(r))
    elif kind == "absolute":
        if reductions is not None:
            raise ValueError("kind='absolute' takes absolute_targets, not reductions")
        if not absolute_targets:
            raise ValueError("kind='absolute' needs absolute_targets, e.g. {2025: 6.0}")
        for year, value in absolute_targets.items():
            exact[_check_year(year, "target year")] = (_non_negative(value, f"target for {year}"), None)
    else:
        raise ValueError(f"kind must be 'relative' or 'absolute', got {kind!r}")
    if not exact:
        raise ValueError("at least one target year is needed")
    early = sorted(year for year in exact if year <= base_year)
    if early:
        raise ValueError(f"target years {early} are not after the baseline year {base_year}")
    return {
        year: Target(
            year=year,
            unrounded=float(value),
            rounded=float(_round_exact(value, decimals, rounding)),
            kind=kind,
            reduction=reduction,
            decimals=decimals,
            rounding=rounding,
        )
        for year, (value, reduction) in sorted(exact.items())
    }


# -- the trajectory -------------------------------------------------------------------------
def trajectory(
    baseline_value: Number,
    baseline_year: int,
    targets: Mapping[int, Target | Number],
    years: npt.ArrayLike,
    *,
    use: TrajectoryBasis = "unrounded",
    after_final: Literal["hold", "nan"] = "hold",
) -> np.ndarray:
    """The expected value in each of ``years`` on the line from the baseline through the targets.

    The line is piecewise linear between anchor points: (baseline_year, baseline), then each
    target (year, value) in year order. For national stillbirths that is 5.1 (2010) → 4.08
    (2020) → 2.55 (2025): 0.102 a year, then 0.306 a year.

    Why piecewise linear through every anchor: each published target is a point the line must
    pass through, and a straight line is what a board can check by eye. A single straight line
    from baseline to the final target would miss the interim target (5.1 → 2.55 over 15 years
    passes 3.4, not 4.08, in 2020); a constant-percentage (geometric) path would also miss
    the anchors unless fitted per segment and is harder to explain. The steeper second segment
    is real: the 2030 ambition was brought forward to 2025 in Nov 2017.

    Choices:

    * ``use="unrounded"`` (default): anchors at the exact computed targets. The ambition is a
      proportional reduction, rounding is for display, and rounding the anchors would move a
      small organisation's expected value by up to half a unit in the last place (4% of a rate
      of 1.2). ``use="rounded"`` draws the line through the published, rounded values.
      Float targets are used as given either way.
    * Years before the baseline year are NaN (no trajectory yet). After the last target year
      the final target is held flat (``after_final="hold"``): the ambition ends in 2025
      (PQ 13758, Nov 2024) and holding the target is the only value that does not invent a
      new ambition; ``after_final="nan"`` leaves those years empty instead.
    * ``years`` may be fractional (2019.5 for a mid-year point).

    Returns:
        float64 array with the shape of ``years``.

    Raises:
        ValueError: no targets, a target year not after the baseline year, non-finite years,
            an unknown ``use`` or ``after_final``.
    """
    if use not in ("unrounded", "rounded"):
        raise ValueError(f"use must be 'unrounded' or 'rounded', got {use!r}")
    if after_final not in ("hold", "nan"):
        raise ValueError(f"after_final must be 'hold' or 'nan', got {after_final!r}")
    base_year = _check_year(baseline_year, "baseline_year")
    anchors_x = [float(base_year)]
    anchors_y = [float(_non_negative(baseline_value, "baseline_value"))]
    if not targets:
        raise ValueError("at least one target is needed to draw a trajectory")
    for year in sorted(targets):
        target_year = _check_year(year, "target year")
        if target_year <= base_year:
            raise ValueError(f"target year {target_year} is not after the baseline year {base_year}")
        target = targets[year]
        if isinstance(target, Target):
            value: Number = target.unrounded if use == "unrounded" else target.rounded
        else:
            value = target
        anchors_x.append(float(target_year))
        anchors_y.append(float(_non_negative(value, f"target for {target_year}")))
    x = np.asarray(years, dtype=np.float64)
    if not np.all(np.isfinite(x)):
        raise ValueError("years must be finite")
    expected = np.interp(x, anchors_x, anchors_y)
    expected = np.where(x < anchors_x[0], np.nan, expected)
    if after_final == "nan":
        expected = np.where(x > anchors_x[-1], np.nan, expected)
    return np.asarray(expected, dtype=np.float64)


# -- status against the trajectory ----------------------------------------------------------
def status(
    latest_value: float,
    lower: float,
    upper: float,
    expected_on_trajectory: float,
    direction: Direction = "lower_is_better",
) -> Status:
    """Whether the latest value is ahead of, on, or off the trajectory, judged by its CI.

    The rule (``e`` = the trajectory value for the latest year, [lower, upper] its CI):

    ========================  ============================  ============================
    direction                 ``"ahead"``                   ``"off_track"``
    ========================  ============================  ============================
    ``lower_is_better``       upper < e (whole CI better)   lower > e (whole CI worse)
    ``higher_is_better``      lower > e (whole CI better)   upper < e (whole CI worse)
    ========================  ============================  ============================

    otherwise ``"on_track"``, **including a CI that touches the trajectory** (lower == e or
    upper == e) and a CI that straddles it.

    Why: a CI that contains e — endpoints included, as a CI is a closed interval — means the
    data are consistent with the organisation being exactly on its trajectory, so calling it
    ahead or behind would overstate the evidence. Only a CI wholly on one side is a clear
    difference. This is the convention of NHSRplotthedots' assurance
    (``R/ptd_calculate_assurance_type.R``: "consistent pass/fail" only when the target lies
    strictly outside the limits, otherwise "inconsistent") and of PHE benchmarking
    (PHEindicatormethods ``assign_funnel_significance`` and Fingertips "similar to" when the
    interval includes the benchmark): NHSRplotthedots v0.2.2
    (https://github.com/nhs-r-community/NHSRplotthedots) and PHEindicatormethods v2.1.0
    (https://github.com/ukhsa-collaboration/PHEindicatormethods). It is deliberately
    conservative for small organisations, whose wide intervals will usually be "on_track" — show the interval alongside.

    Raises:
        ValueError: any input non-finite (a CI of "not available" has no status), lower >
            latest_value or latest_value > upper, unknown direction.
    """
    values = {"latest_value": latest_value, "lower": lower, "upper": upper, "expected": expected_on_trajectory}
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
            raise ValueError(f"{name} must be a number, got {value!r}")
        if not math.isfinite(value):
            raise ValueError(f"{name} must be finite to judge progress, got {value!r}")
    if not lower <= latest_value <= upper:
        raise ValueError(f"the interval [{lower}, {upper}] does not contain the value {latest_value}")
    if direction == "lower_is_better":
        better, worse = upper < expected_on_trajectory, lower > expected_on_trajectory
    elif direction == "higher_is_better":
        better, worse = lower > expected_on_trajectory, upper < expected_on_trajectory
    else:
        raise ValueError(f"direction must be 'lower_is_better' or 'higher_is_better', got {direction!r}")
    if better:
        return "ahead"
    if worse:
        return "off_track"
    return "on_track"


# -- baselines ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Baseline:
    """The baseline a trajectory starts from: its year, value, months of data and why it was chosen."""

    year: int
    value: float
    months_of_data: int
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form."""
        return {"year": self.year, "value": self.value, "months_of_data": self.months_of_data, "reason": self.reason}


FULL_YEAR_MONTHS = 12
"""A year is a full year of data when all 12 calendar months were submitted."""


def organisation_baseline(
    yearly_values: Mapping[int, Number | tuple[Number, int]],
    preferred_year: int = 2010,
) -> Baseline:
    """An organisation's baseline: the preferred year (2010) if it is a full year, else its first full year after it.

    ``yearly_values`` maps year → value, or year → (value, months_of_data). A **full year**
    is one with data for all 12 months (:data:`FULL_YEAR_MONTHS`); a bare value is taken as
    a full year (the caller asserts it covers the whole year). Years before
    ``preferred_year`` are never used: the ambition's baseline is 2010, and a trust or LMNS
    that did not exist (or did not submit a full year) then starts from its first full year
    after it, so that a partial year — a trust that opened in October, or a year with missing
    MSDS months — never sets the starting point. The same reductions and target years then
    apply from that baseline (:func:`ambition_progress`).

    Raises:
        ValueError: no full year at or after ``preferred_year``; months outside 0–12; values
            negative or non-finite.
    """
    preferred = _check_year(preferred_year, "preferred_year")
    full: list[tuple[int, float]] = []
    for year, entry in yearly_values.items():
        y = _check_year(year, "year")
        if isinstance(entry, tuple):
            if len(entry) != 2:
                raise ValueError(f"{y}: expected (value, months_of_data), got {entry!r}")
            value, months = entry
        else:
            value, months = entry, FULL_YEAR_MONTHS
        if isinstance(months, bool) or not isinstance(months, int | np.integer) or not 0 <= months <= FULL_YEAR_MONTHS:
            raise ValueError(f"{y}: months_of_data must be an integer from 0 to 12, got {months!r}")
        exact = _non_negative(value, f"value for {y}")
        if months == FULL_YEAR_MONTHS and y >= preferred:
            full.append((y, float(exact)))
    if not full:
        held = ", ".join(str(year) for year in sorted(yearly_values)) or "none"
        raise ValueError(f"no full year (12 months of data) in {preferred} or later; years given: {held}")
    year, value = min(full)
    reason = (
        "preferred year" if year == preferred else f"first full year after {preferred} ({preferred} not a full year)"
    )
    return Baseline(year=year, value=value, months_of_data=FULL_YEAR_MONTHS, reason=reason)


_PERIOD = re.compile(r"^(\d{4})(?:[–-](\d{2}|\d{4}))?$")


def period_year(period: str) -> int:
    """A single year for a period: "2010" → 2010; a triennium "2009–11" → its middle year, 2010.

    Why the middle year: the maternal mortality baseline is the 2009–11 triennium and the
    ambition treats it as the 2010 baseline, like the other measures.
    """
    match = _PERIOD.match(period.strip())
    if not match:
        raise ValueError(f"cannot read a baseline year from period {period!r}")
    first = int(match.group(1))
    if match.group(2) is None:
        return first
    end = match.group(2)
    last = int(end) if len(end) == 4 else (first // 100) * 100 + int(end)
    return (first + last) // 2


def _measure(measure_id: str) -> AmbitionMeasure:
    try:
        return AMBITION[measure_id]
    except KeyError:
        raise KeyError(f"unknown ambition measure {measure_id!r}; known: {', '.join(AMBITION)}") from None


def national_baseline(measure_id: str) -> Baseline:
    """The national baseline of an ambition measure, from :data:`~matneo.reference.codes.AMBITION`.

    Raises:
        ValueError: the measure has no published baseline (perinatal mortality).
    """
    measure = _measure(measure_id)
    if measure.baseline_value is None or measure.baseline_period is None:
        raise ValueError(f"{measure_id} has no baseline value in AMBITION: {measure.note}")
    implied = " (implied, not found published)" if "baseline_value" in measure.implied_fields else ""
    return Baseline(
        year=period_year(measure.baseline_period),
        value=measure.baseline_value,
        months_of_data=FULL_YEAR_MONTHS,
        reason=f"national baseline {measure.baseline_period}{implied}",
    )


def measure_kind(measure: AmbitionMeasure) -> Kind:
    return "relative" if measure.reduction_2020 is not None or measure.reduction_2025 is not None else "absolute"


def measure_reductions(measure: AmbitionMeasure) -> dict[int, float]:
    pairs = ((2020, measure.reduction_2020), (2025, measure.reduction_2025))
    return {year: r for year, r in pairs if r is not None}


def measure_absolute_targets(measure: AmbitionMeasure) -> dict[int, float]:
    pairs = ((2020, measure.target_2020), (2025, measure.target_2025))
    return {year: t for year, t in pairs if t is not None}


def national_targets(measure_id: str, decimals: int = 1, rounding: Rounding = "half_up") -> dict[int, Target]:
    """The targets computed from a measure's national baseline and reductions in AMBITION.

    Relative measures use their reductions; preterm birth (no reductions) uses its absolute
    2025 target. Whether each result matches the stated target: ``derive_published_targets`` in
    ``tests/measures/published_targets.py``.
    """
    measure = _measure(measure_id)
    baseline = national_baseline(measure_id)
    if measure_kind(measure) == "relative":
        return ambition_targets(
            baseline.value, baseline.year, "relative", measure_reductions(measure), None, decimals, rounding
        )
    return ambition_targets(
        baseline.value, baseline.year, "absolute", None, measure_absolute_targets(measure), decimals, rounding
    )


# -- progress bundle ------------------------------------------------------------------------
@dataclass(frozen=True)
class TrajectoryPoint:
    """The expected value on the trajectory in one year."""

    year: int
    expected: float


@dataclass(frozen=True)
class LatestValue:
    """The latest observed value with its confidence interval (``confidence`` e.g. 0.95)."""

    year: int
    value: float
    lower: float
    upper: float
    confidence: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form."""
        return {
            "year": self.year,
            "value": self.value,
            "lower": self.lower,
            "upper": self.upper,
            "confidence": self.confidence,
        }


def latest_rate(
    year: int, count: float, denominator: float, multiplier: float = 1000, confidence: float = 0.95
) -> LatestValue:
    """A latest value for a rate (stillbirths, neonatal deaths, brain injuries per 1,000).

    Interval: :func:`matneo.stats.ci.rate_ci` (exact Poisson below 10 events, Byar's method
    from 10; PHE Technical Guide), the method MatNeo uses for all rates.
    """
    if denominator <= 0:
        raise ValueError("the denominator must be positive for a latest value")
    lower, upper = rate_ci(count, denominator, confidence, multiplier)
    return LatestValue(
        _check_year(year, "year"), count / denominator * multiplier, float(lower), float(upper), confidence
    )


def latest_proportion(
    year: int, numerator: float, denominator: float, multiplier: float = 100, confidence: float = 0.95
) -> LatestValue:
    """A latest value for a proportion (preterm births as a %), with the Wilson interval.

    Interval: :func:`matneo.stats.ci.proportion_ci` (Wilson score; PHE Technical Guide),
    scaled by ``multiplier`` (100 for a percentage).
    """
    if denominator <= 0:
        raise ValueError("the denominator must be positive for a latest value")
    lower, upper = proportion_ci(numerator, denominator, confidence)
    return LatestValue(
        _check_year(year, "year"),
        numerator / denominator * multiplier,
        float(lower) * multiplier,
        float(upper) * multiplier,
        confidence,
    )


def _json_float(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else value


@dataclass(frozen=True)
class AmbitionProgress:
    """Baseline, targets, trajectory, latest value with CI and status for one measure and organisation.

    Built by :func:`ambition_progress`. ``expected_at_latest`` is the trajectory value for the
    latest year; ``status`` follows :func:`status`. Both are None without a latest value.
    ``trajectory_basis`` says whether the line runs through unrounded or rounded targets.
    """

    baseline: Baseline
    kind: Kind
    direction: Direction
    targets: tuple[Target, ...]
    trajectory: tuple[TrajectoryPoint, ...]
    latest: LatestValue | None
    expected_at_latest: float | None
    status: Status | None
    trajectory_basis: TrajectoryBasis = "unrounded"
    measure_id: str | None = None

    def target(self, year: int) -> Target:
        """The target for ``year``; KeyError if there is none."""
        for target in self.targets:
            if target.year == year:
                return target
        raise KeyError(f"no target for {year}; targets: {', '.join(str(t.year) for t in self.targets)}")

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form (NaN trajectory values become None)."""
        return {
            "measure_id": self.measure_id,
            "kind": self.kind,
            "direction": self.direction,
            "baseline": self.baseline.to_dict(),
            "targets": [target.to_dict() for target in self.targets],
            "trajectory_basis": self.trajectory_basis,
            "trajectory": [{"year": p.year, "expected": _json_float(p.expected)} for p in self.trajectory],
            "latest": None if self.latest is None else self.latest.to_dict(),
            "expected_at_latest": _json_float(self.expected_at_latest),
            "status": self.status,
        }


def ambition_progress(
    baseline: Baseline,
    latest: LatestValue | None = None,
    *,
    kind: Kind = "relative",
    reductions: Mapping[int, Number] | None = None,
    absolute_targets: Mapping[int, Number] | None = None,
    decimals: int = 1,
    rounding: Rounding = "half_up",
    direction: Direction = "lower_is_better",
    years: Iterable[int] | None = None,
    use: TrajectoryBasis = "unrounded",
    measure_id: str | None = None,
) -> AmbitionProgress:
    """Bundle targets, trajectory and status for a baseline (national or an organisation's).

    Targets whose year is not after the baseline year are dropped: an organisation whose first
    full year is 2021 has no 2020 interim target, only the 2025 one, reached on a straight
    line from its own baseline. ``years`` defaults to every year from the baseline to the
    later of the last target and the latest value.

    Raises:
        ValueError: no target year after the baseline year, plus the errors of
            :func:`ambition_targets`, :func:`trajectory` and :func:`status`.
    """
    if kind == "relative":
        source = dict(DEFAULT_REDUCTIONS if reductions is None else reductions)
        kept = {year: r for year, r in source.items() if year > baseline.year}
        if not kept:
            raise ValueError(f"no target year after the baseline year {baseline.year}: {sorted(source)}")
        targets = ambition_targets(baseline.value, baseline.year, kind, kept, absolute_targets, decimals, rounding)
    else:
        source = dict(absolute_targets or {})
        kept = {year: t for year, t in source.items() if year > baseline.year}
        if not kept:
            raise ValueError(f"no target year after the baseline year {baseline.year}: {sorted(source)}")
        targets = ambition_targets(baseline.value, baseline.year, kind, reductions, kept, decimals, rounding)
    last = max(targets)
    if latest is not None:
        last = max(last, latest.year)
    points = list(range(baseline.year, last + 1)) if years is None else [_check_year(y, "year") for y in years]
    expected = trajectory(baseline.value, baseline.year, targets, points, use=use)
    expected_latest: float | None = None
    judged: Status | None = None
    if latest is not None:
        expected_latest = float(trajectory(baseline.value, baseline.year, targets, [latest.year], use=use)[0])
        if not math.isfinite(expected_latest):
            raise ValueError(f"the latest year {latest.year} is before the baseline year {baseline.year}")
        judged = status(latest.value, latest.lower, latest.upper, expected_latest, direction)
    return AmbitionProgress(
        baseline=baseline,
        kind=kind,
        direction=direction,
        targets=tuple(targets.values()),
        trajectory=tuple(TrajectoryPoint(y, float(e)) for y, e in zip(points, expected, strict=True)),
        latest=latest,
        expected_at_latest=expected_latest,
        status=judged,
        trajectory_basis=use,
        measure_id=measure_id,
    )
