"""Published examples, hand calculations and properties for ``matneo.stats.funnel``.

Published test vectors reproduced here (the data are copied into this file, below the tests):

* PHEindicatormethods (``ukhsa-collaboration/PHEindicatormethods``), ``tests/testthat``; the
  test script is ``testFunnels.R`` (blob commit ``63894a99``). The data files, with the
  commit of the stored version read:

  - ``testdata_funnel_prop_inputs.csv`` (``3352ce5d``): 303 PCT numerators, denominators
    and PHE's significance labels; all 303 labels and the baseline 80.642448% are
    reproduced.
  - ``testdata_funnel_prop_outputs.csv`` (``63894a99``): the 100-row proportion funnel
    table (axis grid and the four limits, 6 decimals).
  - ``testdata_funnel_prop_outputs_with_axis_variation.csv`` (``3352ce5d``): the same for
    the units with denominator < 31,000 (baseline 82.18033788%, 8 decimals).
  - ``testdata_funnel_ratio_inputs.csv`` (``b79d6448``): 300 observed/expected pairs with
    PHE's ratio significance labels; all 300 are reproduced.
  - ``testdata_funnel_ratio_outputs.csv`` (``8ac28e54``): the ratio (ISR) funnel table,
    one row per whole number of observed events O, giving the expected count at which O
    sits on each limit and the limit there. The "count" columns (O/E − 1) are dropped
    because they equal isr/100 − 1.
  - ``testdata_funnel_rate_outputs.csv`` (``39d5df1f``): the rate (DSR per 100,000, 3
    years of data) funnel table, same layout with the population per year.

  PHE finds its Poisson limits by bisection, with an error of up to about 6e-6 relative
  in these tables, so the ratio and rate tables are compared with a relative tolerance of
  2e-5. The pinned release is v2.1.0 (``093fd288``); the index holds these files at the
  blob commits listed.
* FunnelPlotR (``nhs-r-community/FunnelPlotR``), ``tests/testthat/test-poisson_limits.R``
  (blob commit ``263128fb``): unadjusted Poisson limits for expected counts 15, 20 and 30
  (our ``poisson_method="expected_ci"``).
* A Spiegelhalter (2005) worked example could not be reproduced: the papers' examples
  (CABG survival, emergency readmissions, teenage pregnancies; QSHC 2005;14:347–351) do not
  publish the unit-level data, and FunnelPlotR's overdispersion tests check shapes only.
  The overdispersion formulas are checked with hand calculations instead.

Hand calculations are written out step by step so that a reviewer can follow them with a
calculator.
"""

from __future__ import annotations

import math
from io import StringIO

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from matneo.stats.ci import poisson_exact_ci, proportion_ci, z_value
from matneo.stats.funnel import (
    CONFIDENCE_95,
    CONFIDENCE_998,
    POSITIONS,
    FunnelResult,
    Overdispersion,
    adjusted_funnel_limits,
    funnel,
    funnel_limits,
    funnel_position,
    overdispersion,
)

# Any NumPy/SciPy warning (division by zero, invalid value, ...) fails the test.
pytestmark = pytest.mark.filterwarnings("error")

PHE_LABELS = {
    "High (0.001)": "above_998",
    "High (0.025)": "above_95",
    "Not significant": "within",
    "Low (0.025)": "below_95",
    "Low (0.001)": "below_998",
}
# PHE's Poisson tables come from bisection (see the module docstring).
PHE_POISSON_RTOL = 2e-5


def _table(text: str) -> np.ndarray:
    return np.loadtxt(StringIO(text), delimiter=",", ndmin=2)


def _labelled(text: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rows = [line.split(",") for line in text.strip().splitlines()]
    numerator = np.array([float(r[0]) for r in rows])
    denominator = np.array([float(r[1]) for r in rows])
    expected = np.array([PHE_LABELS[r[2]] for r in rows])
    return numerator, denominator, expected


# --------------------------------------------------------------------------------------
# PHEindicatormethods: proportions
# --------------------------------------------------------------------------------------


def test_phe_proportion_baselines() -> None:
    # Baseline = Σ numerators / Σ denominators (PHE calculate_funnel_limits), printed in the
    # output tables as 80.642448 and 82.18033788.
    x, n, _ = _labelled(PHE_PROP_INPUTS)
    assert funnel(x, n, multiplier=100).baseline == pytest.approx(80.642448, abs=5e-7)
    small = n < 31000
    assert funnel(x[small], n[small], multiplier=100).baseline == pytest.approx(82.18033788, abs=5e-9)


@pytest.mark.parametrize(
    ("table", "baseline", "atol"),
    [("full", 80.64244785714955, 6e-7), ("axis_variation", 82.18033787630714, 6e-9)],
)
def test_phe_proportion_limit_tables(table: str, baseline: float, atol: float) -> None:
    # Columns: Population, Lower2s, Upper2s, Lower3s, Upper3s (percent). The tables are
    # rounded to 6 and 8 decimals respectively, hence the tolerances.
    data = _table(PHE_PROP_OUTPUTS if table == "full" else PHE_PROP_OUTPUTS_AXIS)
    population = data[:, 0]
    lower95, upper95 = funnel_limits(population, baseline, CONFIDENCE_95, "proportion", 100)
    lower998, upper998 = funnel_limits(population, baseline, CONFIDENCE_998, "proportion", 100)
    np.testing.assert_allclose(lower95, data[:, 1], rtol=0, atol=atol)
    np.testing.assert_allclose(upper95, data[:, 2], rtol=0, atol=atol)
    np.testing.assert_allclose(lower998, data[:, 3], rtol=0, atol=atol)
    np.testing.assert_allclose(upper998, data[:, 4], rtol=0, atol=atol)


@pytest.mark.parametrize("table", ["full", "axis_variation"])
def test_phe_curve_reproduces_the_axis_grid(table: str) -> None:
    # PHE's 100-point chart grid: minimum 1 (max > 2·min) or 95% of the minimum rounded down
    # (10,000 here); maximum 105% of the maximum rounded up to 2 significant figures
    # (110,000 and 33,000).
    x, n, _ = _labelled(PHE_PROP_INPUTS)
    data = _table(PHE_PROP_OUTPUTS if table == "full" else PHE_PROP_OUTPUTS_AXIS)
    if table == "axis_variation":
        x, n = x[n < 31000], n[n < 31000]
    result = funnel(x, n, multiplier=100)
    curve = result.curve()
    np.testing.assert_array_equal(curve.denominator, data[:, 0])
    atol = 6e-7 if table == "full" else 6e-9
    np.testing.assert_allclose(curve.lower_95, data[:, 1], rtol=0, atol=atol)
    np.testing.assert_allclose(curve.upper_95, data[:, 2], rtol=0, atol=atol)
    np.testing.assert_allclose(curve.lower_998, data[:, 3], rtol=0, atol=atol)
    np.testing.assert_allclose(curve.upper_998, data[:, 4], rtol=0, atol=atol)
    assert curve.baseline == result.baseline


def test_phe_proportion_significance_labels() -> None:
    x, n, expected = _labelled(PHE_PROP_INPUTS)
    assert len(expected) == 303
    result = funnel(x, n, multiplier=100)
    np.testing.assert_array_equal(result.position, expected)
    np.testing.assert_array_equal(funnel_position(x, n, result.baseline, "proportion", 100), expected)
    # The labels do not depend on the scale.
    np.testing.assert_array_equal(funnel(x, n).position, expected)


# --------------------------------------------------------------------------------------
# PHEindicatormethods: ratios and rates
# --------------------------------------------------------------------------------------

# Columns of the ratio and rate tables after the first (O): for each limit, the x value
# (expected events, or population per year) at which O lies on it, and the limit there.
_LIMIT_COLUMNS = [
    (1, 2, CONFIDENCE_95, 0),
    (3, 4, CONFIDENCE_95, 1),
    (5, 6, CONFIDENCE_998, 0),
    (7, 8, CONFIDENCE_998, 1),
]


@pytest.mark.parametrize(("x_col", "limit_col", "confidence", "side"), _LIMIT_COLUMNS)
def test_phe_ratio_limit_table(x_col: int, limit_col: int, confidence: float, side: int) -> None:
    # ISR funnel (ratio × 100): at expected count E = (PHE's value for O), our limit must be
    # O / E × 100, the tabulated limit.
    data = _table(PHE_RATIO_OUTPUTS)
    expected_events = data[:, x_col]
    limit = funnel_limits(expected_events, 100, confidence, "ratio", 100)[side]
    np.testing.assert_allclose(limit, data[:, limit_col], rtol=PHE_POISSON_RTOL)
    # PHE's "count" ratio type is O/E − 1: the same limits on the unit scale minus 1.
    count_limit = funnel_limits(expected_events, 1, confidence, "ratio")[side] - 1
    np.testing.assert_allclose(count_limit + 1, data[:, limit_col] / 100, rtol=PHE_POISSON_RTOL)


@pytest.mark.parametrize(("x_col", "limit_col", "confidence", "side"), _LIMIT_COLUMNS)
def test_phe_rate_limit_table(x_col: int, limit_col: int, confidence: float, side: int) -> None:
    # DSR funnel per 100,000 with 3 years of data and baseline 116.1720835: PHE tabulates the
    # population per year, so the denominator is 3 × that.
    data = _table(PHE_RATE_OUTPUTS)
    limit = funnel_limits(3 * data[:, x_col], 116.1720835, confidence, "rate", 100_000)[side]
    np.testing.assert_allclose(limit, data[:, limit_col], rtol=PHE_POISSON_RTOL)


def test_phe_ratio_significance_labels() -> None:
    observed, expected_count, expected = _labelled(PHE_RATIO_SIG)
    assert len(expected) == 300
    np.testing.assert_array_equal(funnel_position(observed, expected_count, 1, "ratio"), expected)
    result = funnel(observed, expected_count, "ratio")
    assert result.baseline == 1.0
    np.testing.assert_array_equal(result.position, expected)


# --------------------------------------------------------------------------------------
# FunnelPlotR: test-poisson_limits.R
# --------------------------------------------------------------------------------------


def test_funnelplotr_poisson_limits() -> None:
    # calculate_limits(number_seq = c(15, 20, 30), target = 1, draw_adjusted = FALSE);
    # "ll99"/"ul99" are FunnelPlotR's names for the 99.8% limits. Rounded as in the R test.
    e = np.array([15.0, 20.0, 30.0])
    ll95, ul95 = funnel_limits(e, 1, 0.95, "ratio", poisson_method="expected_ci")
    ll99, ul99 = funnel_limits(e, 1, 0.998, "ratio", poisson_method="expected_ci")
    np.testing.assert_array_equal(np.round(ll95, 7), [0.5596924, 0.6108260, 0.6746958])
    np.testing.assert_array_equal(np.round(ul95, 6), [1.649348, 1.544419, 1.427562])
    np.testing.assert_array_equal(np.round(ll99, 7), [0.3862650, 0.4479107, 0.5289724])
    np.testing.assert_array_equal(np.round(ul99, 6), [2.082907, 1.902094, 1.702771])


def test_funnelplotr_limits_are_not_centred_on_poisson_quantiles() -> None:
    # Why "exact_test" is the default: at E = 15, P(X ≤ 8) = 0.0374 > 0.025, so 8 events is
    # not significantly low at the 95% level, yet FunnelPlotR's lower limit is 8.395 events.
    # The exact-test limit lies between 7 and 8 (P(X ≤ 7) = 0.0180 < 0.025).
    p_le_7 = sum(math.exp(-15) * 15**k / math.factorial(k) for k in range(8))
    p_le_8 = p_le_7 + math.exp(-15) * 15**8 / math.factorial(8)
    assert p_le_7 == pytest.approx(0.0180, abs=1e-4)
    assert p_le_8 == pytest.approx(0.0374, abs=1e-4)
    assert 15 * funnel_limits(15, 1, 0.95, "ratio", poisson_method="expected_ci")[0] > 8
    assert 7 < 15 * funnel_limits(15, 1, 0.95, "ratio")[0] < 8
    assert funnel_position(8, 15, 1, "ratio") == "within"
    assert funnel_position(7, 15, 1, "ratio") == "below_95"
    assert funnel_position(8, 15, 1, "ratio", poisson_method="expected_ci") == "below_95"


# --------------------------------------------------------------------------------------
# Hand calculations
# --------------------------------------------------------------------------------------


def test_hand_calculation_proportion_limits() -> None:
    # a = 0.05, N = 400:
    #   a(1 − a)/N = 0.05 × 0.95 / 400 = 0.00011875;  √ = 0.010897247
    #   95%:   z = 1.959964;  z × 0.010897247 = 0.021358212  →  0.028641788 to 0.071358212
    #   99.8%: z = 3.090232;  z × 0.010897247 = 0.033675026  →  0.016324974 to 0.083675026
    sd = math.sqrt(0.05 * 0.95 / 400)
    assert sd == pytest.approx(0.010897247, abs=1e-9)
    assert funnel_limits(400, 0.05) == pytest.approx((0.028641788, 0.071358212), abs=1e-9)
    assert funnel_limits(400, 0.05, 0.998) == pytest.approx((0.016324974, 0.083675026), abs=1e-9)
    # On the percentage scale the baseline is given as 5 (%).
    assert funnel_limits(400, 5, 0.95, multiplier=100) == pytest.approx((2.8641788, 7.1358212), abs=1e-7)
    # Positions of 6, 10, 20, 30 and 36 events out of 400 (1.5%, 2.5%, 5%, 7.5%, 9%).
    positions = funnel_position([6, 10, 20, 30, 36], 400, 0.05)
    assert positions.tolist() == ["below_998", "below_95", "within", "above_95", "above_998"]


def test_hand_calculation_proportion_clipping() -> None:
    # a = 0.05, N = 20: half-width at 95% = 1.959964 × √(0.0475/20) = 0.095517 > a, so the
    # lower limit is clipped to 0 and the upper limit is 0.145517.
    lower, upper = funnel_limits(20, 0.05)
    assert lower == 0.0
    assert upper == pytest.approx(0.05 + 1.959964 * math.sqrt(0.0475 / 20), abs=1e-6)
    # Baseline 0.98 at N = 10: the upper limit is clipped to 1 (the multiplier).
    assert funnel_limits(10, 98, 0.95, multiplier=100)[1] == 100.0


def test_hand_calculation_ratio_limits_from_chi_square_table() -> None:
    # Printed χ² table (upper-tail critical values): χ²(22 df, 0.025) = 36.781 and
    # χ²(20 df, 0.975) = 9.591. For O = 10 events:
    #   exact upper bound of 10 = 36.781 / 2 = 18.3905  → at E = 18.3905 the lower 95% limit
    #   is 10 / 18.3905 = 0.54376;
    #   exact lower bound of 10 = 9.591 / 2 = 4.7955  → at E = 4.7955 the upper 95% limit
    #   is 10 / 4.7955 = 2.08529.
    # The table's 3 decimals limit the agreement to about 1e-4.
    assert funnel_limits(18.3905, 1, 0.95, "ratio")[0] == pytest.approx(10 / 18.3905, rel=1e-4)
    assert funnel_limits(4.7955, 1, 0.95, "ratio")[1] == pytest.approx(10 / 4.7955, rel=1e-4)


def test_hand_calculation_ratio_lower_limit_is_zero_for_small_expected_counts() -> None:
    # P(X = 0 | E) = exp(−E) ≥ 0.025 when E ≤ −ln 0.025 = 3.689: then no count, not even 0, is
    # significantly low and the lower 95% limit is 0. At 99.8%: −ln 0.001 = 6.908.
    assert -math.log(0.025) == pytest.approx(3.689, abs=1e-3)
    assert funnel_limits(3.68, 1, 0.95, "ratio")[0] == 0.0
    assert funnel_limits(3.70, 1, 0.95, "ratio")[0] > 0.0
    assert funnel_limits(6.90, 1, 0.998, "ratio")[0] == 0.0
    assert funnel_limits(6.92, 1, 0.998, "ratio")[0] > 0.0
    assert funnel_position(0, 3.6, 1, "ratio") == "within"
    assert funnel_position(0, 3.8, 1, "ratio") == "below_95"


def test_hand_calculation_rate_is_a_ratio_times_the_baseline() -> None:
    # 10,000 births at a baseline of 4.5 per 1,000: expected count = 10,000 × 4.5 / 1,000 = 45.
    # The rate limits are the ratio limits at E = 45 times 4.5.
    rate_limits = funnel_limits(10_000, 4.5, 0.95, "rate", 1000)
    ratio_limits = funnel_limits(45, 1, 0.95, "ratio")
    assert rate_limits == pytest.approx((4.5 * ratio_limits[0], 4.5 * ratio_limits[1]), rel=1e-12)
    # Exact-test definition: the upper limit count O_U satisfies P(X ≥ O_U) = 0.025 in the
    # continuous (χ²) sense, so the exact lower bound of O_U is exactly 45.
    upper_count = rate_limits[1] * 10_000 / 1000
    assert poisson_exact_ci(upper_count, 0.95)[0] == pytest.approx(45, rel=1e-9)
    lower_count = rate_limits[0] * 10_000 / 1000
    assert poisson_exact_ci(lower_count, 0.95)[1] == pytest.approx(45, rel=1e-9)


def test_hand_calculation_overdispersion_ratio_sqrt() -> None:
    # Five units, observed O and expected E chosen as squares so that z = 2(√O − √E) is whole:
    #   O = 16, 25,  9, 36, 4;  E = 16, 16, 16, 25, 9
    #   z = 2(4−4), 2(5−4), 2(3−4), 2(6−5), 2(2−3) = 0, 2, −2, 2, −2
    #   φ = (0 + 4 + 4 + 4 + 4) / 5 = 3.2
    #   w = 1/s² = 4E = 64, 64, 64, 100, 36;  Σw = 328;  Σw² = 3×4096 + 10000 + 1296 = 23584
    #   τ² = (5 × 3.2 − 4) / (328 − 23584/328) = 12 / 256.0975610 = 0.0468571
    # Winsorising at 10%/90% (type-7 quantiles of −2, −2, 0, 2, 2 are −2 and 2) changes nothing.
    observed = [16, 25, 9, 36, 4]
    expected = [16, 16, 16, 25, 9]
    tau2 = 12 / (328 - 23584 / 328)
    assert tau2 == pytest.approx(0.0468571, abs=1e-7)
    for trim in (0.0, 0.1):
        od = overdispersion(observed, expected, "ratio_sqrt", trim)
        np.testing.assert_allclose(od.z, [0, 2, -2, 2, -2], atol=1e-12)
        np.testing.assert_allclose(od.z_winsorised, [0, 2, -2, 2, -2], atol=1e-12)
        assert od.phi == pytest.approx(3.2, rel=1e-12)
        assert od.tau2 == pytest.approx(tau2, rel=1e-12)
        assert od.target == 1.0
        assert od.n_used == 5
        assert od.overdispersed
    # Adjusted 95% limits at E = 16: s² = 1/(4 × 16) = 0.015625;
    #   √(0.015625 + 0.0468571) = 0.2499642;  z × that = 0.4899208
    #   limits = (1 − 0.4899208)² = 0.2601808 and (1 + 0.4899208)² = 2.2198640
    od = overdispersion(observed, expected, "ratio_sqrt")
    half = 1.959964 * math.sqrt(0.015625 + tau2)
    assert half == pytest.approx(0.4899208, abs=1e-6)
    lower, upper = adjusted_funnel_limits(16, od, 0.95, "ratio_sqrt")
    assert lower == pytest.approx((1 - half) ** 2, abs=1e-6)
    assert upper == pytest.approx((1 + half) ** 2, abs=1e-6)
    assert (lower, upper) == pytest.approx((0.2601808, 2.2198640), abs=1e-6)
    # With multiplier 100 (SMR × 100).
    assert adjusted_funnel_limits(16, od, 0.95, multiplier=100) == pytest.approx((26.01808, 221.98640), abs=1e-4)


def test_hand_calculation_overdispersion_proportion_winsorised() -> None:
    # Ten units of 100 with 10, 12, ..., 28 events plus two extreme units (2/100, 60/100):
    # pooled target = Σx/Σn; Y = asin√(x/n); s = 1/(2√100) = 0.05; z = (Y − θ₀)/0.05.
    # The 10% and 90% type-7 quantiles of the 12 z-scores clip the two extremes.
    x = np.array([10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 2, 60], dtype=float)
    n = np.full(12, 100.0)
    target = x.sum() / n.sum()  # 252 / 1200 = 0.21
    assert target == pytest.approx(0.21)
    theta0 = math.asin(math.sqrt(0.21))
    z = np.array([(math.asin(math.sqrt(xi / 100)) - theta0) / 0.05 for xi in x])
    zs = np.sort(z)
    # type 7: position (n − 1)p = 1.1 and 9.9 (0-based) in the sorted z
    low = zs[1] + 0.1 * (zs[2] - zs[1])
    high = zs[9] + 0.9 * (zs[10] - zs[9])
    zw = np.clip(z, low, high)
    phi = float(np.mean(zw**2))
    w = np.full(12, 400.0)  # 1/s² = 4n
    tau2 = max(0.0, (12 * phi - 11) / (w.sum() - (w**2).sum() / w.sum()))
    od = overdispersion(x, n, "proportion")
    np.testing.assert_allclose(od.z, z, rtol=1e-12)
    np.testing.assert_allclose(od.z_winsorised, zw, rtol=1e-12)
    assert od.phi == pytest.approx(phi, rel=1e-12)
    assert od.tau2 == pytest.approx(tau2, rel=1e-12)
    assert od.tau2 > 0
    assert od.target == pytest.approx(0.21)
    assert od.target_transformed == pytest.approx(theta0)
    # Adjusted limits: sin²(θ₀ ± z·√(1/(4N) + τ²)) at N = 100.
    spread = z_value(0.95) * math.sqrt(1 / 400 + tau2)
    lower, upper = adjusted_funnel_limits(100, od, 0.95)
    assert lower == pytest.approx(math.sin(theta0 - spread) ** 2, rel=1e-12)
    assert upper == pytest.approx(math.sin(theta0 + spread) ** 2, rel=1e-12)


def test_overdispersion_ratio_log_truncation_ranks() -> None:
    # 19 units, trim 0.1 (FunnelPlotR truncation / SHMI): keep rank r when
    # (n + 1)·0.1 = 2 ≤ r < (n + 1)·0.9 = 18, i.e. ranks 2 to 17: 16 units are used;
    # rank 1 (the lowest) and ranks 18 and 19 (the two highest) are dropped.
    e = np.full(19, 100.0)
    o = np.arange(60, 155, 5, dtype=float)  # 60, 65, ..., 150: z increases with O
    od = overdispersion(o, e, "ratio_log")
    assert od.n_used == 16
    assert np.isnan(od.z_winsorised[[0, 17, 18]]).all()
    assert np.isfinite(od.z_winsorised[1:17]).all()
    # z = √E · ln(O/E) (FunnelPlotR's SHMI z-score).
    np.testing.assert_allclose(od.z, 10 * np.log(o / 100), rtol=1e-12)
    phi = float(np.mean(od.z[1:17] ** 2))
    assert od.phi == pytest.approx(phi, rel=1e-12)
    w = e[1:17]  # 1/s² = E
    expected_tau2 = (16 * phi - 15) / (w.sum() - (w**2).sum() / w.sum())
    assert od.tau2 == pytest.approx(max(expected_tau2, 0.0), rel=1e-12)
    # SHMI-style limits: exp(± z·√(1/E + τ²)).
    lower, upper = adjusted_funnel_limits(50, od, 0.998)
    spread = z_value(0.998) * math.sqrt(1 / 50 + od.tau2)
    assert (lower, upper) == pytest.approx((math.exp(-spread), math.exp(spread)), rel=1e-12)


def test_overdispersion_ratio_log_zero_counts() -> None:
    # ln(0/E) is undefined. One zero among 19 units has rank 1 and is truncated; with
    # truncation switched off it is an error, with a hint to use the square-root transform.
    e = np.full(19, 100.0)
    o = np.arange(60, 155, 5, dtype=float)
    o[0] = 0
    od = overdispersion(o, e, "ratio_log")
    assert od.z[0] == -np.inf
    assert np.isnan(od.z_winsorised[0])
    with pytest.raises(ValueError, match="ratio_sqrt"):
        overdispersion(o, e, "ratio_log", trim=0)
    assert overdispersion(o, e, "ratio_sqrt", trim=0).z[0] == pytest.approx(-20.0)


def test_no_overdispersion_gives_unadjusted_transform_limits() -> None:
    # Equal observed and expected counts: every z is 0, φ = 0, nφ < n − 1, so τ² = 0 and the
    # adjusted limits are the plain transform limits θ₀ ± z·s.
    e = np.array([10.0, 20.0, 40.0, 80.0])
    for kind in ("ratio_sqrt", "ratio_log"):
        od = overdispersion(e, e, kind)
        assert od.phi == 0.0
        assert od.tau2 == 0.0
        assert not od.overdispersed
    z = z_value(0.95)
    od = overdispersion(e, e, "ratio_sqrt")
    lower, upper = adjusted_funnel_limits(e, od, 0.95)
    np.testing.assert_allclose(lower, (1 - z / (2 * np.sqrt(e))) ** 2, rtol=1e-12)
    np.testing.assert_allclose(upper, (1 + z / (2 * np.sqrt(e))) ** 2, rtol=1e-12)
    od = overdispersion(e, e, "ratio_log")
    lower, upper = adjusted_funnel_limits(e, od, 0.95)
    np.testing.assert_allclose(lower, np.exp(-z / np.sqrt(e)), rtol=1e-12)
    np.testing.assert_allclose(upper, np.exp(z / np.sqrt(e)), rtol=1e-12)
    # Proportions exactly at the pooled proportion (0.25).
    n = np.array([100.0, 200.0, 400.0, 800.0])
    od = overdispersion(n / 4, n, "proportion")
    assert od.tau2 == 0.0
    lower, upper = adjusted_funnel_limits(n, od, 0.95)
    theta0 = math.asin(0.5)
    np.testing.assert_allclose(lower, np.sin(theta0 - z / (2 * np.sqrt(n))) ** 2, rtol=1e-12)
    np.testing.assert_allclose(upper, np.sin(theta0 + z / (2 * np.sqrt(n))) ** 2, rtol=1e-12)


def test_tau2_zero_when_n_phi_below_n_minus_one() -> None:
    # z = 0, 1, −1, 1, −1: φ = 4/5 = 0.8; nφ = 4 = n − 1, so τ² = 0 (boundary).
    od = overdispersion([16, 25, 9, 25, 9], [16, 16, 16, 16, 16], "ratio_sqrt", trim=0)
    np.testing.assert_allclose(od.z, [0, 2, -2, 2, -2])  # 2(√O − √E)
    od = overdispersion([16, 20.25, 12.25, 20.25, 12.25], [16] * 5, "ratio_sqrt", trim=0)
    np.testing.assert_allclose(od.z, [0, 1, -1, 1, -1])
    assert od.phi == pytest.approx(0.8)
    assert od.tau2 == 0.0


def test_adjusted_proportion_limits_stay_in_range() -> None:
    # sin² is not monotone outside [0, π/2]: the angle is clipped so that a small
    # denominator gives a lower limit of 0 (FunnelPlotR's would fold back upwards).
    n = np.array([5.0, 50, 500, 5000])
    x = np.array([0.0, 3, 20, 250])
    od = overdispersion(x, n, "proportion", trim=0)
    lower, upper = adjusted_funnel_limits([1, 2, 3], od, 0.998)
    assert np.all(lower == 0.0)
    assert np.all(upper <= 1.0)
    assert np.all(np.diff(upper) <= 0)


# --------------------------------------------------------------------------------------
# funnel() and FunnelResult
# --------------------------------------------------------------------------------------


def test_funnel_result_contents_and_records() -> None:
    result = funnel([10, 30, 0], [400, 400, 0], labels=["A", "B", "C"], multiplier=100)
    assert isinstance(result, FunnelResult)
    assert result.baseline == pytest.approx(5.0)  # 40 / 800 × 100
    assert result.position.tolist() == ["below_95", "above_95", "not_applicable"]
    assert result.phi is None
    assert result.tau2 is None
    assert result.overdispersion is None
    lower, upper = funnel_limits(400, 5, 0.95, multiplier=100)
    assert result.lower_95[0] == pytest.approx(lower)
    assert result.upper_95[1] == pytest.approx(upper)
    records = result.to_records()
    assert records[0] == {
        "label": "A",
        "numerator": 10.0,
        "denominator": 400.0,
        "value": 2.5,
        "lower_95": pytest.approx(lower),
        "upper_95": pytest.approx(upper),
        "lower_998": pytest.approx(funnel_limits(400, 5, 0.998, multiplier=100)[0]),
        "upper_998": pytest.approx(funnel_limits(400, 5, 0.998, multiplier=100)[1]),
        "position": "below_95",
    }
    assert records[2]["value"] is None
    assert records[2]["lower_95"] is None
    assert records[2]["position"] == "not_applicable"
    with pytest.raises(ValueError, match="read-only"):
        result.value[0] = 1.0
    with pytest.raises(AttributeError):
        result.baseline = 2.0  # type: ignore[misc]


def test_funnel_overdispersed_proportion() -> None:
    x = np.array([10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 2, 60], dtype=float)
    n = np.full(12, 100.0)
    plain = funnel(x, n)
    adjusted = funnel(x, n, overdispersed=True)
    od = overdispersion(x, n, "proportion")
    assert isinstance(adjusted.overdispersion, Overdispersion)
    assert adjusted.phi == pytest.approx(od.phi)
    assert adjusted.tau2 == pytest.approx(od.tau2)
    lower, upper = adjusted_funnel_limits(n, od, 0.998)
    np.testing.assert_allclose(adjusted.lower_998, lower)
    np.testing.assert_allclose(adjusted.upper_998, upper)
    # Adjusted limits are wider, so fewer units are flagged.
    assert np.all(adjusted.lower_95 <= plain.lower_95)
    assert np.all(adjusted.upper_95 >= plain.upper_95)
    assert np.count_nonzero(adjusted.position != "within") < np.count_nonzero(plain.position != "within")
    curve = adjusted.curve(points=20)
    lower, upper = adjusted_funnel_limits(curve.denominator, od, 0.95)
    np.testing.assert_allclose(curve.lower_95, lower)
    np.testing.assert_allclose(curve.upper_95, upper)
    assert len(curve.to_records()) == curve.denominator.size


def test_funnel_overdispersed_rate_uses_expected_counts() -> None:
    # Births and events at 8 units; baseline per 1,000 = Σ events / Σ births × 1,000.
    births = np.array([2000.0, 3500, 4200, 5100, 6000, 2500, 3000, 7000])
    events = np.array([4.0, 20, 9, 30, 10, 2, 18, 14])
    result = funnel(events, births, "rate", 1000, overdispersed=True)
    baseline = events.sum() / births.sum() * 1000
    assert result.baseline == pytest.approx(baseline)
    od = overdispersion(events, births * baseline / 1000, "ratio_sqrt")
    assert result.overdispersion is not None
    assert result.overdispersion.kind == "ratio_sqrt"
    assert result.tau2 == pytest.approx(od.tau2)
    lower, upper = adjusted_funnel_limits(births * baseline / 1000, od, 0.95)
    np.testing.assert_allclose(result.lower_95, lower * baseline)
    np.testing.assert_allclose(result.upper_95, upper * baseline)
    log_result = funnel(events, births, "rate", 1000, overdispersed=True, overdispersion_kind="ratio_log")
    assert log_result.overdispersion is not None
    assert log_result.overdispersion.kind == "ratio_log"


def test_funnel_ratio_baseline_and_curve() -> None:
    observed = np.array([3.0, 12, 25, 7, 0])
    expected = np.array([0.4, 10.5, 30.2, 9.9, 2.1])
    result = funnel(observed, expected, "ratio", 100)
    assert result.baseline == 100.0  # target ratio 1, on the × 100 scale
    np.testing.assert_allclose(result.value, observed / expected * 100)
    curve = result.curve(50)
    # Expected counts below 1: unrounded geometric grid from min(1, smallest E) = 0.4 up to
    # 105% of 30.2 rounded up to 2 significant figures = 32.
    assert curve.denominator[0] == pytest.approx(0.4)
    assert curve.denominator[-1] == pytest.approx(32.0)
    assert curve.denominator.size == 50
    np.testing.assert_allclose(np.diff(np.log(curve.denominator)), np.log(32 / 0.4) / 49)
    lower, upper = funnel_limits(curve.denominator, 100, 0.998, "ratio", 100)
    np.testing.assert_allclose(curve.lower_998, lower)
    np.testing.assert_allclose(curve.upper_998, upper)
    lower, upper = result.limits_at([5.0, 50.0], 0.95)
    np.testing.assert_allclose((lower, upper), funnel_limits([5.0, 50.0], 100, 0.95, "ratio", 100))


def test_funnel_curve_small_denominators_stops_at_axis_maximum() -> None:
    # Max 20 → axis maximum ceil(21 / 0.1) × 0.1 = 21: the "+1" steps would run past it.
    result = funnel([1, 3, 5], [8, 12, 20])
    curve = result.curve()
    assert curve.denominator[0] == 1.0
    assert curve.denominator[-1] == 21.0
    assert np.all(np.diff(curve.denominator) >= 1)


def test_funnel_custom_baseline_and_poisson_method() -> None:
    result = funnel([3, 8], [1000, 1200], "rate", 1000, baseline=4.0, poisson_method="expected_ci")
    assert result.baseline == 4.0
    lower, upper = funnel_limits([1000, 1200], 4.0, 0.95, "rate", 1000, poisson_method="expected_ci")
    np.testing.assert_allclose(result.lower_95, lower)
    np.testing.assert_allclose(result.upper_95, upper)


# --------------------------------------------------------------------------------------
# Edge cases and validation
# --------------------------------------------------------------------------------------


def test_scalar_and_array_outputs() -> None:
    lower, upper = funnel_limits(400, 0.05)
    assert isinstance(lower, float)
    assert isinstance(upper, float)
    lower, upper = funnel_limits([400], 0.05)
    assert isinstance(lower, np.ndarray)
    assert lower.shape == (1,)
    assert isinstance(funnel_position(20, 400, 0.05), str)
    # Broadcasting: a column of denominators against a row of baselines.
    lower, _ = funnel_limits([[100], [400]], [0.05, 0.1, 0.2])
    assert lower.shape == (2, 3)


def test_zero_denominators() -> None:
    for statistic in ("proportion", "rate", "ratio"):
        lower, upper = funnel_limits([0, 100], 0.5, 0.95, statistic)
        assert np.isnan(lower[0])
        assert np.isnan(upper[0])
        assert np.isfinite(lower[1])
        assert funnel_position(0, 0, 0.5, statistic) == "not_applicable"
    assert np.isnan(adjusted_funnel_limits(0, overdispersion([5, 9], [10, 20], "ratio_sqrt"))[0])


def test_zero_baseline() -> None:
    # Nothing expected: limits collapse to 0 and any event is above the funnel.
    assert funnel_limits(1000, 0, 0.95, "rate", 1000) == (0.0, 0.0)
    assert funnel_limits(1000, 0, 0.95, "proportion") == (0.0, 0.0)
    assert funnel_position([0, 1], 1000, 0, "rate", 1000).tolist() == ["within", "above_998"]


def test_tiny_expected_counts_upper_limit() -> None:
    # Below E = −ln(0.975) = 0.0253 the exact 95% upper limit is under 1 event; it is still
    # the count O_U with P(O_U, E) = 0.025 (regularised lower gamma), found by bisection.
    from scipy import special

    for e in (1e-6, 0.001, 0.02):
        upper_count = funnel_limits(e, 1, 0.95, "ratio")[1] * e
        assert 0 < upper_count < 1
        assert special.gammainc(upper_count, e) == pytest.approx(0.025, rel=1e-9)
    # Continuity across the switch between bisection and pdtrik.
    e = -math.log(0.975)
    below = funnel_limits(e * (1 - 1e-9), 1, 0.95, "ratio")[1] * e
    above = funnel_limits(e * (1 + 1e-9), 1, 0.95, "ratio")[1] * e
    assert below == pytest.approx(1.0, abs=1e-6)
    assert above == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: funnel_limits(-1, 0.5), "denominator"),
        (lambda: funnel_limits(10, -0.1), "baseline"),
        (lambda: funnel_limits(10, 1.5), "baseline"),
        (lambda: funnel_limits(10, 0.5, 95), "confidence"),
        (lambda: funnel_limits(10, 0.5, 0.95, "odds"), "statistic"),
        (lambda: funnel_limits(10, 0.5, 0.95, "rate", 0), "multiplier"),
        (lambda: funnel_limits(10, 0.5, 0.95, "rate", poisson_method="byar"), "poisson_method"),
        (lambda: funnel_limits([1, 2], [0.1, 0.2, 0.3]), "broadcast"),
        (lambda: funnel_limits(np.nan, 0.5), "finite"),
        (lambda: funnel_limits("10", 0.5), "numeric"),
        (lambda: funnel_position(11, 10, 0.5), "less than or equal"),
        (lambda: funnel_position(1, 0, 0.5, "rate"), "empty denominator"),
        (lambda: funnel_position(-1, 10, 0.5), "numerator"),
        (lambda: overdispersion([1, 2], [10, 20], "logit"), "kind"),
        (lambda: overdispersion([1, 2], [10, 20], trim=0.5), "trim"),
        (lambda: overdispersion([1], [10]), "at least 2"),
        (lambda: overdispersion([1, 0], [10, 0]), "at least 2"),
        (lambda: adjusted_funnel_limits(10, overdispersion([1, 2], [10, 20]), kind="ratio_log"), "does not match"),
        (lambda: funnel([[1, 2]], [[3, 4]]), "one-dimensional"),
        (lambda: funnel([1, 2], [3, 4, 5]), "one-dimensional"),
        (lambda: funnel([0, 0], [0, 0]), "positive denominator"),
        (lambda: funnel([1, 2], [3, 4], labels=["a"]), "labels"),
        (lambda: funnel([1, 2], [3, 4], overdispersed=True, overdispersion_kind="ratio_log"), "proportion"),
        (lambda: funnel([1, 2], [3, 4], "ratio", overdispersed=True, overdispersion_kind="proportion"), "ratio"),
        (lambda: funnel([1, 2], [3, 4]).curve(points=1), "points"),
    ],
)
def test_invalid_input_raises(call: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()  # type: ignore[operator]


def test_positions_constant() -> None:
    assert POSITIONS == ("below_998", "below_95", "within", "above_95", "above_998", "not_applicable")


# --------------------------------------------------------------------------------------
# Properties (hypothesis)
# --------------------------------------------------------------------------------------

PROFILE = settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow])
confidences = st.sampled_from([0.8, 0.9, 0.95, 0.99, 0.998]) | st.floats(0.5, 0.999)
statistics = st.sampled_from(["proportion", "rate", "ratio"])
denominators = st.floats(0.01, 1e7, allow_nan=False, allow_infinity=False)
baselines = st.floats(0.0, 1.0, allow_nan=False)


@PROFILE
@given(denominators, baselines, confidences, statistics)
def test_limits_are_ordered_and_contain_the_baseline(n: float, b: float, c: float, statistic: str) -> None:
    lower, upper = funnel_limits(n, b, c, statistic)  # type: ignore[arg-type]
    tol = 1e-12 * max(b, 1e-300)
    assert 0.0 <= lower <= b + tol
    assert b - tol <= upper
    if statistic == "proportion":
        assert upper <= 1.0


@PROFILE
@given(st.floats(1.0, 1e6), st.floats(1.5, 100.0), st.floats(0.001, 0.999), confidences, statistics)
def test_limits_narrow_as_the_denominator_grows(n: float, k: float, b: float, c: float, statistic: str) -> None:
    lower, upper = funnel_limits(n, b, c, statistic)  # type: ignore[arg-type]
    lower_k, upper_k = funnel_limits(k * n, b, c, statistic)  # type: ignore[arg-type]
    slack = 1e-9 * b
    assert lower_k >= lower - slack
    assert upper_k <= upper + slack
    assert upper_k - lower_k <= upper - lower + slack


@PROFILE
@given(denominators, baselines, statistics)
def test_998_limits_contain_95_limits(n: float, b: float, statistic: str) -> None:
    lower95, upper95 = funnel_limits(n, b, 0.95, statistic)  # type: ignore[arg-type]
    lower998, upper998 = funnel_limits(n, b, 0.998, statistic)  # type: ignore[arg-type]
    assert lower998 <= lower95
    assert upper998 >= upper95


@PROFILE
@given(st.integers(0, 5000), st.floats(0.05, 5000.0), confidences)
def test_exact_test_limits_agree_with_exact_poisson_interval(o: int, mu: float, c: float) -> None:
    # A count lies below the lower limit exactly when its exact upper bound is below mu, and
    # above the upper limit exactly when its exact lower bound is above mu.
    lower, upper = funnel_limits(mu, 1, c, "ratio")
    ci_lower, ci_upper = poisson_exact_ci(o, c)
    assume(abs(ci_upper - mu) > 1e-9 * mu and abs(ci_lower - mu) > 1e-9 * mu)
    assert (o / mu < lower) == (ci_upper < mu)
    assert (o / mu > upper) == (ci_lower > mu)


@PROFILE
@given(st.integers(1, 100_000), st.data(), st.floats(0.01, 0.99), confidences)
def test_proportion_limits_agree_with_wilson_interval(n: int, data: st.DataObject, a: float, c: float) -> None:
    # Outside the funnel exactly when the Wilson interval excludes the baseline.
    x = data.draw(st.integers(0, n))
    lower, upper = funnel_limits(n, a, c)
    ci_lower, ci_upper = proportion_ci(x, n, c)
    assume(abs(ci_upper - a) > 1e-9 and abs(ci_lower - a) > 1e-9)
    assert (x / n < lower) == (ci_upper < a)
    assert (x / n > upper) == (ci_lower > a)


@PROFILE
@given(
    st.lists(st.tuples(st.integers(0, 500), st.floats(1.0, 500.0)), min_size=3, max_size=40),
    st.sampled_from(["ratio_sqrt", "ratio_log"]),
    st.sampled_from([0.0, 0.05, 0.1, 0.2]),
)
def test_adjusted_limits_contain_unadjusted_transform_limits(
    units: list[tuple[int, float]], kind: str, trim: float
) -> None:
    observed = np.array([u[0] for u in units], dtype=float)
    expected = np.array([u[1] for u in units])
    assume(kind != "ratio_log" or np.all(observed > 0))
    od = overdispersion(observed, expected, kind, trim)  # type: ignore[arg-type]
    assert od.phi >= 0
    assert od.tau2 >= 0
    assert (od.tau2 > 0) == (od.n_used * od.phi > od.n_used - 1)
    grid = np.geomspace(1, 1000, 7)
    lower, upper = adjusted_funnel_limits(grid, od, 0.95)
    no_od = Overdispersion(0.0, 0.0, od.z, od.z_winsorised, od.target, od.kind, od.trim, od.n_used)
    lower0, upper0 = adjusted_funnel_limits(grid, no_od, 0.95)
    assert np.all(lower <= lower0 + 1e-12)
    assert np.all(upper >= upper0 - 1e-12)
    assert np.all(lower <= 1.0) and np.all(upper >= 1.0)


@PROFILE
@given(st.lists(st.tuples(st.integers(0, 1000), st.integers(1, 1000)), min_size=1, max_size=30), statistics)
def test_vectorised_positions_equal_elementwise(units: list[tuple[int, int]], statistic: str) -> None:
    x = np.array([min(a, b) for a, b in units], dtype=float)
    n = np.array([b for _, b in units], dtype=float)
    result = funnel(x, n, statistic)  # type: ignore[arg-type]
    for i in range(x.size):
        assert funnel_position(x[i], n[i], result.baseline, statistic) == result.position[i]  # type: ignore[arg-type]
    assert set(result.position.tolist()) <= set(POSITIONS)


# --------------------------------------------------------------------------------------
# Published data (see the module docstring for paths and commits)
# --------------------------------------------------------------------------------------

# testdata_funnel_prop_inputs.csv (3352ce5d): numerator, denominator, significance (area names dropped).
PHE_PROP_INPUTS = """
35078.4880000,41980,High (0.001)
24803.6256000,31824,Low (0.001)
50050.7443000,61921,Not significant
48686.4364000,59804,High (0.001)
35795.6324000,45449,Low (0.001)
66969.6742000,80002,High (0.001)
48514.4460000,64755,Low (0.001)
70670.2858000,93122,Low (0.001)
26029.3176000,33708,Low (0.001)
22506.3828000,25932,High (0.001)
20619.5552000,25852,Low (0.001)
19847.1920000,23684,High (0.001)
23617.7778000,28954,High (0.001)
21121.0160000,27530,Low (0.001)
30294.3882000,41066,Low (0.001)
24648.7596000,30521,Not significant
18986.0000000,22000,High (0.001)
31759.3850000,39350,Not significant
26008.3050000,29850,High (0.001)
49524.9445000,63065,Low (0.001)
24107.1107000,28519,High (0.001)
55471.6028000,73972,Low (0.001)
30573.2632000,39752,Low (0.001)
49513.0482000,69993,Low (0.001)
39350.4825000,52293,Low (0.001)
54063.9774000,71034,Low (0.001)
55438.5333000,77743,Low (0.001)
29561.6517000,36627,Not significant
18631.5660000,21342,High (0.001)
32137.8848000,38024,High (0.001)
18365.4621000,29277,Low (0.001)
27622.3500000,35076,Low (0.001)
18205.1925000,22215,High (0.001)
20235.1110000,24590,High (0.001)
29722.5035000,41845,Low (0.001)
46855.9900000,56453,High (0.001)
33893.8041000,40989,High (0.001)
18550.7595000,22905,Not significant
48475.9332000,59604,High (0.001)
27846.1152000,36486,Low (0.001)
21114.2036000,25214,High (0.001)
26529.3344000,32048,High (0.001)
26789.2380000,33012,High (0.025)
43206.2400000,51744,High (0.001)
42896.1330000,55818,Low (0.001)
38999.9142000,45662,High (0.001)
24877.3400000,29528,High (0.001)
15990.2792000,18602,High (0.001)
27609.7972000,33434,High (0.001)
51464.1825000,63185,High (0.001)
42343.3836000,50967,High (0.001)
17321.4088000,21587,Not significant
15808.1975000,20597,Low (0.001)
58476.8416000,73316,Low (0.001)
40167.5494000,48949,High (0.001)
26669.8560000,31480,High (0.001)
23388.3000000,29985,Low (0.001)
23320.2424000,29848,Low (0.001)
22102.1585000,26885,High (0.001)
41085.5856000,52566,Low (0.001)
22094.6563000,28969,Low (0.001)
31573.5024000,39212,Not significant
43009.4060000,50380,High (0.001)
32822.1995000,38411,High (0.001)
22030.9072000,27388,Not significant
16404.9694000,19574,High (0.001)
26103.1484000,31442,High (0.001)
32072.8360000,42520,Low (0.001)
16971.6940000,20522,High (0.001)
41936.1228000,49764,High (0.001)
36850.0492000,45449,High (0.025)
58527.8136000,68598,High (0.001)
32974.2245000,37715,High (0.001)
31386.2036000,36649,High (0.001)
24145.8074000,28886,High (0.001)
30111.0810000,37037,High (0.001)
37539.3770000,44743,High (0.001)
31681.4948000,37951,High (0.001)
34502.0685000,42485,High (0.025)
24108.2412000,28177,High (0.001)
20623.8688000,23267,High (0.001)
28315.4886000,32569,High (0.001)
23685.9377000,28397,High (0.001)
32311.8720000,39024,High (0.001)
31340.3520000,36240,High (0.001)
29336.9895000,34665,High (0.001)
26560.1090000,33710,Low (0.001)
17971.5636000,21012,High (0.001)
21059.6532000,25306,High (0.001)
55711.1808000,66704,High (0.001)
23910.2469000,29457,High (0.025)
24789.7336000,28879,High (0.001)
30239.1376000,36904,High (0.001)
19328.1155000,22229,High (0.001)
21955.5516000,25661,High (0.001)
29301.6135000,33415,High (0.001)
30821.2788000,36363,High (0.001)
30898.8120000,41160,Low (0.001)
49993.8450000,61050,High (0.001)
44395.0808000,52801,High (0.001)
21953.8428000,26868,High (0.001)
14493.3552000,17964,Not significant
41853.2554000,53174,Low (0.001)
17967.1247000,22603,Low (0.001)
60027.0906000,73079,High (0.001)
21834.8100000,26307,High (0.001)
21838.3308000,28041,Low (0.001)
17288.2710000,19998,High (0.001)
26371.7175000,29775,High (0.001)
37216.4698000,45986,Not significant
33458.8056000,42962,Low (0.001)
39994.4982000,46821,High (0.001)
15371.4413000,17951,High (0.001)
18169.4562000,21739,High (0.001)
29196.8608000,35632,High (0.001)
34759.1180000,44449,Low (0.001)
30453.2129000,37741,Not significant
29865.2200000,33880,High (0.001)
27617.9472000,32507,High (0.001)
30277.5312000,37828,Low (0.025)
24866.9160000,30929,Not significant
21139.2936000,25992,High (0.025)
20759.6500000,25750,Not significant
27035.5764000,32898,High (0.001)
21823.4910000,26517,High (0.001)
21463.4220000,25491,High (0.001)
41388.6880000,49508,High (0.001)
21306.0303000,26333,Not significant
34087.5366000,42926,Low (0.001)
35804.9654000,42433,High (0.001)
29921.5840000,35860,High (0.001)
37930.4752000,45904,High (0.001)
22297.9500000,26865,High (0.001)
49272.1026000,59493,High (0.001)
20649.9294000,27121,Low (0.001)
36343.7088000,46028,Low (0.001)
29299.4686000,36929,Low (0.001)
53485.6845000,64965,High (0.001)
33001.0560000,38720,High (0.001)
18773.5158000,23894,Low (0.001)
38314.0408000,47678,Not significant
38045.3716000,46958,High (0.025)
16924.1296000,20776,High (0.025)
17414.1015000,21085,High (0.001)
34188.8140000,42001,High (0.001)
15524.9934000,19257,Not significant
30035.0871000,37269,Not significant
27851.4816000,36724,Low (0.001)
19109.2370000,25513,Low (0.001)
16997.2937000,21839,Low (0.001)
35982.2873000,44461,Not significant
30905.7200000,37075,High (0.001)
30006.6536000,35752,High (0.001)
41001.8990000,59726,Low (0.001)
41581.1286000,53166,Low (0.001)
33431.7795000,39795,High (0.001)
53873.8618000,63877,High (0.001)
41825.7675000,49005,High (0.001)
17487.1408000,21176,High (0.001)
19020.9916000,22441,High (0.001)
48590.8983000,60459,Not significant
52752.0840000,64806,High (0.001)
46269.4848000,62594,Low (0.001)
17677.9584000,23328,Low (0.001)
27321.2720000,34024,Not significant
13551.2220000,16386,High (0.001)
24180.7545000,29151,High (0.001)
59356.4384000,73352,Not significant
21667.1616000,26869,Not significant
30130.0802000,38149,Low (0.001)
27715.4463000,34981,Low (0.001)
29334.6610000,36238,Not significant
32730.8129000,43289,Low (0.001)
21893.0980000,25666,High (0.001)
27706.9455000,35345,Low (0.001)
55735.3934000,67714,High (0.001)
22557.7128000,26236,High (0.001)
41657.6196000,50202,High (0.001)
20013.1828000,25196,Low (0.001)
20125.9692000,24254,High (0.001)
72885.0164000,96053,Low (0.001)
51088.3010000,67595,Low (0.001)
24159.2202000,30906,Low (0.001)
41206.0880000,49616,High (0.001)
37299.2620000,46277,Not significant
29053.7724000,38436,Low (0.001)
44673.5670000,54255,High (0.001)
41423.2908000,49103,High (0.001)
33742.5907000,40747,High (0.001)
18599.3456000,22264,High (0.001)
20275.7984000,24544,High (0.001)
21877.7319000,25943,High (0.001)
48450.4800000,57135,High (0.001)
33210.6936000,39284,High (0.001)
46717.7490000,58617,Low (0.001)
40575.3975000,54647,Low (0.001)
38496.4354000,50507,Low (0.001)
25938.8600000,32834,Low (0.001)
23104.8464000,27112,High (0.001)
29375.6832000,35248,High (0.001)
25156.8975000,29775,High (0.001)
18504.9982000,22739,High (0.025)
25810.4160000,31172,High (0.001)
32352.2484000,40787,Low (0.001)
29947.9362000,35763,High (0.001)
19676.7054000,23111,High (0.001)
21057.8940000,24543,High (0.001)
24217.5490000,28670,High (0.001)
48244.4227000,57427,High (0.001)
37764.5735000,45803,High (0.001)
26734.0178000,32867,High (0.001)
29311.7004000,35908,High (0.001)
20781.4840000,25672,Not significant
38384.7005000,48619,Low (0.001)
40086.8865000,51705,Low (0.001)
64290.8550000,88775,Low (0.001)
43879.7100000,56220,Low (0.001)
50161.2996000,68043,Low (0.001)
46828.1065000,61901,Low (0.001)
71273.1704000,92108,Low (0.001)
17183.6880000,20920,High (0.001)
30309.7041000,36699,High (0.001)
18746.7077000,23233,Not significant
19663.4268000,24012,High (0.001)
40416.5916000,49518,High (0.001)
29709.0543000,36583,High (0.025)
24154.9560000,28035,High (0.001)
44689.6786000,52171,High (0.001)
32810.9509000,38077,High (0.001)
56140.4742000,70053,Low (0.001)
33698.3088000,42484,Low (0.001)
19941.1968000,24224,High (0.001)
57183.5824000,68656,High (0.001)
32555.8572000,39476,High (0.001)
32294.8308000,39188,High (0.001)
40118.0766000,49273,High (0.001)
35176.5102000,39734,High (0.001)
32335.6402000,38893,High (0.001)
43886.9340000,53586,High (0.001)
40207.3551000,47883,High (0.001)
42177.0041000,54233,Low (0.001)
51594.8418000,60922,High (0.001)
55826.0785000,67139,High (0.001)
19387.5944000,23308,High (0.001)
50623.2867000,61593,High (0.001)
44620.7166000,54462,High (0.001)
42724.9914000,51594,High (0.001)
41845.5120000,51789,Not significant
39309.8886000,49242,Low (0.001)
41728.5048000,57908,Low (0.001)
47372.6876000,66647,Low (0.001)
74612.5980000,101060,Low (0.001)
56898.4045000,79835,Low (0.001)
58379.6200000,77324,Low (0.001)
69813.9400000,92776,Low (0.001)
46932.2676000,56929,High (0.001)
27543.7679000,32393,High (0.001)
19618.6936000,22406,High (0.001)
21614.9820000,25671,High (0.001)
31834.0190000,38345,High (0.001)
43622.6530000,52274,High (0.001)
18672.6456000,22683,High (0.001)
58815.3654000,72237,High (0.001)
32775.7593000,38977,High (0.001)
33232.5100000,38620,High (0.001)
56530.8036000,68622,High (0.001)
42276.3940000,51670,High (0.001)
37945.3125000,46875,Not significant
32638.4190000,38786,High (0.001)
67289.9760000,87435,Low (0.001)
56612.0280000,67540,High (0.001)
48822.4950000,60990,Low (0.001)
28735.0316000,37631,Low (0.001)
45239.2392000,56634,Low (0.001)
81412.8600000,102950,Low (0.001)
38873.3924000,48236,Not significant
18003.1000000,21955,High (0.001)
22441.8338000,28946,Low (0.001)
20274.1032000,24292,High (0.001)
59851.2992000,75992,Low (0.001)
24374.6640000,29438,High (0.001)
27339.7012000,33131,High (0.001)
20574.1692000,25948,Low (0.001)
13240.9172000,16477,Not significant
25812.6393000,32753,Low (0.001)
31973.4336000,39488,Not significant
25716.8488000,30806,High (0.001)
25700.2025000,30775,High (0.001)
38797.1714000,46397,High (0.001)
36354.8534000,43838,High (0.001)
53914.2098000,64537,High (0.001)
33506.9514000,40482,High (0.001)
53405.3864000,67363,Low (0.001)
46845.3090000,58962,Low (0.001)
36378.5696000,45202,Not significant
45320.7168000,63904,Low (0.001)
43013.5895000,55181,Low (0.001)
45487.9818000,60066,Low (0.001)
49697.2917000,65331,Low (0.001)
66151.5729000,76273,High (0.001)
28537.4507000,35201,High (0.025)
45559.3820000,54070,High (0.001)
26882.4969000,32573,High (0.001)
"""

# testdata_funnel_prop_outputs.csv (63894a99): Population, Lower2s, Upper2s, Lower3s, Upper3s (baseline column dropped).
PHE_PROP_OUTPUTS = """
1,3.204264,100,0,100
2,25.885383,100,0,100
3,35.933491,100,10.150815,100
4,41.923356,100,19.594903,100
5,46.011039,100,26.039864,100
6,49.028442,100,30.797336,100
7,51.373565,100,34.494842,100
8,53.263915,100,37.475315,100
9,54.82972,100,39.944085,100
10,56.154344,100,42.03259,100
11,57.293957,100,43.829393,100
12,58.28797,100,45.396631,100
13,59.16496,100,46.779363,100
14,59.946223,100,48.011163,100
16,61.282902,100,50.118675,100
18,62.390093,98.894803,51.864359,100
20,63.326743,97.958152,53.341156,100
22,64.132572,97.152324,54.611687,100
24,64.835445,96.449451,55.719892,100
27,65.739462,95.545433,57.145237,100
30,66.504234,94.780661,58.351036,100
33,67.16219,94.122705,59.388421,100
37,67.911689,93.373207,60.570139,100
41,68.548635,92.73626,61.574398,99.710497
45,69.098645,92.186251,62.441586,98.843309
50,69.691035,91.593861,63.375595,97.909301
55,70.200685,91.08421,64.179149,97.105746
61,70.727504,90.557391,65.009774,96.275122
68,71.251689,90.033207,65.836243,95.448652
75,71.700657,89.584239,66.544121,94.740774
83,72.142503,89.142393,67.240771,94.044125
92,72.568959,88.715937,67.913155,93.371741
102,72.974925,88.309971,68.553233,92.731663
113,73.357676,87.927219,69.156708,92.128188
125,73.716166,87.56873,69.721931,91.562965
139,74.074227,87.210669,70.286478,90.998418
154,74.402301,86.882595,70.803745,90.481151
171,74.720602,86.564294,71.305603,89.979293
190,75.024492,86.260404,71.784739,89.500157
211,75.311383,85.973512,72.237075,89.04782
234,75.580155,85.70474,72.660842,88.624054
260,75.839936,85.44496,73.070432,88.214464
289,76.087261,85.197635,73.460384,87.824512
321,76.32027,84.964626,73.827764,87.457131
356,76.538232,84.746663,74.171421,87.113475
395,76.74611,84.538786,74.499177,86.785719
438,76.942308,84.342587,74.808519,86.476377
486,77.12978,84.155115,75.104102,86.180794
539,77.306949,83.977947,75.38344,85.901456
598,77.475765,83.809131,75.649608,85.635287
664,77.637263,83.647632,75.904239,85.380656
737,77.789976,83.49492,76.145017,85.139878
818,77.934885,83.35001,76.373493,84.911403
908,78.072571,83.212324,76.59058,84.694316
1008,78.203374,83.081521,76.796814,84.488082
1119,78.327506,82.95739,76.992529,84.292366
1242,78.445123,82.839773,77.177973,84.106923
1379,78.557126,82.727769,77.354567,83.930329
1531,78.663349,82.621547,77.522045,83.76285
1699,78.763743,82.521152,77.680336,83.60456
1886,78.859312,82.425583,77.831017,83.453878
2093,78.949785,82.335111,77.973663,83.311233
2323,79.035764,82.249132,78.109224,83.175672
2578,79.117294,82.167602,78.237771,83.047125
2861,79.194689,82.090207,78.359798,82.925098
3175,79.268142,82.016753,78.47561,82.809285
3524,79.337968,81.946927,78.585704,82.699192
3911,79.40419,81.880706,78.690113,82.594783
4341,79.467117,81.817779,78.789329,82.495567
4818,79.526814,81.758082,78.883452,82.401444
5348,79.583537,81.701359,78.972886,82.31201
5936,79.63735,81.647545,79.057733,82.227163
6588,79.688382,81.596514,79.138193,82.146703
7312,79.736846,81.548049,79.214606,82.07029
8116,79.782872,81.502024,79.287174,81.997722
9008,79.82654,81.458355,79.356024,81.928871
9998,79.867989,81.416907,79.421375,81.863521
11097,79.907338,81.377558,79.483416,81.80148
12316,79.944665,81.340231,79.542269,81.742627
13669,79.980099,81.304797,79.598137,81.686759
15171,80.013741,81.271155,79.65118,81.633716
16838,80.045674,81.239222,79.701527,81.583368
18688,80.075982,81.208914,79.749314,81.535582
20742,80.10476,81.180135,79.794688,81.490208
23022,80.13208,81.152816,79.837761,81.447134
25552,80.158005,81.126891,79.878637,81.406259
28360,80.182613,81.102283,79.917436,81.36746
31477,80.205974,81.078922,79.954269,81.330627
34936,80.228144,81.056751,79.989225,81.295671
38775,80.249188,81.035707,80.022404,81.262492
43036,80.269164,81.015732,80.053899,81.230996
47766,80.288128,80.996768,80.083799,81.201097
53016,80.306129,80.978767,80.112181,81.172715
58842,80.323212,80.961684,80.139116,81.14578
65309,80.33943,80.945466,80.164686,81.12021
72486,80.354822,80.930074,80.188954,81.095941
80452,80.369433,80.915463,80.211991,81.072905
89294,80.383302,80.901594,80.233858,81.051037
99108,80.396467,80.888428,80.254616,81.03028
110000,80.408963,80.875933,80.274317,81.010578
"""

# testdata_funnel_prop_outputs_with_axis_variation.csv (3352ce5d): same columns.
PHE_PROP_OUTPUTS_AXIS = """
10000,81.43030244,82.93037332,80.99777342,83.36290233
10121,81.43479938,82.92587637,81.00486365,83.3558121
10244,81.43928875,82.921387,81.01194194,83.34873381
10368,81.44373351,82.91694225,81.01894989,83.34172586
10494,81.44816901,82.91250674,81.02594326,83.33473249
10621,81.45255961,82.90811614,81.03286582,83.32780993
10750,81.45693946,82.90373629,81.03977143,83.32090432
10880,81.46127422,82.89940153,81.04660596,83.3140698
11012,81.4655969,82.89507886,81.05342142,83.30725433
11146,81.46990628,82.89076947,81.06021594,83.30045981
11281,81.47416995,82.8865058,81.06693837,83.29373738
11418,81.47841925,82.8822565,81.07363815,83.2870376
11557,81.48265313,82.87802262,81.08031361,83.28036214
11697,81.48684095,82.8738348,81.08691646,83.2737593
11839,81.49101249,82.86966327,81.09349363,83.26718213
11983,81.49516683,82.86550893,81.10004368,83.26063207
12128,81.49927503,82.86140073,81.10652099,83.25415476
12275,81.50336536,82.85731039,81.11297014,83.24770561
12424,81.50743705,82.85323871,81.11938987,83.24128588
12575,81.51148933,82.84918642,81.12577901,83.23489674
12728,81.51552151,82.84515424,81.13213647,83.22853928
12882,81.51950729,82.84116846,81.13842075,83.222255
13038,81.52347261,82.83720314,81.14467279,83.21600296
13196,81.52741688,82.83325887,81.15089164,83.20978411
13356,81.53133955,82.82933621,81.15707642,83.20359934
13518,81.53524007,82.82543568,81.16322629,83.19744946
13682,81.53911798,82.82155778,81.1693405,83.19133525
13848,81.54297281,82.81770294,81.17541833,83.18525743
14016,81.54680415,82.8138716,81.18145912,83.17921663
14186,81.55061161,82.81006414,81.18746226,83.17321349
14358,81.55439484,82.80628091,81.1934272,83.16724855
14532,81.55815352,82.80252224,81.19935342,83.16132234
14708,81.56188733,82.79878842,81.20524045,83.15543531
14886,81.56559603,82.79507972,81.21108786,83.14958789
15067,81.56929964,82.79137612,81.21692726,83.14374849
15250,81.57297693,82.78769882,81.22272517,83.13795058
15435,81.57662774,82.78404801,81.22848132,83.13219443
15622,81.58025191,82.78042384,81.23419548,83.12648028
15812,81.58386818,82.77680757,81.23989717,83.12077858
16004,81.5874569,82.77321885,81.24555542,83.11512033
16198,81.591018,82.76965775,81.25117013,83.10950562
16395,81.59456929,82.76610646,81.25676938,83.10390638
16594,81.59809224,82.76258351,81.26232393,83.09835182
16795,81.60158684,82.75908891,81.26783379,83.09284196
16999,81.60507003,82.75560572,81.27332566,83.08735009
17205,81.60852432,82.75215143,81.27877196,83.08190379
17414,81.61196609,82.74870967,81.28419852,83.07647724
17625,81.6153785,82.74529725,81.28957879,83.07109696
17839,81.6187774,82.74189835,81.29493777,83.06573798
18055,81.62214661,82.73852914,81.30024992,83.06042583
18274,81.62550144,82.73517431,81.30553941,83.05513634
18496,81.62884123,82.73183452,81.31080519,83.04987057
18720,81.63215071,82.72852504,81.31602317,83.04465258
18947,81.63544446,82.72523129,81.32121636,83.03945939
19177,81.63872192,82.72195383,81.32638385,83.0342919
19410,81.64198255,82.71869321,81.33152481,83.02915094
19646,81.64522585,82.71544991,81.33663845,83.0240373
19884,81.64843798,82.71223778,81.34170295,83.0189728
20125,81.65163236,82.70904339,81.34673947,83.01393629
20369,81.65480858,82.70586717,81.35174734,83.00892841
20616,81.65796625,82.70270951,81.35672596,83.00394979
20866,81.661105,82.69957075,81.36167477,82.99900099
21119,81.66422451,82.69645125,81.36659322,82.99408253
21375,81.66732446,82.69335129,81.37148085,82.9891949
21634,81.67040458,82.69027117,81.37633721,82.98433854
21897,81.67347618,82.68719958,81.38118013,82.97949562
22163,81.67652703,82.68414872,81.38599035,82.97468541
22432,81.67955694,82.68111881,81.39076754,82.96990821
22704,81.68256572,82.67811003,81.39551142,82.96516433
22980,81.68556399,82.67511177,81.40023872,82.96043704
23259,81.68854043,82.67213532,81.40493162,82.95574414
23541,81.69149495,82.6691808,81.40958994,82.95108581
23827,81.69443765,82.6662381,81.41422963,82.94644613
24116,81.69735788,82.66331788,81.41883388,82.94184187
24409,81.70026542,82.66041033,81.42341814,82.93725761
24705,81.70315005,82.6575257,81.42796628,82.93270948
25005,81.70602124,82.65465451,81.43249322,82.92818253
25308,81.70886917,82.65180658,81.43698349,82.92369226
25615,81.711703,82.64897275,81.44145153,82.91922422
25926,81.71452228,82.64615347,81.44589662,82.91477913
26241,81.71732657,82.64334918,81.45031809,82.91035766
26559,81.72010682,82.64056894,81.45470164,82.90597411
26881,81.72287161,82.63780414,81.45906083,82.90161492
27207,81.7256206,82.63505515,81.4633951,82.89728065
27537,81.72835345,82.6323223,81.46770392,82.89297183
27871,81.73106985,82.6296059,81.47198682,82.88868893
28209,81.73376953,82.62690623,81.47624334,82.88443242
28551,81.73645221,82.62422354,81.48047306,82.88020269
28898,81.73912529,82.62155046,81.48468765,82.8759881
29249,81.74178065,82.6188951,81.4888743,82.87180146
29604,81.74441808,82.61625767,81.49303268,82.86764307
29963,81.74703743,82.61363832,81.49716255,82.86351321
30327,81.74964562,82.61103013,81.50127483,82.85940092
30695,81.75223518,82.60844058,81.50535772,82.85531803
31068,81.75481282,82.60586293,81.50942184,82.85125391
31445,81.75737136,82.60330439,81.51345583,82.84721992
31827,81.75991733,82.60075842,81.51747,82.84320575
32213,81.76244382,82.59823194,81.52145346,82.83922229
32604,81.76495715,82.5957186,81.52541618,82.83525958
33000,81.76745696,82.5932188,81.52935757,82.83131819
"""

# testdata_funnel_ratio_outputs.csv (8ac28e54): Observed_events, lower_2s_exp_events, lower_2s_isr,
# upper_2s_exp_events, upper_2s_isr, lower_3s_exp_events, lower_3s_isr, upper_3s_exp_events, upper_3s_isr.
PHE_RATIO_OUTPUTS = """
1,5.571644585,17.94802207,0.025317898,3949.774946,9.233410143,10.83023482,0.001000547,99945.32721
2,7.224687515,27.6828582,0.242209467,825.7315569,11.22886836,17.81123382,0.04540199,4405.093268
3,8.767273828,34.21816244,0.618671905,484.9096876,13.06224507,22.96695541,0.190533306,1574.52787
4,10.24158653,39.05644881,1.089865762,367.0176768,14.79414916,27.03771576,0.42855244,933.3746885
5,11.6683331,42.85102213,1.623486324,307.979188,16.45474478,30.38637225,0.739371928,676.2496398
6,13.0594765,45.94364867,2.201894435,272.4926275,18.0616374,33.21957952,1.107104434,541.9542924
7,14.42267712,48.53467868,2.814363736,248.724069,19.62617867,35.66664769,1.520336178,460.4244838
8,15.76318696,50.7511585,3.453831154,231.6268412,21.15619716,37.81397924,1.970813969,405.92365
9,17.08479966,52.67840524,4.11537405,218.6921502,22.65737951,39.72215762,2.452425215,366.9836676
10,18.39035799,54.3763205,4.795387629,208.5337156,24.13397235,41.43536693,2.960519925,337.778507
11,19.68203932,55.88851756,5.491159964,200.3219733,25.58929864,42.98671939,3.491483541,315.0523229
12,20.96158966,57.24756659,6.20057525,193.5304309,27.02598763,44.40170759,4.042439622,296.8504448
13,22.23039332,58.47849748,6.921951787,187.8083003,28.44614046,45.70040009,4.61106382,281.9306023
14,23.48961686,59.60080185,7.65393119,182.9125407,29.85153496,46.89876088,5.195441172,269.4670103
15,24.74021692,60.63002619,8.395387918,178.6695284,31.24360241,48.00982871,5.793975249,258.8896113
16,25.98299459,61.57873737,9.14538148,174.951696,32.62361534,49.04422712,6.405328218,249.7920396
17,27.21864742,62.45718143,9.903127814,171.6629364,33.99257686,50.01091876,7.028349533,241.8775549
18,28.44776062,63.27387325,10.66794109,168.7298407,35.3514374,50.91730725,7.662057257,234.9238513
19,29.67084937,64.03591539,11.43924075,166.0949394,36.70097961,51.76973531,8.305592877,228.7615139
20,30.88838097,64.74926614,12.21651877,163.7127595,38.04188668,52.57362804,8.958211233,223.2588569
21,32.10073559,65.41906164,12.99932836,161.5468078,39.37475459,53.33366575,9.619255926,218.312104
22,33.30826338,66.04967586,13.78728238,159.5673418,40.70015252,54.0538515,10.28814709,213.8383114
23,34.51130117,66.6448358,14.58002338,157.75009,42.01855654,54.73772042,10.96436112,209.7705443
24,35.71010623,67.20786505,15.37725449,156.0746752,43.3304039,55.38835977,11.64743122,206.0540178
25,36.90492768,67.74163118,16.17868501,154.5243014,44.63607076,56.00851413,12.33695202,202.6432458
26,38.09602733,68.24858607,16.98405918,153.0847233,45.93592582,56.60057904,13.03253543,199.5007045
27,39.28358023,68.73100629,17.7931703,151.7436159,47.23026083,57.16673913,13.73385279,196.5945057
28,40.46778889,69.19083243,18.60579439,150.4907526,48.51942314,57.70884769,14.44057519,193.8980937
29,41.64883002,69.6298071,19.42175882,149.3170637,49.80360679,58.22871448,15.15244169,191.3882963
30,42.82687112,70.04947878,20.24087434,148.2149412,51.08312418,58.72780979,15.86916711,189.0458383
31,44.00202211,70.45130772,21.06299083,147.1775791,52.35815615,59.20758537,16.5905411,186.8534595
32,45.1744531,70.83649675,21.88797353,146.1990072,53.62894942,59.6692651,17.31631982,184.7967717
33,46.34427966,71.206199,22.71567629,145.2741252,54.89565059,60.11405211,18.04631223,182.8628453
35,48.67652359,71.90324497,24.37878318,143.5674608,57.41756498,60.95695631,19.51818966,179.3199093
37,50.99963606,72.54953732,26.05142003,142.0268068,59.92518917,61.74365156,21.00482462,176.1500068
39,53.31428731,73.15112321,27.73281189,140.6276441,62.41961313,62.48036161,22.50504841,173.2944506
41,55.62112876,73.71299524,29.42230167,139.3500769,64.90185944,63.17230408,24.01784059,170.7064373
43,57.92070564,74.23942703,31.1193069,138.1778847,67.37273073,63.82404207,25.54230739,168.3481424
45,60.21353995,74.73402168,32.82330214,137.0977235,69.83304894,64.43940324,27.07762173,166.1888937
47,62.50002175,75.19997383,34.5338404,136.0983877,72.28346944,65.02178211,28.62309641,164.2030594
49,64.7805979,75.63993169,36.25047284,135.1706507,74.7246273,65.57409755,30.17809181,162.3694444
51,67.05559502,76.05629327,37.97285619,134.3064629,77.15705647,66.09894458,31.74201957,160.6703061
53,69.32529115,76.4511755,39.70064084,133.4991045,79.58122829,66.59862023,33.31437379,159.0904885
55,71.59006222,76.82630563,41.4335243,132.742751,81.99762083,67.07511687,34.89470271,157.6170471
58,74.9784561,77.35555387,44.04182619,131.6929951,85.60854299,67.75024778,37.27915765,155.5829146
61,78.35705421,77.84876628,46.66016919,130.7324878,89.20411538,68.38249529,39.67927201,153.7326592
64,81.72657976,78.30989647,49.28780552,129.8495628,92.78548002,68.97630964,42.09391663,152.040972
67,85.0876134,78.74236604,51.92408873,129.0345226,96.35358134,69.53555755,44.52205864,150.4872013
70,88.44079461,79.14899488,54.5684461,128.2792621,99.90930868,70.06354155,46.96282314,149.0540716
73,91.78655238,79.53234772,57.22035714,127.5769737,103.4533683,70.56319305,49.4154106,147.727195
76,95.12534408,79.89458618,59.87935959,126.9218651,106.9865611,71.03695942,51.87910683,146.4944265
80,99.56693218,80.34796116,63.43501073,126.113323,111.6815831,71.63222242,55.18016146,144.979641
84,103.9977402,80.77098582,67.00169774,125.3699575,116.3596908,72.18994776,58.49845152,143.5935445
88,108.4184433,81.16700199,70.57858841,124.6837065,121.0220032,72.71405006,61.83274457,142.3194144
92,112.8298571,81.53870114,74.16499159,124.0477455,125.669572,73.20785654,65.18192977,141.1434125
96,117.2324401,81.88859665,77.76032076,123.4562809,130.303417,73.67419995,68.54513422,140.0537049
100,121.6268111,82.21871402,81.36400699,122.9044681,134.9243187,74.11562345,71.92139974,139.0406755
105,127.1089168,82.60632112,85.87960596,122.2641846,140.6834151,74.63566328,76.1589912,137.8694732
110,132.5797211,82.96894814,90.4066103,121.6725189,146.424799,75.12388663,80.41448764,136.7912714
115,138.0400737,83.30914124,94.94429146,121.1236592,152.1497378,75.58343619,84.686699,135.7946423
120,143.4905682,83.62919003,99.49194901,120.6127744,157.8591655,76.01712552,88.97456631,134.8700027
126,150.0190865,83.9893129,104.9613683,120.0441668,164.6914304,76.50671302,94.13924008,133.8442927
132,156.5351775,84.32609341,110.443283,119.5183595,171.5042552,76.96602038,99.32353318,132.8990178
138,163.0397658,84.64192725,115.9369028,119.0302627,178.298989,77.3980833,104.526157,132.0243697
144,169.533524,84.93895285,121.4414304,118.5756785,185.0767467,77.80556045,109.7459098,131.2121794
151,177.0968366,85.26408651,127.8762368,118.0829244,192.964063,78.25291281,115.8558441,130.3343833
158,184.6473516,85.56851674,134.3240012,117.6260375,200.8311094,78.67307035,121.9861717,129.5228777
165,192.1857597,85.85443595,140.783919,117.2008857,208.6794031,79.0686563,128.1355302,128.7699046
173,200.7874526,86.16076243,148.1805308,116.7494806,217.6271774,79.49374801,135.1851488,127.9726372
181,209.3753966,86.44759745,155.5908999,116.3307109,226.5535047,79.89282718,142.256454,127.2350005
189,217.950616,86.71689187,163.0142522,115.9407828,235.4595537,80.2685629,149.3480545,126.5500248
198,227.5833343,87.00109811,171.379868,115.5328232,245.4564826,80.66603003,157.3487478,125.8351291
207,237.2018623,87.26744302,179.7597927,115.1536709,255.4311243,81.0394585,165.3718819,125.1724281
217,247.8736782,87.54459189,189.0863922,114.7623568,266.489635,81.42905819,174.3111284,124.4900437
227,258.5302269,87.80404625,198.4284557,114.3989148,277.5240904,81.79470102,183.2744047,123.8579934
238,270.23604,88.07115438,208.7211801,114.0277186,289.6361847,82.17205328,193.1600914,123.2138576
249,281.925722,88.32113589,219.0300984,113.683006,301.7230493,82.52601204,203.0712581,122.6170569
261,294.6611243,88.57632665,230.293337,113.3337175,314.8817384,82.88826191,213.9104845,122.0136547
273,307.3797133,88.81523022,241.5734099,113.0091263,328.0140726,83.22813647,224.7760705,121.4542097
286,321.140619,89.05756016,253.8110617,112.6822441,342.2132075,83.57363004,236.5748687,120.8919619
299,334.8845596,89.28449862,266.0659681,112.3781452,356.3855169,83.89790994,248.400663,120.3700491
313,349.6678193,89.51352763,279.2813414,112.073366,371.620029,84.22581551,261.1643428,119.8479075
328,365.4880316,89.74302074,293.4599497,111.7699367,387.9125576,84.55513842,274.8700809,119.3291023
343,381.2896174,89.95786518,307.6572071,111.4877182,404.1757059,84.86408139,288.604859,118.8476179
359,398.1255847,90.17255203,322.820019,111.2074775,421.4934296,85.17333244,303.2856736,118.3702467
376,415.9936875,90.38598692,338.9507603,110.9305669,439.8615485,85.48144327,318.9155854,117.8995374
394,434.8917709,90.59725346,356.0513892,110.6581836,459.2770402,85.7870012,335.4983912,117.4372248
413,454.8179145,90.80557006,374.1243435,110.3911058,479.7365479,86.08891731,353.0371292,116.9848624
432,474.7229025,91.00045474,392.218115,110.1427964,500.1629505,86.37185134,370.6091751,116.5648422
452,495.6543475,91.19258255,411.285779,109.8992533,521.6311089,86.65127372,389.1394739,116.1537264
473,517.6105621,91.38144286,431.3284279,109.6612162,544.1383095,86.92642876,408.630816,115.7524057
495,540.5897776,91.56665932,452.3482779,109.4289564,567.6815921,87.19676785,429.0857897,115.3615458
518,564.590564,91.74790246,474.3465763,109.2028542,592.258954,87.46174228,450.5068982,114.9815912
543,590.6533532,91.9320947,498.2826676,108.9742902,618.9343757,87.73143346,473.8300258,114.5980564
569,617.7334269,92.11092928,523.2017667,108.7534554,646.6366043,87.9937814,498.1263428,114.2280484
596,645.8290637,92.28448107,549.1052099,108.5402195,675.3634438,88.24878004,523.3979418,113.8712923
624,674.9391174,92.45278335,575.9940326,108.3344557,705.1138919,88.49634182,549.6464582,113.5275213
653,705.0634143,92.61578274,603.8692656,108.1359886,735.8854597,88.73663576,576.8733549,113.1964225
684,737.2376756,92.77876357,633.6939776,107.9385357,768.7368323,88.97713382,606.0208883,112.8673967
716,770.4222128,92.93605352,664.5083011,107.7488421,802.60414,89.20960712,636.1521174,112.5516964
"""

# testdata_funnel_rate_outputs.csv (39d5df1f): Events, lower_2s_population_1_year, lower_2s_limit,
# upper_2s_population_1_year, upper_2s_limit, lower_3s_population_1_year, lower_3s_limit,
# upper_3s_population_1_year, upper_3s_limit (baseline 116.1720835 and statistic columns dropped).
PHE_RATE_OUTPUTS = """
1,1598.675694,20.85059119,7.264481402,4588.535848,2649.348525,12.58170943,0.287087625,116108.569
2,2072.984403,32.15975314,69.49732367,959.2695538,3221.906682,20.69168143,13.02722321,5117.48863
3,2515.599722,39.75195225,177.5159418,563.3296872,3747.958682,26.68119061,54.66984838,1829.161832
4,2938.625247,45.37269033,312.7159093,426.372082,4244.895077,31.41027773,122.9648371,1084.320823
5,3348.002593,49.78092521,465.8280129,357.7858395,4721.370883,35.30048174,212.14848,785.6132963
6,3747.164294,53.37369389,631.7910374,316.5603628,5182.437656,38.59187766,317.6622129,629.5995932
7,4138.308358,56.38374745,807.5272621,288.9479332,5631.352523,41.43468774,436.2310727,534.8847158
8,4522.941739,58.95867824,991.0100744,269.0857273,6070.361748,43.92928754,565.4869655,471.5699617
9,4902.152951,61.19760093,1180.827018,254.0592274,6501.096999,46.14605812,703.6760012,426.3325728
10,5276.757672,63.17010446,1375.943768,242.2579623,6924.776769,48.13632908,849.4639547,392.4043292
11,5647.380657,64.92685529,1575.582188,232.7182102,7342.35451,49.93856755,1001.813699,366.0028477
12,6014.522889,66.50569087,1779.135188,224.8283338,7754.584638,51.58238883,1159.899894,344.8573467
13,6378.58157,67.93568893,1986.120239,218.1808155,8162.070037,53.09110696,1323.055615,327.5246547
14,6739.891419,69.23949329,2196.147577,212.4933095,8565.320819,54.48326765,1490.731397,313.0454403
15,7098.726928,70.43516466,2408.89425,207.5641137,8964.747658,55.7740183,1662.469179,300.7574554
16,7455.317952,71.5373022,2624.090402,203.2450303,9360.715688,56.97570048,1837.885094,290.1886169
17,7809.864641,72.55780897,2841.511063,199.4244098,9753.512731,58.09872631,2016.649015,280.9941951
18,8162.534912,73.50657688,3060.959445,196.0169714,10143.41149,59.1516967,2198.479194,272.9159328
19,8513.476582,74.39185711,3282.268972,192.9559517,10530.63653,60.14198014,2383.129299,265.7570169
20,8862.823734,75.22057153,3505.293872,190.1885237,10915.38389,61.07587907,2570.385518,259.3644657
21,9210.685453,75.99868692,3729.905949,187.6722924,11297.82457,61.95883071,2760.059513,253.6177197
22,9557.162208,76.7312846,3955.994121,185.3727056,11678.12188,62.7954855,2951.984899,248.4204217
23,9902.350642,77.4226943,4183.455824,183.2615663,12056.41243,63.58995027,3146.011443,243.6948119
24,10246.32458,78.07677711,4412.205876,181.3152021,12432.82166,64.34581157,3342.005201,239.3772457
25,10589.15549,78.69686435,4642.160872,179.5141005,12807.45753,65.06625781,3539.849864,235.4148807
26,10930.91851,79.2858044,4873.247417,177.8417126,13180.4258,65.75407195,3739.434076,231.764125
27,11271.66385,79.84624202,5105.406211,176.2837202,13551.81021,66.41179192,3940.663532,228.3879333
28,11611.44963,80.38043163,5338.572981,174.8282428,13921.71041,67.04157073,4143.443861,225.2554553
30,12288.34267,81.37793899,5807.727562,172.1843853,14657.31486,68.22532023,4553.350694,219.6184891
32,12961.93593,82.29223416,6280.33083,169.8424328,15387.79019,69.31902848,4968.583185,214.6822599
34,13632.53222,83.13446945,6756.067705,167.7504405,16113.58264,70.33403799,5388.650748,210.3185726
36,14300.38428,83.91382894,7234.657563,165.8682515,16835.10205,71.27963921,5813.139923,206.4288863
38,14965.72212,84.63785819,7715.868438,164.1638497,17552.68777,72.16368703,6241.692723,202.9364025
40,15628.72636,85.31298732,8199.500879,162.6115239,18266.6386,72.99281287,6673.990599,199.7805231
42,16289.57177,85.94455519,8685.365202,161.1906889,18977.21426,73.77268238,7109.758056,196.9124672
44,16948.40371,86.53715664,9173.306383,159.8841907,19684.64648,74.50815375,7548.759058,194.2924202
46,17605.36664,87.09465496,9663.186088,158.6778232,20389.1375,75.20344267,7990.771589,191.8880194
49,18587.54012,87.87248461,10401.37233,157.0305612,21440.7871,76.17879537,8659.019991,188.6279666
52,19566.11366,88.58853442,11143.26175,155.5499074,22486.79062,77.08229077,9333.044596,185.7200312
55,20541.38426,89.25071993,11888.54874,154.2100196,23527.63198,77.92256078,10012.3603,183.1070076
58,21513.61837,89.86555864,12636.95054,152.9904962,24563.71629,78.70687443,10696.53355,180.7439134
61,22483.04178,90.43853377,13388.23344,151.8746549,25595.39627,79.44136953,11385.19996,178.5944332
64,23449.86199,90.97423833,14142.18288,150.8489426,26622.99961,80.13121603,12078.03555,176.629165
68,24735.20073,91.63728612,15151.2747,149.6023741,27987.26685,80.98921124,13007.797,174.2544618
72,26016.60165,92.24878914,16164.40038,148.4744218,29345.33323,81.78472473,13943.85843,172.118787
76,27294.37836,92.81520538,17181.22455,147.4477751,30697.72527,82.52511582,14885.70669,170.1856274
80,28568.8062,93.34190054,18201.4499,146.508475,32044.87106,83.21664525,15832.8805,168.4258696
84,29840.1409,93.8333371,19224.84178,145.6448918,33387.16362,83.8645664,16784.99968,166.8156124
89,31425.26072,94.40388398,20508.17444,144.6577644,35058.69305,84.62000173,17981.56205,164.9838128
94,33006.2688,94.93146143,21795.70245,143.7592268,36723.73682,85.32174568,19184.7108,163.3245018
99,34583.45945,95.42133877,23087.10848,142.9369123,38382.78582,85.97604186,20393.92315,161.8129075
104,36157.10817,95.87787415,24382.08903,142.1808715,40036.31685,86.58805154,21608.75072,160.4288333
110,38041.18771,96.38675572,25940.42894,141.3495003,42013.76515,87.27298431,23073.38252,158.91327
116,39920.94378,96.85809755,27503.17411,140.5898334,43984.40979,87.90993638,24544.93183,157.534219
122,41796.66779,97.2964325,29069.98358,139.8922932,45948.73915,88.50442345,26022.84283,156.2729596
129,43980.32848,97.77098419,30902.67373,139.1465359,48233.08642,89.15042181,27754.51939,154.9297229
136,46159.34061,98.21053059,32740.07485,138.4643546,50510.1338,89.75096663,29493.60565,153.7056333
143,48334.01896,98.61929071,34581.83173,137.8373102,52780.37239,90.31134968,31239.52031,152.5845025
151,50814.51335,99.05306578,36691.61384,137.1793935,55367.30719,90.90803922,33242.59456,151.4121686
159,53290.17651,99.45547842,38806.26443,136.5758874,57946.64861,91.46344314,35253.30678,150.3405066
168,56069.99215,99.87517003,41190.61677,135.9532932,60840.04384,92.04464111,37523.79175,149.2386494
177,58844.6246,100.2640435,43580.1961,135.3825941,63725.27265,92.58493144,39802.50522,148.2318755
187,61921.91029,100.6644224,46240.95875,134.8011266,66922.25456,93.14290701,42343.31779,147.2093747
197,64993.75324,101.0353509,48907.23639,134.2677925,70110.62779,93.66150146,44892.77785,146.2744562
208,68366.90896,101.413585,51846.00299,133.7293703,73608.65003,94.19182841,47706.43155,145.3333043
219,71734.45144,101.7642131,54790.4422,133.2349166,77097.79244,94.68494192,50529.04461,144.4713641
231,75402.17011,102.1190768,58008.56546,132.7390177,80894.8296,95.18531701,53617.62876,143.609484
244,79369.0763,102.4748392,61501.35716,132.2464041,84998.06955,95.6884477,56973.86525,142.7555125
257,83329.80836,102.8043486,65000.41486,131.7940306,89091.53139,96.15579094,60339.9203,141.9734502
271,87588.75733,103.1334798,68775.04934,131.3460829,93489.79377,96.62373794,63975.03934,141.2009031
286,92145.09181,103.4600232,72826.17705,130.9053107,98191.46367,97.08922728,67880.58471,140.4427109
302,96998.02794,103.7821787,77154.59535,130.473974,103195.3143,97.54964876,72057.88032,139.7025089
319,102146.7896,104.0985564,81761.04619,130.0537827,108500.1428,98.00294323,76508.03363,138.9832261
337,107590.7057,104.4080273,86646.2263,129.6459617,114104.792,98.44751602,81232.24174,138.2866346
356,113329.0684,104.7098228,91810.8003,129.251315,120008.3527,98.8820061,86231.47078,137.6141049
376,119361.346,105.0032842,97255.36752,128.8703508,126209.7672,99.30557366,91506.66143,136.9663491
397,125686.9904,105.2880118,102980.4593,128.5033434,132708.2641,99.71747747,97058.73019,136.3435655
419,132305.4373,105.5638147,108986.5814,128.1503327,139502.9426,100.1173624,102888.3596,135.7458388
442,139216.2474,105.8305594,115274.2091,127.8111856,146593.2143,100.5048795,108996.3791,135.1726861
466,146419.093,106.088168,121843.7136,127.4857181,153978.364,100.8799738,115383.3934,134.623648
492,154213.0181,106.3464045,128969.7731,127.1615791,161964.6791,101.2566449,122316.965,134.0778852
519,162297.6124,106.5942976,136379.1382,126.8522461,170243.6517,101.6190608,129531.7435,133.5579953
548,170971.4388,106.840457,144346.9932,126.5469149,179120.7483,101.9796246,137296.1174,133.0457627
578,179934.5741,107.0759567,152599.3093,126.2565784,188288.7254,102.3251213,145343.5363,132.5595011
610,189485.3592,107.3082027,161411.8671,125.9717374,198052.0816,102.6665974,153943.2733,132.0832856
643,199324.5906,107.5297999,170509.7588,125.7015052,208104.8771,102.992941,162827.4817,131.6321613
678,209749.9174,107.7473607,180169.3117,125.4375664,218750.7422,103.3139352,172266.309,131.1922229
715,220760.3058,107.9602297,190391.4295,125.1807048,229988.2647,103.6284758,182261.1866,130.7647217
754,232355.1321,108.1677564,201176.9596,124.9314702,241816.047,103.9357547,192813.5253,130.3504684
796,244830.1976,108.3744309,212803.8142,124.684482,254535.6606,104.2421061,204195.7755,129.9406576
840,257887.5528,108.5744531,224996.0449,124.446632,267842.1579,104.5391817,216138.641,129.5464794
886,271526.5546,108.7677534,237754.495,124.2177706,281734.783,104.8267204,228643.2429,129.1677504
935,286042.5881,108.9581341,251357.3517,123.9934558,296514.0257,105.1102611,241982.8769,128.796992
986,301138.5767,109.1413363,265528.1142,123.7784811,311876.6269,105.3835518,255886.7955,128.4422145
1040,317109.7002,109.3207387,280545.1693,123.568931,328122.7,105.6515342,270628.8869,128.0966975
1097,333954.9846,109.4957954,296409.7945,123.3652441,345250.6041,105.9134039,286210.8719,127.7612776
1158,351968.441,109.6689234,313401.7297,123.1646042,363558.4598,106.172746,302908.209,127.4313434
1222,370853.5194,109.8367177,331243.4092,122.9710002,382744.0654,106.4244675,320449.1667,127.1132447
1289,390609.3989,109.9990599,349936.0128,122.7843523,402806.445,106.6682701,338835.2255,126.8069652
1360,411529.9259,110.158048,369759.5622,122.6021934,424043.2424,106.9073359,358342.3275,126.5084525
"""

# testdata_funnel_ratio_inputs.csv (b79d6448): obs, expected, significance.
PHE_RATIO_SIG = """
8,6.239860227,Not significant
151,106.4429719,High (0.001)
159,232.9329036,Low (0.001)
191,184.0963855,Not significant
124,183.894409,Low (0.001)
220,249.8012944,Not significant
150,119.5695496,High (0.025)
0,240.6273499,Low (0.001)
182,196.799308,Not significant
151,204.6070461,Low (0.001)
206,139.4719025,High (0.001)
141,106.7211626,High (0.001)
113,96.14566494,Not significant
129,127.9000595,Not significant
121,162.3289509,Low (0.001)
190,202.1491648,Not significant
187,181.3773036,Not significant
136,141.2693466,Not significant
150,100.6778978,High (0.001)
75,120.1923077,Low (0.001)
92,102.6098595,Not significant
182,136.0137508,High (0.001)
182,143.6804295,High (0.025)
101,126.2973615,Low (0.025)
169,125.1573724,High (0.001)
124,176.764077,Low (0.001)
107,125.1461988,Not significant
174,141.4404162,High (0.025)
98,134.6338783,Low (0.001)
160,97.12273886,High (0.001)
141,136.9596892,Not significant
174,143.4578283,High (0.025)
119,140.9618574,Not significant
252,218.7689904,High (0.025)
203,154.185022,High (0.001)
507,272.3024867,High (0.001)
230,176.6920181,High (0.001)
250,164.4628643,High (0.001)
321,178.7902417,High (0.001)
254,254.4070513,Not significant
228,179.598267,High (0.001)
207,177.7129121,High (0.025)
319,274.8815166,High (0.025)
226,126.1160714,High (0.001)
677,349.8165659,High (0.001)
200,164.1901322,High (0.025)
335,276.3114484,High (0.001)
359,292.7505504,High (0.001)
253,200.9531374,High (0.001)
340,261.1367127,High (0.001)
275,226.4679239,High (0.001)
516,429.2131093,High (0.001)
291,178.6920479,High (0.001)
366,208.6421161,High (0.001)
278,176.3623676,High (0.001)
237,138.1843624,High (0.001)
342,252.0265291,High (0.001)
893,706.7669173,High (0.001)
290,232.3531768,High (0.001)
241,288.6919023,Low (0.025)
307,237.6160991,High (0.001)
157,185.666982,Low (0.025)
261,230.9734513,Not significant
233,201.7490692,High (0.025)
457,361.0650233,High (0.001)
187,164.5692159,Not significant
355,318.5570711,High (0.025)
765,571.5780036,High (0.001)
374,281.3299233,High (0.001)
130,81.9413804,High (0.001)
191,111.1757858,High (0.001)
196,134.6246308,High (0.001)
213,159.1095839,High (0.001)
91,88.57309714,Not significant
149,98.22017139,High (0.001)
183,166.1974389,Not significant
152,101.4144649,High (0.001)
194,138.7895264,High (0.001)
366,197.2833118,High (0.001)
327,344.573235,Not significant
164,143.9227731,Not significant
162,151.1617057,Not significant
142,159.3893815,Not significant
188,189.458833,Not significant
183,188.6014635,Not significant
16,36.38844667,Low (0.001)
236,181.3431689,High (0.001)
119,186.5788648,Low (0.001)
156,130.4020731,High (0.025)
292,202.9610065,High (0.001)
102,148.9051095,Low (0.001)
307,279.0909091,Not significant
154,194.8380567,Low (0.025)
163,219.7950378,Low (0.001)
240,205.9378754,High (0.025)
117,140.709561,Low (0.025)
135,139.4772187,Not significant
108,132.8249908,Low (0.025)
158,143.1807884,Not significant
119,124.7902685,Not significant
145,135.1981352,Not significant
164,138.9830508,High (0.025)
103,108.6039646,Not significant
234,197.4516918,High (0.025)
67,76.46656015,Not significant
109,120.6152484,Not significant
79,92.3005024,Not significant
66,76.30939993,Not significant
87,115.0945892,Low (0.025)
76,121.8143933,Low (0.001)
167,147.9054114,Not significant
197,180.1389905,Not significant
148,136.9609476,Not significant
189,154.185022,High (0.025)
133,150.4695101,Not significant
80,105.9462323,Low (0.025)
102,124.7553816,Low (0.025)
90,98.00718719,Not significant
105,137.4165685,Low (0.025)
48,86.81497558,Low (0.001)
47,60.02554278,Not significant
66,135.0521793,Low (0.001)
60,68.87842957,Not significant
43,71.57123835,Low (0.001)
84,91.21511565,Not significant
134,136.6649669,Not significant
62,115.8012701,Low (0.001)
86,110.6109325,Low (0.025)
73,89.2638787,Not significant
96,104.6892039,Not significant
85,77.54766901,Not significant
97,147.5060827,Low (0.001)
98,114.0065147,Not significant
80,88.47600088,Not significant
71,92.2677063,Low (0.025)
95,100.9671591,Not significant
70,93.22146757,Low (0.025)
67,70.74226586,Not significant
95,103.8932633,Not significant
6,4.293052052,Not significant
118,98.01478528,Not significant
85,67.9184978,Not significant
128,97.97168006,High (0.025)
73,68.67356538,Not significant
40,55.14959327,Low (0.025)
72,115.9047006,Low (0.001)
97,111.5840331,Not significant
84,68.37606838,Not significant
107,91.50773967,Not significant
47,75.16392132,Low (0.001)
89,98.98787677,Not significant
82,80.65309334,Not significant
77,101.3958388,Low (0.025)
42,74.53416149,Low (0.001)
98,152.5291829,Low (0.001)
67,88.13470139,Low (0.025)
36,73.67990176,Low (0.001)
80,96.15384615,Not significant
72,90.53187476,Not significant
106,132.0214223,Low (0.025)
46,71.75167681,Low (0.001)
35,56.15273544,Low (0.025)
25,55.01760563,Low (0.001)
59,103.8184058,Low (0.001)
46,66.76342525,Low (0.025)
39,50.23183926,Not significant
75,111.1111111,Low (0.001)
48,64,Low (0.025)
74,52.09066592,High (0.025)
115,82.14285714,High (0.001)
104,77.0199215,High (0.025)
124,88.44507846,High (0.001)
134,82.87976249,High (0.001)
27,26.73002673,Not significant
81,60.21409456,High (0.025)
80,89.98875141,Not significant
101,75.6837767,High (0.025)
66,98.43400447,Low (0.001)
92,104.7358834,Not significant
99,152.7777778,Low (0.001)
131,139.332057,Not significant
84,117.4004193,Low (0.001)
46,65.68613451,Low (0.025)
86,92.24498552,Not significant
104,138.0225614,Low (0.025)
114,133.3801334,Not significant
82,108.6524447,Low (0.025)
64,60.80182405,Not significant
52,60.64139942,Not significant
70,79.64501081,Not significant
176,170.8406135,Not significant
41,64.5059786,Low (0.025)
76,90.86561454,Not significant
43,84.16519867,Low (0.001)
61,82.16594828,Low (0.025)
79,89.24536828,Not significant
77,104.9332243,Low (0.025)
57,76.68505314,Low (0.025)
86,125.1637316,Low (0.001)
60,101.5400237,Low (0.001)
78,100.0641437,Low (0.025)
72,106.8724952,Low (0.001)
81,67.24223809,Not significant
64,73.30202726,Not significant
107,118.2189813,Not significant
157,187.016081,Low (0.025)
46,61.18648577,Not significant
66,101.2425219,Low (0.001)
61,98.48240232,Low (0.001)
74,76.7077848,Not significant
115,114.5989038,Not significant
77,107.8582435,Low (0.025)
72,75.94936709,Not significant
83,103.0799801,Low (0.025)
62,104.6413502,Low (0.001)
59,60.34570932,Not significant
70,72.73482959,Not significant
57,56.39097744,Not significant
78,82.55715495,Not significant
75,96.25256674,Low (0.025)
114,125.994695,Not significant
56,70.8591674,Not significant
117,105.1024075,Not significant
65,84.96732026,Low (0.025)
117,128.3880171,Not significant
58,105.6851312,Low (0.001)
115,100.0434972,Not significant
96,113.1008483,Not significant
174,126.8498943,High (0.001)
73,100.5786718,Low (0.025)
74,90.85328422,Not significant
113,73.49115505,High (0.001)
104,93.71902316,Not significant
68,81.33971292,Not significant
94,67.43668843,High (0.025)
123,122.375883,Not significant
91,74.93412385,Not significant
132,102.7717222,High (0.025)
58,57.18229321,Not significant
67,55.13949469,Not significant
103,98.02988484,Not significant
98,107.385492,Not significant
126,121.7273693,Not significant
75,84.66922556,Not significant
105,133.248731,Low (0.025)
52,75.07941092,Low (0.025)
72,96.93053312,Low (0.025)
35,45.76359833,Not significant
85,80.82921263,Not significant
47,52.42610151,Not significant
67,61.12580969,Not significant
159,169.4373402,Not significant
71,65.66777654,Not significant
77,104.435101,Low (0.025)
70,92.11738387,Low (0.025)
82,121.1942063,Low (0.001)
81,89.03055617,Not significant
92,131.6731072,Low (0.001)
74,127.6302173,Low (0.001)
94,97.08737864,Not significant
128,155.4529998,Low (0.025)
80,128.2051282,Low (0.001)
121,92.34526444,High (0.025)
79,123.1488698,Low (0.001)
87,45.27241505,High (0.001)
48,66.10659689,Low (0.025)
51,70.99109131,Low (0.025)
57,72.87138839,Not significant
140,147.5081656,Not significant
53,73.87789239,Low (0.025)
74,63.9585134,Not significant
38,35.36199516,Not significant
29,31.19956966,Not significant
104,73.9476678,High (0.001)
51,53.31939362,Not significant
53,61.2716763,Not significant
93,58.34744965,High (0.001)
42,57.89110958,Low (0.025)
70,90.06690685,Low (0.025)
105,144.8675497,Low (0.001)
40,44.1014333,Not significant
31,57.81424841,Low (0.001)
118,117.4596854,Not significant
50,70.44237813,Low (0.025)
115,103.0281312,Not significant
125,105.2542944,Not significant
85,99.34548855,Not significant
85,105.5376211,Low (0.025)
105,89.04341927,Not significant
110,106.785749,Not significant
66,95.61060409,Low (0.001)
85,107.6903585,Low (0.025)
75,83.94895903,Not significant
70,113.5626217,Low (0.001)
64,102.9435419,Low (0.001)
49,87.5,Low (0.001)
46,56.88141462,Not significant
41,58.50456621,Low (0.025)
28,37.38816931,Not significant
78,90.84556254,Not significant
"""
