"""Worked examples, rule boundaries and edge cases for ``matneo.stats.spc``.

Published examples reproduced (NHS-R Community, NHSRplotthedots, ``nhs-r-community/NHSRplotthedots``):

* ``tests/testthat/_snaps/ptd_spc_standard.md`` @ ``ea2177d4ccfed7dc14d8f57d20f1114d9b235295``
  (snapshot of ``tests/testthat/test-ptd_spc_standard.R``, "it returns expected values"): the
  20 values of R's ``set.seed(123); rnorm(20)`` give mean 0.1416238, LPL -3.01138,
  UPL 3.294627 (screening on); with point 15 set to 10, mean 0.6694159 and limits
  -2.383666 / 3.722497 with screening, -4.596625 / 5.935457 without. The snapshot prints the
  first four values to 8 decimals; all 20 are printed (3 significant figures) in the older
  snapshot @ ``3aefce797c5fae105a9fb53e1f290b5e464999af``. The values below are R's, and the
  7-figure agreement of the mean and all three pairs of limits confirms them.
* ``tests/testthat/_snaps/ptd_spc.md`` ("it outputs expected content", summary of the same
  data faceted into points 1-10 and 11-20; 3 significant figures @
  ``174380d653d7a169a76f99deebb9fc21ed5fbbd6``, 6 decimals in a later version of the file):
  means 0.074626 / 0.208622, LPL -2.600585 / -3.279005, UPL 2.749837 / 3.696249. A facet is
  calculated exactly like a rebase group, so ``rebase_at=[10]`` reproduces it. The same file's
  "summary with a target" snapshot: target 0.5, improvement "increase", all 20 points common
  cause, assurance "inconsistent".
* ``tests/testthat/test-ptd_spc_standard.R`` @ ``2ec4e36851c074e231445e94db78e8cd24e6352b``
  ("it only reports special cause for 2 of 3 points close to limits when they are on the same
  side of the mean"): alternating 1, -1 with the last two points 5.5 and -5.5: both common cause.
* ``tests/testthat/test-ptd_calculate_point_type.R`` @ ``8aac3239e90ce9ebeb9c3e61f56c207dfc37b225``:
  the rule vectors for runs, trends and two-in-three (ours return the points marked, i.e. R's
  ``ptd_part_of_*`` applied to its detector).
* ``tests/testthat/test-ptd_calculate_assurance_type.R`` @ ``47af41fdbf71eb2edc7aa06e614fd78be1622984``:
  assurance for limits (1, 3), (5, 7), (1, 5) and target 4 in each direction.
* ``tests/testthat/test-ptd_add_short_group_warnings.R`` @ ``02e5aed1c7589cb4825c354b8c301f223ea52571``:
  11 points warn, 12 do not; groups of 35 and 5 warn for the 5 only.
* ``tests/testthat/test-geom_ptd_icon.R`` @ ``050b07d`` ("ptd_get_icons transforms the data
  correctly"): the variation and assurance icons of nine charts of R's ``set.seed(123);
  rnorm(24)``, its last 12 points then replaced by ``rnorm(12, 5)`` and later by
  ``rnorm(12, -5)`` (the next draws of the same stream), with targets and both directions.
* ``vignettes/deviations.Rmd`` (screening on/off): its example series, with the limits
  calculated by hand below (the vignette shows them only in a rendered chart).

Everything else is a hand calculation written out in the test.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matneo.stats.spc import (
    LIMIT_FACTOR,
    NEAR_LIMIT_FACTOR,
    RULES,
    TRIAL_LIMIT_POINTS,
    SpcResult,
    _assurance_icon,
    _run_points,
    _trend_points,
    _two_in_three_points,
    spc,
)

pytestmark = pytest.mark.filterwarnings("error")

# R: set.seed(123); rnorm(20)
RNORM_123 = [
    -0.56047565, -0.23017749, 1.55870831, 0.07050839, 0.12928774,
    1.71506499, 0.46091621, -1.26506123, -0.68685285, -0.44566197,
    1.22408180, 0.35981383, 0.40077145, 0.11068272, -0.55584113,
    1.78691314, 0.49785048, -1.96661716, 0.70135590, -0.47279141,
]  # fmt: skip

# A fixed baseline used by the rule tests: 12 points alternating 6, 4 (ending on 4).
# mean = 5; every moving range is 2, so AMR = 2;
# UPL/LPL = 5 ± 2.66·2 = 10.32 / -0.32; near limits = 5 ± (2/3)·2.66·2 = 5 ± 3.54667 = 8.54667 / 1.45333.
BASELINE = [6.0, 4.0] * 6


def fixed(tail: list[float], **kwargs: object) -> SpcResult:
    """Chart the baseline followed by ``tail``, with limits fixed on the baseline."""
    return spc(BASELINE + tail, fix_after_n_points=12, **kwargs)  # type: ignore[arg-type]


def tail_rules(result: SpcResult) -> list[str]:
    return result.rule[12:].tolist()


# --------------------------------------------------------------------------------------
# Published examples (NHSRplotthedots)
# --------------------------------------------------------------------------------------


def test_rnorm_example_with_screening_matches_ptd_spc_standard_snapshot() -> None:
    r = spc(RNORM_123, screen_outliers=True)
    assert r.chart == "xmr"
    assert np.allclose(r.mean, 0.1416238, atol=5e-8)
    assert np.allclose(r.lpl, -3.01138, atol=5e-6)
    assert np.allclose(r.upl, 3.294627, atol=5e-7)
    # relative_to_mean as printed in the snapshot (first 15 of 20)
    expected_side = [-1, -1, 1, -1, -1, 1, 1, -1, -1, -1, 1, 1, 1, -1, -1]
    assert np.sign(r.values - r.mean)[:15].tolist() == expected_side
    assert not r.special_cause.any()
    # No moving range reaches 3.267·AMR here, so screening changes nothing.
    assert np.array_equal(spc(RNORM_123).upl, r.upl)


def test_rnorm_example_with_an_outlier_screened_and_unscreened() -> None:
    y = list(RNORM_123)
    y[14] = 10.0  # R's data$y[15] <- 10
    screened = spc(y, screen_outliers=True)
    unscreened = spc(y, screen_outliers=False)
    assert screened.mean[0] == pytest.approx(0.6694159, abs=5e-8)
    assert screened.lpl[0] == pytest.approx(-2.383666, abs=5e-7)
    assert screened.upl[0] == pytest.approx(3.722497, abs=5e-7)
    assert unscreened.mean[0] == pytest.approx(0.6694159, abs=5e-8)
    assert unscreened.lpl[0] == pytest.approx(-4.596625, abs=5e-7)
    assert unscreened.upl[0] == pytest.approx(5.935457, abs=5e-7)
    # Screening narrows the limits, so the outlier is special cause in both, and only it.
    assert screened.upl[0] - screened.lpl[0] < unscreened.upl[0] - unscreened.lpl[0]
    assert screened.rule[14] == unscreened.rule[14] == "outside_limits"


def test_rnorm_example_in_two_groups_matches_ptd_spc_facet_summary() -> None:
    r = spc(RNORM_123, rebase_at=[10], screen_outliers=True)
    assert r.group.tolist() == [0] * 10 + [1] * 10
    assert r.mean[0] == pytest.approx(0.074626, abs=5e-7)
    assert r.lpl[0] == pytest.approx(-2.600585, abs=5e-7)
    assert r.upl[0] == pytest.approx(2.749837, abs=5e-7)
    assert r.mean[10] == pytest.approx(0.208622, abs=5e-7)
    assert r.lpl[10] == pytest.approx(-3.279005, abs=5e-7)
    assert r.upl[10] == pytest.approx(3.696249, abs=5e-7)
    assert (r.point_type == "common_cause").all()


def test_rnorm_example_summary_with_target() -> None:
    r = spc(RNORM_123, improvement="increase", target=0.5, screen_outliers=True)
    assert (r.point_type == "common_cause").sum() == 20
    assert r.variation_icon == "common_cause"
    assert r.assurance_icon == "inconsistent"


@pytest.mark.parametrize("screen_outliers", [True, False])
def test_two_close_points_on_opposite_sides_are_not_special_cause(screen_outliers: bool) -> None:
    # mean = 0. Unscreened: MRs are thirteen 2s, 6.5 and 11, AMR = 43.5/15 = 2.9,
    # near limits ±1.77333·2.9 = ±5.1427, UPL 7.714: ±5.5 are close to the limits.
    # Screened: 11 ≥ 3.267·2.9 = 9.474 is dropped, AMR = 32.5/14 = 2.32143,
    # near limits ±4.1167, UPL 6.175: still close, not outside.
    y = [1.0, -1.0] * 7 + [5.5, -5.5]
    r = spc(y, screen_outliers=screen_outliers)
    assert r.mean[0] == 0.0
    amr = 32.5 / 14 if screen_outliers else 43.5 / 15
    assert r.unl[0] == pytest.approx(NEAR_LIMIT_FACTOR * amr)
    assert r.unl[0] < 5.5 < r.upl[0]
    assert r.point_type[-2:].tolist() == ["common_cause", "common_cause"]
    assert not r.special_cause.any()


# Published rule vectors (test-ptd_calculate_point_type.R). R's detectors flag the last point of a
# qualifying window and its ptd_part_of_* marks the window; ours return the marked points.


@pytest.mark.parametrize(
    ("side", "expected"),
    [
        ([], []),
        ([1] * 6, [0] * 6),
        ([1] * 6 + [-1], [0] * 7),
        ([1] * 8 + [-1], [1] * 8 + [0]),
        ([-1] * 8 + [1], [1] * 8 + [0]),
        ([-1] + [1] * 8 + [-1], [0] + [1] * 8 + [0]),
        ([1] + [-1] * 8 + [1], [0] + [1] * 8 + [0]),
    ],
)
def test_run_rule_published_vectors(side: list[int], expected: list[int]) -> None:
    assert _run_points(np.array(side, dtype=np.int64)).astype(int).tolist() == expected


@pytest.mark.parametrize(
    ("y", "expected", "direction"),
    [
        ([], [], 0),
        ([1, 2, 3, 4, 5, 6], [0] * 6, 0),
        ([1, 2, 3, 3, 4, 5, 6], [0] * 7, 0),  # a tie breaks the trend
        ([1, 2, 3, 4, 5, 6, 7], [1] * 7, 1),
        ([2, 1, 2, 3, 4, 5, 6, 7, 3], [0] + [1] * 7 + [0], 1),
        ([7, 6, 5, 4, 3, 2, 1], [1] * 7, -1),
        ([2, 7, 6, 5, 4, 3, 2, 1, 3], [0] + [1] * 7 + [0], -1),
    ],
)
def test_trend_rule_published_vectors(y: list[float], expected: list[int], direction: int) -> None:
    marked, directions = _trend_points(np.array(y, dtype=float))
    assert marked.astype(int).tolist() == expected
    assert set(directions[marked].tolist()) <= {direction}


@pytest.mark.parametrize(
    ("close", "side", "expected"),
    [
        ([], [], []),
        ([0, 0, 0], [1, 1, 1], [0, 0, 0]),
        ([1, 0, 1], [1, 1, 1], [1, 0, 1]),
        ([0, 1, 1], [1, 1, 1], [0, 1, 1]),
        ([1, 1, 0], [1, 1, 1], [1, 1, 0]),
        ([0, 0, 1, 0, 1, 0, 0], [1] * 7, [0, 0, 1, 0, 1, 0, 0]),
        ([0, 0, 1, 1, 0, 0, 0], [1] * 7, [0, 0, 1, 1, 0, 0, 0]),
        ([1, 0, 0, 1], [1] * 4, [0, 0, 0, 0]),
        ([1, 0, 0, 1, 1], [1] * 5, [0, 0, 0, 1, 1]),
        # opposite sides of the mean (the NHSRplotthedots issue #143 fix)
        ([1, 0, 1], [1, -1, 1], [0, 0, 0]),
        ([0, 1, 1], [1, -1, 1], [0, 0, 0]),
        ([1, 1, 0], [1, -1, 1], [0, 0, 0]),
        ([0, 0, 1, 0, 1, 0, 0], [1, -1, 1, -1, 1, -1, 1], [0] * 7),
        ([0, 0, 1, 1, 0, 0, 0], [-1, 1, -1, 1, -1, 1, -1], [0] * 7),
    ],
)
def test_two_in_three_rule_published_vectors(close: list[int], side: list[int], expected: list[int]) -> None:
    marked = _two_in_three_points(np.array(close, dtype=bool), np.array(side, dtype=np.int64))
    assert marked.astype(int).tolist() == expected


@pytest.mark.parametrize(
    ("improvement", "expected"),
    [
        ("increase", ["fail", "pass", "inconsistent"]),
        ("decrease", ["pass", "fail", "inconsistent"]),
    ],
)
def test_assurance_published_table(improvement: str, expected: list[str]) -> None:
    sign = 1 if improvement == "increase" else -1
    limits = [(1.0, 3.0), (5.0, 7.0), (1.0, 5.0)]
    assert [_assurance_icon(4.0, lo, hi, sign) for lo, hi in limits] == expected


def test_short_group_warning_threshold_published() -> None:
    assert TRIAL_LIMIT_POINTS == 12
    eleven = spc(np.arange(11.0) % 3)
    twelve = spc(np.arange(12.0) % 3)
    assert any("trial limits" in w and "11 points, fewer than 12" in w for w in eleven.warnings)
    assert not any("trial limits" in w for w in twelve.warnings)
    two_groups = spc(np.arange(40.0) % 3, rebase_at=[35])
    trial = [w for w in two_groups.warnings if "trial limits" in w]
    assert trial == [
        "group 1 (points 35–39): limits are calculated from 5 points, fewer than 12, so they are trial limits "
        "that will move as data arrive (NHSRplotthedots vignette 'number-of-points-required')"
    ]


@pytest.mark.parametrize("screen_outliers", [False, True])
def test_deviations_vignette_example_screening(screen_outliers: bool) -> None:
    # vignettes/deviations.Rmd: data <- c(1, 2, 1, 2, 10, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1)
    y = [1, 2, 1, 2, 10, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1]
    # mean = (9·1 + 8·2 + 10)/18 = 35/18 = 1.94444
    # 17 moving ranges: 1, 1, 1, 8, 9 and twelve 1s; sum 32, AMR = 32/17 = 1.88235
    # unscreened: UPL = 35/18 + 2.66·32/17 = 6.95150, LPL = -3.06261
    # screened: 3.267·32/17 = 6.14964, so 8 and 9 go; AMR = 15/15 = 1;
    #           UPL = 35/18 + 2.66 = 4.60444, LPL = -0.71556
    r = spc(y, screen_outliers=screen_outliers)
    amr = 1.0 if screen_outliers else 32 / 17
    assert r.mean[0] == pytest.approx(35 / 18)
    assert r.upl[0] == pytest.approx(35 / 18 + 2.66 * amr)
    assert r.lpl[0] == pytest.approx(35 / 18 - 2.66 * amr)
    assert r.upl[0] == pytest.approx(4.604444 if screen_outliers else 6.951503, abs=1e-6)
    assert r.rule[4] == "outside_limits"  # 10 is outside either way


# --------------------------------------------------------------------------------------
# XmR hand calculations, fixing and rebasing
# --------------------------------------------------------------------------------------


def test_xmr_hand_calculation() -> None:
    # values 2, 4, 3, 5, 6: mean = 20/5 = 4; moving ranges 2, 1, 2, 1: AMR = 6/4 = 1.5
    # UPL = 4 + 2.66·1.5 = 7.99; LPL = 4 - 3.99 = 0.01
    # near limits = 4 ± (2/3)·2.66·1.5 = 4 ± 2.66 = 6.66 / 1.34
    r = spc([2, 4, 3, 5, 6])
    assert r.mean.tolist() == [4.0] * 5
    assert r.upl[0] == pytest.approx(7.99)
    assert r.lpl[0] == pytest.approx(0.01)
    assert r.unl[0] == pytest.approx(6.66)
    assert r.lnl[0] == pytest.approx(1.34)
    assert LIMIT_FACTOR == 2.66
    assert math.isclose(NEAR_LIMIT_FACTOR, 2 * 2.66 / 3)
    assert not r.special_cause.any()
    assert r.group.tolist() == [0] * 5


def test_fix_after_n_points_uses_only_the_first_points() -> None:
    y = [10, 12, 11, 13, 12, 20]
    # all six: mean = 78/6 = 13; MRs 2, 1, 2, 1, 8: AMR = 14/5 = 2.8; UPL = 13 + 7.448 = 20.448
    free = spc(y)
    assert free.mean[0] == pytest.approx(13.0)
    assert free.upl[0] == pytest.approx(20.448)
    assert free.rule[5] == ""
    # first five: mean = 58/5 = 11.6; MRs 2, 1, 2, 1: AMR = 1.5; UPL = 11.6 + 3.99 = 15.59
    baseline = spc(y, fix_after_n_points=5)
    assert baseline.mean.tolist() == pytest.approx([11.6] * 6)
    assert baseline.upl.tolist() == pytest.approx([15.59] * 6)
    assert baseline.rule[5] == "outside_limits"


def test_rebase_starts_new_limits_and_new_rules() -> None:
    y = [1, 2, 1, 2, 1, 11, 12, 11, 12, 11]
    # group 0: mean 7/5 = 1.4, AMR 1 -> 1.4 ± 2.66; group 1: mean 57/5 = 11.4, AMR 1 -> 11.4 ± 2.66
    r = spc(y, rebase_at=[5])
    assert r.group.tolist() == [0] * 5 + [1] * 5
    assert r.mean.tolist() == pytest.approx([1.4] * 5 + [11.4] * 5)
    assert r.upl.tolist() == pytest.approx([4.06] * 5 + [14.06] * 5)
    assert r.lpl.tolist() == pytest.approx([-1.26] * 5 + [8.74] * 5)
    assert not r.special_cause.any()
    # Without the rebase the step is special cause.
    assert spc(y).special_cause.any()


def test_rules_do_not_run_across_a_rebase() -> None:
    tail = [1.5, 2, 3, 4, 5, 6, 7]
    assert tail_rules(fixed(tail)) == ["trend"] * 7
    # Rebasing at the fourth point of the trend leaves 3 of it in group 0 (limits still fixed on the
    # baseline) and 4 in group 1 (4, 5, 6, 7: mean 5.5, AMR 1, limits 2.84 / 8.16, near 3.73 / 7.27).
    split = spc(BASELINE + tail, fix_after_n_points=12, rebase_at=[15])
    assert split.group.tolist() == [0] * 15 + [1] * 4
    assert not split.special_cause.any()


def test_fix_after_n_points_applies_within_each_group() -> None:
    # group 0 = 1, 3, 1, 3, 9: first 4 give mean 2, AMR 2 -> UPL 7.32, so 9 is outside
    # group 1 = 5, 7, 5, 7, 6: first 4 give mean 6, AMR 2 -> 6 ± 5.32
    r = spc([1, 3, 1, 3, 9, 5, 7, 5, 7, 6], rebase_at=[5], fix_after_n_points=4)
    assert r.mean.tolist() == pytest.approx([2.0] * 5 + [6.0] * 5)
    assert r.upl.tolist() == pytest.approx([7.32] * 5 + [11.32] * 5)
    assert r.rule.tolist() == [""] * 4 + ["outside_limits"] + [""] * 5


def test_screening_is_off_by_default_to_match_the_excel_tool() -> None:
    y = [1, 2, 1, 2, 10, 1, 2, 1, 2, 1, 2, 1, 2]
    assert np.array_equal(spc(y).upl, spc(y, screen_outliers=False).upl)
    assert spc(y, screen_outliers=True).upl[0] < spc(y).upl[0]


# --------------------------------------------------------------------------------------
# One test per rule, with boundaries (baseline fixed: mean 5, limits -0.32/10.32,
# near limits 1.45333/8.54667)
# --------------------------------------------------------------------------------------


def test_baseline_limits() -> None:
    r = fixed([])
    assert r.mean[0] == 5.0
    assert r.upl[0] == pytest.approx(10.32)
    assert r.lpl[0] == pytest.approx(-0.32)
    assert r.unl[0] == pytest.approx(5 + 2 * 2.66 * 2 / 3)
    assert r.lnl[0] == pytest.approx(5 - 2 * 2.66 * 2 / 3)
    assert not r.special_cause.any()


def test_outside_limits_rule_is_strict() -> None:
    r = fixed([11.0, 5.0, -1.0])
    assert tail_rules(r) == ["outside_limits", "", "outside_limits"]
    # A point exactly on the UPL is not outside it (and one close point alone is not two-in-three).
    upl = float(r.upl[-1])
    on_limit = fixed([upl])
    assert on_limit.values[-1] == on_limit.upl[-1]
    assert on_limit.rule[-1] == ""
    assert fixed([np.nextafter(upl, np.inf)]).rule[-1] == "outside_limits"


def test_trend_of_seven_is_special_cause_but_six_is_not() -> None:
    # 4 (last baseline point) then 1.5: a fall; then 1.5 → 7 rises 6 times: a 7-point trend.
    seven = fixed([1.5, 2, 3, 4, 5, 6, 7], improvement="increase")
    assert tail_rules(seven) == ["trend"] * 7
    # The trend crosses the mean (2, 3, 4 below, 5 on it, 6, 7 above) and is a rising trend, so every
    # point is an improvement when higher is better.
    assert seven.point_type[12:].tolist() == ["special_cause_improvement"] * 7
    six = fixed([2, 3, 4, 5, 6, 7])
    assert not six.special_cause.any()


def test_a_tie_breaks_a_trend() -> None:
    r = fixed([1.5, 2, 3, 3, 4, 5, 6, 7])  # 8 points, 6 rises and one tie
    assert not r.special_cause.any()


def test_falling_trend_is_low() -> None:
    r = fixed([8.5, 8, 7, 6, 5, 4, 3], improvement="increase")
    assert tail_rules(r) == ["trend"] * 7
    assert r.point_type[12:].tolist() == ["special_cause_concern"] * 7
    assert fixed([8.5, 8, 7, 6, 5, 4, 3]).point_type[-1] == "special_cause_neutral_low"


def test_turning_point_takes_the_direction_of_the_trend_to_its_right() -> None:
    # rising 1.5 → 7, then falling 7 → 4.9: the peak (7) belongs to both trends.
    r = fixed([1.5, 2, 3, 4, 5, 6, 7, 6.5, 6, 5.5, 5.2, 5.1, 4.9])
    assert tail_rules(r) == ["trend"] * 13
    types = r.point_type[12:].tolist()
    assert types[:6] == ["special_cause_neutral_high"] * 6
    assert types[6:] == ["special_cause_neutral_low"] * 7


def test_two_in_three_same_side() -> None:
    # 9 is close (8.547 < 9 < 10.32); 6 is above the mean; so 9, 6, 9 has two close points, all
    # three above the mean: the two 9s are marked, not the 6.
    r = fixed([9.0, 6.0, 9.0], improvement="decrease")
    assert tail_rules(r) == ["two_in_three", "", "two_in_three"]
    assert r.point_type[12:].tolist() == ["special_cause_concern", "common_cause", "special_cause_concern"]


def test_two_in_three_boundaries() -> None:
    assert not fixed([9.0, 4.0, 9.0]).special_cause.any()  # middle point below the mean
    assert not fixed([9.0, 5.0, 9.0]).special_cause.any()  # middle point on the mean
    assert not fixed([9.0, 1.0]).special_cause.any()  # close points on opposite sides
    assert not fixed([9.0, 6.0, 6.0, 9.0]).special_cause.any()  # the two close points are 4 apart
    assert tail_rules(fixed([1.0, 1.0])) == ["two_in_three", "two_in_three"]  # below: 4, 1, 1


def test_run_of_seven_is_special_cause_but_six_is_not() -> None:
    seven = fixed([6.0] * 7, improvement="increase")
    assert tail_rules(seven) == ["run"] * 7
    assert seven.point_type[12:].tolist() == ["special_cause_improvement"] * 7
    assert not fixed([6.0] * 6).special_cause.any()
    eight = fixed([4.5] * 8, improvement="increase")  # below the mean, after a baseline ending at 4
    assert eight.rule[11:].tolist() == ["run"] * 9  # the last baseline point (4) is part of it
    assert eight.point_type[-1] == "special_cause_concern"


def test_a_point_on_the_mean_breaks_a_run() -> None:
    assert not fixed([6.0, 6, 6, 5, 6, 6, 6]).special_cause.any()


def test_rule_precedence() -> None:
    # The last point of this rising trend is also above the UPL: "outside_limits" wins.
    r = fixed([1.5, 2, 3, 4, 5, 6, 11])
    assert tail_rules(r) == ["trend"] * 6 + ["outside_limits"]
    # Seven points above the mean with two close ones: two-in-three outranks the run.
    r = fixed([6.0, 6, 9, 6, 9, 6, 6])
    assert tail_rules(r) == ["run", "run", "two_in_three", "run", "two_in_three", "run", "run"]
    assert RULES == ("outside_limits", "trend", "two_in_three", "run")


# --------------------------------------------------------------------------------------
# Point types and icons
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("improvement", "last", "point_type", "icon"),
    [
        ("increase", 11.0, "special_cause_improvement", "improvement_high"),
        ("increase", -1.0, "special_cause_concern", "concern_low"),
        ("decrease", 11.0, "special_cause_concern", "concern_high"),
        ("decrease", -1.0, "special_cause_improvement", "improvement_low"),
        ("neither", 11.0, "special_cause_neutral_high", "neutral_high"),
        ("neither", -1.0, "special_cause_neutral_low", "neutral_low"),
        ("increase", 5.0, "common_cause", "common_cause"),
    ],
)
def test_variation_icon(improvement: str, last: float, point_type: str, icon: str) -> None:
    r = fixed([last], improvement=improvement)
    assert r.point_type[-1] == point_type
    assert r.variation_icon == icon


@pytest.mark.parametrize(
    ("improvement", "target", "icon"),
    [
        ("increase", 12.0, "fail"),  # target above the UPL: higher is better, never reached
        ("decrease", 12.0, "pass"),
        ("increase", -1.0, "pass"),  # target below the LPL
        ("decrease", -1.0, "fail"),
        ("increase", 5.0, "inconsistent"),
        ("decrease", 5.0, "inconsistent"),
    ],
)
def test_assurance_icon(improvement: str, target: float, icon: str) -> None:
    assert fixed([5.0], improvement=improvement, target=target).assurance_icon == icon


def test_assurance_is_none_without_target_or_direction() -> None:
    assert fixed([5.0], improvement="increase").assurance_icon is None
    neither = fixed([5.0], target=12.0)
    assert neither.assurance_icon is None
    assert any("no assurance icon" in w for w in neither.warnings)


def test_target_exactly_on_a_limit_is_inconsistent() -> None:
    r = fixed([5.0], improvement="increase")
    on_limit = fixed([5.0], improvement="increase", target=float(r.upl[-1]))
    assert on_limit.assurance_icon == "inconsistent"


def test_assurance_uses_the_last_groups_limits() -> None:
    # group 0 limits 1.4 ± 2.66; group 1 limits 11.4 ± 2.66 = 8.74 / 14.06: target 5 is below them
    r = spc([1, 2, 1, 2, 1, 11, 12, 11, 12, 11], rebase_at=[5], improvement="increase", target=5.0)
    assert r.assurance_icon == "pass"


# --------------------------------------------------------------------------------------
# P′ (Laney) and P charts
# --------------------------------------------------------------------------------------


def test_p_prime_and_p_hand_calculation() -> None:
    # x = 2, 6, 3, 9 out of n = 10, 20, 15, 30: p = 0.2, 0.3, 0.2, 0.3; p̄ = 20/75 = 0.266667
    # σ_pi = √(p̄(1-p̄)/n) = √(0.195556/n) = 0.139841, 0.098883, 0.114180, 0.080737
    # z = (p - p̄)/σ_pi = -0.476731, 0.337100, -0.583874, 0.412861
    # moving ranges of z: 0.813831, 0.920974, 0.996736; mean 0.910514; σ_z = 0.910514/1.128 = 0.807193
    x = [2, 6, 3, 9]
    n = [10, 20, 15, 30]
    pbar = 20 / 75
    sigma_p = np.sqrt(pbar * (1 - pbar) / np.array(n))
    assert sigma_p == pytest.approx([0.139841, 0.098883, 0.114180, 0.080737], abs=1e-6)
    sigma_z = 0.807193

    laney = spc(x, n)
    assert laney.chart == "p_prime"
    assert laney.values.tolist() == pytest.approx([0.2, 0.3, 0.2, 0.3])
    assert laney.mean.tolist() == pytest.approx([pbar] * 4)
    # UPL = p̄ + 3·σ_pi·σ_z; LPL clipped at 0 where p̄ - 3·σ_pi·σ_z < 0 (points 0 and 2)
    assert laney.upl.tolist() == pytest.approx([0.605303, 0.506119, 0.543162, 0.462179], abs=2e-6)
    assert laney.lpl.tolist() == pytest.approx([0.0, 0.027215, 0.0, 0.071155], abs=2e-6)
    assert laney.unl.tolist() == pytest.approx(list(pbar + 2 * sigma_p * sigma_z), abs=2e-6)
    assert laney.lnl.tolist() == pytest.approx([0.040909, 0.107032, 0.082336, 0.136325], abs=2e-6)

    plain = spc(x, n, laney=False)
    assert plain.chart == "p"
    # σ_z = 1: UPL = p̄ + 3·σ_pi
    assert plain.upl.tolist() == pytest.approx([0.686190, 0.563315, 0.609206, 0.508879], abs=2e-6)
    assert plain.lpl.tolist() == pytest.approx([0.0, 0.0, 0.0, 0.024455], abs=2e-6)
    assert plain.lnl.tolist() == pytest.approx([0.0, 0.068901, 0.038307, 0.105192], abs=2e-6)


def test_p_prime_widens_limits_for_overdispersed_data() -> None:
    # 8 months of 10,000 births alternating 10% and 12%: p̄ = 0.11, σ_p = √(0.11·0.89/10000) = 0.0031289
    # P chart: 0.11 ± 3·0.0031289 = 0.11 ± 0.0093866: every month (±0.01 from p̄) is outside.
    # P′: z = ±0.01/0.0031289 = ±3.19601, MR = 6.39203, σ_z = 6.39203/1.128 = 5.66669;
    #     0.11 ± 3·0.0031289·5.66669 = 0.11 ± 0.053191: none outside.
    x = [1000, 1200] * 4
    n = [10000] * 8
    plain = spc(x, n, laney=False)
    assert plain.upl[0] == pytest.approx(0.11 + 0.0093866, abs=1e-7)
    assert (plain.rule == "outside_limits").all()
    laney = spc(x, n)
    assert laney.upl[0] == pytest.approx(0.11 + 0.053191, abs=1e-6)
    assert not laney.special_cause.any()


def test_p_prime_with_constant_denominators_is_an_xmr_chart_with_3_over_d2() -> None:
    # With one n, σ_pi·z_i = p_i - p̄, so 3·σ_p·σ_z = (3/1.128)·(mean moving range of p).
    p = np.array([0.10, 0.14, 0.12, 0.09, 0.13, 0.11])
    r = spc(p * 500, [500] * 6)
    amr = np.abs(np.diff(p)).mean()
    assert r.upl[0] - r.mean[0] == pytest.approx(3 / 1.128 * amr)


def test_zero_denominators_are_missing() -> None:
    r = spc([0, 1, 2, 1, 3], [0, 10, 10, 10, 10])
    assert r.missing.tolist() == [True, False, False, False, False]
    assert math.isnan(r.values[0])
    assert math.isnan(r.upl[0])
    assert r.mean[1] == pytest.approx(7 / 40)
    assert r.point_type[0] == "common_cause"
    assert any("zero denominator" in w for w in r.warnings)


def test_proportion_of_zero_or_one_collapses_the_limits() -> None:
    r = spc([0, 0, 0], [10, 20, 30])
    assert r.mean.tolist() == [0.0] * 3
    assert r.upl.tolist() == [0.0] * 3
    assert r.lpl.tolist() == [0.0] * 3
    assert not r.special_cause.any()
    assert any("p̄ = 0" in w for w in r.warnings)


def test_p_prime_with_one_point_has_no_limits_but_p_does() -> None:
    laney = spc([3], [10])
    assert math.isnan(laney.upl[0])
    assert any("at least 2 non-missing points" in w for w in laney.warnings)
    plain = spc([3], [10], laney=False)
    assert plain.upl[0] == pytest.approx(0.3 + 3 * math.sqrt(0.3 * 0.7 / 10))


# --------------------------------------------------------------------------------------
# Edge cases
# --------------------------------------------------------------------------------------


def test_missing_values_are_skipped() -> None:
    # The same limits as [2, 4, 3, 5, 6] (mean 4, AMR 1.5): the gap is skipped.
    r = spc([2, np.nan, 4, 3, None, 5, 6])
    assert r.missing.tolist() == [False, True, False, False, True, False, False]
    assert r.mean.tolist() == [4.0] * 7
    assert r.upl[1] == pytest.approx(7.99)  # limit lines continue through the gap
    assert r.point_type[1] == "common_cause"
    assert r.rule[1] == ""
    assert any("2 of 7 point(s) are missing" in w for w in r.warnings)


def test_a_gap_neither_breaks_nor_creates_a_run() -> None:
    # 7 non-missing points above the mean with a gap after the third: still a run of 7.
    r = fixed([6.0, 6, 6, np.nan, 6, 6, 6, 6])
    assert tail_rules(r) == ["run", "run", "run", "", "run", "run", "run", "run"]
    assert not r.special_cause[15]
    # 6 non-missing points either side of a gap are not.
    assert not fixed([6.0, 6, 6, np.nan, 6, 6, 6]).special_cause.any()


def test_last_point_missing_icons_use_last_observed_point() -> None:
    r = fixed([11.0, np.nan], improvement="increase")
    assert r.variation_icon == "improvement_high"
    assert r.icon_point == 12  # the icons say which point they describe
    assert any("the last point (index 13) is missing" in w for w in r.warnings)
    assert spc([np.nan, np.nan]).icon_point is None


# R: set.seed(123); rnorm(24), then the next 24 draws of the same stream (rnorm(12, 5) and
# rnorm(12, -5) are 5 + and -5 + these draws: R's rnorm is mean + sd * norm_rand()).
RNORM_123_24 = [
    *RNORM_123,
    -1.06782371, -0.21797491, -1.02600445, -0.72889123,
]  # fmt: skip
NEXT_12 = [
    -0.62503927, -1.68669331, 0.83778704, 0.15337312, -1.13813694, 1.25381492,
    0.42646422, -0.29507148, 0.89512566, 0.87813349, 0.82158108, 0.68864025,
]  # fmt: skip
AFTER_THAT_12 = [
    0.55391765, -0.06191171, -0.30596266, -0.38047100, -0.69470698, -0.20791728,
    -1.26539635, 2.16895597, 1.20796200, -1.12310858, -0.40288484, -0.46665535,
]  # fmt: skip


@pytest.mark.parametrize(
    ("example", "shift", "improvement", "target", "variation", "assurance"),
    [
        ("s1", None, "increase", None, "common_cause", None),
        ("s2", None, "increase", 0.5, "common_cause", "inconsistent"),
        ("s5", 5, "increase", -3, "improvement_high", "pass"),
        ("s6", 5, "decrease", -3, "concern_high", "fail"),
        ("s7", -5, "increase", 3, "concern_low", "fail"),
        ("s8", -5, "decrease", 3, "improvement_low", "pass"),
        ("s9", -5, "neither", 3, "neutral_low", None),
    ],
)
def test_icons_match_nhsrplotthedots_published_examples(
    example: str, shift: int | None, improvement: str, target: float | None, variation: str, assurance: str | None
) -> None:
    """NHSRplotthedots ``tests/testthat/test-geom_ptd_icon.R`` ("ptd_get_icons transforms the data
    correctly"): ``ptd_spc(d, "y", "x", target = ..., improvement_direction = ...)`` with the
    package's default outlier screening; its ``"neutral"`` is our ``"neither"``."""
    y = list(RNORM_123_24)
    if shift == 5:
        y[12:] = [5 + v for v in NEXT_12]
    elif shift == -5:
        y[12:] = [-5 + v for v in AFTER_THAT_12]  # s7-s9 follow s5/s6, so the stream has moved on
    r = spc(y, improvement=improvement, target=target, screen_outliers=True)  # type: ignore[arg-type]
    assert (r.variation_icon, r.assurance_icon) == (variation, assurance), example
    assert r.icon_point == 23


@pytest.mark.parametrize("target", [None, 0.5])
def test_icons_per_facet_match_nhsrplotthedots_published_examples(target: float | None) -> None:
    """Same file, s3 and s4: each facet of 12 points (here each half on its own) is common cause,
    and inconsistent against a target of 0.5."""
    for half in (RNORM_123_24[:12], RNORM_123_24[12:]):
        r = spc(half, improvement="increase", target=target, screen_outliers=True)
        assert r.variation_icon == "common_cause"
        assert r.assurance_icon == (None if target is None else "inconsistent")


def test_fewer_than_two_points() -> None:
    one = spc([5.0])
    assert one.mean.tolist() == [5.0]
    assert math.isnan(one.upl[0]) and math.isnan(one.lpl[0])
    assert one.point_type.tolist() == ["common_cause"]
    assert any("at least 2 non-missing points and 1 was available" in w for w in one.warnings)
    assert spc([5.0], improvement="increase", target=1.0).assurance_icon is None
    empty = spc([])
    assert len(empty) == 0
    assert empty.variation_icon is None
    assert empty.to_records() == []
    assert empty.warnings == ("no points: there is nothing to chart",)
    all_missing = spc([np.nan, np.nan])
    assert all_missing.variation_icon is None
    assert np.isnan(all_missing.mean).all()


def test_all_values_equal_limits_equal_the_mean() -> None:
    r = spc([5.0] * 15)
    for limit in (r.lpl, r.upl, r.lnl, r.unl):
        assert limit.tolist() == [5.0] * 15
    assert not r.special_cause.any()  # every point is on the mean: no run
    assert any("average moving range is 0" in w for w in r.warnings)
    later = spc([5.0] * 12 + [6.0], fix_after_n_points=12)
    assert later.rule[-1] == "outside_limits"
    # screening cannot divide by a zero average
    assert spc([5.0] * 15, screen_outliers=True).upl.tolist() == [5.0] * 15


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"values": [1, 2], "denominators": [1, 2, 3]}, "same length"),
        ({"values": [1, 2], "denominators": [5, -1]}, "denominators must not be negative"),
        ({"values": [-1, 2], "denominators": [5, 5]}, "must not be negative"),
        ({"values": [6, 2], "denominators": [5, 5]}, "point 0 has 6 out of 5"),
        ({"values": [1, 2], "denominators": [0, 5]}, "point 0 has 1 out of 0"),
        ({"values": [1, 2], "improvement": "up"}, "improvement must be"),
        ({"values": [1, 2], "improvement": "neutral"}, "here it is 'neither'"),
        ({"values": [[1, 2], [3, 4]]}, "one-dimensional"),
        ({"values": ["1", "2"]}, "must be numeric"),
        ({"values": [1, "2"]}, "must be numeric"),
        ({"values": [1, math.inf]}, "infinity"),
        ({"values": [1, 2], "target": math.nan}, "target"),
        ({"values": [1, 2], "target": "5"}, "target"),
        ({"values": [1, 2], "fix_after_n_points": 1}, "fix_after_n_points"),
        ({"values": [1, 2], "fix_after_n_points": 2.5}, "fix_after_n_points"),
        ({"values": [1, 2, 3], "rebase_at": [0]}, "out of range"),
        ({"values": [1, 2, 3], "rebase_at": [3]}, "out of range"),
        ({"values": [1, 2, 3], "rebase_at": [1.0]}, "integer"),
        ({"values": [1, 2, 3], "rebase_at": 1}, "sequence"),
        ({"values": [1, 2, 3], "screen_outliers": "yes"}, "screen_outliers"),
        ({"values": [1, 2, 3], "laney": None}, "laney"),
    ],
)
def test_bad_input_raises(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        spc(**kwargs)  # type: ignore[arg-type]


def test_inputs_are_not_modified_and_results_are_read_only() -> None:
    values = np.array([2.0, 4, 3, 5, 6])
    denominators = np.array([10.0, 10, 10, 10, 10])
    spc(values)
    r = spc(values, denominators)
    assert values.tolist() == [2.0, 4, 3, 5, 6]
    with pytest.raises(ValueError):
        r.upl[0] = 1.0
    assert r.numerators is not None and not np.shares_memory(r.numerators, values)


def test_to_records_is_json_ready() -> None:
    r = spc([2, np.nan, 4, 3, 5, 6], improvement="increase")
    records = r.to_records()
    assert len(records) == 6
    assert records[1] == {
        "index": 1,
        "group": 0,
        "value": None,
        "numerator": None,
        "denominator": None,
        "mean": 4.0,
        "lpl": pytest.approx(0.01),
        "upl": pytest.approx(7.99),
        "lnl": pytest.approx(1.34),
        "unl": pytest.approx(6.66),
        "missing": True,
        "special_cause": False,
        "point_type": "common_cause",
        "rule": "",
    }
    json.dumps(records, allow_nan=False)
    p = spc([1, 2], [10, 10]).to_records()
    assert p[0]["numerator"] == 1.0 and p[0]["denominator"] == 10.0 and p[0]["value"] == 0.1


def test_accepts_pandas_and_polars_series() -> None:
    pd = pytest.importorskip("pandas")
    pl = pytest.importorskip("polars")
    expected = spc([2, 4, 3, 5, 6]).upl
    assert np.array_equal(spc(pd.Series([2, 4, 3, 5, 6])).upl, expected)
    assert np.array_equal(spc(pl.Series([2, 4, 3, 5, 6])).upl, expected)


# --------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------

PROFILE = settings(deadline=None, max_examples=200, suppress_health_check=[HealthCheck.too_slow])
small_ints = st.lists(st.integers(-50, 50), min_size=0, max_size=40)


@PROFILE
@given(y=small_ints, screen=st.booleans())
def test_limits_are_ordered_and_flags_consistent(y: list[int], screen: bool) -> None:
    r = spc(y, improvement="increase", screen_outliers=screen)
    ok = ~np.isnan(r.upl)
    assert np.all(r.lpl[ok] <= r.lnl[ok])
    assert np.all(r.lnl[ok] <= r.mean[ok])
    assert np.all(r.mean[ok] <= r.unl[ok])
    assert np.all(r.unl[ok] <= r.upl[ok])
    assert np.array_equal(r.special_cause, r.rule != "")
    assert np.array_equal(r.special_cause, r.point_type != "common_cause")
    assert set(r.rule.tolist()) <= {"", *RULES}


@PROFILE
@given(y=small_ints, screen=st.booleans())
def test_mirroring_the_data_mirrors_the_chart(y: list[int], screen: bool) -> None:
    up = spc(y, improvement="increase", screen_outliers=screen)
    down = spc([-v for v in y], improvement="decrease", screen_outliers=screen)
    assert np.array_equal(down.mean, -up.mean, equal_nan=True)
    assert np.array_equal(down.upl, -up.lpl, equal_nan=True)
    assert np.array_equal(down.rule, up.rule)
    assert np.array_equal(down.point_type, up.point_type)
    swap = {"high": "low", "low": "high"}
    if up.variation_icon not in (None, "common_cause"):
        kind, side = up.variation_icon.split("_")
        assert down.variation_icon == f"{kind}_{swap[side]}"


@PROFILE
@given(
    data=st.lists(st.tuples(st.integers(0, 200), st.integers(0, 200)), min_size=0, max_size=30),
    laney=st.booleans(),
)
def test_proportion_limits_stay_in_unit_interval(data: list[tuple[int, int]], laney: bool) -> None:
    x = [min(a, b) for a, b in data]
    n = [max(a, b) for a, b in data]
    r = spc(x, n, laney=laney)
    ok = ~np.isnan(r.upl)
    for limit in (r.lpl, r.lnl, r.unl, r.upl):
        assert np.all((limit[ok] >= 0) & (limit[ok] <= 1))
    assert np.array_equal(r.missing, np.array(n, dtype=float) == 0)
