"""Run-chart rules (``matneo.stats.run_chart``) against their sources' published examples.

Published facts reproduced (R package qicharts2, ``anhoej/qicharts2`` @ ``1b9487e``; no code
copied):

* ``vignettes/qicharts2.Rmd``, Appendix 2 "Critical values for longest run and number of
  crossings" for 10–100 useful observations (the rendered table in
  ``docs/articles/qicharts2.html``), and the worked sentence "in a run chart with 24 useful
  data points, fewer than 8 crossings ... a run of more than 8".
* The same vignette's Clostridium difficile example (data set ``cdi``, 36 months, the first 24
  before the intervention; ``qic(month, n, data = cdi, freeze = 24)``): "The median number of
  CDIs per month in the before period is 19. An unusually long run of 15 data points below the
  median proves that the CDI rate is reduced."
* ``tests/testthat/test_hai.R`` with its stored expectations ``hai_1.rds`` and ``hai_2.rds``:
  the runs analysis of U charts of ``hospital_infections`` (monthly counts ``n`` over patient
  days ``days``, summed over hospitals), all infections together and faceted by infection. A U
  chart's centre line is the weighted mean ``sum(n) / sum(days)``, passed here as ``centre``.

IHI rules (Perla, Provost & Murray 2011): the rule definitions are exercised with hand-worked
series below, each with its counting written out.
"""

from __future__ import annotations

import math

import pytest

from matneo.stats import run_chart
from matneo.stats.runchart import (
    IHI_RUNS_TABLE,
    crossings_limit,
    ihi_runs_limits,
    longest_run_limit,
)

# qicharts2 vignette, Appendix 2: "n/longest-run upper limit/crossings lower limit", n = 10..100.
APPENDIX_2 = """
10/6/2 11/6/2 12/7/3 13/7/3 14/7/4 15/7/4 16/7/4 17/7/5 18/7/5 19/7/6 20/7/6 21/7/6 22/7/7
23/8/7 24/8/8 25/8/8 26/8/8 27/8/9 28/8/9 29/8/10 30/8/10 31/8/11 32/8/11 33/8/11 34/8/12
35/8/12 36/8/13 37/8/13 38/8/14 39/8/14 40/8/14 41/8/15 42/8/15 43/8/16 44/8/16 45/8/17
46/9/17 47/9/17 48/9/18 49/9/18 50/9/19 51/9/19 52/9/20 53/9/20 54/9/21 55/9/21 56/9/21
57/9/22 58/9/22 59/9/23 60/9/23 61/9/24 62/9/24 63/9/25 64/9/25 65/9/25 66/9/26 67/9/26
68/9/27 69/9/27 70/9/28 71/9/28 72/9/29 73/9/29 74/9/29 75/9/30 76/9/30 77/9/31 78/9/31
79/9/32 80/9/32 81/9/33 82/9/33 83/9/34 84/9/34 85/9/34 86/9/35 87/9/35 88/9/36 89/9/36
90/9/37 91/10/37 92/10/38 93/10/38 94/10/39 95/10/39 96/10/39 97/10/40 98/10/40 99/10/41
100/10/41
"""
APPENDIX_ROWS = [tuple(int(x) for x in cell.split("/")) for cell in APPENDIX_2.split()]


def test_appendix_has_every_n_from_10_to_100() -> None:
    assert [n for n, _, _ in APPENDIX_ROWS] == list(range(10, 101))


@pytest.mark.parametrize(("n", "run_limit", "crossing_limit"), APPENDIX_ROWS)
def test_limits_match_qicharts2_appendix_2(n: int, run_limit: int, crossing_limit: int) -> None:
    assert longest_run_limit(n) == run_limit
    assert crossings_limit(n) == crossing_limit


def test_vignette_24_points_hand_calculation() -> None:
    # log2(24) = 4.585, + 3 = 7.585, rounds to 8: a run of MORE than 8 is a signal.
    assert longest_run_limit(24) == 8
    # Crossings ~ Binomial(23, 1/2), 2**23 = 8 388 608 outcomes; P(X <= 7) = 390 656 / 8 388 608
    # = 0.0466 < 0.05 and P(X <= 8) = 880 970 / 8 388 608 = 0.1050 >= 0.05, so
    # qbinom(0.05, 23, 0.5) = 8: FEWER than 8 crossings is a signal.
    assert sum(math.comb(23, k) for k in range(8)) == 390_656
    assert sum(math.comb(23, k) for k in range(9)) == 880_970
    assert crossings_limit(24) == 8


# qicharts2 data set ``cdi``: hospital-acquired C. difficile infections per month, Nov 2012 to
# Oct 2015; the intervention began in month 25 (Nov 2014).
CDI = [17, 12, 27, 20, 20, 18, 22, 19, 19, 24, 17, 16, 24, 19, 19, 22, 25, 19, 17, 6, 25, 17,
       11, 14, 9, 11, 7, 13, 5, 5, 3, 5, 9, 4, 5, 9]  # fmt: skip


def test_cdi_frozen_baseline_reproduces_the_vignette() -> None:
    result = run_chart(CDI, baseline=24)
    # Baseline sorted: 6 11 12 14 16 17 17 17 17 18 19 [19 19] 19 19 20 20 22 22 24 24 25 25 27;
    # the 12th and 13th values are both 19, so the median is 19 ("is 19" in the vignette).
    assert result.median == 19
    # Five baseline months equal 19 and fall on the line; 36 - 5 = 31 useful points.
    assert result.n_useful == 31
    # Months 22-36 (positions 21-35: 17, 11, 14, then all twelve post months) are all below 19:
    # "an unusually long run of 15 data points below the median".
    assert result.longest_run == 15
    assert result.longest_run_points == (21, 35)
    # round(log2(31) + 3) = round(7.954) = 8, and 15 > 8: a signal.
    assert result.longest_run_limit == 8
    assert result.signal and result.anhoej_signal


def test_cdi_without_freeze_still_signals() -> None:
    # The vignette: "A downward shift ... is supported by the runs analysis" on all 36 months.
    assert run_chart(CDI).signal


# qicharts2 data set ``hospital_infections`` summed over the six hospitals, Jan 2015 - Dec 2016.
HAI_N = {
    "BAC": [106, 69, 90, 77, 95, 92, 89, 74, 82, 85, 92, 75, 68, 80, 80, 79, 80, 85, 69, 75, 78,
            82, 61, 73],
    "CDI": [72, 74, 75, 69, 52, 45, 45, 51, 46, 47, 69, 58, 50, 62, 73, 65, 59, 49, 47, 48, 46,
            62, 42, 57],
    "UTI": [397, 378, 420, 382, 360, 382, 323, 380, 366, 380, 382, 373, 391, 379, 396, 387, 370,
            394, 303, 389, 371, 369, 351, 360],
}  # fmt: skip
HAI_DAYS = {
    "BAC": [109470.9583, 99508.3333, 108898.9583, 101688.125, 104658.125, 101202.25, 92630.9583,
            95203.6667, 100443.125, 102701.2917, 102013.0833, 98826.75, 102697.2083, 98177.8333,
            103149.2083, 101085.1667, 100214.4583, 96890.5833, 89986.4583, 92971.125, 97745.5,
            99996.2917, 91607.5, 90214.9167],
    "CDI": [102690.625, 93460.875, 102149.1667, 95147.9583, 98588.0, 95000.9583, 86428.0,
            88625.9583, 93941.125, 96145.7083, 95115.5, 92736.4167, 95611.25, 90783.2083,
            95958.4167, 94511.0, 93146.0833, 90784.1667, 83655.0417, 86682.0, 91137.6667,
            93387.75, 85798.5833, 85006.875],
    "UTI": [98305.25, 89377.5833, 98041.5833, 91141.25, 94497.25, 90785.0417, 82061.375,
            84891.125, 90053.625, 91602.5, 90975.875, 88398.2083, 91495.5, 86989.5417, 91716.8333,
            89899.5833, 89154.6667, 86253.125, 79444.125, 82757.5833, 86646.0833, 89021.0417,
            82124.7083, 81013.6667],
}  # fmt: skip


def _u_chart_runs(n: list[int], days: list[float]):  # type: ignore[no-untyped-def]
    rates = [a / b for a, b in zip(n, days, strict=True)]
    return run_chart(rates, centre=sum(n) / sum(days))


# (facet, n.useful, longest.run, longest.run.max, n.crossings, n.crossings.min, runs.signal)
HAI_EXPECTED = [
    ("all", 24, 4, 8, 12, 8, False),  # hai_1.rds
    ("BAC", 24, 3, 8, 13, 8, False),  # hai_2.rds row 1
    ("CDI", 24, 6, 8, 8, 8, False),  # hai_2.rds row 2: 8 crossings is not FEWER than 8
    ("UTI", 24, 4, 8, 11, 8, False),  # hai_2.rds row 3
]


@pytest.mark.parametrize(
    ("facet", "useful", "longest", "longest_max", "crossings", "crossings_min", "signal"),
    HAI_EXPECTED,
)
def test_hospital_infections_match_qicharts2_test_expectations(
    facet: str,
    useful: int,
    longest: int,
    longest_max: int,
    crossings: int,
    crossings_min: int,
    signal: bool,
) -> None:
    if facet == "all":
        n = [sum(HAI_N[f][i] for f in HAI_N) for i in range(24)]
        days = [sum(HAI_DAYS[f][i] for f in HAI_DAYS) for i in range(24)]
    else:
        n, days = HAI_N[facet], HAI_DAYS[facet]
    result = _u_chart_runs(n, days)
    assert (result.n_useful, result.longest_run, result.longest_run_limit) == (
        useful,
        longest,
        longest_max,
    )
    assert (result.crossings, result.crossings_limit, result.signal) == (
        crossings,
        crossings_min,
        signal,
    )


# IHI rules: hand-worked series. Each row: values, what the counting gives.
IHI_CASES = [
    pytest.param(
        # 13 values sorted: 1 2 3 4 5 10 [30] 31 32 33 34 35 36, median = 30 (the last point,
        # on the median, neither adds nor breaks). Positions 0-5 (33 31 35 32 36 34) are all
        # above: a shift of six; positions 6-11 (4 1 5 2 10 3) all below: a second shift. The
        # values zigzag, so there is no trend.
        [33, 31, 35, 32, 36, 34, 4, 1, 5, 2, 10, 3, 30],
        {"shifts": ((0, 5, 1), (6, 11, -1)), "trends": ()},
        id="shifts-of-six",
    ),
    pytest.param(
        # 15 values sorted: 1 2 3 4 5 6 10 [30] 31 32 33 34 35 36 37, median = 30 at position 3.
        # Above: positions 0 1 2, (3 is on the median and skipped), 4 5 6: six in a row above,
        # a shift from position 0 to 6. Below: positions 7-13, seven in a row. 36 > 34 > 4 > 1
        # is only four going down: no trend.
        [33, 31, 35, 30, 32, 36, 34, 4, 1, 5, 2, 10, 3, 6, 37],
        {"shifts": ((0, 6, 1), (7, 13, -1)), "trends": ()},
        id="median-point-does-not-break-a-shift",
    ),
    pytest.param(
        # 1, 2, 2, 3, 4, 5: the repeated 2 is ignored, leaving 1<2<3<4<5, five going up.
        [1, 2, 2, 3, 4, 5, 3, 4, 3, 4],
        {"trends": ((0, 5, 1),)},
        id="repeat-ignored-in-trend",
    ),
    pytest.param(
        # 9 > 7 > 5 > 3: only four going down, not a trend.
        [9, 7, 5, 3, 6, 5, 6, 5, 6, 5],
        {"trends": ()},
        id="four-is-not-a-trend",
    ),
    pytest.param(
        # 9 > 7 > 5 > 3 > 1: five going down.
        [9, 7, 5, 3, 1, 6, 5, 6, 5, 6],
        {"trends": ((0, 4, -1),)},
        id="five-down-is-a-trend",
    ),
]


@pytest.mark.parametrize(("values", "expected"), IHI_CASES)
def test_ihi_shift_and_trend_hand_worked(values: list[float], expected: dict) -> None:  # type: ignore[type-arg]
    result = run_chart(values, rule_set="ihi")
    if "shifts" in expected:
        assert result.shifts == expected["shifts"]
    if "trends" in expected:
        assert result.trends == expected["trends"]
    assert result.signal is result.ihi_signal


def test_ihi_runs_uses_the_table_and_can_be_overridden() -> None:
    # 20 alternating points around a median of 1.5: 20 runs, 19 crossings.
    values = [1.0, 2.0] * 10
    result = run_chart(values, rule_set="ihi")
    assert result.runs == 20
    # The shipped table for 20 useful points is (7, 15): 20 > 15 is too many runs.
    assert result.runs_limits == IHI_RUNS_TABLE[20] == (7, 15)
    assert result.too_many_runs and result.signal
    # A locally confirmed table replaces it.
    local = run_chart(values, rule_set="ihi", runs_table={20: (6, 20)})
    assert not local.too_many_runs and not local.signal
    # Outside the table the runs rule is not applied.
    assert ihi_runs_limits(9) is None


def test_runs_table_hand_calculation_for_ten_points() -> None:
    # Ten useful points split 5/5: C(10, 5) = 252 arrangements. Two runs: 2 ways (AAAAABBBBB,
    # BBBBBAAAAA). Three runs: 2 * C(4, 1) * C(4, 0) = 8 ways. P(R <= 2) = 2/252 = 0.008 and
    # P(R <= 3) = 10/252 = 0.040 > 0.025, so fewer than 3 runs is a signal. By symmetry the
    # upper limit is 12 - 3 = 9.
    assert IHI_RUNS_TABLE[10] == (3, 9)


def test_astronomical_points_are_the_teams_judgement() -> None:
    values = [5, 6, 5, 6, 5, 40, 5, 6, 5, 6]
    assert run_chart(values, rule_set="ihi").astronomical == ()
    marked = run_chart(values, rule_set="ihi", astronomical=[5])
    assert marked.astronomical == (5,) and marked.signal
    # The team's mark does not change the Anhøj reading.
    assert marked.anhoej_signal is run_chart(values).anhoej_signal
    with pytest.raises(ValueError, match="outside the chart"):
        run_chart(values, astronomical=[10])


def test_missing_periods_are_skipped_but_keep_their_place() -> None:
    values = [1.0, None, 3.0, math.nan, 5.0]
    result = run_chart(values)
    assert result.n_obs == 3 and result.median == 3.0
    # 1 below, 3 on the line, 5 above: two useful points, one crossing.
    assert (result.n_useful, result.crossings, result.longest_run) == (2, 1, 1)


def test_empty_and_flat_series_give_no_signal() -> None:
    empty = run_chart([])
    assert empty.median is None and not empty.signal
    flat = run_chart([4, 4, 4, 4])
    assert flat.n_useful == 0 and flat.longest_run is None and not flat.signal


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="rule_set"):
        run_chart([1, 2], rule_set="nelson")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="baseline"):
        run_chart([1, 2], baseline=0)
    with pytest.raises(ValueError):
        longest_run_limit(0)
    with pytest.raises(ValueError):
        crossings_limit(0)


def test_flagged_points_follow_the_rule_set() -> None:
    result = run_chart(CDI, baseline=24)
    assert result.flagged_points() == frozenset(range(21, 36))
    ihi = run_chart(CDI, rule_set="ihi", baseline=24)
    assert set(range(21, 36)) <= ihi.flagged_points()
