"""Early signals: which trusts show a concern on which outcome, by which method, since when.

Several methods look at the same outcomes (stillbirth, neonatal death at ≥24 weeks, brain
injury) from different angles, and the register (``register.py``) combines them:

* **funnel** — each calendar year, the trust's case-mix-adjusted observed/expected ratio
  (``casemix.py``) against exact Poisson funnel limits around 1 (``matneo.stats.funnel``);
  a signal when it lies above the configured upper limit (99.8% by default). Slow but
  specific: a year's worth of births.
* **spc** — each trust's monthly rate on a Making Data Count P′ chart (``matneo.stats.spc``);
  a signal at a special-cause point in the direction of concern.
* **cusum** — each trust's babies in birth order on a risk-adjusted Bernoulli CUSUM
  (``cusum.py``) testing a doubling of the odds against each baby's case-mix risk; a signal
  when the chart crosses its threshold, after which it restarts. One chart per *stream*: each
  single outcome and each composite outcome (:data:`COMPOSITES`; a baby's composite risk is
  1 − Π(1 − p_k) of its component risks).
* **leading_cusum** — the same chart on leading indicators (:data:`LEADING_INDICATORS`), which
  feed triangulation as a source of their own and never an outcome signal.
* **rare_spc** — monthly counts against exact binomial limits made for rare events
  (``matneo.stats.rare``); measured, not a register default.

Thresholds are parameters of :class:`SignalSettings`; the defaults and how they were chosen
are in ``docs/methods.md`` ("Signals") and ``benchmarks/bench_signals.py``. By default the
register uses the funnel, the CUSUM (single outcomes and the serious-harm composite) and the
leading indicators: monthly SPC on rare outcomes alarms far too often to be a register signal,
so it stays a chart (Making Data Count icons) unless selected. Each CUSUM signal's summary says
its operating characteristics for the trust's size (``operating.py``).

Speed: one scan of the store (``scan.scan_babies``) gives the funnel's points and every stream's
babies, risks as each measure's England rate per stratum cell; the CUSUM restarts are vectorised
(``cusum._path_with_reset``). The results are those of the per-measure computation
(``casemix.expected_risks``, ``adjusted_ratios``), tested in ``tests/signals/test_scan.py``
(docs/performance.md, "Signals").
"""

from __future__ import annotations

import datetime as dt
import math
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from matneo.config import Settings
from matneo.dates import day_text, month_end, month_text
from matneo.measures.counts import denominator_column, numerator_column
from matneo.measures.definitions import MEASURES_BY_ID
from matneo.signals.casemix import indirectly_standardise, strata_counts
from matneo.signals.cusum import _path_with_reset, _scores
from matneo.signals.operating import operating_characteristics, operating_words
from matneo.signals.scan import Babies, scan_babies
from matneo.stats.funnel import funnel_position
from matneo.stats.rare import exact_upper_limit
from matneo.stats.spc import spc

SIGNAL_MEASURES = ("stillbirth_rate", "neonatal_mortality_24wk", "brain_injury_rate")
#: Composite outcomes watched by the risk-adjusted CUSUM, and their components. A baby's
#: composite risk is 1 − Π(1 − p_k) over the components whose denominator holds the baby, each
#: p_k from that component's own case-mix model (``casemix.STRATA_BY_MEASURE``); the composite
#: event is any component's event. Why: a composite has more events per month than any of its
#: parts, and the time a CUSUM needs to find a given rise shrinks with the expected events
#: (docs/methods.md, "Composite outcomes"). ``perinatal_mortality`` is MBRRACE-UK's extended
#: perinatal mortality (stillbirths and neonatal deaths), so it keeps that measure's id and title.
COMPOSITES: dict[str, tuple[str, ...]] = {
    "perinatal_mortality": ("stillbirth_rate", "neonatal_mortality_24wk"),
    "serious_harm": ("stillbirth_rate", "neonatal_mortality_24wk", "brain_injury_rate"),
}
#: Titles of signal streams that are not measures of ``matneo.measures.definitions``.
STREAM_TITLES = {
    "serious_harm": "Serious harm (stillbirth, neonatal death or brain injury)",
}
#: Leading indicators: far more events than deaths, so a CUSUM on them moves within weeks. They
#: are watched as their own streams (method ``leading_cusum``) that feed triangulation as a
#: source of concern of their own; they never raise or clear an outcome (mortality) signal.
LEADING_INDICATORS = ("term_nnu_admission", "apgar_below_7_term", "pph_1500", "third_fourth_degree_tear")
METHODS = ("funnel", "spc", "rare_spc", "cusum", "leading_cusum")
#: What each method is called wherever people read it (pages, the CLI table, messages).
METHOD_LABELS = {
    "funnel": "Case-mix adjusted funnel plot",
    "spc": "SPC chart (Making Data Count)",
    "rare_spc": "SPC chart with exact limits for rare events",
    "cusum": "Risk-adjusted CUSUM",
    "leading_cusum": "Leading indicator CUSUM",
}


def stream_title(measure_id: str) -> str:
    """What a signal's outcome is called: the measure's title, or the composite's."""
    measure = MEASURES_BY_ID.get(measure_id)
    return measure.title if measure else STREAM_TITLES.get(measure_id, measure_id)


#: Funnel positions that count as a signal for each configurable limit, and how the limit reads.
FUNNEL_LIMITS: dict[str, tuple[tuple[str, ...], str]] = {
    "above_998": (("above_998",), "99.8%"),
    "above_95": (("above_95", "above_998"), "95%"),
}
SPC_RULE_WORDS = {
    "outside_limits": "a month above the upper process limit",
    "trend": "seven months each higher than the one before",
    "two_in_three": "two of three months close to the upper limit",
    "run": "seven or more months above the average",
}

#: False alarms per 100 trust-years of the register's risk-adjusted CUSUM, by (odds ratio R,
#: threshold h), as measured by the validation benchmark ``benchmarks/bench_signals.py``:
#: docs/performance.md, "Signals", table "CUSUM threshold sweep (odds ratio 2)", column "CUSUM
#: FA/100 ty" (synthetic national data 2016–2019, scale 1.0, seed 7; every CUSUM signal episode
#: at the 106 trusts without a planted deterioration, any of the three outcomes, per 100 of their
#: 424 trust-years; re-run of 2026-12-02). A measured figure from one seed, not a theoretical
#: rate: re-run the benchmark and update this table when the thresholds or the risk model change.
CUSUM_FALSE_ALARMS_PER_100_TRUST_YEARS: dict[tuple[float, float], float] = {
    (2.0, 4.0): 24.76,
    (2.0, 5.0): 7.31,
    (2.0, 6.0): 2.36,
    (2.0, 7.0): 0.47,
    (2.0, 8.0): 0.47,
}
SIGNAL_COLUMNS = {
    "trust_code": pl.String,
    "measure": pl.String,
    "method": pl.String,
    "signal_date": pl.Date,
    "summary": pl.String,
    "statistic": pl.Float64,
}


#: Months without a signal after which a register entry closes; an instance sets its own with
#: ``MATNEO_SIGNAL_QUIET_MONTHS``, read into :class:`~matneo.config.Settings`.
#: NEEDS LOCAL CONFIRMATION: no national source sets it (NHS England's MOSS does not publish a
#: look-back window; docs/methods.md, "Relation to MOSS"). Twelve months covers the funnel's
#: yearly cycle: a funnel signal closes when the next complete year is not above the limit.
QUIET_MONTHS = 12


@dataclass(frozen=True)
class SignalSettings:
    """Detection thresholds and the register's quiet period.

    Thresholds are chosen by the validation benchmark (docs/methods.md, "Signals"); the quiet
    period (:data:`QUIET_MONTHS`) needs local confirmation.
    """

    funnel_position: str = "above_998"  # a key of FUNNEL_LIMITS: above the 99.8% (default) or the 95% limit
    spc_min_points: int = 12  # Making Data Count: fewer points give only trial limits
    spc_rules: tuple[str, ...] = ("outside_limits",)
    cusum_odds_ratio: float = 2.0
    # bench_signals 2026-12-03 (evening): h = 9 on each single outcome and 7.5 on the serious-harm
    # composite: the composite finds four doublings in five at a median-sized trust within about
    # six months, and the register stays within 1 false alarm per 100 trust-years there
    # (simulated, docs/performance.md, "Signals", "Register defaults against the target").
    cusum_threshold: float = 9.0
    measures: tuple[str, ...] = SIGNAL_MEASURES
    # Composite outcomes on the CUSUM (COMPOSITES), with their own threshold. Extended perinatal
    # mortality is computed and measured but off by default: with it the register would exceed
    # the false-alarm budget (simulated 1.13 per 100 trust-years at a median trust).
    composites: tuple[str, ...] = ("serious_harm",)
    composite_threshold: float = 7.5
    # Leading indicators (method "leading_cusum"). NEEDS LOCAL CONFIRMATION: no national source
    # sets a threshold for them; h = 8 is the highest the bench measured (about 4.6 false alarms
    # per 100 trust-years over the four at a median trust, a doubling found within 1–2 months
    # for the three common ones). They feed triangulation, never the outcome signals.
    leading: tuple[str, ...] = LEADING_INDICATORS
    leading_threshold: float = 8.0
    # SPC on monthly rates of rare events raises ~49 false alarms per 100 trust-years
    # (bench_signals), so it is shown on charts but raises register signals only when asked for;
    # "rare_spc" (exact limits) raises 3.5 and is not a register method by default either.
    methods: tuple[str, ...] = ("funnel", "cusum", "leading_cusum")
    quiet_months: int = QUIET_MONTHS

    @classmethod
    def of(cls, settings: Settings) -> SignalSettings:
        """The defaults, with the instance's quiet period (``MATNEO_SIGNAL_QUIET_MONTHS``) if it sets one."""
        return cls() if settings.signal_quiet_months is None else cls(quiet_months=settings.signal_quiet_months)


def _empty() -> pl.DataFrame:
    return pl.DataFrame(schema=SIGNAL_COLUMNS)


def cusum_meaning(value: float, odds_ratio: float, threshold: float) -> str:
    """The chart value against its threshold, and what the threshold means in false alarms.

    "CUSUM 7.4, threshold 7: about 0.5 false alarms per 100 trust-years". The rate is the one
    measured for this (odds ratio, threshold) by the validation benchmark
    (:data:`CUSUM_FALSE_ALARMS_PER_100_TRUST_YEARS`); a threshold that was not measured says so
    rather than guessing.
    """
    rate = CUSUM_FALSE_ALARMS_PER_100_TRUST_YEARS.get((float(odds_ratio), float(threshold)))
    if rate is None:
        meaning = "false-alarm rate not measured for this threshold (see benchmarks/bench_signals.py)"
    else:
        meaning = f"about {rate:.1f}" if rate < 10 else f"about {rate:.0f}"
        meaning += " false alarms per 100 trust-years"
    return f"CUSUM {value:.1f}, threshold {threshold:g}: {meaning}"


#: The adjusted funnel is drawn for trusts by calendar year: the unit and period the expected
#: counts are standardised over (``casemix.py``). The funnel page offers it for these only.
ADJUSTED_BY = ("trust_code", "year")


def adjusted_ratios(files: list[Path], measures: Sequence[str]) -> pl.DataFrame:
    """Observed and expected events per trust and calendar year for each measure, after
    indirect standardisation for case mix: the points of the adjusted funnel, which the funnel
    signals flag and the funnel page plots (one computation for both).

    Columns: ``trust_code``, ``year``, ``observed``, ``expected``, ``ratio``, ``measure``;
    trust-years with no expected events are left out (they have no ratio to plot).
    """
    strata = strata_counts(files, list(measures), by=ADJUSTED_BY)
    parts = [
        indirectly_standardise(strata, measure, by=ADJUSTED_BY).with_columns(pl.lit(measure).alias("measure"))
        for measure in measures
    ]
    if not parts:
        return pl.DataFrame(schema={"trust_code": pl.String, "year": pl.Int32, "measure": pl.String})
    return pl.concat(parts, how="vertical_relaxed").filter(pl.col("expected") > 0)


def funnel_ratios(babies: Babies, measures: Sequence[str]) -> pl.DataFrame:
    """The points of the adjusted funnel (as :func:`adjusted_ratios`) from one scan's babies.

    O is the trust-year's events and E the sum of its babies' reference risks, which is Σ nᵢ·rᵢ
    over its strata (``casemix.py``): the same figures as indirect standardisation of the
    trust-year's strata counts, without a second scan of the store (E can differ from
    :func:`adjusted_ratios`' in the last bits of a float, as the order of summation differs).
    """
    parts = []
    if babies.size:
        first_year = int(babies.year.min())
        years = int(babies.year.max()) - first_year + 1
        unit = babies.trust.astype(np.int64) * years + (babies.year - first_year)
        units = len(babies.trusts) * years
        for measure in measures:
            observed = babies.observed[measure]
            inside = observed >= 0
            risk = babies.rates[measure][babies.cells[measure]]
            events = np.bincount(unit[inside], weights=observed[inside].astype(np.float64), minlength=units)
            expected = np.bincount(unit[inside], weights=risk[inside], minlength=units)
            babies_in = np.bincount(unit[inside], minlength=units)
            kept = np.flatnonzero((babies_in > 0) & (expected > 0))
            parts.append(
                pl.DataFrame(
                    {
                        "trust_code": [babies.trusts[i] for i in (kept // years).tolist()],
                        "year": (kept % years + first_year).astype(np.int32),
                        "observed": events[kept].astype(np.int64),
                        "expected": expected[kept],
                        "ratio": events[kept] / expected[kept],
                        "measure": [measure] * kept.size,
                    },
                    schema_overrides={"trust_code": pl.String, "measure": pl.String},
                )
            )
    if not parts:
        return pl.DataFrame(schema={"trust_code": pl.String, "year": pl.Int32, "measure": pl.String})
    return pl.concat(parts, how="vertical_relaxed")


def funnel_signals(files: list[Path], settings: SignalSettings, ratios: pl.DataFrame | None = None) -> pl.DataFrame:
    """Trust-years above the adjusted funnel's configured limit; dated at the end of the year.

    ``ratios`` may be the funnel's points already worked out (:func:`funnel_ratios`); by default
    they are :func:`adjusted_ratios` of ``files``.
    """
    if settings.funnel_position not in FUNNEL_LIMITS:
        raise ValueError(f"funnel_position must be one of {', '.join(FUNNEL_LIMITS)}, not {settings.funnel_position!r}")
    flagged_positions, limit = FUNNEL_LIMITS[settings.funnel_position]
    all_ratios = adjusted_ratios(files, settings.measures) if ratios is None else ratios
    rows = []
    for measure in settings.measures:
        ratios_of = all_ratios.filter(pl.col("measure") == measure).sort("trust_code", "year")
        if ratios_of.is_empty():
            continue
        observed = ratios_of.get_column("observed").to_numpy().astype(float)
        expected = ratios_of.get_column("expected").to_numpy().astype(float)
        positions = funnel_position(observed, expected, 1.0, statistic="ratio")
        flagged = ratios_of.with_columns(pl.Series("position", positions)).filter(
            pl.col("position").is_in(flagged_positions)
        )
        for row in flagged.iter_rows(named=True):
            rows.append(
                {
                    "trust_code": row["trust_code"],
                    "measure": measure,
                    "method": "funnel",
                    "signal_date": dt.date(int(row["year"]), 12, 31),
                    "summary": f"{int(row['year'])}: observed {int(row['observed'])}, expected "
                    f"{row['expected']:.1f} after case-mix adjustment (O/E {row['ratio']:.2f}), above the upper "
                    f"{limit} limit",
                    "statistic": float(row["ratio"]),
                }
            )
    return pl.DataFrame(rows, schema=SIGNAL_COLUMNS) if rows else _empty()


def spc_signals(cube: pl.DataFrame, settings: SignalSettings) -> pl.DataFrame:
    """Months where a trust's P′ chart shows special cause in the direction of concern."""
    rows = []
    monthly = cube.group_by("trust_code", "month_start").agg(
        pl.col([c for m in settings.measures for c in (numerator_column_id(m), denominator_column_id(m))]).sum()
    )
    for (trust,), series in monthly.sort("month_start").group_by(["trust_code"], maintain_order=True):
        for measure in settings.measures:
            num = series.get_column(numerator_column_id(measure)).to_numpy().astype(float)
            den = series.get_column(denominator_column_id(measure)).to_numpy().astype(float)
            keep = den > 0
            if keep.sum() < settings.spc_min_points:
                continue
            months = series.get_column("month_start").to_numpy()[keep]
            chart = spc(num[keep], denominators=den[keep], improvement="decrease")
            concern = (chart.point_type == "special_cause_concern") & np.isin(chart.rule, settings.spc_rules)
            for index in np.flatnonzero(concern):
                rows.append(
                    {
                        "trust_code": trust,
                        "measure": measure,
                        "method": "spc",
                        "signal_date": _last_day(months[index]),
                        "summary": f"{_month(months[index])}: {int(num[keep][index])} of {int(den[keep][index])}, "
                        f"{SPC_RULE_WORDS.get(str(chart.rule[index]), 'special cause')}",
                        "statistic": float(num[keep][index] / den[keep][index]),
                    }
                )
    return pl.DataFrame(rows, schema=SIGNAL_COLUMNS) if rows else _empty()


def rare_spc_signals(cube: pl.DataFrame, settings: SignalSettings) -> pl.DataFrame:
    """Months whose count reaches the exact binomial upper limit around the trust's own mean rate.

    The Making Data Count "outside the limits" rule with limits made for rare events
    (``matneo.stats.rare.exact_upper_limit``, α = 0.00135, one-sided 3σ): each in-control month
    alarms with probability at most α, so the chart's false-alarm rate is known, unlike the P′
    chart's on counts of 0, 1 or 2 (docs/methods.md, "Rare-event charts").
    """
    rows = []
    monthly = cube.group_by("trust_code", "month_start").agg(
        pl.col([c for m in settings.measures for c in (numerator_column_id(m), denominator_column_id(m))]).sum()
    )
    for (trust,), series in monthly.sort("month_start").group_by(["trust_code"], maintain_order=True):
        for measure in settings.measures:
            num = series.get_column(numerator_column_id(measure)).to_numpy().astype(float)
            den = series.get_column(denominator_column_id(measure)).to_numpy().astype(float)
            keep = den > 0
            if keep.sum() < settings.spc_min_points or num[keep].sum() == 0:
                continue
            months, num, den = series.get_column("month_start").to_numpy()[keep], num[keep], den[keep]
            expected = den * num.sum() / den.sum()
            limits = exact_upper_limit(expected, trials=den)
            for index in np.flatnonzero(num >= limits):
                rows.append(
                    {
                        "trust_code": trust,
                        "measure": measure,
                        "method": "rare_spc",
                        "signal_date": _last_day(months[index]),
                        "summary": f"{_month(months[index])}: {int(num[index])} of {int(den[index])}, at or above "
                        f"the exact upper limit of {int(limits[index])} (expected {expected[index]:.1f} at the "
                        "trust's own average rate)",
                        "statistic": float(num[index] / den[index]),
                    }
                )
    return pl.DataFrame(rows, schema=SIGNAL_COLUMNS) if rows else _empty()


def cusum_streams(settings: SignalSettings) -> list[tuple[str, str, tuple[str, ...], float]]:
    """Every CUSUM stream of ``settings``: (method, stream id, component measures, threshold)."""
    streams: list[tuple[str, str, tuple[str, ...], float]] = []
    if "cusum" in settings.methods:
        streams += [("cusum", m, (m,), settings.cusum_threshold) for m in settings.measures]
        streams += [("cusum", c, COMPOSITES[c], settings.composite_threshold) for c in settings.composites]
    if "leading_cusum" in settings.methods:
        streams += [("leading_cusum", m, (m,), settings.leading_threshold) for m in settings.leading]
    return streams


def stream_risks(risks: pl.DataFrame, components: Sequence[str]) -> pl.DataFrame:
    """Observed event and null risk of each baby for one stream, from :func:`expected_risks`.

    A single measure's stream is its own columns. A composite's risk is 1 − Π(1 − p_k) over the
    components whose denominator holds the baby and its event is any component's event: the
    probability that none of the component events happens, under each component's case-mix
    model, if the components are independent given the stratum (Steiner et al. 2000's chart
    needs only each patient's probability of the monitored event). Babies with no risk in any
    component, or a risk of 0 or 1 (a stratum with no events, or only events, in England), are
    left out: they cannot move the chart. :func:`stream_arrays` is the same on a scan's arrays.
    """
    if len(components) == 1:
        observed, risk = pl.col(f"{components[0]}__obs"), pl.col(f"{components[0]}__risk")
    else:
        in_any = pl.any_horizontal([pl.col(f"{m}__risk").is_not_null() for m in components])
        observed = pl.when(in_any).then(pl.max_horizontal([pl.col(f"{m}__obs") for m in components]))
        survive = pl.lit(1.0)
        for m in components:
            survive = survive * (1.0 - pl.col(f"{m}__risk").fill_null(0.0))
        risk = pl.when(in_any).then(1.0 - survive)
    return risks.select("trust_code", "birth_datetime", observed.alias("observed"), risk.alias("risk")).filter(
        (pl.col("risk") > 0) & (pl.col("risk") < 1) & pl.col("observed").is_not_null()
    )


def stream_arrays(
    babies: Babies, components: Sequence[str], odds_ratio: float = 2.0
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """The babies of one stream: positions in ``babies``, observed events (0/1), null risks and CUSUM scores.

    As :func:`stream_risks` (the same numbers, from the same float operations in the same
    order): a single measure's own event and risk; a composite's event is any component's and
    its risk 1 − Π(1 − p_k) over the components whose denominator holds the baby; babies with a
    risk of 0 or 1 are left out. The scores are ``cusum._scores`` for odds ratio R; for a single
    measure the log term is worked out once per stratum cell, as every baby of a cell has the
    same risk.
    """
    if len(components) == 1:
        measure = components[0]
        rate, cell, flag = babies.rates[measure], babies.cells[measure], babies.observed[measure]
        with np.errstate(invalid="ignore"):
            usable = (rate > 0) & (rate < 1)
            log_term = np.log1p((odds_ratio - 1.0) * rate)
        positions = np.flatnonzero((flag >= 0) & usable[cell])
        cells = cell[positions]
        observed = flag[positions].astype(np.float64)
        return positions, observed, rate[cells], observed * math.log(odds_ratio) - log_term[cells]
    # Worked out for every baby, then the stream's babies taken once: a baby in no component's
    # denominator has risk 1 − 1 = 0 and is left out with the others of risk 0, so this is the
    # same as gathering the babies in any denominator first, with three gathers fewer per component.
    flags = [babies.observed[m] for m in components]
    survive = np.ones(babies.size)
    for m, flag in zip(components, flags, strict=True):
        with np.errstate(invalid="ignore"):
            survive = survive * (1.0 - np.where(flag >= 0, babies.rates[m][babies.cells[m]], 0.0))
    risk = 1.0 - survive
    positions = np.flatnonzero((risk > 0) & (risk < 1))
    risk = risk[positions]
    observed = np.maximum.reduce(flags)[positions].astype(np.float64)
    return positions, observed, risk, _scores(observed, risk, odds_ratio)


def risk_frame(files: list[Path], settings: SignalSettings) -> Babies:
    """The babies of the store with everything any CUSUM stream and the funnel need (one scan)."""
    needed = [m for _, _, parts, _ in cusum_streams(settings) for m in parts]
    if "funnel" in settings.methods:
        needed += list(settings.measures)
    return scan_babies(files, sorted(set(needed)))


#: How a composite's component events are counted in its signal's words (singular, plural).
COMPONENT_WORDS = {
    "stillbirth_rate": ("stillbirth", "stillbirths"),
    "neonatal_mortality_24wk": ("neonatal death", "neonatal deaths"),
    "brain_injury_rate": ("brain injury", "brain injuries"),
}


def component_words(babies: Babies, components: Sequence[str], positions: npt.NDArray[np.int64]) -> str:
    """Which component outcomes drove a composite's rise: each one's events and expected events.

    "5 stillbirths (2.1 expected), 2 neonatal deaths (0.9 expected), 6 brain injuries (4.1
    expected)" among the babies at ``positions``: a reader sees at once whether one outcome or
    several made the composite signal. Expected = the sum of the babies' risks for that
    component (``casemix.py``); a baby can have more than one of the events.
    """
    parts = []
    for m in components:
        flag = babies.observed[m][positions]
        inside = flag >= 0
        events = int((flag == 1).sum())
        expected = float(babies.rates[m][babies.cells[m][positions]][inside].sum())
        one, many = COMPONENT_WORDS.get(m, (stream_title(m), stream_title(m)))
        parts.append(f"{events} {one if events == 1 else many} ({expected:.1f} expected)")
    return ", ".join(parts)


def cusum_signals(files: list[Path], settings: SignalSettings, babies: Babies | None = None) -> pl.DataFrame:
    """Dates where a trust's risk-adjusted CUSUM crosses its threshold (it restarts after each).

    One chart per trust and stream (:func:`cusum_streams`): the single outcomes, the composites
    and the leading indicators. ``babies`` may be a scan already made by :func:`risk_frame`
    (``detect`` shares it with the funnel; the benchmark sweeps thresholds over one). The charts
    are the ones :func:`~matneo.signals.cusum.run_cusum` draws, computed on the arrays directly:
    each stream's scores once for every baby, then each trust's path.
    """
    streams = cusum_streams(settings)
    if not streams:
        return _empty()
    babies = risk_frame(files, settings) if babies is None else babies
    operating = operating_characteristics()
    # The streams are independent and NumPy lets go of the GIL for work on large arrays, so
    # they run side by side (the refresh after a load shares the machine with the server:
    # issue 16); each stream's rows come back in the streams' order.
    with ThreadPoolExecutor(max_workers=max(1, min(len(streams), os.cpu_count() or 1))) as pool:
        found = list(pool.map(lambda s: _stream_signals(babies, s, settings, operating), streams))
    rows = [row for stream_rows in found for row in stream_rows]
    return pl.DataFrame(rows, schema=SIGNAL_COLUMNS) if rows else _empty()


def _stream_signals(
    babies: Babies, stream_spec: tuple[str, str, tuple[str, ...], float], settings: SignalSettings, operating: Any
) -> list[dict[str, Any]]:
    """The signal rows of one CUSUM stream, every trust's chart."""
    method, stream, components, threshold = stream_spec
    odds_ratio = settings.cusum_odds_ratio
    rows: list[dict[str, Any]] = []
    positions, observed_all, risk_all, scores = stream_arrays(babies, components, odds_ratio)
    if not positions.size:
        return []
    bounds = np.searchsorted(babies.trust[positions], np.arange(len(babies.trusts) + 1))
    for index, trust in enumerate(babies.trusts):
        first, last = int(bounds[index]), int(bounds[index + 1])
        if last == first:
            continue
        path, signals = _path_with_reset(scores[first:last], threshold)
        if not signals:
            continue
        when = babies.when[positions[first:last]]
        span_days = max(1, int((when[-1] - when[0]) // np.timedelta64(1, "D")))
        births_per_year = (last - first) * 365.25 / span_days
        outcomes, risks = observed_all[first:last], risk_all[first:last]
        for start, end in _excursions(path, np.asarray(signals, dtype=np.int64)):
            observed = int(outcomes[start : end + 1].sum())
            expected = float(risks[start : end + 1].sum())
            value = float(path[end])
            words = operating_words(operating, method, stream, threshold, births_per_year)
            meaning = (
                f"CUSUM {value:.1f}, threshold {threshold:g}"
                if words
                else cusum_meaning(value, settings.cusum_odds_ratio, threshold)
            )
            drove = (
                f" ({component_words(babies, components, positions[first + start : first + end + 1])})"
                if len(components) > 1
                else ""
            )
            start_day, end_day = (_day(when[start]), _day(when[end]))
            rows.append(
                {
                    "trust_code": trust,
                    "measure": stream,
                    "method": method,
                    "signal_date": end_day,
                    "summary": f"{meaning}; observed {observed}, expected {expected:.1f} after case-mix "
                    f"adjustment among babies born {day_text(start_day)} to {day_text(end_day)}{drove}"
                    + (f". {words}" if words else ""),
                    "statistic": value,
                }
            )
    return rows


def _day(value: np.datetime64) -> dt.date:
    return dt.date.fromisoformat(str(value.astype("datetime64[D]")))


def _excursions(path: np.ndarray, signals: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) baby of the rise that ended in each signal of a chart restarting after each.

    The rise starts after the chart last stood at 0 (or restarted after the previous signal);
    its babies' observed and expected events are what took the chart over the threshold.
    """
    spans, restart = [], 0
    for index in signals.tolist():
        zeros = np.flatnonzero(path[restart:index] <= 0.0)
        spans.append((restart + int(zeros[-1]) + 1 if zeros.size else restart, index))
        restart = index + 1
    return spans


def detect(files: list[Path], cube: pl.DataFrame, settings: SignalSettings | None = None) -> pl.DataFrame:
    """Every signal episode of every method, sorted by trust, measure and date.

    The funnel and every CUSUM stream share one scan of the store (:func:`risk_frame`); the
    count cube is read only by the SPC methods.
    """
    settings = settings or SignalSettings()
    if not files:
        return _empty()
    parts = []
    wants_cusum = "cusum" in settings.methods or "leading_cusum" in settings.methods
    babies = risk_frame(files, settings) if wants_cusum or "funnel" in settings.methods else None
    with ThreadPoolExecutor(max_workers=1) as beside:  # the funnel's sums while the CUSUM streams run
        ratios = (
            beside.submit(funnel_ratios, babies, settings.measures)
            if "funnel" in settings.methods and babies is not None
            else None
        )
        cusums = cusum_signals(files, settings, babies) if wants_cusum else None
        if ratios is not None:
            parts.append(funnel_signals(files, settings, ratios.result()))
    if "spc" in settings.methods:
        parts.append(spc_signals(cube, settings))
    if "rare_spc" in settings.methods:
        parts.append(rare_spc_signals(cube, settings))
    if cusums is not None:
        parts.append(cusums)
    return pl.concat(parts).sort("trust_code", "measure", "signal_date", "method") if parts else _empty()


def numerator_column_id(measure_id: str) -> str:
    return numerator_column(MEASURES_BY_ID[measure_id])


def denominator_column_id(measure_id: str) -> str:
    return denominator_column(MEASURES_BY_ID[measure_id])


def _month(value: np.datetime64) -> str:
    return month_text(dt.date.fromisoformat(str(value)[:10]))


def _last_day(value: np.datetime64) -> dt.date:
    return month_end(dt.date.fromisoformat(str(value)[:10]))
