"""Early signals: which trusts show a concern on which outcome, by which method, since when.

Three methods look at the same outcomes (stillbirth, neonatal death at ≥24 weeks, brain
injury) from different angles, and the register (``register.py``) combines them:

* **funnel** — each calendar year, the trust's case-mix-adjusted observed/expected ratio
  (``casemix.py``) against exact Poisson funnel limits around 1 (``matneo.stats.funnel``);
  a signal when it lies above the 99.8% limit. Slow but specific: a year's worth of births.
* **spc** — each trust's monthly rate on a Making Data Count P′ chart (``matneo.stats.spc``);
  a signal at a special-cause point in the direction of concern.
* **cusum** — each trust's babies in birth order on a risk-adjusted Bernoulli CUSUM
  (``cusum.py``) testing a doubling of the odds against each baby's case-mix risk; a signal
  when the chart crosses its threshold, after which it restarts.

Thresholds are parameters of :class:`SignalSettings`; the defaults and how they were chosen
are in ``docs/methods.md`` ("Signals") and ``benchmarks/bench_signals.py``. By default the
register uses the funnel and the CUSUM: monthly SPC on rare outcomes alarms far too often
to be a register signal, so it stays a chart (Making Data Count icons) unless selected.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from matneo.dates import month_end
from matneo.measures.counts import denominator_column, numerator_column
from matneo.measures.definitions import MEASURES_BY_ID
from matneo.signals.casemix import expected_risk, indirectly_standardise, strata_counts
from matneo.signals.cusum import run_cusum
from matneo.stats.funnel import funnel_position
from matneo.stats.spc import spc

SIGNAL_MEASURES = ("stillbirth_rate", "neonatal_mortality_24wk", "brain_injury_rate")
METHODS = ("funnel", "spc", "cusum")
SIGNAL_COLUMNS = {
    "trust_code": pl.String,
    "measure": pl.String,
    "method": pl.String,
    "signal_date": pl.Date,
    "summary": pl.String,
    "statistic": pl.Float64,
}


@dataclass(frozen=True)
class SignalSettings:
    """Detection thresholds. Defaults are chosen by the validation benchmark (docs/methods.md)."""

    funnel_position: str = "above_998"  # 99.8% limit: about 1 false alarm in 1,000 trust-years per measure
    spc_min_points: int = 12  # Making Data Count: fewer points give only trial limits
    spc_rules: tuple[str, ...] = ("outside_limits",)
    cusum_odds_ratio: float = 2.0
    cusum_threshold: float = 7.0  # bench_signals: 0.47 false alarms per 100 trust-years with the funnel
    measures: tuple[str, ...] = SIGNAL_MEASURES
    # SPC on monthly rates of rare events raises ~49 false alarms per 100 trust-years
    # (bench_signals), so it is shown on charts but raises register signals only when asked for.
    methods: tuple[str, ...] = ("funnel", "cusum")


def _empty() -> pl.DataFrame:
    return pl.DataFrame(schema=SIGNAL_COLUMNS)


def funnel_signals(files: list[Path], settings: SignalSettings) -> pl.DataFrame:
    """Trust-years above the adjusted funnel's limit; dated at the end of the year."""
    strata = strata_counts(files, list(settings.measures), by=("trust_code", "year"))
    rows = []
    for measure in settings.measures:
        ratios = indirectly_standardise(strata, measure, by=("trust_code", "year")).filter(pl.col("expected") > 0)
        if ratios.is_empty():
            continue
        observed = ratios.get_column("observed").to_numpy().astype(float)
        expected = ratios.get_column("expected").to_numpy().astype(float)
        positions = funnel_position(observed, expected, 1.0, statistic="ratio")
        flagged = ratios.with_columns(pl.Series("position", positions)).filter(
            pl.col("position") == settings.funnel_position
        )
        for row in flagged.iter_rows(named=True):
            rows.append(
                {
                    "trust_code": row["trust_code"],
                    "measure": measure,
                    "method": "funnel",
                    "signal_date": dt.date(int(row["year"]), 12, 31),
                    "summary": f"{int(row['year'])}: observed {int(row['observed'])}, expected "
                    f"{row['expected']:.1f} after case-mix adjustment (O/E {row['ratio']:.2f}); above the 99.8% limit",
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
                        "summary": f"{_month(months[index])}: {int(num[keep][index])} of {int(den[keep][index])} "
                        f"above the upper process limit ({chart.rule[index]})",
                        "statistic": float(num[keep][index] / den[keep][index]),
                    }
                )
    return pl.DataFrame(rows, schema=SIGNAL_COLUMNS) if rows else _empty()


def cusum_signals(files: list[Path], settings: SignalSettings) -> pl.DataFrame:
    """Dates where a trust's risk-adjusted CUSUM crosses its threshold (it restarts after each)."""
    rows = []
    for measure in settings.measures:
        # A stratum with no events anywhere has risk 0: such babies cannot move the chart.
        risks = (
            expected_risk(files, measure)
            .filter((pl.col("risk") > 0) & (pl.col("risk") < 1))
            .sort("trust_code", "birth_datetime")
        )
        for (trust,), babies in risks.group_by(["trust_code"], maintain_order=True):
            result = run_cusum(
                babies.get_column("observed").to_numpy().astype(float),
                babies.get_column("risk").to_numpy().astype(float),
                settings.cusum_odds_ratio,
                threshold=settings.cusum_threshold,
                reset="zero",
            )
            when = babies.get_column("birth_datetime")
            for index in result.signals:
                rows.append(
                    {
                        "trust_code": trust,
                        "measure": measure,
                        "method": "cusum",
                        "signal_date": when[int(index)].date(),
                        "summary": f"risk-adjusted CUSUM for a doubling of the odds reached "
                        f"{settings.cusum_threshold:g}",
                        "statistic": float(result.path[int(index)]),
                    }
                )
    return pl.DataFrame(rows, schema=SIGNAL_COLUMNS) if rows else _empty()


def detect(files: list[Path], cube: pl.DataFrame, settings: SignalSettings | None = None) -> pl.DataFrame:
    """Every signal episode of every method, sorted by trust, measure and date."""
    settings = settings or SignalSettings()
    if not files:
        return _empty()
    parts = []
    if "funnel" in settings.methods:
        parts.append(funnel_signals(files, settings))
    if "spc" in settings.methods:
        parts.append(spc_signals(cube, settings))
    if "cusum" in settings.methods:
        parts.append(cusum_signals(files, settings))
    return pl.concat(parts).sort("trust_code", "measure", "signal_date", "method") if parts else _empty()


def numerator_column_id(measure_id: str) -> str:
    return numerator_column(MEASURES_BY_ID[measure_id])


def denominator_column_id(measure_id: str) -> str:
    return denominator_column(MEASURES_BY_ID[measure_id])


def _month(value: np.datetime64) -> str:
    return str(value)[:7]


def _last_day(value: np.datetime64) -> dt.date:
    return month_end(dt.date.fromisoformat(str(value)[:10]))
