"""The vectorised building blocks: calibration, grouped categorical draws, id strings."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matneo.synth.sampling import calibrate_intercept, categorical, expit, hex_ids, joined_ids, splitmix64


@given(
    rate=st.floats(1e-5, 0.5),
    spread=st.floats(0.0, 6.0),
    n=st.sampled_from([10, 1000, 200_001]),
)
@settings(max_examples=30, deadline=None)
def test_calibrated_intercept_hits_the_target(rate: float, spread: float, n: int) -> None:
    rng = np.random.default_rng(0)
    offset = rng.normal(0, spread, n)
    weights = rng.integers(1, 3, n).astype(float)
    a = calibrate_intercept(offset, rate * weights.sum(), weights)
    assert np.dot(weights, expit(a + offset)) == pytest.approx(rate * weights.sum(), rel=1e-6)


def test_calibration_edge_cases() -> None:
    assert calibrate_intercept(np.array([]), 1.0) == 0.0
    assert expit(calibrate_intercept(np.zeros(10), 0.0)) < 1e-20
    assert expit(calibrate_intercept(np.zeros(10), 10.0)) == 1.0


def test_categorical_follows_each_groups_probabilities() -> None:
    rng = np.random.default_rng(1)
    probs = np.array([[0.2, 0.0, 0.8, 0.0], [0.0, 0.5, 0.25, 0.25], [1.0, 0.0, 0.0, 0.0]])
    group = rng.integers(0, 3, 300_000)
    drawn = categorical(rng.random(group.size), group, probs)
    for g in range(3):
        freq = np.bincount(drawn[group == g], minlength=4) / (group == g).sum()
        np.testing.assert_allclose(freq, probs[g], atol=0.005)
        assert (freq[probs[g] == 0] == 0).all(), "zero-probability categories never drawn"


def test_categorical_at_the_edges_of_the_unit_interval() -> None:
    probs = np.array([[0.0, 1.0, 0.0], [0.3, 0.7, 0.0]])
    u = np.array([0.0, np.nextafter(1.0, 0.0), 0.0, np.nextafter(1.0, 0.0)])
    assert categorical(u, np.array([0, 0, 1, 1]), probs).tolist() == [1, 1, 0, 1]


def test_hex_ids_are_fixed_width_and_distinct() -> None:
    values = splitmix64(np.arange(100_000, dtype=np.uint64))
    ids = hex_ids("M", values).to_pylist()
    assert len(set(ids)) == len(ids)
    assert ids[0] == "M" + format(int(values[0]), "016x")


def test_joined_ids_for_equal_and_mixed_code_lengths() -> None:
    out = joined_ids(("RXX", "RYY"), np.array([1, 0]), "-2019-", np.array([7, 123456]), 6).to_pylist()
    assert out == ["RYY-2019-000007", "RXX-2019-123456"]
    out = joined_ids(("R1", "RAB12"), np.array([0, 1]), "-2020-", np.array([1, 2_000_000]), 6).to_pylist()
    assert out == ["R1-2020-0000001", "RAB12-2020-2000000"]
