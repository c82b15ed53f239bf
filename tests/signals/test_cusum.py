"""Tests for ``matneo.signals.cusum``, the risk-adjusted Bernoulli CUSUM.

Published values reproduced here:

* Steiner SH, Cook RJ, Farewell VT, Treasure T. Biostatistics 2000;1(4):441-452, p. 446: CUSUM
  scores for patients with Parsonnet scores 0 and 50, risk model logit(p) = −3.68 + 0.077·Parsonnet,
  R = 2: −0.024 and 0.67 (survived/died, Parsonnet 0), −0.43 and 0.26 (Parsonnet 50). To three
  decimals, as in Steiner SH, "Risk-adjusted monitoring of outcomes in health care", in Lawless JF
  (ed.), *Statistics in Action*, CRC 2014, p. 234: −0.024, 0.669, −0.433, 0.26, and for R = 1/2
  0.012, −0.681, 0.316, −0.377. Both are the expected values of ``vlad``'s
  ``tests/testthat/test-llr_score.R`` (``wittenberg/vlad``), read via the search index.
* ``vlad`` ``tests/testthat/test-racusum_beta_arl_mc.R``: the cardiac-surgery setting of Steiner
  et al. with the Parsonnet score modelled as 71·Beta(1, 3) and the risk model
  logit(p) = −3.6798 + 0.0768·Parsonnet; at h = 4.5 the in-control ARL is 4474.738 patients for
  R = 2 and 5658.854 for R = 1/2. These are Markov-chain approximations with 600 states. An
  independent Brook-Evans chain written while developing this module reproduced them at 600
  states (4475.1 and 5663.9) and moved to about 4,490 and 5,720 at 1,200-2,400 states; a 50,000-run
  simulation gave 5,733 ± 25 for R = 1/2. So the R = 1/2 reference is about 1.5% low because
  of the discretisation, and the tolerance below allows for 2% of chain error plus 4 Monte Carlo
  standard errors.

Not reproduced: the figure often quoted from Steiner et al. (2000) of an in-control ARL of about
9,600 at h = 4.5 for their patient mix. We could not check it against the paper or against the
vlad or cusum tests and vignettes, so it is not asserted here.

Unadjusted special case (constant p): the exact in-control and out-of-control ARLs are computed
here independently of the module, by a renewal argument (Page 1954): each excursion from 0 is a
sequential test that ends at 0 or at h, and ARL = E[excursion length] / P(excursion ends at h).
The distribution of an excursion is propagated exactly over (time, number of events), because
with constant p the chart value is a function of those two counts. That calculation is itself
checked against a small exact Markov chain on an integer lattice, for a p where the event and
non-event scores are commensurate (p = 2^(1/4) − 1, so the event score is exactly −3 times the
non-event score).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.special import expit

from matneo.signals.cusum import (
    CusumResult,
    RunLengthEstimate,
    arl_in_months,
    average_run_length,
    cusum_weights,
    run_cusum,
    threshold_for_arl,
)

pytestmark = pytest.mark.filterwarnings("error")

LN2 = math.log(2.0)


# --------------------------------------------------------------------------------------
# Independent reference calculations (test-only)
# --------------------------------------------------------------------------------------


def exact_bernoulli_arl(p0: float, odds_ratio: float, h: float, p_true: float | None = None) -> float:
    """Exact ARL of the unadjusted Bernoulli CUSUM by the renewal argument (see module docstring).

    An excursion starts at S = 0. After t patients with i events the chart is at
    i·up + (t − i)·down provided it has stayed in (0, h) so far. ``alive[k]`` is the probability
    of being alive with i = low + k events at time t.
    """
    pt = p0 if p_true is None else p_true
    up = math.log(odds_ratio) - math.log1p((odds_ratio - 1.0) * p0)
    down = -math.log1p((odds_ratio - 1.0) * p0)
    alive = np.array([1.0])
    low = 0  # number of events of alive[0]
    t = 0
    expected_length = 0.0  # sum over t >= 0 of P(excursion still running after t patients)
    p_top = 0.0
    while alive.sum() > 1e-15:
        expected_length += alive.sum()
        nxt = np.zeros(alive.size + 1)
        nxt[1:] += pt * alive
        nxt[:-1] += (1.0 - pt) * alive
        t += 1
        events = low + np.arange(nxt.size)
        value = events * up + (t - events) * down
        top = value >= h
        p_top += nxt[top].sum()
        nxt[top | (value <= 0.0)] = 0.0
        nonzero = np.flatnonzero(nxt)
        if nonzero.size == 0:
            break
        low += int(nonzero[0])
        alive = nxt[nonzero[0] : nonzero[-1] + 1]
    return expected_length / p_top


def lattice_arl(p: float, up_units: int, states: int) -> float:
    """ARL of a CUSUM on the integers 0..states−1: +up_units w.p. p, else −1, floored at 0.

    Solves (I − P)·L = 1 for the transient states (Brook and Evans, Biometrika 1972;59:539-549);
    exact here because the chart only takes these values.
    """
    transition = np.zeros((states, states))
    for k in range(states):
        if k + up_units < states:
            transition[k, k + up_units] += p
        transition[k, max(k - 1, 0)] += 1.0 - p
    arl = np.linalg.solve(np.eye(states) - transition, np.ones(states))
    return float(arl[0])


def scalar_cusum(w: list[float], h: float, reset: bool) -> list[float]:
    """The textbook recursion, one patient at a time, for comparison with the module."""
    out, s = [], 0.0
    for x in w:
        if math.isnan(x):
            out.append(s)
            continue
        s = max(0.0, s + x)
        out.append(s)
        if reset and s >= h:
            s = 0.0
    return out


def parsonnet_beta_mix(rng: np.random.Generator, size: int) -> np.ndarray:
    """Patient mix of vlad's beta tests: Parsonnet = 71·Beta(1, 3), logit p = −3.6798 + 0.0768·Parsonnet."""
    return expit(-3.6798 + 0.0768 * 71 * rng.beta(1.0, 3.0, size))


# --------------------------------------------------------------------------------------
# Scores and paths: hand calculations
# --------------------------------------------------------------------------------------


class TestWeights:
    def test_constant_risk_by_hand(self) -> None:
        # p = 0.1, R = 2: 1 − p + R·p = 1.1.
        # event:     ln 2 − ln 1.1 = 0.693147 − 0.095310 = 0.597837
        # non-event:       − ln 1.1 =           −0.095310
        w = cusum_weights([1, 0], [0.1, 0.1], 2.0)
        assert w == pytest.approx([0.597837, -0.095310], abs=1e-6)

    def test_risk_adjusted_by_hand(self) -> None:
        # R = 2, so W = y·ln 2 − ln(1 + p):
        # p = 0.05, died:     0.693147 − 0.048790 =  0.644357
        # p = 0.20, survived:          − 0.182322 = −0.182322
        # p = 0.02, died:     0.693147 − 0.019803 =  0.673345
        # p = 0.40, died:     0.693147 − 0.336472 =  0.356675
        # p = 0.10, survived:          − 0.095310 = −0.095310
        w = cusum_weights([1, 0, 1, 1, 0], [0.05, 0.20, 0.02, 0.40, 0.10])
        assert w == pytest.approx([0.644357, -0.182322, 0.673345, 0.356675, -0.095310], abs=1e-6)

    def test_improvement_odds_ratio_by_hand(self) -> None:
        # R = 1/2, p = 0.2: 1 − p + R·p = 0.9.
        # survived: −ln 0.9 = 0.105361 (evidence of improvement)
        # died:     ln 0.5 − ln 0.9 = −0.693147 + 0.105361 = −0.587787
        w = cusum_weights([0, 1], 0.2, 0.5)
        assert w == pytest.approx([0.105361, -0.587787], abs=1e-6)

    def test_steiner_2000_p446(self) -> None:
        """Steiner et al. 2000 p. 446 (2 significant figures) and Steiner 2014 p. 234 (3 decimals)."""
        risks = expit(-3.68 + 0.077 * np.array([0, 0, 50, 50]))
        outcomes = [0, 1, 0, 1]
        w = cusum_weights(outcomes, risks, 2.0)
        assert w == pytest.approx([-0.024, 0.67, -0.43, 0.26], abs=0.005)
        assert np.round(w, 3) == pytest.approx([-0.024, 0.669, -0.433, 0.26], abs=1e-12)

    def test_steiner_2014_p234_improvement(self) -> None:
        risks = expit(-3.68 + 0.077 * np.array([0, 0, 50, 50]))
        w = cusum_weights([0, 1, 0, 1], risks, 0.5)
        assert np.round(w, 3) == pytest.approx([0.012, -0.681, 0.316, -0.377], abs=1e-12)

    def test_scalar_risk_broadcasts(self) -> None:
        assert cusum_weights([1, 0, 0], 0.1) == pytest.approx(cusum_weights([1, 0, 0], [0.1, 0.1, 0.1]))

    def test_nan_outcome_gives_nan_weight(self) -> None:
        w = cusum_weights([1.0, math.nan, 0.0], [0.1, math.nan, 0.1])
        assert math.isnan(w[1])
        assert w[[0, 2]] == pytest.approx([0.597837, -0.095310], abs=1e-6)

    def test_boolean_outcomes(self) -> None:
        assert cusum_weights([True, False], 0.1) == pytest.approx(cusum_weights([1, 0], 0.1))


# p = 0.1, R = 2: an event adds 0.597837, a non-event subtracts 0.095310 (see TestWeights).
HAND_OUTCOMES = [0, 1, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0]


class TestPath:
    def test_reset_after_signal_by_hand(self) -> None:
        # h = 1.0, reset to zero after a signal:
        # t=0  y=0: max(0, 0 − 0.095310)          = 0
        # t=1  y=1: 0 + 0.597837                  = 0.597837
        # t=2  y=0: 0.597837 − 0.095310           = 0.502527
        # t=3  y=1: 0.502527 + 0.597837           = 1.100364 ≥ 1 → signal, restart from 0
        # t=4  y=1: 0 + 0.597837                  = 0.597837
        # t=5..10 each − 0.095310: 0.502527, 0.407217, 0.311906, 0.216596, 0.121286, 0.025976
        # t=11 y=0: max(0, 0.025976 − 0.095310)   = 0
        result = run_cusum(HAND_OUTCOMES, 0.1, 2.0, threshold=1.0, reset="zero")
        expected = [0, 0.597837, 0.502527, 1.100364, 0.597837, 0.502527, 0.407217, 0.311906]
        expected += [0.216596, 0.121286, 0.025976, 0]
        assert result.path == pytest.approx(expected, abs=1e-6)
        assert result.signals.tolist() == [3]
        assert result.n_signals == 1

    def test_no_reset_by_hand(self) -> None:
        # Same data without reset: from t=3 the chart keeps climbing:
        # t=4 1.100364 + 0.597837 = 1.698201, then −0.095310 a patient down to
        # t=11 1.698201 − 7·0.095310 = 1.031031, still ≥ 1: a single upcrossing, at t = 3.
        result = run_cusum(HAND_OUTCOMES, 0.1, 2.0, threshold=1.0, reset="none")
        expected = [0, 0.597837, 0.502527, 1.100364, 1.698201, 1.602891, 1.507580, 1.412270]
        expected += [1.316960, 1.221650, 1.126340, 1.031030]
        assert result.path == pytest.approx(expected, abs=2e-6)
        assert result.signals.tolist() == [3]

    def test_no_reset_signals_each_upcrossing(self) -> None:
        # p = 0.5, R = 2: event +ln(2/1.5) = +0.287682, non-event −ln 1.5 = −0.405465; h = 0.5.
        # 1,1 → 0.287682, 0.575364 (cross); 0,0 → 0.169899, 0; 1,1 → 0.287682, 0.575364 (cross).
        result = run_cusum([1, 1, 0, 0, 1, 1], 0.5, 2.0, threshold=0.5, reset="none")
        assert result.path == pytest.approx([0.287682, 0.575364, 0.169899, 0, 0.287682, 0.575364], abs=1e-6)
        assert result.signals.tolist() == [1, 5]

    def test_risk_adjusted_path_by_hand(self) -> None:
        # Scores from test_risk_adjusted_by_hand; cumulative with floor at 0:
        # 0.644357, 0.644357 − 0.182322 = 0.462035, + 0.673345 = 1.135380 (≥ 1.1: signal, reset),
        # then 0 + 0.356675 = 0.356675, − 0.095310 = 0.261365.
        result = run_cusum([1, 0, 1, 1, 0], [0.05, 0.20, 0.02, 0.40, 0.10], threshold=1.1)
        assert result.path == pytest.approx([0.644357, 0.462035, 1.135380, 0.356675, 0.261365], abs=1e-6)
        assert result.signals.tolist() == [2]
        # Without the reset, the path continues from 1.135380:
        unreset = run_cusum([1, 0, 1, 1, 0], [0.05, 0.20, 0.02, 0.40, 0.10], threshold=1.1, reset="none")
        assert unreset.path[3:] == pytest.approx([1.492055, 1.396745], abs=1e-6)

    def test_improvement_chart_by_hand(self) -> None:
        # R = 1/2, p = 0.2: every survivor adds 0.105361, so 10 survivors reach
        # 10·0.105361 = 1.053605 ≥ h = 1 at the tenth patient (index 9); 9 give 0.948245 < 1.
        result = run_cusum([0] * 12, 0.2, 0.5, threshold=1.0)
        assert result.signals.tolist() == [9]
        assert result.path[8] == pytest.approx(0.948245, abs=1e-6)
        assert result.path[9] == pytest.approx(1.053605, abs=1e-6)
        assert result.path[11] == pytest.approx(2 * 0.105361, abs=1e-6)

    def test_missing_outcomes_are_skipped(self) -> None:
        # NaN patients carry the value forward and cannot signal.
        outcomes = [1, math.nan, 0, 1, math.nan]
        result = run_cusum(outcomes, [0.1, math.nan, 0.1, 0.1, 0.1], threshold=1.0)
        assert result.path == pytest.approx([0.597837, 0.597837, 0.502527, 1.100364, 0.0], abs=1e-6)
        assert result.signals.tolist() == [3]
        unreset = run_cusum(outcomes, [0.1, 0.5, 0.1, 0.1, 0.1], threshold=1.0, reset="none")
        assert unreset.path[-1] == pytest.approx(1.100364, abs=1e-6)
        assert unreset.signals.tolist() == [3]

    def test_dates_and_records(self) -> None:
        dates = [dt.date(2025, 1, d) for d in range(1, 13)]
        result = run_cusum(HAND_OUTCOMES, 0.1, threshold=1.0, dates=dates)
        assert result.signal_dates == (dt.date(2025, 1, 4),)
        records = result.to_records()
        assert len(records) == 12
        assert records[3] == {
            "index": 3,
            "date": dt.date(2025, 1, 4),
            "outcome": 1,
            "risk": 0.1,
            "weight": pytest.approx(0.597837, abs=1e-6),
            "cusum": pytest.approx(1.100364, abs=1e-6),
            "signal": True,
        }
        assert [r["signal"] for r in records].count(True) == 1

    def test_numpy_dates(self) -> None:
        dates = np.arange("2025-01-01", "2025-01-13", dtype="datetime64[D]")
        result = run_cusum(HAND_OUTCOMES, 0.1, threshold=1.0, dates=dates)
        assert result.signal_dates == (dt.date(2025, 1, 4),)

    def test_records_without_dates_and_with_missing(self) -> None:
        records = run_cusum([1, math.nan], [0.1, math.nan], threshold=5.0).to_records()
        assert "date" not in records[0]
        assert records[1] == {
            "index": 1,
            "outcome": None,
            "risk": None,
            "weight": None,
            "cusum": records[0]["cusum"],
            "signal": False,
        }
        assert run_cusum([1], 0.1, threshold=5.0).signal_dates is None

    def test_result_is_immutable(self) -> None:
        result = run_cusum(HAND_OUTCOMES, 0.1, threshold=1.0)
        assert isinstance(result, CusumResult)
        with pytest.raises(dataclasses.FrozenInstanceError):
            result.threshold = 2.0  # type: ignore[misc]
        with pytest.raises(ValueError, match="read-only"):
            result.path[0] = 1.0

    def test_inputs_are_not_modified(self) -> None:
        outcomes = np.array(HAND_OUTCOMES, dtype=float)
        risks = np.full(12, 0.1)
        run_cusum(outcomes, risks, threshold=1.0)
        outcomes[0] = 1.0  # still writeable, and the result kept its own copy
        assert risks.flags.writeable

    def test_one_hundred_thousand_patients_well_under_a_second(self) -> None:
        rng = np.random.default_rng(7)
        risks = rng.uniform(0.001, 0.05, 100_000)
        outcomes = rng.random(100_000) < 2 * risks
        for reset in ("zero", "none"):
            start = time.perf_counter()
            result = run_cusum(outcomes, risks, threshold=3.0, reset=reset)
            elapsed = time.perf_counter() - start
            assert result.path.size == 100_000
            assert elapsed < 0.5, f"reset={reset}: {elapsed:.3f}s"


class TestValidation:
    @pytest.mark.parametrize("risk", [0.0, 1.0, -0.1, 1.2, math.inf])
    def test_risk_outside_unit_interval(self, risk: float) -> None:
        with pytest.raises(ValueError, match="strictly between 0 and 1"):
            cusum_weights([0, 1], [0.1, risk])
        with pytest.raises(ValueError, match="strictly between 0 and 1"):
            run_cusum([0, 1], [0.1, risk], threshold=1.0)
        with pytest.raises(ValueError, match="strictly between 0 and 1"):
            average_run_length([0.1, risk], threshold=1.0)

    def test_nan_risk_with_known_outcome(self) -> None:
        with pytest.raises(ValueError, match="NaN where the outcome is known"):
            run_cusum([0, 1], [0.1, math.nan], threshold=1.0)

    @pytest.mark.parametrize("outcomes", [[0, 2], [0, -1], [0.5, 1]])
    def test_outcomes_must_be_binary(self, outcomes: list[float]) -> None:
        with pytest.raises(ValueError, match="outcomes must be 0"):
            run_cusum(outcomes, 0.1, threshold=1.0)

    def test_non_numeric(self) -> None:
        with pytest.raises(ValueError, match="numeric"):
            cusum_weights(["0", "1"], 0.1)
        with pytest.raises(ValueError, match="numeric"):
            cusum_weights([0, 1], ["0.1", "0.1"])

    def test_lengths(self) -> None:
        with pytest.raises(ValueError, match="same length"):
            cusum_weights([0, 1, 0], [0.1, 0.2])
        with pytest.raises(ValueError, match="dates"):
            run_cusum([0, 1], 0.1, threshold=1.0, dates=[dt.date(2025, 1, 1)])
        with pytest.raises(ValueError, match="one-dimensional"):
            cusum_weights([[0, 1]], 0.1)

    @pytest.mark.parametrize("odds_ratio", [1.0, 0.0, -2.0, math.nan, math.inf, True, "2"])
    def test_odds_ratio(self, odds_ratio: object) -> None:
        with pytest.raises(ValueError, match="odds_ratio"):
            cusum_weights([0, 1], 0.1, odds_ratio)  # type: ignore[arg-type]

    @pytest.mark.parametrize("threshold", [0.0, -1.0, math.nan, math.inf])
    def test_threshold(self, threshold: float) -> None:
        with pytest.raises(ValueError, match="threshold"):
            run_cusum([0, 1], 0.1, threshold=threshold)
        with pytest.raises(ValueError, match="threshold"):
            average_run_length(0.1, threshold=threshold)

    def test_reset(self) -> None:
        with pytest.raises(ValueError, match="reset"):
            run_cusum([0, 1], 0.1, threshold=1.0, reset="always")  # type: ignore[arg-type]

    def test_simulation_arguments(self) -> None:
        with pytest.raises(ValueError, match="arl0"):
            threshold_for_arl(0.1, arl0=1.0)
        with pytest.raises(ValueError, match="n_sim"):
            average_run_length(0.1, threshold=1.0, n_sim=0)
        with pytest.raises(ValueError, match="seed"):
            average_run_length(0.1, threshold=1.0, seed=1.5)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="true_odds_ratio"):
            average_run_length(0.1, threshold=1.0, true_odds_ratio=0.0)
        with pytest.raises(ValueError, match="at least one"):
            average_run_length([], threshold=1.0)
        with pytest.raises(ValueError, match="NaN"):
            average_run_length([0.1, math.nan], threshold=1.0)

    def test_bad_sampler(self) -> None:
        with pytest.raises(ValueError, match="strictly between 0 and 1"):
            average_run_length(lambda rng, n: np.ones(n), threshold=1.0)
        with pytest.raises(ValueError, match="expected"):
            average_run_length(lambda rng, n: np.full(3, 0.1), threshold=1.0)

    def test_unreachable_threshold_gives_up(self) -> None:
        with pytest.raises(RuntimeError, match="too large to simulate"):
            average_run_length(0.01, threshold=30.0, n_sim=10, max_run_length=5_000)


# --------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------

PROFILE = settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow])

odds_ratios = st.sampled_from([0.25, 0.5, 2.0, 3.0]) | st.floats(0.05, 20.0).filter(lambda r: abs(r - 1.0) > 1e-3)


@st.composite
def series(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    n = draw(st.integers(1, 300))
    risks = np.array(draw(st.lists(st.floats(1e-4, 1 - 1e-4), min_size=n, max_size=n)))
    outcomes = np.array(draw(st.lists(st.sampled_from([0.0, 1.0, math.nan]), min_size=n, max_size=n)))
    return outcomes, risks


class TestProperties:
    @PROFILE
    @given(series(), odds_ratios, st.floats(0.05, 10.0), st.sampled_from(["zero", "none"]))
    def test_path_non_negative_and_matches_recursion(
        self, data: tuple[np.ndarray, np.ndarray], r: float, h: float, reset: str
    ) -> None:
        outcomes, risks = data
        result = run_cusum(outcomes, risks, r, threshold=h, reset=reset)  # type: ignore[arg-type]
        assert np.all(result.path >= 0.0)
        expected = scalar_cusum(cusum_weights(outcomes, risks, r).tolist(), h, reset == "zero")
        assert result.path == pytest.approx(expected, abs=1e-9)
        assert np.all(result.path[result.signals] >= h)

    @PROFILE
    @given(st.lists(st.floats(1e-4, 1 - 1e-4), min_size=1, max_size=500), st.floats(1.001, 20.0), st.floats(1e-3, 5.0))
    def test_no_events_never_signal_for_deterioration(self, risks: list[float], r: float, h: float) -> None:
        for reset in ("zero", "none"):
            result = run_cusum(np.zeros(len(risks)), risks, r, threshold=h, reset=reset)  # type: ignore[arg-type]
            assert result.n_signals == 0
            assert np.all(result.path == 0.0)

    @PROFILE
    @given(series(), odds_ratios, st.floats(0.05, 5.0), st.floats(0.0, 5.0))
    def test_higher_threshold_fewer_signals(
        self, data: tuple[np.ndarray, np.ndarray], r: float, h: float, extra: float
    ) -> None:
        outcomes, risks = data
        low = run_cusum(outcomes, risks, r, threshold=h)
        high = run_cusum(outcomes, risks, r, threshold=h + extra)
        assert high.n_signals <= low.n_signals
        # Without reset the path does not depend on h: the set of patients at or above h shrinks
        # and the first signal comes no earlier.
        low_none = run_cusum(outcomes, risks, r, threshold=h, reset="none")
        high_none = run_cusum(outcomes, risks, r, threshold=h + extra, reset="none")
        assert np.array_equal(low_none.path, high_none.path)
        assert not np.any((high_none.path >= h + extra) & (low_none.path < h))
        if high_none.n_signals:
            assert low_none.n_signals and high_none.signals[0] >= low_none.signals[0]

    @PROFILE
    @given(series(), odds_ratios, st.floats(0.05, 5.0))
    def test_reset_and_no_reset_agree_until_first_signal(
        self, data: tuple[np.ndarray, np.ndarray], r: float, h: float
    ) -> None:
        outcomes, risks = data
        zero = run_cusum(outcomes, risks, r, threshold=h, reset="zero")
        none = run_cusum(outcomes, risks, r, threshold=h, reset="none")
        stop = int(zero.signals[0]) + 1 if zero.n_signals else len(outcomes)
        assert zero.path[:stop] == pytest.approx(none.path[:stop], abs=1e-9)
        assert (zero.n_signals > 0) == (none.n_signals > 0)
        if zero.n_signals:
            assert zero.signals[0] == none.signals[0]


# --------------------------------------------------------------------------------------
# Run lengths and thresholds
# --------------------------------------------------------------------------------------


class TestReferenceCalculations:
    """The test-only exact ARL calculation agrees with an exact Markov chain where both apply."""

    def test_renewal_equals_lattice_markov_chain(self) -> None:
        # p = 2^(1/4) − 1 makes 1 + p = 2^(1/4): non-event score −ln2/4, event ln2 − ln2/4 = 3·ln2/4.
        # In units of ln2/4 the chart moves +3 or −1 on the integers; h = 11.5 units means a signal
        # on reaching 12, so the transient states are 0..11.
        p = 2.0**0.25 - 1.0
        unit = LN2 / 4
        lattice = lattice_arl(p, up_units=3, states=12)
        assert exact_bernoulli_arl(p, 2.0, 11.5 * unit) == pytest.approx(lattice, rel=1e-9)
        # and out of control (odds doubled): p_true = 2p / (1 + p)
        p_true = 2 * p / (1 + p)
        lattice_oc = lattice_arl(p_true, up_units=3, states=12)
        assert exact_bernoulli_arl(p, 2.0, 11.5 * unit, p_true=p_true) == pytest.approx(lattice_oc, rel=1e-9)


class TestAverageRunLength:
    def test_lattice_case(self) -> None:
        p = 2.0**0.25 - 1.0
        exact = lattice_arl(p, up_units=3, states=12)
        est = average_run_length(p, 2.0, threshold=11.5 * LN2 / 4, n_sim=4000, seed=1)
        assert abs(est.arl - exact) < 4 * est.standard_error

    @pytest.mark.parametrize(
        ("p", "h", "n_sim"),
        # exact ARLs 12,293, 1,458, 9,057 and (p = 0.004, a term perinatal mortality-like rate) 52,161
        [(0.01, 3.5, 2000), (0.1, 3.5, 2000), (0.5, 6.0, 2000), (0.004, 4.0, 500)],
    )
    def test_unadjusted_in_control(self, p: float, h: float, n_sim: int) -> None:
        exact = exact_bernoulli_arl(p, 2.0, h)
        est = average_run_length(p, 2.0, threshold=h, n_sim=n_sim, seed=20000441)
        assert isinstance(est, RunLengthEstimate)
        assert abs(est.arl - exact) < 4 * est.standard_error
        # run lengths are close to geometric: SE ≈ ARL/√n
        assert est.standard_error == pytest.approx(est.arl / math.sqrt(n_sim), rel=0.15)

    @pytest.mark.parametrize(("p", "h"), [(0.01, 3.5), (0.004, 4.0)])
    def test_unadjusted_out_of_control(self, p: float, h: float) -> None:
        p_true = 2 * p / (1 + p)  # odds doubled
        exact = exact_bernoulli_arl(p, 2.0, h, p_true=p_true)
        est = average_run_length([p] * 3, 2.0, threshold=h, true_odds_ratio=2.0, n_sim=2000, seed=5)
        assert abs(est.arl - exact) < 4 * est.standard_error
        assert est.arl < exact_bernoulli_arl(p, 2.0, h) / 10

    @pytest.mark.parametrize(("odds_ratio", "published"), [(2.0, 4474.738), (0.5, 5658.854)])
    def test_steiner_cardiac_surgery_setting(self, odds_ratio: float, published: float) -> None:
        """vlad ``test-racusum_beta_arl_mc.R``: h = 4.5, Parsonnet ~ 71·Beta(1, 3)."""
        est = average_run_length(parsonnet_beta_mix, odds_ratio, threshold=4.5, n_sim=2000, seed=2000)
        assert abs(est.arl - published) < 4 * est.standard_error + 0.02 * published

    def test_empirical_patient_mix(self) -> None:
        # A fixed list of 5,000 "past patients" drawn from the same mix behaves like the mix.
        risks = parsonnet_beta_mix(np.random.default_rng(99), 5000)
        est = average_run_length(risks, 2.0, threshold=4.5, n_sim=2000, seed=3)
        assert abs(est.arl - 4474.738) < 4 * est.standard_error + 0.05 * 4474.738

    def test_deterministic_given_seed(self) -> None:
        a = average_run_length(0.05, threshold=3.0, n_sim=500, seed=42)
        b = average_run_length(0.05, threshold=3.0, n_sim=500, seed=42)
        c = average_run_length(0.05, threshold=3.0, n_sim=500, seed=43)
        assert a == b
        assert a.arl != c.arl
        assert float(a) == a.arl


class TestThresholdForArl:
    def test_recovers_steiner_setting_h(self) -> None:
        h = threshold_for_arl(parsonnet_beta_mix, 2.0, arl0=4474.738, n_sim=2000, seed=11)
        assert h == pytest.approx(4.5, abs=0.1)

    def test_unadjusted_against_exact(self) -> None:
        target = exact_bernoulli_arl(0.01, 2.0, 3.5)  # 12,293 patients
        h = threshold_for_arl(0.01, 2.0, arl0=target, n_sim=2000, seed=12)
        assert h == pytest.approx(3.5, abs=0.1)
        # the chosen h has about the target ARL under a fresh seed
        check = average_run_length(0.01, 2.0, threshold=h, n_sim=2000, seed=13)
        assert abs(check.arl - target) < 4 * check.standard_error + 0.05 * target

    def test_improvement_chart(self) -> None:
        target = exact_bernoulli_arl(0.2, 0.5, 3.0)
        h = threshold_for_arl(0.2, 0.5, arl0=target, n_sim=2000, seed=14)
        assert h == pytest.approx(3.0, abs=0.15)

    def test_deterministic_and_monotone_in_arl0(self) -> None:
        a = threshold_for_arl(0.05, arl0=500, n_sim=1000, seed=7)
        assert a == threshold_for_arl(0.05, arl0=500, n_sim=1000, seed=7)
        assert a < threshold_for_arl(0.05, arl0=2000, n_sim=1000, seed=7)
        # the same seed replays the same runs, so the estimate at h reproduces the target
        assert average_run_length(0.05, threshold=a, n_sim=1000, seed=7).arl >= 500

    def test_tolerance(self) -> None:
        coarse = threshold_for_arl(0.05, arl0=500, n_sim=500, seed=7, tolerance=0.1)
        fine = threshold_for_arl(0.05, arl0=500, n_sim=500, seed=7, tolerance=1e-4)
        assert coarse == pytest.approx(fine, abs=0.1)
        assert coarse >= fine


class TestArlInMonths:
    def test_by_hand(self) -> None:
        assert arl_in_months(10_000, 400) == 25.0
        assert arl_in_months(RunLengthEstimate(arl=1200.0, standard_error=30.0, n_sim=1600, seed=0), 100) == 12.0

    @pytest.mark.parametrize(("arl", "births"), [(0, 100), (100, 0), (-1, 100), (math.nan, 100), ("x", 100)])
    def test_invalid(self, arl: object, births: object) -> None:
        with pytest.raises(ValueError):
            arl_in_months(arl, births)  # type: ignore[arg-type]


class TestSimulatedRunLengths:
    def test_mean_is_the_average_run_length(self) -> None:
        from matneo.signals.cusum import simulate_run_lengths

        lengths = simulate_run_lengths(0.1, 2.0, thresholds=[3.5], n_sim=500, seed=3)[3.5]
        est = average_run_length(0.1, 2.0, threshold=3.5, n_sim=500, seed=3)
        assert lengths.mean() == pytest.approx(est.arl)  # same seed, same runs
        both = simulate_run_lengths(0.1, 2.0, thresholds=[2.0, 3.5], n_sim=500, seed=3)
        assert np.array_equal(both[3.5], lengths)  # runs simulated once, to the highest threshold
        assert np.all(both[2.0] <= both[3.5])

    def test_one_event_signals_at_once_by_hand(self) -> None:
        from matneo.signals.cusum import simulate_run_lengths

        # p = 0.5, R = 2: an event scores ln 2 − ln 1.5 = 0.2877, a non-event −0.4055; with
        # h = 0.2 the first event signals, so the run length is geometric: P(RL = k) = 0.5^k
        # in control and the mean is 2.
        lengths = simulate_run_lengths(0.5, 2.0, thresholds=[0.2], n_sim=4000, seed=1)[0.2]
        assert lengths.min() == 1
        assert lengths.mean() == pytest.approx(2.0, abs=0.1)
