"""Funnel plots: control limits, unit positions and overdispersion adjustment.

Pure, NumPy-vectorised functions plus one frozen result type for a whole funnel chart.
A funnel plot shows each unit's indicator value (y) against its denominator (x), with
limits around a baseline that narrow as the denominator grows. A unit outside the 99.8%
limits is very unlikely to differ from the baseline by chance alone *if* the only source
of variation is sampling; the overdispersion adjustment handles the common case where it
is not.

Sources (restated from the maths; no code is copied):

* PHEindicatormethods v2.1.0 (https://github.com/ukhsa-collaboration/PHEindicatormethods,
  commit 093fd288, 13 Dec 2024; ``R/Funnels.R`` and ``R/utils.R``): funnel limits for
  proportions, rates and ratios and the two PHE levels, "2s" = 95% and "3s" = 99.8%. This is
  the method of the Fingertips technical guidance, which NHS analysts know.
* Spiegelhalter DJ. Funnel plots for comparing institutional performance. Stat Med
  2005;24:1185–1202, and Spiegelhalter DJ. Handling over-dispersion of performance
  indicators. Qual Saf Health Care 2005;14:347–351: variance-stabilising transforms,
  winsorised overdispersion factor φ and the additive random-effects variance τ²
  (DerSimonian–Laird form). FunnelPlotR v0.6.0 (https://github.com/nhs-r-community/FunnelPlotR,
  commit 9020d497, 21 Jul 2025; ``R/od_adjustment.R``, ``R/calculate_limits.R``) is the NHS-R
  implementation.

Conventions (shared with :mod:`matneo.stats.ci`):

* ``confidence`` is a fraction strictly between 0 and 1; 0.95 and 0.998 are the funnel
  levels, any value in (0, 1) works.
* ``multiplier`` sets the scale of values, baselines and limits: 1 for a proportion or
  ratio, 100 for a percentage, 1,000 for a rate per 1,000 births.
* Negative, NaN or infinite inputs raise ``ValueError``. A denominator of 0 is not an
  error: the unit's value and limits are ``nan`` ("not available") and its position is
  ``"not_applicable"``. A positive numerator over a zero denominator is a data error and
  raises ``ValueError``.
* Valid input never emits a NumPy or SciPy warning.

Full method statement: ``docs/methods.md`` ("Funnel plots and overdispersion").
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast, get_args

import numpy as np
import numpy.typing as npt
from scipy import special

from matneo.stats.ci import poisson_exact_ci, z_value

__all__ = [
    "CONFIDENCE_95",
    "CONFIDENCE_998",
    "POSITIONS",
    "FunnelCurve",
    "FunnelResult",
    "Overdispersion",
    "OverdispersionKind",
    "PoissonMethod",
    "Position",
    "Statistic",
    "adjusted_funnel_limits",
    "funnel",
    "funnel_limits",
    "funnel_position",
    "overdispersion",
]

FloatArray = npt.NDArray[np.float64]
FloatOrArray = float | FloatArray

Statistic = Literal["proportion", "rate", "ratio"]
PoissonMethod = Literal["exact_test", "expected_ci"]
OverdispersionKind = Literal["proportion", "ratio_log", "ratio_sqrt"]
Position = Literal["below_998", "below_95", "within", "above_95", "above_998", "not_applicable"]

#: The two PHE funnel levels: "2s" (95%, 2.5% in each tail) and "3s" (99.8%, 0.1% in each
#: tail). Source: PHEindicatormethods ``R/Funnels.R`` (``calculate_funnel_limits``: p = 0.975
#: and 0.999); Spiegelhalter 2005 (Stat Med) uses the same pair.
CONFIDENCE_95 = 0.95
CONFIDENCE_998 = 0.998

#: Every value :func:`funnel_position` can return, from lowest to highest, then
#: ``"not_applicable"`` (denominator 0).
POSITIONS: tuple[Position, ...] = get_args(Position)

_POSITION_DTYPE = "<U14"
_DEFAULT_OD_KIND: dict[str, OverdispersionKind] = {
    "proportion": "proportion",
    "rate": "ratio_sqrt",
    "ratio": "ratio_sqrt",
}


# --------------------------------------------------------------------------------------
# Validation helpers
# --------------------------------------------------------------------------------------


def _as_array(value: npt.ArrayLike, name: str) -> FloatArray:
    """Finite numeric array (float64), or ``ValueError`` naming the argument."""
    raw = np.asarray(value)
    if raw.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be numeric (int or float), got data of dtype {raw.dtype}")
    arr = raw.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite: NaN and infinity are not valid input")
    return arr


def _non_negative(value: npt.ArrayLike, name: str) -> FloatArray:
    arr = _as_array(value, name)
    if np.any(arr < 0):
        raise ValueError(f"{name} must be greater than or equal to zero")
    return arr


def _broadcast(*arrays: FloatArray) -> tuple[FloatArray, ...]:
    try:
        return tuple(np.broadcast_arrays(*arrays))
    except ValueError as exc:
        shapes = ", ".join(str(a.shape) for a in arrays)
        raise ValueError(f"inputs could not be broadcast together (shapes {shapes})") from exc


def _positive_scalar(value: float, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a single positive number, got {value!r}")
    number = float(value)
    if not math.isfinite(number) or number <= 0:
        raise ValueError(f"{name} must be a single positive number, got {value!r}")
    return number


def _choice(value: str, allowed: tuple[str, ...], name: str) -> str:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(repr(a) for a in allowed)}; got {value!r}")
    return value


def _check_statistic(statistic: str) -> Statistic:
    return cast(Statistic, _choice(statistic, get_args(Statistic), "statistic"))


def _check_poisson_method(method: str) -> PoissonMethod:
    return cast(PoissonMethod, _choice(method, get_args(PoissonMethod), "poisson_method"))


def _check_kind(kind: str) -> OverdispersionKind:
    return cast(OverdispersionKind, _choice(kind, get_args(OverdispersionKind), "kind"))


def _check_counts(numerator: FloatArray, denominator: FloatArray, proportion: bool) -> None:
    """Events in an empty denominator are a data error; so is x > n for a proportion."""
    if np.any((denominator == 0) & (numerator > 0)):
        raise ValueError("numerator must be 0 where denominator is 0 (events cannot occur in an empty denominator)")
    if proportion and np.any(numerator > denominator):
        raise ValueError("numerator must be less than or equal to denominator for a proportion")


def _out(arr: FloatArray, scalar: bool) -> FloatOrArray:
    return float(arr) if scalar else arr


# --------------------------------------------------------------------------------------
# Limit building blocks
# --------------------------------------------------------------------------------------


def _proportion_limits(n: FloatArray, a: FloatArray, z: float) -> tuple[FloatArray, FloatArray]:
    """Score-test (Wilson) acceptance region a ± z·√(a(1 − a)/n), clipped to [0, 1].

    PHEindicatormethods computes each limit as the observed proportion whose Wilson
    interval just touches the baseline a (``sigma_adjustment`` in ``R/Funnels.R``, a
    closed-form quadratic). Because the Wilson interval is the set of a with
    |p̂ − a| ≤ z·√(a(1 − a)/n), that proportion is exactly a ± z·√(a(1 − a)/n)
    (a derived identity, checked against PHE's 100-row test table in the tests).
    """
    with np.errstate(all="ignore"):
        safe_n = np.where(n > 0, n, 1.0)
        half = z * np.sqrt(a * (1.0 - a) / safe_n)
    lower = np.clip(a - half, 0.0, 1.0)
    upper = np.clip(a + half, 0.0, 1.0)
    empty = n == 0
    return np.where(empty, np.nan, lower), np.where(empty, np.nan, upper)


def _gamma_shape_for_upper_tail(q: float, mu: FloatArray) -> FloatArray:
    """Shape ``s > 0`` with ``Q(s, mu) = q`` (regularised upper incomplete gamma), mu > 0.

    ``Q(s, mu)`` rises from 0 to 1 as s goes from 0 to ∞, so the root is unique. For
    integer s, ``Q(s, mu) = P(X ≤ s − 1)`` with X ~ Poisson(mu), so this is the continuous
    extension of the Poisson quantile that the exact (χ²) Poisson interval uses.
    SciPy's ``pdtrik(q, mu)`` returns ``s − 1`` when ``s ≥ 1`` (i.e. when ``exp(−mu) ≤ q``);
    the remaining case, ``0 < s < 1``, only occurs for tiny mu and is solved by bisection.
    """
    shape = mu.shape
    mu = mu.reshape(-1)
    with np.errstate(all="ignore"):
        result = np.asarray(special.pdtrik(q, mu), dtype=np.float64) + 1.0
    small = np.exp(-mu) > q
    if np.any(small):
        m = mu[small]
        lo = np.zeros_like(m)
        hi = np.ones_like(m)
        for _ in range(80):  # 2**-80 < float64 resolution on (0, 1)
            mid = 0.5 * (lo + hi)
            above = special.gammaincc(mid, m) > q
            hi = np.where(above, mid, hi)
            lo = np.where(above, lo, mid)
        result[small] = 0.5 * (lo + hi)
    return result.reshape(shape)


def _poisson_limit_counts(mu: FloatArray, confidence: float, method: PoissonMethod) -> tuple[FloatArray, FloatArray]:
    """Lower and upper funnel limits on the count scale for expected counts ``mu`` (> 0 or 0).

    ``exact_test`` (PHE): the lower limit is the count O whose exact upper confidence bound
    χ²_{1−α/2}(2O + 2)/2 equals mu, the upper limit the count whose exact lower bound
    χ²_{α/2}(2O)/2 equals mu (O continuous). PHEindicatormethods tabulates the same curve
    the other way round (``poisson_funnel``: for each whole O, find mu by bisection). So a
    count lies outside the limits exactly when its exact Poisson interval excludes mu,
    which makes the plotted line and the exact test agree.

    ``expected_ci`` (FunnelPlotR ``calculate_limits`` for unadjusted standardised ratios):
    the exact Poisson interval of mu itself, as if mu were an observed count.

    ``mu = 0`` (a zero baseline) gives limits (0, 0) for ``exact_test``: no events are
    expected, so any event is above the funnel.
    """
    if method == "expected_ci":
        lower, upper = poisson_exact_ci(mu, confidence)
        return np.asarray(lower, dtype=np.float64), np.asarray(upper, dtype=np.float64)
    tail = (1.0 - confidence) / 2.0
    positive = mu > 0
    safe_mu = np.where(positive, mu, 1.0)
    # Lower: O_L with Q(O_L + 1, mu) = tail, i.e. P(X ≤ O_L) = tail; 0 when even O = 0 is
    # not unusually low (exp(−mu) ≥ tail).
    with np.errstate(all="ignore"):
        lower = np.where(np.exp(-safe_mu) >= tail, 0.0, special.pdtrik(tail, safe_mu))
    # Upper: O_U with P(O_U, mu) = tail (regularised lower gamma), i.e. Q(O_U, mu) = 1 − tail.
    upper = _gamma_shape_for_upper_tail(1.0 - tail, safe_mu)
    lower = np.where(positive, np.maximum(lower, 0.0), 0.0)
    upper = np.where(positive, upper, 0.0)
    return lower, upper


def _poisson_limits(
    n: FloatArray, baseline: FloatArray, multiplier: float, confidence: float, method: PoissonMethod
) -> tuple[FloatArray, FloatArray]:
    """Rate/ratio limits: expected count mu = n × baseline / multiplier, limit = O / n × multiplier."""
    mu = n * baseline / multiplier
    lower_count, upper_count = _poisson_limit_counts(mu, confidence, method)
    with np.errstate(all="ignore"):
        safe_n = np.where(n > 0, n, 1.0)
        lower = np.where(n > 0, lower_count / safe_n * multiplier, np.nan)
        upper = np.where(n > 0, upper_count / safe_n * multiplier, np.nan)
    return lower, upper


def _limits(
    n: FloatArray,
    baseline: FloatArray,
    confidence: float,
    statistic: Statistic,
    multiplier: float,
    method: PoissonMethod,
) -> tuple[FloatArray, FloatArray]:
    if statistic == "proportion":
        lower, upper = _proportion_limits(n, baseline / multiplier, z_value(confidence))
        return lower * multiplier, upper * multiplier
    return _poisson_limits(n, baseline, multiplier, confidence, method)


def _classify(
    value: FloatArray,
    lower_95: FloatArray,
    upper_95: FloatArray,
    lower_998: FloatArray,
    upper_998: FloatArray,
    applicable: npt.NDArray[np.bool_],
) -> npt.NDArray[np.str_]:
    """Position of each value; strict inequalities, so a value on a limit is inside it.

    Order as PHEindicatormethods ``assign_funnel_significance``: Low (0.001), Low (0.025),
    High (0.001), High (0.025), otherwise not significant.
    """
    position = np.full(value.shape, "within", dtype=_POSITION_DTYPE)
    with np.errstate(invalid="ignore"):
        position[value > upper_95] = "above_95"
        position[value > upper_998] = "above_998"
        position[value < lower_95] = "below_95"
        position[value < lower_998] = "below_998"
    position[~applicable] = "not_applicable"
    return position


# --------------------------------------------------------------------------------------
# Public: limits and positions
# --------------------------------------------------------------------------------------


def funnel_limits(
    denominator: npt.ArrayLike,
    baseline: npt.ArrayLike,
    confidence: float = CONFIDENCE_95,
    statistic: Statistic = "proportion",
    multiplier: float = 1,
    *,
    poisson_method: PoissonMethod = "exact_test",
) -> tuple[FloatOrArray, FloatOrArray]:
    """Funnel-plot control limits at each denominator, on the ``multiplier`` scale.

    ``denominator`` and ``baseline`` broadcast against each other. ``baseline`` is on the
    output scale (e.g. 80.6 with ``multiplier=100`` for 80.6%).

    * ``"proportion"`` (PHEindicatormethods ``R/Funnels.R``, ``sigma_adjustment``): with
      a = baseline / multiplier and z = :func:`~matneo.stats.ci.z_value`,
      limits = a ± z·√(a(1 − a)/N), clipped to [0, 1], times multiplier. This is the set of
      observed proportions whose Wilson score interval contains a, so a unit is outside
      the limits exactly when its Wilson interval excludes the baseline. The baseline must
      lie in [0, multiplier].
    * ``"rate"`` (PHE ``calculate_funnel_limits`` with ``statistic = "rate"``): the expected
      count at the baseline is mu = N × baseline / multiplier (N = person-time or births).
      The limits are O_L/N and O_U/N times multiplier, where O_L and O_U are the counts on
      the exact Poisson funnel for mu (see ``poisson_method``). PHE computes the same
      curve from the other side: for each whole number of events O it finds the
      population at which O sits on the limit (``poisson_funnel``, by bisection), and the
      limit there is baseline × O / (χ² bound of O); the tests reproduce PHE's table.
    * ``"ratio"`` (PHE ``statistic = "ratio"``, ``ratio_type = "isr"``/``"count"``):
      ``denominator`` is the expected count E and ``baseline`` the target ratio on the
      output scale (1, or 100 for an ISR/SMR × 100). Identical maths to ``"rate"`` with
      mu = E × baseline / multiplier. For PHE's "count" ratio (O/E − 1) subtract 1 from
      limits computed with ``baseline=1``.

    ``poisson_method`` (rates and ratios only):

    * ``"exact_test"`` (default; PHE): O_L is the count whose exact upper confidence bound
      χ²_{1−α/2}(2O + 2)/2 equals mu and O_U the count whose exact lower bound
      χ²_{α/2}(2O)/2 equals mu, with O treated as continuous (the χ² / incomplete-gamma
      extension of the Poisson distribution). Why: the plotted line then agrees exactly
      with the exact Poisson test of each unit (and with Spiegelhalter's interpolated
      Poisson quantiles to within a fraction of an event).
    * ``"expected_ci"`` (FunnelPlotR ``calculate_limits`` for unadjusted standardised
      ratios): the exact Poisson interval of mu itself, χ²_{α/2}(2mu)/2 and
      χ²_{1−α/2}(2mu + 2)/2, divided by N. Offered to reproduce FunnelPlotR charts. It is
      not centred on the Poisson quantiles (at E = 15 its 95% lower limit is 8.4 events,
      yet P(X ≤ 8 | 15) = 0.037 > 0.025), so it is not the default.

    Edge cases: a denominator of 0 gives ``nan`` limits ("not available"). A zero baseline
    gives limits (0, 0) for ``exact_test`` (any event is then above the funnel). For the
    exact Poisson lower limit, expected counts at or below −ln(α/2) (3.689 at 95%, 6.908
    at 99.8%) give a lower limit of 0: a count of 0 is then not unusually low.

    Returns:
        ``(lower, upper)`` as floats for scalar input, else float64 arrays of the
        broadcast shape.

    Raises:
        ValueError: negative or non-finite input, a proportion baseline above
            ``multiplier``, an unknown ``statistic``/``poisson_method``, a non-positive
            ``multiplier``, inputs that do not broadcast, or confidence outside (0, 1).
    """
    stat = _check_statistic(statistic)
    method = _check_poisson_method(poisson_method)
    m = _positive_scalar(multiplier, "multiplier")
    z_value(confidence)  # validates confidence
    n = _non_negative(denominator, "denominator")
    b = _non_negative(baseline, "baseline")
    if stat == "proportion" and np.any(b > m):
        raise ValueError(f"baseline must be between 0 and multiplier ({m:g}) for a proportion")
    scalar = n.ndim == 0 and b.ndim == 0
    n, b = _broadcast(n, b)
    lower, upper = _limits(n, b, float(confidence), stat, m, method)
    return _out(lower, scalar), _out(upper, scalar)


def funnel_position(
    numerator: npt.ArrayLike,
    denominator: npt.ArrayLike,
    baseline: npt.ArrayLike,
    statistic: Statistic = "proportion",
    multiplier: float = 1,
    *,
    poisson_method: PoissonMethod = "exact_test",
) -> str | npt.NDArray[np.str_]:
    """Where each unit's value numerator / denominator × multiplier lies on the funnel.

    Returns one of ``"below_998"``, ``"below_95"``, ``"within"``, ``"above_95"``,
    ``"above_998"`` per unit (``"not_applicable"`` where the denominator is 0), using the
    :func:`funnel_limits` at 95% and 99.8%. A value exactly on a limit is ``"within"`` that
    limit (strict comparisons, as PHEindicatormethods ``assign_funnel_significance``).

    Equivalences (why these limits): for proportions a unit is outside the funnel exactly
    when its Wilson interval excludes the baseline; for rates and ratios with the default
    ``"exact_test"`` limits, exactly when its exact Poisson interval excludes the expected
    count. PHEindicatormethods classifies rates and ratios with Byar's approximation for
    counts of 10 or more (exact below 10), so a PHE label can differ from this one for a
    unit lying within about 0.2% of a limit; on PHE's 300-unit ratio test set the labels
    agree (see the tests).

    ``baseline`` is on the ``multiplier`` scale (see :func:`funnel_limits`). Returns a
    ``str`` for scalar input, else a NumPy array of strings of the broadcast shape.

    Raises:
        ValueError: as :func:`funnel_limits`, plus a positive numerator over a zero
            denominator, or numerator > denominator for a proportion.
    """
    stat = _check_statistic(statistic)
    method = _check_poisson_method(poisson_method)
    m = _positive_scalar(multiplier, "multiplier")
    x = _non_negative(numerator, "numerator")
    n = _non_negative(denominator, "denominator")
    b = _non_negative(baseline, "baseline")
    if stat == "proportion" and np.any(b > m):
        raise ValueError(f"baseline must be between 0 and multiplier ({m:g}) for a proportion")
    scalar = x.ndim == 0 and n.ndim == 0 and b.ndim == 0
    x, n, b = _broadcast(x, n, b)
    _check_counts(x, n, stat == "proportion")
    value = _values(x, n, m)
    lower_95, upper_95 = _limits(n, b, CONFIDENCE_95, stat, m, method)
    lower_998, upper_998 = _limits(n, b, CONFIDENCE_998, stat, m, method)
    position = _classify(value, lower_95, upper_95, lower_998, upper_998, n > 0)
    return str(position[()]) if scalar else position


def _values(x: FloatArray, n: FloatArray, m: float) -> FloatArray:
    with np.errstate(all="ignore"):
        return np.where(n > 0, x / np.where(n > 0, n, 1.0) * m, np.nan)


# --------------------------------------------------------------------------------------
# Overdispersion (Spiegelhalter 2005)
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Overdispersion:
    """Overdispersion estimate for one funnel (Spiegelhalter 2005).

    Attributes:
        phi: overdispersion factor φ = (1/n)·Σ z², over the winsorised (or, for
            ``ratio_log``, truncated) z-scores of the n units used. φ ≈ 1 means the
            spread is what sampling alone explains.
        tau2: between-unit variance τ² on the transformed scale (0 when nφ ≤ n − 1).
        z: unadjusted z-score of every unit, (Y − θ₀)/s (``nan`` where the denominator is
            0; ``-inf`` for ``ratio_log`` with 0 observed).
        z_winsorised: the z-scores used for φ: winsorised values, or for ``ratio_log`` the
            z-score with truncated units set to ``nan``.
        target: the target on the natural scale: the pooled proportion Σx/Σn (or the
            target given) for ``"proportion"``, the target ratio (1 unless given) for the
            ratio kinds.
        kind: ``"proportion"``, ``"ratio_log"`` or ``"ratio_sqrt"``.
        trim: fraction winsorised/truncated at each end.
        n_used: number of units used for φ and τ² (after truncation for ``ratio_log``).
    """

    phi: float
    tau2: float
    z: FloatArray
    z_winsorised: FloatArray
    target: float
    kind: OverdispersionKind
    trim: float
    n_used: int

    @property
    def target_transformed(self) -> float:
        """θ₀ on the transformed scale: asin√target, ln target or √target."""
        return _transform(np.float64(self.target), self.kind)

    @property
    def overdispersed(self) -> bool:
        """True when τ² > 0, i.e. the adjusted limits are wider than the unadjusted ones."""
        return self.tau2 > 0


def _transform(value: Any, kind: OverdispersionKind) -> Any:
    with np.errstate(all="ignore"):
        if kind == "proportion":
            return np.arcsin(np.sqrt(value))
        if kind == "ratio_log":
            return np.log(value)
        return np.sqrt(value)


def _within_se(denominator: FloatArray, kind: OverdispersionKind) -> FloatArray:
    """Within-unit standard error s on the transformed scale (n or E > 0)."""
    with np.errstate(all="ignore"):
        if kind == "ratio_log":
            return 1.0 / np.sqrt(denominator)
        return 1.0 / (2.0 * np.sqrt(denominator))


def overdispersion(
    numerator: npt.ArrayLike,
    denominator: npt.ArrayLike,
    kind: OverdispersionKind = "proportion",
    trim: float = 0.1,
    *,
    target: float | None = None,
) -> Overdispersion:
    """Estimate overdispersion φ and between-unit variance τ² (Spiegelhalter 2005).

    Method (Spiegelhalter, Stat Med 2005;24:1185–1202 and Qual Saf Health Care
    2005;14:347–351; as implemented by FunnelPlotR ``R/od_adjustment.R``). Each unit i gets
    a transformed value Yᵢ with within-unit standard error sᵢ and a z-score zᵢ = (Yᵢ − θ₀)/sᵢ:

    ======================  =========================  ==============  =====================
    kind                    Yᵢ                         sᵢ              θ₀
    ======================  =========================  ==============  =====================
    ``"proportion"``        asin√(xᵢ/nᵢ)               1/(2√nᵢ)        asin√(Σx/Σn)
    ``"ratio_sqrt"`` (CQC)  √(Oᵢ/Eᵢ)                   1/(2√Eᵢ)        1
    ``"ratio_log"`` (SHMI)  ln(Oᵢ/Eᵢ)                  1/√Eᵢ           0
    ======================  =========================  ==============  =====================

    For the ratio kinds ``denominator`` is the expected count E. The extreme z-scores are
    then tamed so that genuine outliers do not inflate the estimate:

    * ``"proportion"`` and ``"ratio_sqrt"``: winsorised, i.e. z is clipped to its
      ``trim`` and ``1 − trim`` quantiles (linear interpolation, R's type 7, as
      FunnelPlotR). All n units are used.
    * ``"ratio_log"``: truncated, as in NHS England's SHMI: units are ranked by z
      (ties get their average rank r) and kept only if (n + 1)·trim ≤ r < (n + 1)(1 − trim),
      i.e. the bottom and top ``trim`` fractions are dropped (FunnelPlotR ``truncation``).

    Then, over the n units used, with weights wᵢ = 1/sᵢ²:

    * φ = (1/n)·Σ zᵢ²
    * τ² = (nφ − (n − 1)) / (Σw − Σw²/Σw) if nφ > n − 1, else 0 (no overdispersion).

    Why: when the spread of units is wider than sampling variation predicts (φ > 1),
    unadjusted limits flag many units as outliers; the additive random-effects
    adjustment (:func:`adjusted_funnel_limits`) widens them by τ², which Spiegelhalter
    (QSHC 2005) found conceptually sounder than multiplying by √φ. FunnelPlotR's default
    ``trim_by`` (10% at each end) is the default here.

    Units with a denominator of 0 are left out (their z is ``nan``). ``target`` (natural
    scale) replaces the pooled proportion or the ratio 1 as θ₀ when given.

    Raises:
        ValueError: invalid numbers (as :func:`funnel_position`); ``trim`` outside
            [0, 0.5); fewer than 2 units left to estimate from; or, for ``"ratio_log"``,
            a unit with 0 observed events that truncation does not remove (ln 0 is
            undefined; use ``"ratio_sqrt"``, which handles zeros).
    """
    od_kind = _check_kind(kind)
    if isinstance(trim, bool) or not isinstance(trim, numbers.Real) or not 0.0 <= float(trim) < 0.5:
        raise ValueError(f"trim must be a number in [0, 0.5), got {trim!r}")
    trim = float(trim)
    x = np.atleast_1d(_non_negative(numerator, "numerator"))
    n = np.atleast_1d(_non_negative(denominator, "denominator"))
    x, n = _broadcast(x, n)
    if x.ndim != 1:
        raise ValueError("numerator and denominator must be one-dimensional (one value per unit)")
    _check_counts(x, n, od_kind == "proportion")
    used = n > 0
    if np.count_nonzero(used) < 2:
        raise ValueError("overdispersion needs at least 2 units with a positive denominator")

    if target is None:
        target_value = float(x[used].sum() / n[used].sum()) if od_kind == "proportion" else 1.0
    else:
        target_value = float(_non_negative(target, "target"))
        if od_kind == "proportion" and target_value > 1:
            raise ValueError("target must be between 0 and 1 for a proportion")
        if od_kind == "ratio_log" and target_value == 0:
            raise ValueError("target must be positive for ratio_log (ln 0 is undefined)")

    safe_n = np.where(used, n, 1.0)
    theta0 = _transform(np.float64(target_value), od_kind)
    s = _within_se(safe_n, od_kind)
    with np.errstate(divide="ignore"):
        y = _transform(x / safe_n, od_kind)
    z = np.where(used, (y - theta0) / s, np.nan)

    z_used = z[used]
    if od_kind == "ratio_log":
        count = z_used.size
        if trim > 0:
            from scipy import stats  # here, not at the top: scipy.stats takes a second to import

            ranks = stats.rankdata(z_used, method="average")
            groups = 1.0 / trim
            keep = (ranks * groups >= count + 1) & (ranks * groups < (count + 1) * (groups - 1))
        else:
            keep = np.ones(count, dtype=bool)
        z_trimmed = np.where(keep, z_used, np.nan)
        if not np.all(np.isfinite(z_used[keep])):
            raise ValueError(
                "ratio_log: a unit with 0 observed events is not removed by truncation (ln 0 is undefined); "
                'use kind="ratio_sqrt" or a larger trim'
            )
    else:
        if trim > 0:
            low, high = np.quantile(z_used, [trim, 1.0 - trim])
            z_trimmed = np.clip(z_used, low, high)
        else:
            z_trimmed = z_used.copy()
        keep = np.ones(z_used.size, dtype=bool)

    kept_z = z_trimmed[keep]
    n_used = int(kept_z.size)
    if n_used < 2:
        raise ValueError("overdispersion needs at least 2 units left after truncation")
    phi = float(np.mean(kept_z**2))
    weights = 1.0 / s[used][keep] ** 2
    if n_used * phi > n_used - 1:
        tau2 = (n_used * phi - (n_used - 1)) / (weights.sum() - (weights**2).sum() / weights.sum())
    else:
        tau2 = 0.0

    z_winsorised = np.full(z.shape, np.nan)
    z_winsorised[used] = z_trimmed
    _freeze(z, z_winsorised)
    return Overdispersion(
        phi=phi,
        tau2=float(tau2),
        z=z,
        z_winsorised=z_winsorised,
        target=target_value,
        kind=od_kind,
        trim=trim,
        n_used=n_used,
    )


def _adjusted(denominator: FloatArray, od: Overdispersion, confidence: float) -> tuple[FloatArray, FloatArray]:
    """Additive random-effects limits θ₀ ± z·√(s² + τ²), back-transformed (natural scale)."""
    z = z_value(confidence)
    positive = denominator > 0
    s = _within_se(np.where(positive, denominator, 1.0), od.kind)
    spread = z * np.sqrt(s**2 + od.tau2)
    theta0 = od.target_transformed
    with np.errstate(all="ignore"):
        if od.kind == "proportion":
            # Clip the angle to [0, π/2] before sin², which is not monotone outside it.
            lower = np.sin(np.clip(theta0 - spread, 0.0, np.pi / 2)) ** 2
            upper = np.sin(np.clip(theta0 + spread, 0.0, np.pi / 2)) ** 2
        elif od.kind == "ratio_log":
            lower = np.exp(theta0 - spread)
            upper = np.exp(theta0 + spread)
        else:
            lower = np.maximum(theta0 - spread, 0.0) ** 2
            upper = (theta0 + spread) ** 2
    return np.where(positive, lower, np.nan), np.where(positive, upper, np.nan)


def adjusted_funnel_limits(
    denominator: npt.ArrayLike,
    overdispersion: Overdispersion,
    confidence: float = CONFIDENCE_95,
    kind: OverdispersionKind | None = None,
    multiplier: float = 1,
) -> tuple[FloatOrArray, FloatOrArray]:
    """Overdispersion-adjusted funnel limits (additive random effects), natural scale × multiplier.

    Limits are θ₀ ± z·√(sᵢ² + τ²) on the transformed scale of ``overdispersion.kind``
    (see :func:`overdispersion`), back-transformed (Spiegelhalter, Stat Med 2005 and
    QSHC 2005; FunnelPlotR ``R/calculate_limits.R``):

    * ``"proportion"``: sin²(asin√a ± z·√(1/(4N) + τ²)), the angle clipped to [0, π/2] so
      that the limits stay in [0, 1] and move monotonically (FunnelPlotR does not clip,
      so its lower line folds back upwards once the angle passes 0);
    * ``"ratio_sqrt"``: (√θ ± z·√(1/(4E) + τ²))², with the lower bracket floored at 0;
      θ = 1 unless a target was given. (Some FunnelPlotR versions draw these CQC limits
      without squaring back; MatNeo back-transforms, as Spiegelhalter describes.)
    * ``"ratio_log"``: θ·exp(± z·√(1/E + τ²)).

    ``denominator`` is n for proportions and the expected count E for the ratio kinds.
    When τ² = 0 (no overdispersion) these are the unadjusted normal-approximation limits
    of the same transform; they differ slightly from the exact limits of
    :func:`funnel_limits`. ``kind``, if given, must equal ``overdispersion.kind`` (it is
    accepted so that calls can state the transform explicitly). A denominator of 0 gives
    ``nan``.

    Raises:
        ValueError: negative or non-finite denominators, a mismatched ``kind``, a
            non-positive ``multiplier``, or confidence outside (0, 1).
    """
    if not isinstance(overdispersion, Overdispersion):
        raise ValueError("overdispersion must be the result of matneo.stats.funnel.overdispersion()")
    if kind is not None and _check_kind(kind) != overdispersion.kind:
        raise ValueError(f"kind {kind!r} does not match the overdispersion estimate ({overdispersion.kind!r})")
    m = _positive_scalar(multiplier, "multiplier")
    n = _non_negative(denominator, "denominator")
    lower, upper = _adjusted(n, overdispersion, confidence)
    scalar = n.ndim == 0
    return _out(lower * m, scalar), _out(upper * m, scalar)


# --------------------------------------------------------------------------------------
# Whole funnel
# --------------------------------------------------------------------------------------


def _freeze(*arrays: np.ndarray) -> None:
    for arr in arrays:
        arr.flags.writeable = False


def _digits(value: float) -> int:
    """Number of decimal digits of a non-negative whole number (PHE uses R's ``nchar``)."""
    return len(str(int(value)))


def _axis_floor(x: float) -> float:
    """Round 95% of x down to its leading digit (PHE ``signif.floor``); 0 stays 0."""
    scaled = x * 0.95
    whole = math.floor(scaled)
    if whole == 0:
        return 0.0
    step = 10.0 ** (_digits(whole) - 1)
    return math.floor(scaled / step) * step


def _axis_ceiling(x: float) -> float:
    """Round 105% of x up to two significant figures (PHE ``signif.ceiling``); 0 stays 0."""
    if x == 0:
        return 0.0
    scaled = x * 1.05
    step = 10.0 ** (_digits(math.ceil(scaled)) - 2)
    return math.ceil(scaled / step) * step


def _curve_grid(denominators: FloatArray, points: int, statistic: Statistic) -> FloatArray:
    """Denominators for the limit lines: PHE's axis range and geometric grid.

    PHEindicatormethods ``calculate_funnel_limits`` (``R/Funnels.R``):

    * axis minimum 0 if max > 2·min, else 95% of the minimum rounded down to its leading
      digit; axis maximum 105% of the maximum rounded up to two significant figures;
    * first point max(1, axis minimum); point j (2 ≤ j ≤ P) is
      max(round((axis max / previous)^(1/(P + 1 − j)) × previous), previous + 1), so the
      last point is the axis maximum.

    MatNeo uses this whole-number grid for proportions and rates (denominators are counts
    of people or births) and stops it at the axis maximum when the data are so small that
    the "+1" steps would pass it. Ratios have expected counts, often below 1, on the x-axis:
    they get an unrounded geometric grid from the axis minimum (or, when that is 0, from
    min(1, smallest expected count)) to the axis maximum. PHE's own ratio and rate charts
    put observed events on a grid instead; only the line positions matter for a chart.
    """
    positive = denominators[denominators > 0]
    low, high = float(positive.min()), float(positive.max())
    axis_min = 0.0 if high > 2 * low else _axis_floor(low)
    axis_max = _axis_ceiling(high)
    if statistic == "ratio":
        start = axis_min if axis_min > 0 else min(1.0, low)
        return np.geomspace(start, max(axis_max, start), points)
    grid = [max(1.0, axis_min)]
    for j in range(2, points + 1):
        previous = grid[-1]
        if previous >= axis_max:
            break
        step = (axis_max / previous) ** (1.0 / (points + 1 - j)) * previous
        grid.append(max(float(np.round(step)), previous + 1))
    return np.array(grid, dtype=np.float64)


@dataclass(frozen=True, eq=False)
class FunnelCurve:
    """Limit lines across the denominator range, for charting (one row per grid point)."""

    denominator: FloatArray
    lower_95: FloatArray
    upper_95: FloatArray
    lower_998: FloatArray
    upper_998: FloatArray
    baseline: float

    def to_records(self) -> list[dict[str, float]]:
        """One dict per grid point: denominator, the four limits and the baseline."""
        return [
            {
                "denominator": float(self.denominator[i]),
                "lower_95": float(self.lower_95[i]),
                "upper_95": float(self.upper_95[i]),
                "lower_998": float(self.lower_998[i]),
                "upper_998": float(self.upper_998[i]),
                "baseline": self.baseline,
            }
            for i in range(self.denominator.size)
        ]


@dataclass(frozen=True, eq=False)
class FunnelResult:
    """A whole funnel: baseline, per-unit values, limits at 95% and 99.8%, and positions.

    Arrays are read-only and have one entry per unit, in input order. ``value`` and the
    limits are on the ``multiplier`` scale and are ``nan`` where the denominator is 0
    (position ``"not_applicable"``). When ``overdispersion`` is set, the limits and
    positions are the overdispersion-adjusted ones.
    """

    statistic: Statistic
    multiplier: float
    baseline: float
    numerator: FloatArray
    denominator: FloatArray
    value: FloatArray
    lower_95: FloatArray
    upper_95: FloatArray
    lower_998: FloatArray
    upper_998: FloatArray
    position: npt.NDArray[np.str_]
    labels: tuple[str, ...] | None = None
    overdispersion: Overdispersion | None = None
    poisson_method: PoissonMethod = "exact_test"

    @property
    def phi(self) -> float | None:
        """Overdispersion factor φ, or None when the funnel is not adjusted."""
        return None if self.overdispersion is None else self.overdispersion.phi

    @property
    def tau2(self) -> float | None:
        """Between-unit variance τ² (transformed scale), or None when not adjusted."""
        return None if self.overdispersion is None else self.overdispersion.tau2

    def _limits(self, denominator: FloatArray, confidence: float) -> tuple[FloatArray, FloatArray]:
        return _funnel_limits_for(
            denominator,
            confidence,
            self.statistic,
            self.multiplier,
            self.baseline,
            self.overdispersion,
            self.poisson_method,
        )

    def limits_at(self, denominator: npt.ArrayLike, confidence: float) -> tuple[FloatOrArray, FloatOrArray]:
        """This funnel's limits (adjusted if it is adjusted) at any denominators."""
        n = _non_negative(denominator, "denominator")
        lower, upper = self._limits(n, confidence)
        scalar = n.ndim == 0
        return _out(lower, scalar), _out(upper, scalar)

    def curve(self, points: int = 100) -> FunnelCurve:
        """Limit lines on PHE's geometric grid across the denominator range (see ``_curve_grid``).

        Raises:
            ValueError: if ``points`` < 2.
        """
        if isinstance(points, bool) or not isinstance(points, numbers.Integral) or points < 2:
            raise ValueError(f"points must be a whole number of at least 2, got {points!r}")
        grid = _curve_grid(self.denominator, int(points), self.statistic)
        lower_95, upper_95 = self._limits(grid, CONFIDENCE_95)
        lower_998, upper_998 = self._limits(grid, CONFIDENCE_998)
        _freeze(grid, lower_95, upper_95, lower_998, upper_998)
        return FunnelCurve(grid, lower_95, upper_95, lower_998, upper_998, self.baseline)

    def to_records(self) -> list[dict[str, Any]]:
        """One dict per unit: label, numerator, denominator, value, limits, position.

        ``nan`` ("not available", denominator 0) becomes ``None`` so that records serialise
        to JSON. ``label`` is ``None`` when no labels were given.
        """

        def clean(v: float) -> float | None:
            return None if math.isnan(v) else float(v)

        records = []
        for i in range(self.value.size):
            records.append(
                {
                    "label": None if self.labels is None else self.labels[i],
                    "numerator": float(self.numerator[i]),
                    "denominator": float(self.denominator[i]),
                    "value": clean(self.value[i]),
                    "lower_95": clean(self.lower_95[i]),
                    "upper_95": clean(self.upper_95[i]),
                    "lower_998": clean(self.lower_998[i]),
                    "upper_998": clean(self.upper_998[i]),
                    "position": str(self.position[i]),
                }
            )
        return records


def _funnel_limits_for(
    denominator: FloatArray,
    confidence: float,
    statistic: Statistic,
    multiplier: float,
    baseline: float,
    od: Overdispersion | None,
    method: PoissonMethod,
) -> tuple[FloatArray, FloatArray]:
    """Limits of one funnel (unadjusted, or adjusted when ``od`` is given) at any denominators."""
    if od is None:
        b = np.full(denominator.shape, baseline)
        return _limits(denominator, b, confidence, statistic, multiplier, method)
    if statistic == "proportion":
        lower, upper = _adjusted(denominator, od, confidence)
        return lower * multiplier, upper * multiplier
    # Rates and ratios: ratio limits at the expected count, scaled by the baseline.
    lower, upper = _adjusted(denominator * baseline / multiplier, od, confidence)
    return lower * baseline, upper * baseline


def funnel(
    numerator: npt.ArrayLike,
    denominator: npt.ArrayLike,
    statistic: Statistic = "proportion",
    multiplier: float = 1,
    overdispersed: bool = False,
    labels: Sequence[str] | None = None,
    *,
    baseline: float | None = None,
    overdispersion_kind: OverdispersionKind | None = None,
    trim: float = 0.1,
    poisson_method: PoissonMethod = "exact_test",
) -> FunnelResult:
    """Build a whole funnel plot: baseline, values, limits at 95% and 99.8%, positions.

    * Baseline (PHEindicatormethods ``calculate_funnel_limits``): Σ numerators / Σ
      denominators × multiplier for ``"proportion"`` and ``"rate"``; the target ratio
      1 × multiplier for ``"ratio"`` (``denominator`` = expected counts, already
      standardised to the reference). ``baseline=`` overrides it (e.g. a national rate).
    * Unadjusted limits: :func:`funnel_limits` (exact-test Poisson limits for rates and
      ratios unless ``poisson_method="expected_ci"``).
    * ``overdispersed=True``: estimate φ and τ² with :func:`overdispersion` (10%
      winsorised by default) and use :func:`adjusted_funnel_limits`. The transform is
      ``overdispersion_kind``, default ``"proportion"`` (arcsine) for proportions and
      ``"ratio_sqrt"`` (square root, winsorised; Spiegelhalter's and the CQC's choice,
      and the one that copes with units with 0 events) for rates and ratios. For rates
      and ratios the estimate compares each unit's observed count O with its expected count
      mu = denominator × baseline / multiplier, and the limits are the ratio limits at mu
      times the baseline. When τ² = 0 the adjusted limits equal the unadjusted
      normal-approximation limits of that transform.

    Units with denominator 0 get ``nan`` values and limits and position
    ``"not_applicable"``, and are left out of the overdispersion estimate.

    Raises:
        ValueError: invalid numbers (see :func:`funnel_position`), inputs that are not
            one-dimensional or not the same length, ``labels`` of the wrong length, no
            unit with a positive denominator, or an invalid option.
    """
    stat = _check_statistic(statistic)
    method = _check_poisson_method(poisson_method)
    m = _positive_scalar(multiplier, "multiplier")
    x = _non_negative(numerator, "numerator")
    n = _non_negative(denominator, "denominator")
    if x.ndim != 1 or n.ndim != 1 or x.shape != n.shape:
        raise ValueError("numerator and denominator must be one-dimensional and the same length (one value per unit)")
    if x.size == 0:
        raise ValueError("a funnel needs at least one unit")
    _check_counts(x, n, stat == "proportion")
    if not np.any(n > 0):
        raise ValueError("a funnel needs at least one unit with a positive denominator")
    label_tuple: tuple[str, ...] | None = None
    if labels is not None:
        label_tuple = tuple(str(label) for label in labels)
        if len(label_tuple) != x.size:
            raise ValueError(f"labels has {len(label_tuple)} entries but there are {x.size} units")

    if baseline is None:
        base = m if stat == "ratio" else float(x.sum() / n.sum() * m)
    else:
        base = float(_non_negative(baseline, "baseline"))
        if stat == "proportion" and base > m:
            raise ValueError(f"baseline must be between 0 and multiplier ({m:g}) for a proportion")

    od: Overdispersion | None = None
    if overdispersed:
        kind = _check_kind(overdispersion_kind or _DEFAULT_OD_KIND[stat])
        if stat == "proportion":
            if kind != "proportion":
                raise ValueError('overdispersion_kind must be "proportion" for a proportion funnel')
            od = overdispersion(x, n, kind, trim, target=base / m)
        else:
            if kind == "proportion":
                raise ValueError('overdispersion_kind must be "ratio_sqrt" or "ratio_log" for a rate or ratio funnel')
            if base == 0:
                raise ValueError("a rate or ratio funnel with a zero baseline cannot be adjusted for overdispersion")
            od = overdispersion(x, n * base / m, kind, trim, target=1.0)
    elif overdispersion_kind is not None:
        _check_kind(overdispersion_kind)

    value = _values(x, n, m)
    lower_95, upper_95 = _funnel_limits_for(n, CONFIDENCE_95, stat, m, base, od, method)
    lower_998, upper_998 = _funnel_limits_for(n, CONFIDENCE_998, stat, m, base, od, method)
    position = _classify(value, lower_95, upper_95, lower_998, upper_998, n > 0)
    _freeze(x, n, value, lower_95, upper_95, lower_998, upper_998, position)
    return FunnelResult(
        statistic=stat,
        multiplier=m,
        baseline=base,
        numerator=x,
        denominator=n,
        value=value,
        lower_95=lower_95,
        upper_95=upper_95,
        lower_998=lower_998,
        upper_998=upper_998,
        position=position,
        labels=label_tuple,
        overdispersion=od,
        poisson_method=method,
    )
