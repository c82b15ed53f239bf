"""Rare-event charts: g-chart and exact count limits, against hand calculations and published facts."""

from __future__ import annotations

import math

import numpy as np
import pytest

from matneo.stats.rare import (
    ONE_SIDED_3_SIGMA,
    exact_false_alarm_probability,
    exact_upper_limit,
    g_chart,
    g_chart_probability_limits,
    gaps_between_events,
)


def test_gaps_by_hand() -> None:
    # 0 0 1 | 0 1 | 1 | 0 0 (incomplete): gaps 2, 1, 0
    assert gaps_between_events([0, 0, 1, 0, 1, 1, 0, 0]).tolist() == [2.0, 1.0, 0.0]
    assert gaps_between_events([0, 0]).size == 0
    with pytest.raises(ValueError):
        gaps_between_events([0, 2])


def test_g_chart_by_hand() -> None:
    # gaps 10, 30, 20: mean 20; spread 3·√(20·21) = 3·20.4939 = 61.4817
    chart = g_chart([10, 30, 20])
    assert chart.mean == 20.0
    assert chart.upper == pytest.approx(20 + 3 * math.sqrt(420))
    assert chart.upper == pytest.approx(81.4817, abs=1e-4)
    assert chart.lower == 0.0  # 20 − 61.48 < 0
    # Provost & Murray 2011 pp. 228-229: the centre line is the geometric median, 0.693 × mean
    assert chart.centre == pytest.approx(0.693 * 20, abs=0.01)


def test_g_chart_lower_limit_when_gaps_are_short_and_steady() -> None:
    # A mean below 3/(9 − 1)·… never gives a positive LCL: ḡ − 3√(ḡ(ḡ+1)) < 0 for every ḡ > 0
    # (ḡ² < 9ḡ² + 9ḡ), so the lower limit is always 0 — deterioration is read from runs.
    for mean in (0.5, 5.0, 500.0):
        assert g_chart([mean, mean]).lower == 0.0


def test_g_chart_needs_two_gaps() -> None:
    with pytest.raises(ValueError):
        g_chart([3])
    with pytest.raises(ValueError):
        g_chart([3, -1])


def test_probability_limits_by_hand() -> None:
    # ḡ = 20: p = 1/21, q = 20/21. Upper: smallest k with q^k ≤ 0.00135:
    # ln 0.00135 / ln(20/21) = 135.43 → 136; check q^136 = 0.00130 ≤ α < q^135 = 0.00137.
    lower, upper = g_chart_probability_limits(20.0)
    assert upper == 136.0
    q = 20 / 21
    assert q**136 <= ONE_SIDED_3_SIGMA < q**135
    # Lower: (k + 1) ≤ ln(1 − α)/ln q = 0.0277 has no k ≥ 0, so no short gap is unusual: 0.
    assert lower == 0.0


def test_exact_poisson_limit_by_hand() -> None:
    # Mean 2: P(X ≥ 7) = 1 − e^−2 Σ_{k≤6} 2^k/k! = 0.004534; P(X ≥ 8) = 0.001097 ≤ 0.00135
    tail7 = 1 - math.exp(-2) * sum(2**k / math.factorial(k) for k in range(7))
    tail8 = 1 - math.exp(-2) * sum(2**k / math.factorial(k) for k in range(8))
    assert tail7 == pytest.approx(0.004534, abs=1e-6) and tail8 == pytest.approx(0.001097, abs=1e-6)
    assert exact_upper_limit([2.0]).tolist() == [8.0]
    assert exact_false_alarm_probability([2.0])[0] == pytest.approx(tail8, rel=1e-9)
    # Mean 0.5: P(X ≥ 4) = 0.001752 > α, P(X ≥ 5) = 0.000172: limit 5
    assert exact_upper_limit([0.5]).tolist() == [5.0]


def test_exact_binomial_limit_by_hand() -> None:
    # 10 births with p = 0.1 (expected 1): P(X ≥ 5) = Σ_{k≥5} C(10,k) 0.1^k 0.9^(10−k) = 0.001635 > α;
    # P(X ≥ 6) = 0.000147 ≤ α: limit 6
    tail = [sum(math.comb(10, k) * 0.1**k * 0.9 ** (10 - k) for k in range(j, 11)) for j in (5, 6)]
    assert tail[0] == pytest.approx(0.001635, abs=1e-6) and tail[1] == pytest.approx(0.000147, abs=1e-6)
    assert exact_upper_limit([1.0], trials=[10]).tolist() == [6.0]
    assert exact_false_alarm_probability([1.0], trials=[10])[0] == pytest.approx(tail[1], rel=1e-6)


def test_false_alarm_probability_never_exceeds_alpha() -> None:
    means = np.linspace(0.05, 40, 200)
    assert np.all(exact_false_alarm_probability(means) <= ONE_SIDED_3_SIGMA)
    # whereas a symmetric 3σ limit on a mean of 1 (1 + 3·1 = 4: a point above 4, i.e. ≥ 5) alarms
    # with P(X ≥ 5) = 0.00366, 2.7 times the nominal rate — the reason for exact limits
    assert 1 - math.exp(-1) * sum(1 / math.factorial(k) for k in range(5)) == pytest.approx(0.00366, abs=1e-5)
