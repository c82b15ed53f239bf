"""Evidence that the product's rounding rule reproduces the published ambition targets (research, not product).

:mod:`matneo.measures.trajectory` computes targets as baseline × (1 − reduction), exactly, rounded
half up. This module, kept with the tests, checks that rule against every target stated in public
sources: for each, whether it comes out of the calculation and, if not, which unrounded baselines
would have produced it. The product never shows these labels; ``test_trajectory.py`` asserts them,
so a change to the rounding rule that stops reproducing a published target fails a test. Sources:
the ONS blog "Explaining trends in baby loss in England and Wales" (20 Feb 2020), DHSC written
answer PQ 84835 (3 Nov 2025) and UK Parliament written question 202781 (24 Oct 2023); see
``docs/methods.md`` ("Which published targets come out").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, localcontext
from fractions import Fraction
from types import MappingProxyType
from typing import Any

from matneo.measures.trajectory import (
    ROUNDING_RULES,
    Kind,
    Number,
    Rounding,
    _check_rounding,
    _exact,
    _fraction_reduction,
    _measure,
    _non_negative,
    measure_kind,
    measure_reductions,
    national_baseline,
    national_targets,
)
from matneo.reference.codes import AMBITION

NOT_DERIVABLE = "published value, not derivable"
"""A stated target that no public baseline reproduces under the module's rounding rule."""
DERIVED = "derived from the published baseline"
"""A stated target that the rounding rule reproduces from the published (rounded) baseline."""
DERIVED_FROM_IMPLIED = "derived from an implied baseline"
"""A stated target reproduced from a baseline that was itself not found published (implied)."""
ABSOLUTE = "published absolute target"
"""An absolute target (preterm 6%): an input to the calculation, not a reduction from a baseline."""


STILLBIRTHS_ENGLAND_2010 = 3_506
"""Stillbirths in England in 2010 (≥24 weeks), the count behind the 5.1 baseline.

Source: UK Parliament written question 202781 (answered 24 Oct 2023; text read at
parallelparliament.co.uk/question/202781), table "number of stillbirths in England since
2010", citing ONS *Births in England and Wales* (2010: 3,506, rate 5.1 per 1,000 total
births). The answer does not give the total births it was divided by, so the unrounded
2010 rate cannot be computed from it alone; :func:`denominators_for_rate` turns it into the
range of England 2010 total births that would make each stated target come out.
(Belongs with ``NATIONAL_FIGURES`` in ``reference/codes.py``; kept here until it moves.)
"""


# -- intervals of unrounded values ----------------------------------------------------------
@dataclass(frozen=True)
class Interval:
    """A range of exact values, each end open or closed, used to say which unrounded values fit.

    ``str`` gives the usual notation, for example ``[5.0625, 5.1)``.
    """

    low: Fraction
    high: Fraction
    low_closed: bool
    high_closed: bool

    def contains(self, value: Number) -> bool:
        """Whether ``value`` (read exactly, as :func:`round_value` does) lies in the interval."""
        x = _exact(value, "value")
        above = x >= self.low if self.low_closed else x > self.low
        below = x <= self.high if self.high_closed else x < self.high
        return above and below

    def intersect(self, other: Interval) -> Interval | None:
        """The overlap of two intervals, or None if they do not overlap."""
        if self.low > other.low or (self.low == other.low and not self.low_closed):
            low, low_closed = self.low, self.low_closed
        else:
            low, low_closed = other.low, other.low_closed
        if self.high < other.high or (self.high == other.high and not self.high_closed):
            high, high_closed = self.high, self.high_closed
        else:
            high, high_closed = other.high, other.high_closed
        if low > high or (low == high and not (low_closed and high_closed)):
            return None
        return Interval(low, high, low_closed, high_closed)

    def scaled(self, factor: Fraction) -> Interval:
        """Every value multiplied by a positive ``factor``."""
        if factor <= 0:
            raise ValueError("an interval can only be scaled by a positive factor")
        return Interval(self.low * factor, self.high * factor, self.low_closed, self.high_closed)

    def __str__(self) -> str:
        opening = "[" if self.low_closed else "("
        closing = "]" if self.high_closed else ")"
        return f"{opening}{_decimal_text(self.low)}, {_decimal_text(self.high)}{closing}"

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form: ends as floats, closedness as booleans, plus the text form."""
        return {
            "low": float(self.low),
            "high": float(self.high),
            "low_closed": self.low_closed,
            "high_closed": self.high_closed,
            "text": str(self),
        }


def _decimal_text(value: Fraction) -> str:
    """Exact decimal text when the fraction terminates, otherwise 12 significant digits."""
    denominator = value.denominator
    for prime in (2, 5):
        while denominator % prime == 0:
            denominator //= prime
    with localcontext() as context:
        context.prec = 40
        number = Decimal(value.numerator) / Decimal(value.denominator)
        if denominator != 1:
            number = +Decimal(f"{number:.12g}")
    return format(number.normalize(), "f")


def _show(value: Number, decimals: int) -> str:
    """Exact decimal text of ``value`` with at least ``decimals`` places (2 → "2.0", 2.55 → "2.55")."""
    text = _decimal_text(_exact(value, "value"))
    whole, _, places = text.partition(".")
    return f"{whole}.{places.ljust(decimals, '0')}" if decimals else text


def rounding_interval(value: Number, decimals: int = 1, rounding: Rounding = "half_up") -> Interval:
    """Every non-negative number that rounds to ``value`` at ``decimals`` places under ``rounding``.

    With h = ½ × 10^−decimals: half-up gives [v − h, v + h); half-even gives the closed
    [v − h, v + h] when v's last digit is even (both ties come to it) and the open
    (v − h, v + h) when it is odd. The low end is never below 0. Example: a published rate of
    5.1 can be any unrounded rate in [5.05, 5.15) under half-up.

    Raises:
        ValueError: ``value`` negative or with more decimal places than ``decimals``.
    """
    _check_rounding(rounding, decimals)
    v = _non_negative(value, "value")
    scale = Fraction(10) ** decimals
    if (v * scale).denominator != 1:
        raise ValueError(f"{value!r} has more than {decimals} decimal places, so it is not a rounded value")
    half = Fraction(1, 2) / scale
    if rounding == "half_up":
        low_closed, high_closed = True, False
    else:
        even = int(v * scale) % 2 == 0
        low_closed = high_closed = even
    low = v - half
    if low <= 0:
        low, low_closed = Fraction(0), True
    return Interval(low, v + half, low_closed, high_closed)


def baselines_consistent_with(
    published_baseline: Number,
    stated: Mapping[int, tuple[Number, Number]],
    decimals: int = 1,
    rounding: Rounding = "half_up",
) -> Interval | None:
    """The unrounded baselines that round to ``published_baseline`` *and* give every stated target.

    ``stated`` maps target year → (fractional reduction, stated rounded target). A target t
    with reduction r constrains the baseline b by round(b × (1 − r)) = t, i.e. b lies in
    :func:`rounding_interval` (t) ÷ (1 − r). The answer is the intersection with the
    baseline's own rounding interval, or None if no baseline fits (the stated figures would
    then be inconsistent with each other).

    Why: it turns "4.3 × 0.8 = 3.44, not 3.5" into the testable statement "3.5 needs an
    unrounded 2010 rate in [4.3125, 4.35)", which a later public figure can confirm or refute.
    Example: the stated stillbirth targets 4.1 (2020) and 2.5 (2025) fit together only if the
    unrounded 2010 rate was in [5.0625, 5.1).
    """
    interval: Interval | None = rounding_interval(published_baseline, decimals, rounding)
    for year, (reduction, target) in sorted(stated.items()):
        keep = 1 - _fraction_reduction(reduction, year)
        if keep == 0:
            raise ValueError(f"a 100% reduction in {year} does not constrain the baseline")
        needed = rounding_interval(target, decimals, rounding).scaled(1 / keep)
        interval = interval.intersect(needed) if interval is not None else None
    return interval


def baseline_from_counts(count: Number, denominator: Number, multiplier: Number = 1000) -> float:
    """The unrounded baseline rate ``count / denominator × multiplier``, computed exactly.

    Why: ONS (2.6) and DHSC (2.5) publish different 2025 stillbirth targets, both halves of
    "5.1" rounded from different unrounded 2010 rates; storing the unrounded rate and computing
    the targets from it removes that ambiguity, because a target computed from counts does not
    depend on how the published rate was rounded. ValueError for a zero denominator or negative inputs.
    """
    c = _non_negative(count, "count")
    d = _non_negative(denominator, "denominator")
    m = _non_negative(multiplier, "multiplier")
    if d == 0 or m == 0:
        raise ValueError("denominator and multiplier must be positive")
    return float(c / d * m)


def denominators_for_rate(count: Number, rates: Interval, multiplier: Number = 1000) -> Interval:
    """The denominators that turn ``count`` into a rate in ``rates`` (rate = count / d × multiplier).

    Why: PQ 202781 publishes the 2010 stillbirth count but not the births it was divided by;
    inverting the rate says which England 2010 total births would make a stated target come
    out, so the question "2.5 or 2.6?" reduces to one public number. Example: 3,506
    stillbirths and rates in [5.0625, 5.1) need total births in (687,450.98…, 692,543.2…].
    """
    c = _non_negative(count, "count")
    m = _non_negative(multiplier, "multiplier")
    if c == 0 or m == 0 or rates.low == 0:
        raise ValueError("count, multiplier and the lowest rate must be positive to invert a rate")
    return Interval(c * m / rates.high, c * m / rates.low, rates.high_closed, rates.low_closed)


# -- stated targets and whether they come out of the calculation ---------------------------------
@dataclass(frozen=True)
class StatedTarget:
    """A target value as stated somewhere, with its source; ``implied`` if not found published as a target."""

    measure_id: str
    year: int
    value: float
    source: str
    implied: bool


ALTERNATIVE_PUBLISHED_TARGETS: tuple[StatedTarget, ...] = (
    StatedTarget(
        "stillbirth_rate",
        2025,
        2.6,
        "ONS blog 'Explaining trends in baby loss in England and Wales' (20 Feb 2020) and ONS Child and "
        "infant mortality 2020; Nuffield Trust (6 Nov 2018). DHSC (PQ 84835, 3 Nov 2025) gives 2.5 instead.",
        implied=False,
    ),
)
"""Published targets that differ from the value held in AMBITION (same measure and year).

ONS and the Nuffield Trust publish the 2025 stillbirth target as 2.6; DHSC (PQ 84835) as 2.5.
(Belongs with AMBITION in ``reference/codes.py``; kept here until it moves.)
"""


def stated_targets() -> tuple[StatedTarget, ...]:
    """Every stated target: AMBITION's 2020 and 2025 values, then :data:`ALTERNATIVE_PUBLISHED_TARGETS`."""
    stated: list[StatedTarget] = []
    for measure in AMBITION.values():
        for year, value, field in (
            (2020, measure.target_2020, "target_2020"),
            (2025, measure.target_2025, "target_2025"),
        ):
            if value is not None:
                stated.append(
                    StatedTarget(measure.measure_id, year, value, measure.source, field in measure.implied_fields)
                )
    return (*stated, *ALTERNATIVE_PUBLISHED_TARGETS)


_IMPLIED_BASELINE: Mapping[str, str] = MappingProxyType(
    {
        "neonatal_mortality_24wk": (
            " (it was inferred from this 2025 target, so the match is by construction, not a check)"
        ),
        "maternal_mortality": (" (≈10.6 is implied by DHSC statements about 2019–21 and 2022–24, HL428, 21 Dec 2023)"),
    }
)

_WHY_NOT_PUBLIC: Mapping[str, str] = MappingProxyType(
    {
        "stillbirth_rate": (
            f"PQ 202781 gives the 2010 count ({STILLBIRTHS_ENGLAND_2010:,} stillbirths) but not the total births it "
            "was divided by, and no published England 2010 total-births count is held here"
        ),
        "brain_injury_rate": (
            "PQ 202781 gives the 2010 count (2,594) but the Imperial NDAU denominator is not published, and NNRD "
            "coverage was incomplete in 2010–11, so count ÷ England live births does not reproduce 4.3 "
            "(Gale et al., Arch Dis Child Fetal Neonatal Ed 2018;103:F301–F306)"
        ),
    }
)


@dataclass(frozen=True)
class TargetDerivation:
    """Whether one stated target comes out of the calculation, and from which baseline and rule.

    ``derivation`` is one of :data:`DERIVED`, :data:`DERIVED_FROM_IMPLIED`, :data:`ABSOLUTE`
    or :data:`NOT_DERIVABLE`. ``computed`` maps each rounding rule to its result from
    ``baseline_value``; ``reproduced_by`` lists the rules that give the stated value.
    ``required_baseline`` is the set of unrounded baselines that round to the published
    baseline and give the stated value under ``rounding`` (None for absolute targets, or if
    none exists).
    """

    measure_id: str
    year: int
    stated: float
    stated_source: str
    stated_implied: bool
    baseline_value: float
    baseline_implied: bool
    kind: Kind
    unrounded: float
    computed: Mapping[str, float]
    reproduced_by: tuple[Rounding, ...]
    rounding: Rounding
    derivation: str
    required_baseline: Interval | None
    explanation: str

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form."""
        return {
            "measure_id": self.measure_id,
            "year": self.year,
            "stated": self.stated,
            "stated_source": self.stated_source,
            "stated_implied": self.stated_implied,
            "baseline_value": self.baseline_value,
            "baseline_implied": self.baseline_implied,
            "kind": self.kind,
            "unrounded": self.unrounded,
            "computed": dict(self.computed),
            "reproduced_by": list(self.reproduced_by),
            "rounding": self.rounding,
            "derivation": self.derivation,
            "required_baseline": None if self.required_baseline is None else self.required_baseline.to_dict(),
            "explanation": self.explanation,
        }


def derive_published_targets(rounding: Rounding = "half_up", decimals: int = 1) -> tuple[TargetDerivation, ...]:
    """For every stated target (:func:`stated_targets`), whether the calculation reproduces it.

    Each target is computed from the measure's baseline in AMBITION (the published rounded
    value, or the implied one where no baseline was published) with every rounding rule,
    and labelled under ``rounding``:

    * :data:`DERIVED` / :data:`DERIVED_FROM_IMPLIED`: the stated value comes out;
    * :data:`ABSOLUTE`: an absolute target (preterm 6%), which is an input;
    * :data:`NOT_DERIVABLE` ("published value, not derivable"): it does not. The explanation
      then gives the unrounded baselines that would produce it and why none can be computed
      from public figures.

    With the default half-up rule, 4.1, 2.6 (ONS), 1.5, 1.0, 2.2, 8.5, 5.3 and 6% come out
    and 2.5 (DHSC stillbirth 2025) and 3.5 (brain injury 2020) do not.
    """
    _check_rounding(rounding, decimals)
    results: list[TargetDerivation] = []
    for stated in stated_targets():
        measure = _measure(stated.measure_id)
        baseline = national_baseline(stated.measure_id)
        kind = measure_kind(measure)
        baseline_implied = "baseline_value" in measure.implied_fields
        computed: dict[str, float] = {}
        for rule in ROUNDING_RULES:
            targets = national_targets(stated.measure_id, decimals, rule)
            computed[rule] = targets[stated.year].rounded
        unrounded = national_targets(stated.measure_id, decimals, rounding)[stated.year].unrounded
        reproduced = tuple(rule for rule in ROUNDING_RULES if computed[rule] == stated.value)
        required: Interval | None = None
        if kind == "absolute":
            derivation = ABSOLUTE
            explanation = f"absolute target {_show(stated.value, decimals)} stated with the ambition, not a reduction"
        else:
            reduction = measure_reductions(measure)[stated.year]
            required = baselines_consistent_with(
                baseline.value, {stated.year: (reduction, stated.value)}, decimals, rounding
            )
            sum_text = (
                f"{_show(baseline.value, decimals)} × (1 − {reduction:g}) = {_show(unrounded, decimals)} "
                f"→ {_show(computed[rounding], decimals)} ({rounding.replace('_', '-')})"
            )
            if computed[rounding] == stated.value:
                derivation = DERIVED_FROM_IMPLIED if baseline_implied else DERIVED
                explanation = sum_text
                if baseline_implied:
                    explanation += f"; the baseline {_show(baseline.value, decimals)} is implied, not published"
                    explanation += _IMPLIED_BASELINE.get(stated.measure_id, "")
            else:
                derivation = NOT_DERIVABLE
                target_text = _show(stated.value, decimals)
                fit = (
                    f"needs an unrounded baseline in {required}, which rounds to the published "
                    f"{_show(baseline.value, decimals)}"
                    if required is not None
                    else f"no baseline that rounds to {_show(baseline.value, decimals)} gives it"
                )
                why = _WHY_NOT_PUBLIC.get(stated.measure_id, "no public figure gives the unrounded baseline")
                explanation = f"{sum_text}, not {target_text}; {target_text} {fit}; {why}"
        if stated.implied:
            explanation += (
                f"; {_show(stated.value, decimals)} itself was not found published as a target, only the "
                "percentage reduction (HL428; ONS blog, 20 Feb 2020)"
            )
        results.append(
            TargetDerivation(
                measure_id=stated.measure_id,
                year=stated.year,
                stated=stated.value,
                stated_source=stated.source,
                stated_implied=stated.implied,
                baseline_value=baseline.value,
                baseline_implied=baseline_implied,
                kind=kind,
                unrounded=unrounded,
                computed=MappingProxyType(computed),
                reproduced_by=reproduced,
                rounding=rounding,
                derivation=derivation,
                required_baseline=required,
                explanation=explanation,
            )
        )
    return tuple(results)
