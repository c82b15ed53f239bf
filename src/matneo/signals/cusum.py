"""Risk-adjusted Bernoulli CUSUM (Steiner, Cook, Farewell and Treasure 2000).

Source: Steiner SH, Cook RJ, Farewell VT, Treasure T. Monitoring surgical performance using
risk-adjusted cumulative sum charts. *Biostatistics* 2000;1(4):441-452 (section 2, "Risk-adjusted
CUSUM"). Each patient t has a predicted event probability p_t from a risk model and an outcome
y_t (1 = event, 0 = no event). To test the null odds ratio 1 against the alternative odds ratio R
the chart adds the log-likelihood-ratio score

    W_t = y_t·log(R) − log(1 − p_t + R·p_t)

and plots S_t = max(0, S_{t−1} + W_t) with S_0 = 0, signalling when S_t ≥ h. R > 1 looks for
deterioration (a rise in the odds of the event), R < 1 for improvement. With a constant p_t this
is the ordinary (unadjusted) Bernoulli CUSUM, which is what NHS England's Maternity Outcomes
Signal System (MOSS) describes: observed against expected events at a national reference rate,
thresholds "for a doubling of the event rate" (MOSS standard operating procedures, annex 4; see
``docs/methods.md``, "Risk-adjusted CUSUM").

Why this form: the score is the log-likelihood ratio of the patient's outcome under the two
hypotheses, so by Moustakides' optimality of Page's CUSUM it detects a step change to odds ratio
R in the shortest worst-case time for a given in-control run length; the risk adjustment means a
unit that treats sicker patients is not penalised for their higher expected event rate.

Thresholds are chosen from the in-control average run length (ARL0, the mean number of patients
until a false signal), estimated by Monte Carlo simulation because the ARL of a risk-adjusted
chart depends on the whole distribution of patient risks (the "patient mix"; Steiner et al. 2000,
section 3; Wittenberg, Stat Methods Med Res 2022;31(5):779-800). Two facts make the simulation
cheap and deterministic:

* Before its first signal the chart is Lindley's reflected random walk, which has the closed form
  S_t = C_t − min(0, C_1, ..., C_t) with C_t = W_1 + ... + W_t, so paths are computed with
  ``numpy.cumsum`` and ``numpy.minimum.accumulate`` over many runs at once.
* That path does not depend on h, so one set of simulated runs gives the run length for every h at
  once (the first time the running maximum of S reaches h). Using the same runs for all h
  ("common random numbers") makes the estimated ARL a non-decreasing function of h, so bisection
  on h is well defined and the result is reproducible for a given ``seed``.

Other implementations consulted for expected values only (no code was copied): the R packages
``vlad`` (``wittenberg/vlad``) and ``cusum`` (``lhubig/cusum``).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, SupportsFloat

import numpy as np
import numpy.typing as npt

__all__ = [
    "CusumResult",
    "RiskSampler",
    "RunLengthEstimate",
    "arl_in_months",
    "average_run_length",
    "cusum_weights",
    "run_cusum",
    "simulate_run_lengths",
    "threshold_for_arl",
]

#: A function ``sampler(rng, size)`` returning ``size`` patient risks (probabilities strictly
#: between 0 and 1) drawn from the patient mix, for example a fitted Beta distribution of risk
#: scores passed through the risk model. Use it when the mix is known as a model rather than as
#: a list of past patients.
RiskSampler = Callable[[np.random.Generator, int], npt.ArrayLike]

Reset = Literal["zero", "none"]

#: Largest number of simulated patient outcomes held in memory at once (per array) by the run
#: length simulation: 2**21 float64 values = 16 MiB.
_BLOCK_ELEMENTS = 2**21
#: Shortest block of patients simulated per step of the run length simulation.
_MIN_BLOCK = 256


# --------------------------------------------------------------------------------------
# Validation helpers
# --------------------------------------------------------------------------------------


def _check_odds_ratio(odds_ratio: float, name: str = "odds_ratio") -> float:
    """Return the odds ratio as a float; it must be finite, positive and not 1."""
    if isinstance(odds_ratio, bool) or not isinstance(odds_ratio, numbers.Real):
        raise ValueError(f"{name} must be a positive real number, got {odds_ratio!r}")
    value = float(odds_ratio)
    if not math.isfinite(value) or value <= 0.0:
        raise ValueError(f"{name} must be finite and > 0, got {odds_ratio!r}")
    if name == "odds_ratio" and value == 1.0:
        raise ValueError("odds_ratio must not be 1: the chart would test the null hypothesis against itself")
    return value


def _check_positive(value: float, name: str) -> float:
    """Return ``value`` as a float; it must be a finite number > 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a positive real number, got {value!r}")
    out = float(value)
    if not math.isfinite(out) or out <= 0.0:
        raise ValueError(f"{name} must be finite and > 0, got {value!r}")
    return out


def _check_count(value: int, name: str) -> int:
    """Return ``value``; it must be an integer >= 1."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)


def _numeric_1d(values: npt.ArrayLike, name: str) -> npt.NDArray[np.float64]:
    """Convert to a 1-D float64 array, rejecting non-numeric data (strings, objects)."""
    raw = np.asarray(values)
    if raw.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be numeric, got data of dtype {raw.dtype}")
    if raw.ndim > 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {raw.shape}")
    return np.atleast_1d(raw.astype(np.float64))


def _check_risk_values(risks: npt.NDArray[np.float64], name: str = "risks") -> None:
    """Raise ``ValueError`` unless every non-NaN risk is strictly between 0 and 1."""
    present = risks[~np.isnan(risks)]
    bad = (present <= 0.0) | (present >= 1.0) | ~np.isfinite(present)
    if np.any(bad):
        example = present[bad][0]
        raise ValueError(
            f"{name} must be probabilities strictly between 0 and 1 (a risk of exactly 0 or 1 makes the "
            f"log-likelihood ratio undefined or uninformative); got {example!r}"
        )


def _prepare(
    outcomes: npt.ArrayLike, risks: npt.ArrayLike, odds_ratio: float
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], float]:
    """Validate and align outcomes, risks and the odds ratio for :func:`cusum_weights`."""
    r = _check_odds_ratio(odds_ratio)
    y = _numeric_1d(outcomes, "outcomes")
    p = _numeric_1d(risks, "risks")
    if p.size == 1 and y.size != 1:
        p = np.full(y.shape, p[0])
    if p.shape != y.shape:
        raise ValueError(f"outcomes and risks must have the same length, got {y.size} and {p.size}")
    present = ~np.isnan(y)
    if np.any((y[present] != 0.0) & (y[present] != 1.0)):
        raise ValueError("outcomes must be 0 (no event), 1 (event) or NaN (missing, skipped)")
    if np.any(present & np.isnan(p)):
        raise ValueError("risks must not be NaN where the outcome is known")
    _check_risk_values(p)
    return y, p, r


# --------------------------------------------------------------------------------------
# The chart
# --------------------------------------------------------------------------------------


def cusum_weights(outcomes: npt.ArrayLike, risks: npt.ArrayLike, odds_ratio: float = 2.0) -> npt.NDArray[np.float64]:
    """Log-likelihood-ratio CUSUM scores W_t = y_t·log(R) − log(1 − p_t + R·p_t).

    Source: Steiner et al., Biostatistics 2000;1(4):441-452, section 2 (the weight W_t of the
    risk-adjusted CUSUM; their worked example on p. 446 uses R = 2 and the Parsonnet-score model
    logit(p) = −3.68 + 0.077·Parsonnet). Why: the score is the log of the likelihood ratio of the
    patient's outcome under odds ratio R versus odds ratio 1 given the patient's own risk, so an
    event in a low-risk patient counts for more than one in a high-risk patient.

    Args:
        outcomes: 1 for an event, 0 for none, NaN for a missing outcome (its score is NaN).
        risks: predicted event probability of each patient under the null (strictly in (0, 1));
            a single number applies to every patient (the unadjusted Bernoulli CUSUM).
        odds_ratio: R, the odds ratio the chart is tuned to detect: > 1 for deterioration
            (default 2, a doubling of the odds), < 1 for improvement (e.g. 0.5).

    Returns:
        float64 array of scores, one per patient. For R > 1 an event scores
        log(R) − log(1 + (R − 1)p) > 0 and a non-event −log(1 + (R − 1)p) < 0.

    Raises:
        ValueError: outcomes not 0/1/NaN, risks outside (0, 1), mismatched lengths, or R not a
            finite positive number other than 1.
    """
    y, p, r = _prepare(outcomes, risks, odds_ratio)
    return _scores(y, p, r)


def _scores(y: npt.NDArray[np.float64], p: npt.NDArray[np.float64], r: float) -> npt.NDArray[np.float64]:
    """W = y·log R − log1p((R − 1)·p), elementwise; NaN where y is NaN."""
    with np.errstate(invalid="ignore"):
        return y * math.log(r) - np.log1p((r - 1.0) * p)


def _reflected_walk(
    w: npt.NDArray[np.float64], start: float | npt.NDArray[np.float64] = 0.0
) -> npt.NDArray[np.float64]:
    """Path of S_t = max(0, S_{t−1} + W_t) from S_0 = ``start``, without resets, vectorised.

    Lindley's closed form S_t = C_t − min(−S_0, C_1, ..., C_t), with C_t the cumulative sum of W
    (Lindley, Proc Camb Philos Soc 1952;48:277-289). Works along the last axis, so a 2-D array
    holds many runs.
    """
    c = np.cumsum(w, axis=-1)
    floor = np.minimum.accumulate(c, axis=-1)
    offset = -np.asarray(start, dtype=np.float64)
    if offset.ndim:
        offset = offset[..., np.newaxis]
    return c - np.minimum(floor, offset)


def _path_with_reset(w: npt.NDArray[np.float64], h: float) -> tuple[npt.NDArray[np.float64], list[int]]:
    """Chart path restarting at 0 after each signal; NaN scores are skipped (S carried over).

    Between signals the chart is Lindley's reflected walk (:func:`_reflected_walk`), so each
    stretch from a restart to the next signal is one vectorised expression; only the restarts
    are a Python loop. A skipped patient scores 0, which leaves S unchanged because S ≥ 0 and
    S < h between signals. The walk is computed over a window that doubles until it holds the
    next crossing, so the cost stays O(n log n) even for a chart that signals often (a short
    window per signal); the first window is the whole chart, so one that never signals (most
    charts at the register's thresholds) costs one pass. The walk at a patient is the same
    number whatever the window (a cumulative sum from the restart), so the windows change the
    cost, never the path. Why not the plain
    recursion: a Python pass over every baby took most of ``detect``'s time on national data
    (about 30 ms per 100,000 babies and chart, docs/performance.md "Signals").
    """
    x = np.where(np.isnan(w), 0.0, w)
    n = x.size
    path = np.empty(n, dtype=np.float64)
    signals: list[int] = []
    start, window = 0, n
    while start < n:
        stop = min(n, start + window)
        walk = _reflected_walk(x[start:stop])
        crossed = np.flatnonzero(walk >= h)
        if crossed.size:
            first = int(crossed[0])
            path[start : start + first + 1] = walk[: first + 1]
            signals.append(start + first)
            start += first + 1
            window = max(1024, 2 * (first + 1))
            continue
        if stop == n:
            path[start:] = walk
            break
        window *= 2  # no crossing yet: recompute from the restart over a longer window
    return path, signals


@dataclass(frozen=True, eq=False)
class CusumResult:
    """Result of :func:`run_cusum`: scores, path and signals of one chart (arrays are read-only).

    Attributes:
        outcomes: the outcomes as given (float64; NaN = missing, skipped).
        risks: the null-hypothesis risk of each patient (float64).
        weights: the score W_t of each patient (NaN where the outcome is missing).
        path: the CUSUM value S_t after patient t, *before* any reset, so the point that crosses
            the threshold is shown above it and the next point restarts from 0. A skipped patient
            carries the previous value.
        signals: indices t (0-based, into the input order) of the signals.
        signal_dates: ``dates`` at the signal indices, if ``dates`` was given, else ``None``.
        dates: the dates as given (a NumPy array), or ``None``.
        threshold: the control limit h.
        odds_ratio: the odds ratio R the chart tests for.
        reset: ``"zero"`` (restart at 0 after each signal) or ``"none"``.
    """

    outcomes: npt.NDArray[np.float64]
    risks: npt.NDArray[np.float64]
    weights: npt.NDArray[np.float64]
    path: npt.NDArray[np.float64]
    signals: npt.NDArray[np.int64]
    signal_dates: tuple[Any, ...] | None
    dates: npt.NDArray[Any] | None
    threshold: float
    odds_ratio: float
    reset: Reset

    @property
    def n_signals(self) -> int:
        """Number of signals."""
        return int(self.signals.size)

    def to_records(self) -> list[dict[str, Any]]:
        """One plain-Python dict per patient, in input order, ready for JSON or a DataFrame.

        Keys: ``index``, ``date`` (only if dates were given), ``outcome`` (0, 1 or ``None`` if
        missing), ``risk``, ``weight`` (``None`` if skipped), ``cusum`` and ``signal`` (bool).
        """
        flagged = np.zeros(self.path.shape, dtype=bool)
        flagged[self.signals] = True
        dates = self.dates.tolist() if self.dates is not None else None
        records: list[dict[str, Any]] = []
        for i, (y, p, w, s, f) in enumerate(
            zip(
                self.outcomes.tolist(),
                self.risks.tolist(),
                self.weights.tolist(),
                self.path.tolist(),
                flagged.tolist(),
                strict=True,
            )
        ):
            record: dict[str, Any] = {"index": i}
            if dates is not None:
                record["date"] = dates[i]
            record["outcome"] = None if y != y else int(y)
            record["risk"] = None if p != p else p
            record["weight"] = None if w != w else w
            record["cusum"] = s
            record["signal"] = f
            records.append(record)
        return records


def _readonly(a: npt.NDArray[Any]) -> npt.NDArray[Any]:
    a.setflags(write=False)
    return a


def run_cusum(
    outcomes: npt.ArrayLike,
    risks: npt.ArrayLike,
    odds_ratio: float = 2.0,
    *,
    threshold: float,
    reset: Reset = "zero",
    dates: Sequence[Any] | npt.ArrayLike | None = None,
) -> CusumResult:
    """Run a risk-adjusted Bernoulli CUSUM over patients in time order.

    S_0 = 0, S_t = max(0, S_{t−1} + W_t); a signal is raised at t when S_t ≥ h. With
    ``reset="zero"`` the chart restarts from 0 after each signal (Steiner et al. 2000, section 2,
    and NHS England MOSS after a level-2 signal). With ``reset="none"`` it never restarts (MOSS
    level 1); a signal is then the first patient of each run of values at or above h (an
    upcrossing), not every patient above it.

    Patients with a missing (NaN) outcome are skipped: their score is NaN and the chart value is
    carried over unchanged, so they can neither raise nor clear a signal.

    Args:
        outcomes: 1 = event, 0 = no event, NaN = missing; in time order.
        risks: each patient's null-hypothesis risk in (0, 1), or one number for all patients.
            May be NaN only where the outcome is missing.
        odds_ratio: R to detect (> 1 deterioration, < 1 improvement). Default 2.
        threshold: the control limit h > 0, e.g. from :func:`threshold_for_arl`.
        reset: ``"zero"`` or ``"none"``, see above.
        dates: optional dates (or any labels) of the patients, same length; the signal dates are
            returned in ``signal_dates``.

    Returns:
        A :class:`CusumResult`.

    Raises:
        ValueError: invalid outcomes, risks, odds ratio, threshold, reset or dates length.

    Performance: with ``reset="none"`` the path is one vectorised expression; with
    ``reset="zero"`` one vectorised expression per stretch between signals (a few ms per
    100,000 patients).
    """
    y, p, r = _prepare(outcomes, risks, odds_ratio)
    h = _check_positive(threshold, "threshold")
    if reset not in ("zero", "none"):
        raise ValueError(f'reset must be "zero" or "none", got {reset!r}')
    date_array: npt.NDArray[Any] | None = None
    if dates is not None:
        date_array = np.asarray(dates)
        if date_array.ndim != 1 or date_array.size != y.size:
            raise ValueError(
                f"dates must be one-dimensional with one date per outcome ({y.size}), got {date_array.shape}"
            )
        date_array = date_array.copy()
    w = _scores(y, p, r)
    if reset == "zero":
        path, signal_list = _path_with_reset(w, h)
        signals = np.asarray(signal_list, dtype=np.int64)
    else:
        path = _reflected_walk(np.where(np.isnan(w), 0.0, w))
        above = path >= h
        previous = np.concatenate(([False], above[:-1]))
        signals = np.flatnonzero(above & ~previous).astype(np.int64)
    signal_dates = tuple(date_array[signals].tolist()) if date_array is not None else None
    return CusumResult(
        outcomes=_readonly(y),
        risks=_readonly(p),
        weights=_readonly(w),
        path=_readonly(path),
        signals=_readonly(signals),
        signal_dates=signal_dates,
        dates=_readonly(date_array) if date_array is not None else None,
        threshold=h,
        odds_ratio=r,
        reset=reset,
    )


# --------------------------------------------------------------------------------------
# Run lengths by simulation
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunLengthEstimate:
    """A Monte Carlo estimate of an average run length, in patients.

    Attributes:
        arl: mean run length over the simulated runs (patients until the first signal,
            counting the signalling patient).
        standard_error: sample standard deviation of the run lengths / √n_sim. Run lengths are
            roughly geometric, so this is close to arl/√n_sim (2.2% of the ARL at 2,000 runs).
        n_sim: number of simulated runs.
        seed: the seed used (``None`` if fresh operating-system entropy was used).
    """

    arl: float
    standard_error: float
    n_sim: int
    seed: int | None

    def __float__(self) -> float:
        return self.arl


def _score_sampler(
    risks: npt.ArrayLike | RiskSampler, odds_ratio: float, true_odds_ratio: float
) -> Callable[[np.random.Generator, tuple[int, int]], npt.NDArray[np.float64]]:
    """Return ``draw(rng, shape)`` giving simulated scores W for random patients of the mix.

    Each simulated patient gets a null risk p (drawn with replacement from the given risks, or from
    the sampler), an outcome y ~ Bernoulli(p_true) with odds(p_true) = Q·odds(p) for the true odds
    ratio Q, and the score W(y, p) for the chart's odds ratio R.
    """
    r = odds_ratio
    log_r = math.log(r)
    q = true_odds_ratio

    if callable(risks):
        sampler = risks

        def draw_from_sampler(rng: np.random.Generator, shape: tuple[int, int]) -> npt.NDArray[np.float64]:
            size = shape[0] * shape[1]
            p = _numeric_1d(sampler(rng, size), "risks sampler output")
            if p.size != size:
                raise ValueError(f"the risks sampler returned {p.size} risks, expected {size}")
            if np.any(np.isnan(p)):
                raise ValueError("the risks sampler returned NaN")
            _check_risk_values(p, "risks sampler output")
            p = p.reshape(shape)
            p_true = q * p / (1.0 - p + q * p)
            event = rng.random(shape) < p_true
            return np.where(event, log_r, 0.0) - np.log1p((r - 1.0) * p)

        return draw_from_sampler

    p_mix = _numeric_1d(risks, "risks")
    if p_mix.size == 0:
        raise ValueError("risks must contain at least one patient risk")
    if np.any(np.isnan(p_mix)):
        raise ValueError("risks must not contain NaN (drop patients without a risk from the patient mix)")
    _check_risk_values(p_mix)
    fail = log_r - np.log1p((r - 1.0) * p_mix)
    success = -np.log1p((r - 1.0) * p_mix)
    p_true_mix = q * p_mix / (1.0 - p_mix + q * p_mix)

    def draw_from_mix(rng: np.random.Generator, shape: tuple[int, int]) -> npt.NDArray[np.float64]:
        u = rng.random(shape)
        if p_mix.size == 1:
            return np.where(u < p_true_mix[0], fail[0], success[0])
        idx = rng.integers(0, p_mix.size, size=shape)
        return np.where(u < p_true_mix[idx], fail[idx], success[idx])

    return draw_from_mix


class _Ladder:
    """Simulated chart runs, summarised by the record values of each run's running maximum.

    For run i the run length at threshold h is the first time the running maximum M_t of S_t
    reaches h; M only changes at "record" times, so storing (time, value) of each record gives
    the run length at every h. ``steps[i]`` is how many patients run i has been simulated for;
    for h above its largest record the run length is only known to exceed that.
    """

    def __init__(self, n_sim: int) -> None:
        self.n_sim = n_sim
        self.steps = np.zeros(n_sim, dtype=np.int64)
        self.level = np.zeros(n_sim)  # current S
        self.top = np.zeros(n_sim)  # current running maximum M (M_0 = S_0 = 0)
        self._runs: list[npt.NDArray[np.int64]] = []
        self._times: list[npt.NDArray[np.int64]] = []
        self._values: list[npt.NDArray[np.float64]] = []
        self._index: tuple[npt.NDArray[np.float64], npt.NDArray[np.int64], npt.NDArray[np.int64], float] | None = None

    def advance(self, runs: npt.NDArray[np.int64], w: npt.NDArray[np.float64]) -> None:
        """Extend the given runs by the scores ``w`` (one row per run)."""
        path = _reflected_walk(w, self.level[runs])
        top = np.maximum(np.maximum.accumulate(path, axis=1), self.top[runs][:, np.newaxis])
        before = np.concatenate((self.top[runs][:, np.newaxis], top[:, :-1]), axis=1)
        row, col = np.nonzero(top > before)
        self._runs.append(runs[row])
        self._times.append(self.steps[runs][row] + col + 1)
        self._values.append(top[row, col])
        self.level[runs] = path[:, -1]
        self.top[runs] = top[:, -1]
        self.steps[runs] += w.shape[1]
        self._index = None

    def _sorted(self) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64], npt.NDArray[np.int64], float]:
        """Records sorted by run then value, with a search key run·K + value."""
        if self._index is None:
            runs = np.concatenate(self._runs) if self._runs else np.zeros(0, dtype=np.int64)
            times = np.concatenate(self._times) if self._times else np.zeros(0, dtype=np.int64)
            values = np.concatenate(self._values) if self._values else np.zeros(0)
            # Within a run, records were appended in time order and values increase with time,
            # so a stable sort on the run alone also orders each run's values.
            order = np.argsort(runs, kind="stable")
            runs, times, values = runs[order], times[order], values[order]
            spacing = math.floor(float(values.max())) + 2.0 if values.size else 2.0
            self._index = (runs * spacing + values, runs, times, spacing)
        return self._index

    def run_lengths(self, h: float) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
        """Run length of each run at threshold h > 0, and whether it is exact (the run reached h).

        Where the run has not reached h the value returned is the number of patients simulated,
        a lower bound.
        """
        keys, runs, times, spacing = self._sorted()
        if keys.size == 0:
            return self.steps.copy(), np.zeros(self.n_sim, dtype=bool)
        ids = np.arange(self.n_sim)
        pos = np.searchsorted(keys, ids * spacing + h, side="left")
        safe = np.minimum(pos, keys.size - 1)
        reached = (pos < keys.size) & (runs[safe] == ids)
        return np.where(reached, times[safe], self.steps), reached

    def mean_run_length(self, h: float) -> float:
        """Mean run length at h (a lower bound where some runs have not reached h)."""
        lengths, _ = self.run_lengths(h)
        return float(lengths.mean())

    @property
    def max_record(self) -> float:
        return float(self.top.max())


def _simulate(
    ladder: _Ladder,
    draw: Callable[[np.random.Generator, tuple[int, int]], npt.NDArray[np.float64]],
    rng: np.random.Generator,
    stop_height: Callable[[], float],
    max_run_length: int,
) -> None:
    """Simulate runs in blocks until every run's running maximum has reached ``stop_height()``.

    All unfinished runs have been simulated for the same number of patients, so each block is a
    rectangle (runs × patients). Blocks grow with the elapsed length (so the number of blocks is
    logarithmic in the run length) but are capped at ``_BLOCK_ELEMENTS`` values per array.
    """
    while True:
        target = stop_height()
        active = np.flatnonzero(ladder.top < target)
        if active.size == 0:
            return
        elapsed = int(ladder.steps[active[0]])
        if elapsed >= max_run_length:
            raise RuntimeError(
                f"{active.size} of {ladder.n_sim} simulated runs had not signalled after {max_run_length:,} patients; "
                "the requested ARL or threshold is too large to simulate (raise max_run_length if intended)"
            )
        length = max(_MIN_BLOCK, elapsed // 2)
        length = min(length, max(16, _BLOCK_ELEMENTS // active.size), max_run_length - elapsed)
        ladder.advance(active, draw(rng, (active.size, length)))


def _check_common(
    odds_ratio: float, n_sim: int, seed: int | None, max_run_length: int
) -> tuple[float, int, np.random.Generator, int]:
    r = _check_odds_ratio(odds_ratio)
    n = _check_count(n_sim, "n_sim")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
        raise ValueError(f"seed must be an integer or None, got {seed!r}")
    m = _check_count(max_run_length, "max_run_length")
    return r, n, np.random.default_rng(seed), m


def average_run_length(
    risks: npt.ArrayLike | RiskSampler,
    odds_ratio: float = 2.0,
    *,
    threshold: float,
    true_odds_ratio: float = 1.0,
    n_sim: int = 2000,
    seed: int | None = 0,
    max_run_length: int = 10_000_000,
) -> RunLengthEstimate:
    """Average run length (patients until the first signal) of the chart, by Monte Carlo.

    Each of ``n_sim`` runs starts at S = 0 and draws patients independently from the patient mix:
    a risk p (with replacement from ``risks``, or from a :data:`RiskSampler`) and an outcome with
    odds Q·p/(1 − p), Q = ``true_odds_ratio``. Q = 1 gives the in-control ARL (false-signal rate),
    Q = R the out-of-control ARL (detection speed) for the shift the chart is tuned to.

    Why simulation: with varying patient risks there is no closed form, and the Markov-chain
    approximations need a discretised state space (Steiner et al. 2000, appendix; Knoth,
    Wittenberg and Gan, Stat Med 2019;38(12):2206-2218). Monte Carlo error is reported instead:
    ``standard_error`` ≈ ARL/√n_sim. Results are reproducible for a given ``seed`` (NumPy
    PCG64 via ``numpy.random.default_rng``); ``seed=None`` uses fresh entropy.

    Cost: about ``n_sim × ARL`` simulated patients (e.g. 2,000 × 10,000 = 2·10⁷, roughly a
    second).

    Args:
        risks: the patient mix: an array of null risks in (0, 1) (e.g. last year's patients), a
            single risk (unadjusted chart), or a sampler function.
        odds_ratio: R of the chart.
        threshold: h > 0.
        true_odds_ratio: Q, the odds ratio actually in force (1 = in control).
        n_sim: number of simulated runs.
        seed: random seed (integer) or ``None``.
        max_run_length: give up (``RuntimeError``) if any run exceeds this many patients.
    """
    r, n, rng, cap = _check_common(odds_ratio, n_sim, seed, max_run_length)
    h = _check_positive(threshold, "threshold")
    q = _check_odds_ratio(true_odds_ratio, "true_odds_ratio")
    ladder = _Ladder(n)
    _simulate(ladder, _score_sampler(risks, r, q), rng, lambda: h, cap)
    lengths, _ = ladder.run_lengths(h)  # every run has reached h
    sd = float(lengths.std(ddof=1)) if n > 1 else math.nan
    return RunLengthEstimate(arl=float(lengths.mean()), standard_error=sd / math.sqrt(n), n_sim=n, seed=seed)


def simulate_run_lengths(
    risks: npt.ArrayLike | RiskSampler,
    odds_ratio: float = 2.0,
    *,
    thresholds: Sequence[float],
    true_odds_ratio: float = 1.0,
    n_sim: int = 2000,
    seed: int | None = 0,
    max_run_length: int = 100_000_000,
) -> dict[float, npt.NDArray[np.int64]]:
    """Each simulated run's length (patients to the first signal) at each threshold.

    The distribution, not only its mean (as :func:`average_run_length`): "a doubling is usually
    found within N months" needs a centile of the run length under the shift
    (``signals.operating``), and run lengths are skewed. The runs are simulated once, to the
    highest threshold; the chart path does not depend on h, so the same runs give the run
    length at every lower threshold (common random numbers, as :func:`threshold_for_arl`).
    """
    r, n, rng, cap = _check_common(odds_ratio, n_sim, seed, max_run_length)
    levels = [_check_positive(h, "threshold") for h in thresholds]
    if not levels:
        raise ValueError("give at least one threshold")
    q = _check_odds_ratio(true_odds_ratio, "true_odds_ratio")
    ladder = _Ladder(n)
    top = max(levels)
    _simulate(ladder, _score_sampler(risks, r, q), rng, lambda: top, cap)
    return {h: ladder.run_lengths(h)[0] for h in levels}


def threshold_for_arl(
    risks: npt.ArrayLike | RiskSampler,
    odds_ratio: float = 2.0,
    *,
    arl0: float,
    n_sim: int = 2000,
    seed: int | None = 0,
    tolerance: float = 1e-3,
    max_run_length: int = 10_000_000,
) -> float:
    """Control limit h giving an in-control average run length of about ``arl0`` patients.

    Method: simulate ``n_sim`` in-control runs from the patient mix (as in
    :func:`average_run_length` with Q = 1), keeping for each run the record values of its
    running maximum. Because the chart path does not depend on h, the same runs give the run
    length at every h, and the estimated ARL is a non-decreasing step function of h. Runs are
    simulated only until they have reached a bracket known to contain the answer (the lower
    bound of the ARL, counting unfinished runs at their current length, reaches ``arl0``), then h
    is found by bisection to within ``tolerance``: the smallest such h whose estimated ARL is at
    least ``arl0``. This is the approach of Steiner et al. 2000 (section 3, thresholds from
    simulated run lengths of the actual patient mix) and of ``vlad::racusum_crit_sim``, done with
    vectorised NumPy and common random numbers so that it is deterministic given ``seed``.

    Approximation error: the estimated ARL at the returned h has a relative standard error of
    about 1/√n_sim (2.2% at the default 2,000 runs). Near a given ARL, log(ARL) rises roughly
    linearly in h with slope close to 1 (Siegmund's approximation for log-likelihood-ratio
    CUSUMs), so the Monte Carlo error in h is about ±1/√n_sim (±0.02 at 2,000 runs; ±0.01 at
    10,000), well below the uncertainty in the risk model itself. Check the result with
    :func:`average_run_length` under a *different* seed: reusing the same seed replays the same
    runs and will reproduce ``arl0`` by construction.

    Cost: about ``n_sim × arl0`` simulated patients.

    Args:
        risks: the in-control patient mix (array of risks in (0, 1), one risk, or a sampler).
        odds_ratio: R of the chart (> 1 deterioration, < 1 improvement).
        arl0: target in-control ARL in patients (> 1). For a monthly view, see
            :func:`arl_in_months`.
        n_sim: number of simulated runs.
        seed: random seed (integer) or ``None``.
        tolerance: bisection tolerance on h.
        max_run_length: give up (``RuntimeError``) if a run exceeds this many patients.

    Returns:
        h (float > 0).
    """
    r, n, rng, cap = _check_common(odds_ratio, n_sim, seed, max_run_length)
    target = _check_positive(arl0, "arl0")
    if target <= 1.0:
        raise ValueError(f"arl0 must be > 1 patient (every chart signals at patient 1 at the earliest), got {arl0!r}")
    tol = _check_positive(tolerance, "tolerance")
    ladder = _Ladder(n)

    def bracket() -> float:
        """Smallest h (to ``tol``) whose ARL lower bound already reaches the target, else inf."""
        hi = ladder.max_record
        if hi <= 0.0 or ladder.mean_run_length(hi) < target:
            return math.inf
        return _bisect(ladder.mean_run_length, 0.0, hi, target, tol)

    _simulate(ladder, _score_sampler(risks, r, 1.0), rng, bracket, cap)
    upper = bracket()
    return _bisect(ladder.mean_run_length, 0.0, upper, target, tol)


def _bisect(f: Callable[[float], float], lo: float, hi: float, target: float, tol: float) -> float:
    """Smallest x in (lo, hi] (to within ``tol``) with f(x) ≥ target, for non-decreasing f; f(hi) ≥ target."""
    while hi - lo > tol:
        mid = 0.5 * (lo + hi)
        if mid > 0.0 and f(mid) >= target:
            hi = mid
        else:
            lo = mid
    return hi


def arl_in_months(arl_patients: SupportsFloat, births_per_month: SupportsFloat) -> float:
    """Convert an average run length in patients (births) to months at a unit's birth rate.

    ARL_months = ARL_patients / births per month. For example an in-control ARL of 10,000 births
    at a site with 400 births a month is 25 months (about one false signal every two years).
    Why: MOSS plots signals by month of birth and sites differ greatly in size, so the same h
    gives very different false-signal intervals in calendar time; choose ``arl0`` for
    :func:`threshold_for_arl` as (acceptable months between false signals) × births per month.
    This assumes a steady birth rate; it is the mean, not a guarantee (run lengths are roughly
    geometric, so a false signal well before the ARL is common: P(RL ≤ ARL) ≈ 63%).

    Accepts a :class:`RunLengthEstimate` as ``arl_patients``.
    """
    try:
        arl, births = float(arl_patients), float(births_per_month)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"arl_patients and births_per_month must be numbers: {exc}") from exc
    arl = _check_positive(arl, "arl_patients")
    births = _check_positive(births, "births_per_month")
    return arl / births
