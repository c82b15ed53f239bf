"""Run charts with the two rule sets improvement teams use: Anhøj's and the IHI's.

A run chart plots a measure over time against its median. Improvement teams read it with one of
two rule sets, and a project chooses one per chart, so :func:`run_chart` computes both and says
which one decides ``signal``:

* **Anhøj rules** (``rule_set="anhoej"``): an unusually long run or unusually few crossings of
  the median. Anhøj J, Olesen AV. Run charts revisited: a simulation study of run chart rules for
  detection of non-random variation in health care processes. *PLoS ONE* 2014;9(11):e113825,
  https://doi.org/10.1371/journal.pone.0113825. As implemented by the R package qicharts2
  (``anhoej/qicharts2``, ``R/helper.functions.R`` ``runs.analysis``; vignette "qicharts2",
  Appendix 2, critical values for 10–100 useful observations):

  - a *run* is one or more consecutive useful points on the same side of the centre line; points
    on the centre line neither break nor add to a run, so they are dropped first (the remaining
    points are the *useful observations*, n);
  - the upper 95 % prediction limit of the longest run is ``round(log2(n) + 3)``; a longer run
    is a signal;
  - a *crossing* is two consecutive useful points on opposite sides; in a random process the
    number of crossings is binomial(n − 1, ½), and fewer than its lower 5 % quantile
    (R's ``qbinom(0.05, n - 1, 0.5)``) is a signal.

  Anhøj's rules keep the false-signal rate near 5 % whatever the number of points, which is why
  they are the default.

* **IHI rules** (``rule_set="ihi"``): Perla RJ, Provost LP, Murray SK. The run chart: a simple
  analytical tool for learning from variation in healthcare processes. *BMJ Qual Saf*
  2011;20(1):46–51, https://doi.org/10.1136/bmjqs.2009.037895:

  - *shift*: six or more consecutive points all above or all below the median; points on the
    median neither add to nor break a shift;
  - *trend*: five or more consecutive points all going up or all going down; when successive
    values repeat, the repeats are ignored (they neither add to nor break a trend);
  - *runs*: too few or too many runs (runs = crossings + 1) for the number of useful
    observations, from a table. The paper's Table 1 could not be confirmed from the primary
    source while this was written, so the shipped table (:data:`IHI_RUNS_TABLE`) is computed from
    the exact distribution of the number of runs (Swed FS, Eisenhart C. Tables for testing
    randomness of grouping in a sequence of alternatives. *Ann Math Stat* 1943;14:66–87) with
    the useful points split as evenly as a median splits them and 2.5 % in each tail. It is
    **needs local confirmation** data: pass ``runs_table=`` to use a confirmed table instead;
  - *astronomical data point*: "an obviously, even blatantly, different value" that everyone
    studying the chart would agree is unusual. Perla et al. make this a judgement, not a
    calculation, so the team marks such points (``astronomical=``) and they are reported back.

A *baseline* freezes the centre line: the median of the first ``baseline`` points is used for the
whole chart (qicharts2's ``freeze``), so later points are tested against the period before the
change. Missing periods (``None`` or NaN) are left out of every calculation but keep their index.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Literal

__all__ = [
    "IHI_RUNS_TABLE",
    "RULE_SETS",
    "SHIFT_LENGTH",
    "TREND_LENGTH",
    "RunChartResult",
    "crossings_limit",
    "ihi_runs_limits",
    "longest_run_limit",
    "run_chart",
]

RuleSet = Literal["anhoej", "ihi"]
#: The rule sets a chart can be read with, in the order the pages offer them.
RULE_SETS: tuple[RuleSet, ...] = ("anhoej", "ihi")
#: IHI shift: six or more consecutive points on one side of the median (Perla et al. 2011, rule 1).
SHIFT_LENGTH = 6
#: IHI trend: five or more consecutive points all going up or all going down (Perla et al. 2011,
#: rule 2).
TREND_LENGTH = 5


def longest_run_limit(n_useful: int) -> int:
    """Upper 95 % prediction limit for the longest run: ``round(log2(n) + 3)`` (Anhøj 2014).

    ``log2(n)`` is never exactly half-way between integers for a whole number ``n`` (that would
    need ``n = 2**k * sqrt(2)``), so R's round-half-to-even and Python's ``round`` agree.
    """
    if n_useful < 1:
        raise ValueError("longest_run_limit needs at least one useful observation")
    return round(math.log2(n_useful) + 3)


def crossings_limit(n_useful: int) -> int:
    """Lower 5 % prediction limit for the number of crossings: ``qbinom(0.05, n - 1, 0.5)``.

    R's ``qbinom(p, size, prob)`` is the smallest ``k`` with ``P(X <= k) >= p``; it is computed
    exactly here with integer binomial coefficients so that no floating-point rounding can move
    the limit by one.
    """
    if n_useful < 1:
        raise ValueError("crossings_limit needs at least one useful observation")
    trials = n_useful - 1
    total = 2**trials
    cumulative = 0
    for k in range(trials + 1):
        cumulative += math.comb(trials, k)
        # cumulative / total >= 0.05  <=>  20 * cumulative >= total
        if 20 * cumulative >= total:
            return k
    return trials  # pragma: no cover - the loop always returns at k = trials


@cache
def _runs_distribution(n1: int, n2: int) -> tuple[tuple[int, int], ...]:
    """Exact counts of arrangements with ``r`` runs of ``n1`` and ``n2`` items (Swed–Eisenhart)."""
    counts: list[tuple[int, int]] = []
    for r in range(2, n1 + n2 + 1):
        if r % 2 == 0:
            k = r // 2
            c = 2 * math.comb(n1 - 1, k - 1) * math.comb(n2 - 1, k - 1)
        else:
            k = (r - 1) // 2
            c = math.comb(n1 - 1, k) * math.comb(n2 - 1, k - 1) + math.comb(n1 - 1, k - 1) * math.comb(n2 - 1, k)
        counts.append((r, c))
    return tuple(counts)


def _computed_runs_limits(n_useful: int) -> tuple[int, int]:
    """Runs limits from the Swed–Eisenhart distribution, 2.5 % in each tail, halves split evenly."""
    n1 = n_useful // 2
    n2 = n_useful - n1
    counts = _runs_distribution(n1, n2)
    total = math.comb(n_useful, n1)
    lower = upper = None
    cumulative = 0
    for r, c in counts:
        cumulative += c
        if 40 * cumulative > total:  # P(R <= r) > 0.025
            lower = r
            break
    cumulative = 0
    for r, c in reversed(counts):
        cumulative += c
        if 40 * cumulative > total:  # P(R >= r) > 0.025
            upper = r
            break
    assert lower is not None and upper is not None
    return lower, upper


#: Fewest and most runs expected by chance for 10–60 useful observations: fewer than the first or
#: more than the second is a signal under the IHI runs rule. Computed (see the module docstring);
#: needs local confirmation against Perla et al. 2011, Table 1.
IHI_RUNS_TABLE: Mapping[int, tuple[int, int]] = {n: _computed_runs_limits(n) for n in range(10, 61)}
#: Words shown beside the IHI runs rule wherever its limits are displayed.
IHI_RUNS_TABLE_STATUS = (
    "Computed from the Swed–Eisenhart distribution; needs local confirmation against "
    "Perla, Provost & Murray 2011, Table 1."
)


def ihi_runs_limits(n_useful: int, runs_table: Mapping[int, tuple[int, int]] | None = None) -> tuple[int, int] | None:
    """(fewest, most) runs expected by chance, or ``None`` outside the table (rule not applied)."""
    table = IHI_RUNS_TABLE if runs_table is None else runs_table
    return table.get(n_useful)


@dataclass(frozen=True)
class RunChartResult:
    """Everything a page or a progress suggestion needs from one run chart.

    Index ranges are ``(first, last)`` positions in the input, inclusive. ``signal`` follows the
    chosen ``rule_set``; ``anhoej_signal`` and ``ihi_signal`` are both always computed so a page
    can say what the other rule set would have found.
    """

    rule_set: RuleSet
    median: float | None
    baseline: int | None
    n_obs: int
    n_useful: int
    longest_run: int | None
    longest_run_limit: int | None
    crossings: int | None
    crossings_limit: int | None
    runs: int | None
    runs_limits: tuple[int, int] | None
    shifts: tuple[tuple[int, int, int], ...]
    trends: tuple[tuple[int, int, int], ...]
    too_few_runs: bool
    too_many_runs: bool
    astronomical: tuple[int, ...]
    anhoej_signal: bool
    ihi_signal: bool
    signal: bool
    longest_run_points: tuple[int, int] | None
    longest_run_side: int | None = None  # +1 above the centre line, -1 below
    last_position: int | None = None  # position of the last point with a value

    @property
    def shift(self) -> bool:
        """True when the IHI shift rule fired anywhere on the chart."""
        return bool(self.shifts)

    @property
    def trend(self) -> bool:
        """True when the IHI trend rule fired anywhere on the chart."""
        return bool(self.trends)

    @property
    def runs_signal(self) -> bool:
        """True when the IHI runs rule fired (too few or too many runs)."""
        return self.too_few_runs or self.too_many_runs

    def flagged_points(self) -> frozenset[int]:
        """Positions that the chosen rule set marks, for colouring a chart."""
        points: set[int] = set()
        if self.rule_set == "ihi":
            for first, last, _ in (*self.shifts, *self.trends):
                points.update(range(first, last + 1))
            points.update(self.astronomical)
        elif (
            self.anhoej_signal
            and self.longest_run_points is not None
            and self.longest_run is not None
            and self.longest_run_limit is not None
            and self.longest_run > self.longest_run_limit
        ):
            first, last = self.longest_run_points
            points.update(range(first, last + 1))
        return frozenset(points)


def _is_missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    if len(ordered) % 2:
        return float(ordered[mid])
    return (ordered[mid - 1] + ordered[mid]) / 2.0


def _side_runs(sides: list[tuple[int, int]]) -> list[tuple[int, int, int, int]]:
    """Group (position, side) pairs into runs: (first position, last position, side, length)."""
    runs: list[tuple[int, int, int, int]] = []
    for position, side in sides:
        if runs and runs[-1][2] == side:
            first, _, _, length = runs[-1]
            runs[-1] = (first, position, side, length + 1)
        else:
            runs.append((position, position, side, 1))
    return runs


def _trends(points: list[tuple[int, float]]) -> tuple[tuple[int, int, int], ...]:
    """Trends of at least :data:`TREND_LENGTH` points, repeats ignored (Perla et al. 2011).

    Returns ``(first, last, direction)`` with direction +1 (up) or -1 (down). A trend's length
    is counted in distinct successive values, so ``1, 2, 2, 3, 4, 5`` is a trend of five going
    up; it spans from the last point of its first value to the first point of its last value.
    """
    groups: list[tuple[int, int, float]] = []  # (first position, last position, value)
    for position, value in points:
        if groups and value == groups[-1][2]:
            groups[-1] = (groups[-1][0], position, value)
        else:
            groups.append((position, position, value))
    steps = [1 if groups[i][2] > groups[i - 1][2] else -1 for i in range(1, len(groups))]
    found: list[tuple[int, int, int]] = []
    i = 0
    while i < len(steps):
        j = i
        while j + 1 < len(steps) and steps[j + 1] == steps[i]:
            j += 1
        # steps i..j join groups i..j+1: that is j - i + 2 distinct values.
        if j - i + 2 >= TREND_LENGTH:
            found.append((groups[i][1], groups[j + 1][0], steps[i]))
        i = j + 1
    return tuple(found)


def run_chart(
    values: Sequence[float | None],
    rule_set: RuleSet = "anhoej",
    baseline: int | None = None,
    *,
    centre: float | None = None,
    astronomical: Sequence[int] = (),
    runs_table: Mapping[int, tuple[int, int]] | None = None,
) -> RunChartResult:
    """Analyse a run chart with both rule sets; ``signal`` follows ``rule_set``.

    ``values`` are in time order; ``None``/NaN marks a missing period. ``baseline`` freezes the
    median on the first ``baseline`` points (a team's pre-change period). ``centre`` overrides
    the median altogether, for charts whose centre line is a weighted mean (qicharts2's U and P
    charts run the same analysis against their centre line). ``astronomical`` are positions the
    team judged astronomical (a judgement under Perla et al. 2011, never computed).
    """
    if rule_set not in RULE_SETS:
        raise ValueError(f"rule_set must be one of {RULE_SETS}, not {rule_set!r}")
    present = [(i, float(v)) for i, v in enumerate(values) if v is not None and not _is_missing(v)]
    if baseline is not None:
        if baseline < 1:
            raise ValueError("baseline must be at least one point")
        frozen = [v for i, v in present if i < baseline]
    else:
        frozen = [v for _, v in present]
    n_obs = len(present)
    bad_marks = [p for p in astronomical if not 0 <= p < len(values)]
    if bad_marks:
        raise ValueError(f"astronomical positions {bad_marks} are outside the chart")
    marked = tuple(sorted({p for p in astronomical if not _is_missing(values[p])}))
    if centre is not None:
        median: float | None = float(centre)
    else:
        median = _median(frozen) if frozen else None
    if median is None:
        return RunChartResult(
            rule_set=rule_set,
            median=None,
            baseline=baseline,
            n_obs=0,
            n_useful=0,
            longest_run=None,
            longest_run_limit=None,
            crossings=None,
            crossings_limit=None,
            runs=None,
            runs_limits=None,
            shifts=(),
            trends=(),
            too_few_runs=False,
            too_many_runs=False,
            astronomical=marked,
            anhoej_signal=False,
            ihi_signal=bool(marked),
            signal=bool(marked) if rule_set == "ihi" else False,
            longest_run_points=None,
        )
    sides = [(i, 1 if v > median else -1) for i, v in present if v != median]
    n_useful = len(sides)
    runs = _side_runs(sides)
    trends = _trends(present)
    if n_useful:
        longest = max(runs, key=lambda run: run[3])
        longest_run: int | None = longest[3]
        longest_points: tuple[int, int] | None = (longest[0], longest[1])
        run_limit, cross_limit = longest_run_limit(n_useful), crossings_limit(n_useful)
        lr_limit: int | None = run_limit
        crossings: int | None = len(runs) - 1
        cr_limit: int | None = cross_limit
        anhoej = longest[3] > run_limit or (len(runs) - 1) < cross_limit
        run_count: int | None = len(runs)
    else:
        longest_run = longest_points = lr_limit = crossings = cr_limit = run_count = None
        anhoej = False
    shifts = tuple((first, last, side) for first, last, side, n in runs if n >= SHIFT_LENGTH)
    limits = ihi_runs_limits(n_useful, runs_table) if n_useful else None
    too_few = bool(limits and run_count is not None and run_count < limits[0])
    too_many = bool(limits and run_count is not None and run_count > limits[1])
    ihi = bool(shifts or trends or too_few or too_many or marked)
    return RunChartResult(
        rule_set=rule_set,
        median=median,
        baseline=baseline,
        n_obs=n_obs,
        n_useful=n_useful,
        longest_run=longest_run,
        longest_run_limit=lr_limit,
        crossings=crossings,
        crossings_limit=cr_limit,
        runs=run_count,
        runs_limits=limits,
        shifts=shifts,
        trends=trends,
        too_few_runs=too_few,
        too_many_runs=too_many,
        astronomical=marked,
        anhoej_signal=anhoej,
        ihi_signal=ihi,
        signal=anhoej if rule_set == "anhoej" else ihi,
        longest_run_points=longest_points,
        longest_run_side=longest[2] if n_useful else None,
        last_position=present[-1][0] if present else None,
    )
