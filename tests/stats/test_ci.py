"""Worked examples and edge cases for ``matneo.stats`` confidence intervals.

Published examples reproduced here (values as printed in the source):

* Newcombe RG. Two-sided confidence intervals for the single proportion: comparison of
  seven methods. Stat Med 1998;17:857-872, Table I, method 3 (Wilson score interval
  without continuity correction), 95%: 81/263, 15/148, 0/20 and 1/29, to 4 decimals.
* FunnelPlotR (nhs-r-community/FunnelPlotR, ``tests/testthat/test-poisson_limits.R``):
  exact Poisson limits for expected counts 15, 20 and 30 at 95% and 99.8%, divided by the
  count. These are ``χ²_p(2E)/2/E`` and ``χ²_{1-p}(2E+2)/2/E``, the same quantiles as our
  ``poisson_exact_ci``.
* Exact Poisson table, worked example "observed number of cases is 30 ... lower limit
  20.24, upper limit 42.83" (Biological Effects of Low Level Exposures to Chemicals and
  Radiation, 1992, ch. 7, Table 7.5; https://issuhub.com/view/index/6885?pageIndex=148).
* Rothman KJ. Epidemiology: An Introduction, 2nd edn (OUP 2012), ch. 9, "Example:
  confidence limits for incidence rate difference and incidence rate ratio", Table 9-2
  (Feychting et al.): cancer in 136 of 22,050 person-years among the blind vs 1,709 of
  127,650 among the severely visually impaired: IRR 0.46, 90% CI 0.40 to 0.53.
* PHE "Technical Guide: Confidence Intervals" (2018), Appendix 1: Byar's method is within
  0.2% of the exact value for numerators of 10 or more (95% intervals).

The hand calculations below write each step out so that a reviewer can check them with a
calculator; the inputs 65/100 and 65 events are the inputs PHEindicatormethods uses in
``tests/testthat/testWilson.R`` and ``testByars.R`` (its expected values are in an Excel
workbook, so the arithmetic is done here instead).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from matneo.stats import (
    EXACT_COUNT_THRESHOLD,
    byar_ci,
    poisson_exact_ci,
    proportion_ci,
    rate_ci,
    rate_ratio_ci,
    z_value,
)

# Any NumPy/SciPy warning (division by zero, invalid value, ...) fails the test.
pytestmark = pytest.mark.filterwarnings("error")


# --------------------------------------------------------------------------------------
# z values
# --------------------------------------------------------------------------------------


def test_z_values_for_the_two_phe_levels() -> None:
    # Standard normal quantiles: Φ⁻¹(0.975) and Φ⁻¹(0.999). FunnelPlotR documents these
    # as 1.959964 and 3.090232 (FunnelPlotR v0.6.0 defaults, https://github.com/nhs-r-community/FunnelPlotR).
    assert z_value(0.95) == pytest.approx(1.959963984540054, abs=1e-12)
    assert z_value(0.998) == pytest.approx(3.090232306167813, abs=1e-12)
    assert z_value() == z_value(0.95)


def test_z_value_keeps_precision_near_one() -> None:
    # Φ⁻¹(0.5 + c/2) would round to Φ⁻¹(1) = inf here; −Φ⁻¹((1 − c)/2) does not.
    assert math.isfinite(z_value(1 - 2**-53))


# --------------------------------------------------------------------------------------
# Wilson score interval (proportion_ci)
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("x", "n", "lower", "upper"),
    [
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0000, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_reproduces_newcombe_1998_table_1(x: int, n: int, lower: float, upper: float) -> None:
    got_lower, got_upper = proportion_ci(x, n)
    assert round(got_lower, 4) == lower
    assert round(got_upper, 4) == upper


def test_wilson_newcombe_examples_vectorised() -> None:
    lower, upper = proportion_ci([81, 15, 0, 1], [263, 148, 20, 29], confidence=0.95)
    np.testing.assert_allclose(lower, [0.2553, 0.0624, 0.0, 0.0061], atol=5e-5)
    np.testing.assert_allclose(upper, [0.3662, 0.1605, 0.1611, 0.1718], atol=5e-5)


def test_wilson_hand_calculation_998() -> None:
    # 65 events out of 100 at 99.8% confidence.
    # z = Φ⁻¹(0.999) = 3.090232306;  z² = 9.549535706
    # 4x(1 − x/n) = 4 · 65 · 0.35 = 91
    # √(z² + 91) = √100.549535706 = 10.027439140;  z · that = 30.987116379
    # denominator 2(n + z²) = 2 · 109.549535706 = 219.099071412
    # lower = (130 + 9.549535706 − 30.987116379) / 219.099071412 = 108.562419328 / 219.099071412 = 0.495494657
    # upper = (130 + 9.549535706 + 30.987116379) / 219.099071412 = 170.536652085 / 219.099071412 = 0.778354061
    z = 3.090232306167813
    z2 = z * z
    assert z2 == pytest.approx(9.549535706, abs=1e-9)
    root = math.sqrt(z2 + 4 * 65 * (1 - 65 / 100))
    assert root == pytest.approx(10.027439140, abs=1e-9)
    assert z * root == pytest.approx(30.987116379, abs=1e-9)
    denom = 2 * (100 + z2)
    expected_lower = (2 * 65 + z2 - z * root) / denom
    expected_upper = (2 * 65 + z2 + z * root) / denom
    assert expected_lower == pytest.approx(0.495494657, abs=1e-9)
    assert expected_upper == pytest.approx(0.778354061, abs=1e-9)
    lower, upper = proportion_ci(65, 100, confidence=0.998)
    assert lower == pytest.approx(expected_lower, rel=1e-12)
    assert upper == pytest.approx(expected_upper, rel=1e-12)


def test_wilson_zero_numerator_gives_exact_zero_and_closed_form_upper() -> None:
    # x = 0: lower is exactly 0 and upper = (z² + z·√z²)/(2(n + z²)) = z²/(n + z²).
    z2 = z_value(0.95) ** 2
    lower, upper = proportion_ci(0, 20)
    assert lower == 0.0
    assert upper == pytest.approx(z2 / (20 + z2), rel=1e-12)


def test_wilson_all_events_gives_exact_one() -> None:
    lower, upper = proportion_ci(29, 29)
    assert upper == 1.0
    # Symmetry: the interval for 29/29 mirrors the one for 0/29.
    assert lower == pytest.approx(1 - proportion_ci(0, 29)[1], rel=1e-12)


def test_wilson_accepts_non_integer_counts() -> None:
    # PHEindicatormethods tests 0.445 events out of 1; the formula is continuous in x.
    lower, upper = proportion_ci(0.445, 1)
    assert 0 < lower < 0.445 < upper < 1


def test_wilson_zero_denominator_is_nan_not_error() -> None:
    lower, upper = proportion_ci(0, 0)
    assert math.isnan(lower) and math.isnan(upper)
    lower, upper = proportion_ci([0, 3], [0, 10])
    assert np.isnan(lower[0]) and np.isnan(upper[0])
    assert np.isfinite(lower[1]) and np.isfinite(upper[1])


# --------------------------------------------------------------------------------------
# Exact Poisson and Byar's intervals
# --------------------------------------------------------------------------------------


def test_exact_poisson_reproduces_funnelplotr_limits() -> None:
    counts = np.array([15.0, 20.0, 30.0])
    lower95, upper95 = poisson_exact_ci(counts, 0.95)
    lower998, upper998 = poisson_exact_ci(counts, 0.998)
    np.testing.assert_allclose(np.round(lower95 / counts, 7), [0.5596924, 0.6108260, 0.6746958])
    np.testing.assert_allclose(np.round(upper95 / counts, 6), [1.649348, 1.544419, 1.427562])
    np.testing.assert_allclose(np.round(lower998 / counts, 7), [0.3862650, 0.4479107, 0.5289724])
    np.testing.assert_allclose(np.round(upper998 / counts, 6), [2.082907, 1.902094, 1.702771])


def test_exact_poisson_reproduces_published_table_example() -> None:
    lower, upper = poisson_exact_ci(30)
    assert round(lower, 2) == 20.24
    assert round(upper, 2) == 42.83


def test_exact_poisson_hand_calculation_small_counts() -> None:
    # x = 0: P(X = 0; μ) = e^{−μ} = 0.025  ⇒  upper = −ln 0.025 = 3.688879454; lower = 0.
    lower, upper = poisson_exact_ci(0)
    assert lower == 0.0
    assert upper == pytest.approx(-math.log(0.025), rel=1e-12)
    # x = 1: lower solves P(X ≥ 1; μ) = 1 − e^{−μ} = 0.025  ⇒  μ = −ln 0.975 = 0.025317808.
    #        upper solves P(X ≤ 1; μ) = e^{−μ}(1 + μ) = 0.025  (μ ≈ 5.571643).
    lower, upper = poisson_exact_ci(1)
    assert lower == pytest.approx(-math.log(0.975), rel=1e-12)
    assert math.exp(-upper) * (1 + upper) == pytest.approx(0.025, rel=1e-10)
    assert upper == pytest.approx(5.571643, abs=1e-6)


def test_byar_hand_calculation_65_events() -> None:
    # z = 1.959963985 (95%).
    # lower: 1/(9·65) = 0.001709402;  z/(3√65) = 1.959963985/24.186773 = 0.081034538
    #        bracket = 1 − 0.001709402 − 0.081034538 = 0.917256061;  cubed = 0.771741349
    #        lower = 65 · 0.771741349 = 50.163188
    # upper: 1/(9·66) = 0.001683502;  z/(3√66) = 0.080418296
    #        bracket = 1 − 0.001683502 + 0.080418296 = 1.078734795;  cubed = 1.255289978
    #        upper = 66 · 1.255289978 = 82.849139
    lower, upper = byar_ci(65)
    assert lower == pytest.approx(65 * 0.917256061**3, rel=1e-8)
    assert lower == pytest.approx(50.163188, abs=1e-6)
    assert upper == pytest.approx(66 * 1.078734795**3, rel=1e-8)
    assert upper == pytest.approx(82.849139, abs=1e-6)


def test_byar_is_within_0_2_percent_of_exact_from_10_events() -> None:
    # PHE Technical Guide: Confidence Intervals, Appendix 1 (the reason for the switch-over).
    counts = np.arange(EXACT_COUNT_THRESHOLD, 5001, dtype=float)
    exact_lower, exact_upper = poisson_exact_ci(counts, 0.95)
    byar_lower, byar_upper = byar_ci(counts, 0.95)
    assert np.max(np.abs(byar_lower / exact_lower - 1)) < 0.002
    assert np.max(np.abs(byar_upper / exact_upper - 1)) < 0.002


def test_byar_lower_is_zero_not_negative_or_nan_for_tiny_counts() -> None:
    # The raw formula is undefined at 0 and negative for 1 event at 99.8%
    # (1 − 1/9 − 3.0902/3 < 0); PHEindicatormethods returns NA, we return 0.
    assert byar_ci(0)[0] == 0.0
    assert byar_ci(1, 0.998)[0] == 0.0
    assert byar_ci(0)[1] > 0


# --------------------------------------------------------------------------------------
# Rates (rate_ci)
# --------------------------------------------------------------------------------------


def test_rate_switches_from_exact_to_byar_at_10() -> None:
    assert EXACT_COUNT_THRESHOLD == 10
    births = 4000.0
    for count in range(0, 10):
        expected = np.array(poisson_exact_ci(count)) / births * 1000
        np.testing.assert_allclose(rate_ci(count, births), expected, rtol=1e-14)
    for count in (10, 11, 50, 1000):
        expected = np.array(byar_ci(count)) / births * 1000
        np.testing.assert_allclose(rate_ci(count, births), expected, rtol=1e-14)
    # And the two methods really differ at 10, so the switch is observable.
    assert byar_ci(10)[0] != poisson_exact_ci(10)[0]


def test_rate_hand_calculation_small_count_exact() -> None:
    # 3 stillbirths in 2,500 births, per 1,000, 95%: exact because 3 < 10.
    # lower = χ²_{0.025}(6)/2 = 0.618672 → 0.618672 / 2500 × 1000 = 0.247469
    # upper = χ²_{0.975}(8)/2 = 8.767273 → 8.767273 / 2500 × 1000 = 3.506909
    lower, upper = rate_ci(3, 2500)
    assert lower == pytest.approx(0.618672 / 2.5, abs=1e-6)
    assert upper == pytest.approx(8.767273 / 2.5, abs=1e-6)


def test_rate_hand_calculation_byar_with_multiplier() -> None:
    # 65 events in 100 person-years per 100 (PHE ``phe_rate(..., multiplier=100)`` style):
    # Byar's bounds 50.163188 and 82.849139 (see the Byar hand calculation) ÷ 100 × 100.
    lower, upper = rate_ci(65, 100, multiplier=100)
    assert lower == pytest.approx(50.163188, abs=1e-6)
    assert upper == pytest.approx(82.849139, abs=1e-6)


def test_rate_zero_count_gives_zero_lower_and_finite_upper() -> None:
    lower, upper = rate_ci(0, 2000)
    assert lower == 0.0
    assert upper == pytest.approx(-math.log(0.025) / 2000 * 1000, rel=1e-12)


def test_rate_allows_count_above_denominator() -> None:
    lower, upper = rate_ci(150, 100, multiplier=1)
    assert lower < 1.5 < upper


def test_rate_zero_denominator() -> None:
    lower, upper = rate_ci(0, 0)
    assert math.isnan(lower) and math.isnan(upper)
    with pytest.raises(ValueError, match="count must be 0 where denominator is 0"):
        rate_ci(3, 0)


# --------------------------------------------------------------------------------------
# Rate ratios
# --------------------------------------------------------------------------------------


def test_rate_ratio_reproduces_rothman_table_9_2() -> None:
    ratio, lower, upper = rate_ratio_ci(136, 22_050, 1709, 127_650, confidence=0.90)
    assert round(ratio, 2) == 0.46
    assert round(lower, 2) == 0.40
    assert round(upper, 2) == 0.53


def test_rate_ratio_hand_calculation() -> None:
    # Same data, step by step, 90% (z = Φ⁻¹(0.95) = 1.644853627):
    # rates 136/22050 = 0.006167800 and 1709/127650 = 0.013388171
    # RR = 0.006167800 / 0.013388171 = 0.460690
    # SE(ln RR) = √(1/136 + 1/1709) = √(0.007352941 + 0.000585138) = √0.007938079 = 0.089096
    # lower = 0.460690 · e^{−1.644854 · 0.089096} = 0.460690 · 0.863683 = 0.397890
    # upper = 0.460690 · e^{+1.644854 · 0.089096} = 0.460690 · 1.157832 = 0.533402
    ratio, lower, upper = rate_ratio_ci(136, 22_050, 1709, 127_650, confidence=0.90)
    se = math.sqrt(1 / 136 + 1 / 1709)
    assert se == pytest.approx(0.089096, abs=1e-6)
    assert ratio == pytest.approx(0.460690, abs=1e-6)
    assert lower == pytest.approx(0.397890, abs=1e-5)
    assert upper == pytest.approx(0.533402, abs=1e-5)
    assert lower == pytest.approx(ratio * math.exp(-1.644853627 * se), rel=1e-9)
    assert upper == pytest.approx(ratio * math.exp(1.644853627 * se), rel=1e-9)


def test_rate_ratio_zero_counts() -> None:
    ratio, lower, upper = rate_ratio_ci(0, 1000, 5, 1000)
    assert ratio == 0.0
    assert math.isnan(lower) and math.isnan(upper)
    ratio, lower, upper = rate_ratio_ci(5, 1000, 0, 1000)
    assert math.isnan(ratio) and math.isnan(lower) and math.isnan(upper)
    ratio, lower, upper = rate_ratio_ci(0, 1000, 0, 1000)
    assert math.isnan(ratio) and math.isnan(lower) and math.isnan(upper)


def test_rate_ratio_zero_denominators() -> None:
    ratio, lower, upper = rate_ratio_ci(0, 0, 5, 1000)
    assert math.isnan(ratio) and math.isnan(lower) and math.isnan(upper)
    with pytest.raises(ValueError, match="count1 must be 0 where denom1 is 0"):
        rate_ratio_ci(2, 0, 5, 1000)
    with pytest.raises(ValueError, match="count2 must be 0 where denom2 is 0"):
        rate_ratio_ci(2, 100, 5, 0)


# --------------------------------------------------------------------------------------
# Input handling shared by all functions
# --------------------------------------------------------------------------------------


def test_scalar_inputs_return_python_floats() -> None:
    for result in (
        proportion_ci(3, 10),
        rate_ci(3, 10),
        rate_ratio_ci(3, 10, 4, 10),
        poisson_exact_ci(3),
        byar_ci(3),
        proportion_ci(np.int64(3), np.float64(10)),
    ):
        assert all(type(v) is float for v in result)


def test_array_inputs_broadcast_and_return_arrays() -> None:
    numerators = np.array([[0], [5]])  # shape (2, 1)
    denominators = np.array([10, 20, 40])  # shape (3,)
    lower, upper = proportion_ci(numerators, denominators)
    assert isinstance(lower, np.ndarray) and lower.shape == (2, 3) and lower.dtype == np.float64
    assert upper.shape == (2, 3)
    lower, upper = rate_ci([1, 20], 1000)
    assert lower.shape == (2,)
    ratio, lower, upper = rate_ratio_ci([3, 4], 100, 5, [100, 200])
    assert ratio.shape == lower.shape == upper.shape == (2,)


def test_empty_arrays() -> None:
    lower, upper = proportion_ci([], [])
    assert lower.shape == (0,) and upper.shape == (0,)
    lower, upper = rate_ci(np.array([], dtype=int), np.array([], dtype=float))
    assert lower.shape == (0,)


def test_shapes_that_do_not_broadcast_raise() -> None:
    with pytest.raises(ValueError, match="broadcast"):
        proportion_ci([1, 2], [10, 20, 30])


@pytest.mark.parametrize("bad", [-1, -0.5])
def test_negative_counts_raise(bad: float) -> None:
    with pytest.raises(ValueError, match="numerator must be greater than or equal to zero"):
        proportion_ci(bad, 10)
    with pytest.raises(ValueError, match="denominator must be greater than or equal to zero"):
        proportion_ci(0, bad)
    with pytest.raises(ValueError, match="count must be greater than or equal to zero"):
        rate_ci(bad, 10)
    with pytest.raises(ValueError, match="count must be greater than or equal to zero"):
        poisson_exact_ci(bad)
    with pytest.raises(ValueError, match="count must be greater than or equal to zero"):
        byar_ci(bad)
    with pytest.raises(ValueError, match="count2 must be greater than or equal to zero"):
        rate_ratio_ci(1, 10, bad, 10)


def test_numerator_above_denominator_raises_for_proportions() -> None:
    with pytest.raises(ValueError, match="numerator must be less than or equal to denominator"):
        proportion_ci([5, 11], [10, 10])


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_inputs_raise(bad: float) -> None:
    with pytest.raises(ValueError, match="numerator must be finite"):
        proportion_ci([1, bad], 10)
    with pytest.raises(ValueError, match="denominator must be finite"):
        rate_ci(1, bad)
    with pytest.raises(ValueError, match="denom2 must be finite"):
        rate_ratio_ci(1, 10, 1, bad)


@pytest.mark.parametrize("bad", ["5", None, [1, "a"], 1 + 2j])
def test_non_numeric_inputs_raise(bad: object) -> None:
    with pytest.raises(ValueError, match="must be numeric"):
        proportion_ci(bad, 10)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [0, 1, 0.0, 1.0, -0.1, 1.5, math.nan, math.inf, True, "0.95", None])
def test_invalid_confidence_raises(bad: object) -> None:
    with pytest.raises(ValueError, match="confidence"):
        proportion_ci(1, 10, confidence=bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="confidence"):
        rate_ci(1, 10, confidence=bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="confidence"):
        rate_ratio_ci(1, 10, 1, 10, confidence=bad)  # type: ignore[arg-type]


def test_percentage_confidence_gets_a_hint() -> None:
    with pytest.raises(ValueError, match=r"give a fraction: 0\.95, not 95"):
        rate_ci(1, 10, confidence=95)


def test_other_confidence_levels_are_accepted() -> None:
    for confidence in (0.5, 0.8, 0.9, 0.99, 0.999, np.float64(0.95)):
        lower, upper = rate_ci(7, 1000, confidence=confidence)
        assert 0 < lower < 7 < upper


@pytest.mark.parametrize("bad", [0, -1000, math.nan, [1000, 100]])
def test_invalid_multiplier_raises(bad: object) -> None:
    with pytest.raises(ValueError, match="multiplier"):
        rate_ci(1, 10, multiplier=bad)  # type: ignore[arg-type]


def test_large_counts_stay_finite_and_ordered() -> None:
    lower, upper = rate_ci(10_000_000, 1e9)
    assert 0 < lower < 10 < upper
    lower, upper = proportion_ci(999_999_999, 1_000_000_000, confidence=0.998)
    assert 0 < lower < 0.999999999 < upper <= 1


def test_risk_ratio_katz_by_hand() -> None:
    # 30/100 against 20/200: RR = 0.30 / 0.10 = 3.0.
    # SE(ln RR) = √(1/30 − 1/100 + 1/20 − 1/200) = √(0.033333 − 0.01 + 0.05 − 0.005) = √0.068333 = 0.261406
    # 95%: 3.0 · exp(∓1.959964 × 0.261406) = 3.0 · exp(∓0.512344) → 1.797263, 5.007614
    from matneo.stats import risk_ratio_ci

    ratio, lower, upper = risk_ratio_ci(30, 100, 20, 200)
    assert ratio == pytest.approx(3.0)
    assert lower == pytest.approx(3.0 * math.exp(-1.959964 * math.sqrt(0.068333333)), rel=1e-6)
    assert upper == pytest.approx(3.0 * math.exp(1.959964 * math.sqrt(0.068333333)), rel=1e-6)
    assert (lower, upper) == pytest.approx((1.797263, 5.007614), rel=1e-5)
    with pytest.raises(ValueError, match="larger than its denominator"):
        risk_ratio_ci(5, 4, 1, 10)
