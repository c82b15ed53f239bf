"""Property-based tests (hypothesis) for ``matneo.stats`` confidence intervals."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from matneo.stats import poisson_exact_ci, proportion_ci, rate_ci, rate_ratio_ci

pytestmark = pytest.mark.filterwarnings("error")

PROFILE = settings(deadline=None, max_examples=200, suppress_health_check=[HealthCheck.too_slow])

confidences = st.sampled_from([0.5, 0.8, 0.9, 0.95, 0.99, 0.998, 0.9999]) | st.floats(0.01, 0.9999)


@st.composite
def proportions(draw: st.DrawFn) -> tuple[int, int]:
    n = draw(st.integers(1, 1_000_000))
    x = draw(st.integers(0, n))
    return x, n


counts = st.integers(0, 1_000_000)
denominators = st.floats(1.0, 1e8, allow_nan=False, allow_infinity=False)


# --------------------------------------------------------------------------------------
# Proportions
# --------------------------------------------------------------------------------------


@PROFILE
@given(proportions(), confidences)
def test_proportion_bounds_are_ordered_and_contain_estimate(xn: tuple[int, int], confidence: float) -> None:
    x, n = xn
    lower, upper = proportion_ci(x, n, confidence)
    assert 0.0 <= lower <= x / n <= upper <= 1.0
    if x == 0:
        assert lower == 0.0
    if x == n:
        assert upper == 1.0


@PROFILE
@given(proportions(), st.integers(2, 50), confidences)
def test_proportion_interval_narrows_as_denominator_grows(xn: tuple[int, int], k: int, confidence: float) -> None:
    x, n = xn
    lower, upper = proportion_ci(x, n, confidence)
    lower_k, upper_k = proportion_ci(k * x, k * n, confidence)
    assert upper_k - lower_k < upper - lower


@PROFILE
@given(proportions())
def test_proportion_998_contains_95(xn: tuple[int, int]) -> None:
    x, n = xn
    lower95, upper95 = proportion_ci(x, n, 0.95)
    lower998, upper998 = proportion_ci(x, n, 0.998)
    assert lower998 <= lower95 and upper95 <= upper998


@PROFILE
@given(proportions(), confidences)
def test_proportion_is_symmetric_in_events_and_non_events(xn: tuple[int, int], confidence: float) -> None:
    # Wilson intervals for x/n and (n − x)/n mirror each other about 1/2.
    x, n = xn
    lower, upper = proportion_ci(x, n, confidence)
    mirror_lower, mirror_upper = proportion_ci(n - x, n, confidence)
    assert lower == pytest.approx(1 - mirror_upper, abs=1e-12)
    assert upper == pytest.approx(1 - mirror_lower, abs=1e-12)


@PROFILE
@given(st.lists(proportions(), min_size=1, max_size=20), confidences)
def test_proportion_vectorised_equals_elementwise(items: list[tuple[int, int]], confidence: float) -> None:
    xs = np.array([x for x, _ in items])
    ns = np.array([n for _, n in items])
    lower, upper = proportion_ci(xs, ns, confidence)
    scalar = np.array([proportion_ci(int(x), int(n), confidence) for x, n in items])
    np.testing.assert_allclose(lower, scalar[:, 0], rtol=1e-12, atol=0)
    np.testing.assert_allclose(upper, scalar[:, 1], rtol=1e-12, atol=0)


# --------------------------------------------------------------------------------------
# Rates
# --------------------------------------------------------------------------------------


@PROFILE
@given(counts, denominators, confidences)
def test_rate_bounds_are_ordered_and_contain_estimate(count: int, denominator: float, confidence: float) -> None:
    lower, upper = rate_ci(count, denominator, confidence, multiplier=1000)
    value = count / denominator * 1000
    assert 0.0 <= lower <= value <= upper
    assert np.isfinite(upper)
    if count == 0:
        assert lower == 0.0 and upper > 0.0


@PROFILE
@given(st.integers(0, 100_000), denominators, st.integers(2, 50), confidences)
def test_rate_interval_narrows_as_denominator_grows(count: int, denominator: float, k: int, confidence: float) -> None:
    lower, upper = rate_ci(count, denominator, confidence)
    lower_k, upper_k = rate_ci(k * count, k * denominator, confidence)
    assert upper_k - lower_k < upper - lower


@PROFILE
@given(counts, denominators)
def test_rate_998_contains_95(count: int, denominator: float) -> None:
    lower95, upper95 = rate_ci(count, denominator, 0.95)
    lower998, upper998 = rate_ci(count, denominator, 0.998)
    assert lower998 <= lower95 and upper95 <= upper998


@PROFILE
@given(st.lists(st.tuples(counts, denominators), min_size=1, max_size=20), confidences)
def test_rate_vectorised_equals_elementwise(items: list[tuple[int, float]], confidence: float) -> None:
    xs = np.array([x for x, _ in items])
    ds = np.array([d for _, d in items])
    lower, upper = rate_ci(xs, ds, confidence, multiplier=100_000)
    scalar = np.array([rate_ci(x, d, confidence, multiplier=100_000) for x, d in items])
    np.testing.assert_allclose(lower, scalar[:, 0], rtol=1e-12, atol=0)
    np.testing.assert_allclose(upper, scalar[:, 1], rtol=1e-12, atol=0)


@PROFILE
@given(st.integers(0, 5_000), st.sampled_from([0.9, 0.95, 0.99, 0.998]))
def test_exact_poisson_bounds_have_the_defining_tail_probabilities(count: int, confidence: float) -> None:
    # Independent check with scipy.stats: P(X ≥ x | μ = lower) = α/2 and P(X ≤ x | μ = upper) = α/2.
    half_alpha = (1 - confidence) / 2
    lower, upper = poisson_exact_ci(count, confidence)
    if count > 0:
        assert sps.poisson.sf(count - 1, lower) == pytest.approx(half_alpha, rel=1e-8)
    else:
        assert lower == 0.0
    assert sps.poisson.cdf(count, upper) == pytest.approx(half_alpha, rel=1e-8)


# --------------------------------------------------------------------------------------
# Rate ratios
# --------------------------------------------------------------------------------------

positive_counts = st.integers(1, 100_000)


@PROFILE
@given(positive_counts, denominators, positive_counts, denominators, confidences)
def test_rate_ratio_bounds_are_ordered_and_contain_estimate(
    o1: int, n1: float, o2: int, n2: float, confidence: float
) -> None:
    ratio, lower, upper = rate_ratio_ci(o1, n1, o2, n2, confidence)
    assert ratio == pytest.approx((o1 / n1) / (o2 / n2), rel=1e-12)
    assert 0.0 < lower <= ratio <= upper < np.inf


@PROFILE
@given(positive_counts, denominators, positive_counts, denominators, st.integers(2, 50))
def test_rate_ratio_narrows_as_counts_grow(o1: int, n1: float, o2: int, n2: float, k: int) -> None:
    _, lower, upper = rate_ratio_ci(o1, n1, o2, n2)
    _, lower_k, upper_k = rate_ratio_ci(k * o1, k * n1, k * o2, k * n2)
    assert upper_k - lower_k < upper - lower


@PROFILE
@given(positive_counts, denominators, positive_counts, denominators)
def test_rate_ratio_998_contains_95(o1: int, n1: float, o2: int, n2: float) -> None:
    _, lower95, upper95 = rate_ratio_ci(o1, n1, o2, n2, 0.95)
    _, lower998, upper998 = rate_ratio_ci(o1, n1, o2, n2, 0.998)
    assert lower998 <= lower95 and upper95 <= upper998


@PROFILE
@given(positive_counts, denominators, positive_counts, denominators, confidences)
def test_rate_ratio_swapping_groups_inverts_the_interval(
    o1: int, n1: float, o2: int, n2: float, confidence: float
) -> None:
    ratio, lower, upper = rate_ratio_ci(o1, n1, o2, n2, confidence)
    inv_ratio, inv_lower, inv_upper = rate_ratio_ci(o2, n2, o1, n1, confidence)
    assert inv_ratio == pytest.approx(1 / ratio, rel=1e-12)
    assert inv_lower == pytest.approx(1 / upper, rel=1e-12)
    assert inv_upper == pytest.approx(1 / lower, rel=1e-12)


@PROFILE
@given(
    st.lists(
        st.tuples(st.integers(0, 10_000), denominators, st.integers(0, 10_000), denominators), min_size=1, max_size=20
    ),
    confidences,
)
def test_rate_ratio_vectorised_equals_elementwise(
    items: list[tuple[int, float, int, float]], confidence: float
) -> None:
    cols = [np.array(col) for col in zip(*items, strict=True)]
    vector = np.array(rate_ratio_ci(*cols, confidence=confidence))
    scalar = np.array([rate_ratio_ci(*item, confidence=confidence) for item in items]).T
    np.testing.assert_allclose(vector, scalar, rtol=1e-12, atol=0, equal_nan=True)
