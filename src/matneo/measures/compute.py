"""Computing measures for any level, period and breakdown from the count cube.

``compute`` returns one row per measure × organisation × period (× group for a breakdown)
with numerator, denominator, value, and 95% and 99.8% confidence intervals. Everything is
sums over the cube of ``counts.py`` and vectorised interval functions of ``matneo.stats``.

Periods:

* ``month``, ``quarter`` (calendar quarters), ``year`` (calendar years) and
  ``financial_year`` (April to March) — every period with any data;
* ``rolling_12m`` — the 12 months ending with each month, from the 12th month of data on;
* ``rolling_3y`` — three calendar years ending with each year (as MBRRACE-UK triennia,
  e.g. 2009–11), from the third year of data on.

Each row's ``period`` is its plain-English name (:func:`matneo.measures.periods.period_label`:
"Mar 2024", "12 months to Dec 2024", "2022–24"), the same on every page, CSV and the CLI.

``months`` says how many months of data a period holds, so a part-year is never mistaken
for a whole one.
"""

from __future__ import annotations

import datetime as dt
import threading
import weakref
from typing import Literal

import numpy as np
import polars as pl

from matneo.config import Settings
from matneo.dates import month_end
from matneo.measures.counts import denominator_column, load_cube, numerator_column
from matneo.measures.definitions import Measure, get_measures
from matneo.measures.periods import period_label
from matneo.reference.organisations import OrgHierarchy, load_hierarchy
from matneo.stats import proportion_ci, rate_ci

Level = Literal["trust", "lmns", "region", "england"]
Period = Literal["month", "quarter", "year", "financial_year", "rolling_12m", "rolling_3y"]
Breakdown = Literal["ethnic_group", "imd_quintile"]
LEVELS: tuple[Level, ...] = ("trust", "lmns", "region", "england")
PERIODS: tuple[str, ...] = ("month", "quarter", "year", "financial_year", "rolling_12m", "rolling_3y")
BREAKDOWNS: tuple[str, ...] = ("ethnic_group", "imd_quintile")
IMD_QUINTILE_LABELS = {0: "Not recorded", 1: "1 (most deprived)", 2: "2", 3: "3", 4: "4", 5: "5 (least deprived)"}

RESULT_COLUMNS = (
    "measure",
    "level",
    "org_code",
    "org_name",
    "period",
    "period_start",
    "period_end",
    "months",
    "numerator",
    "denominator",
    "value",
    "lower95",
    "upper95",
    "lower998",
    "upper998",
    "suppressed",
)


def org_lookup(hierarchy: OrgHierarchy, level: str) -> pl.DataFrame:
    """trust_code → org_code, org_name at ``level``."""
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}, not {level!r}")
    trusts = hierarchy.trusts()
    orgs = [hierarchy.ancestor_at(t.code, level) for t in trusts]
    return pl.DataFrame(
        {"trust_code": [t.code for t in trusts], "org_code": [o.code for o in orgs], "org_name": [o.name for o in orgs]}
    )


def _add_months(column: str, months: int) -> pl.Expr:
    return pl.col(column).dt.offset_by(f"{months}mo")


def _assign_periods(frame: pl.DataFrame, period: str) -> pl.DataFrame:
    """Give each cube row the period(s) it belongs to: ``period_start``/``period_end`` columns.

    Rolling periods repeat a month once for every window that contains it.
    """
    month = pl.col("month_start")
    if period == "month":
        return frame.with_columns(period_start=month, period_end=month.dt.month_end())
    if period == "quarter":
        start = month.dt.truncate("3mo")
        return frame.with_columns(period_start=start, period_end=start.dt.offset_by("2mo").dt.month_end())
    if period == "year":
        start = month.dt.truncate("1y")
        return frame.with_columns(period_start=start, period_end=start.dt.offset_by("11mo").dt.month_end())
    if period == "financial_year":
        year = pl.when(month.dt.month() >= 4).then(month.dt.year()).otherwise(month.dt.year() - 1)
        start = pl.date(year, 4, 1)
        return frame.with_columns(period_start=start, period_end=start.dt.offset_by("11mo").dt.month_end())
    if period == "rolling_12m":
        first = frame.select(pl.col("month_start").min()).item()
        windows = pl.DataFrame({"k": list(range(12))}, schema={"k": pl.Int32})
        expanded = frame.join(windows, how="cross").with_columns(
            period_end=month.dt.offset_by(pl.format("{}mo", pl.col("k"))).dt.month_end()
        )
        expanded = expanded.with_columns(period_start=pl.col("period_end").dt.offset_by("-11mo").dt.month_start())
        last = frame.select(pl.col("month_start").max()).item()
        inside = (pl.col("period_start") >= first) & (pl.col("period_end") <= month_end(last))
        return expanded.filter(inside).drop("k")
    if period == "rolling_3y":
        first_year = frame.select(pl.col("month_start").dt.year().min()).item()
        last_year = frame.select(pl.col("month_start").dt.year().max()).item()
        windows = pl.DataFrame({"k": [0, 1, 2]}, schema={"k": pl.Int32})
        expanded = frame.join(windows, how="cross").with_columns(end_year=month.dt.year() + pl.col("k"))
        expanded = expanded.filter((pl.col("end_year") - 2 >= first_year) & (pl.col("end_year") <= last_year))
        return expanded.with_columns(
            period_start=pl.date(pl.col("end_year") - 2, 1, 1), period_end=pl.date(pl.col("end_year"), 12, 31)
        ).drop("k", "end_year")
    raise ValueError(f"period must be one of {', '.join(PERIODS)}, not {period!r}")


#: The period assignment, for whatever else is summed by the same periods (data-quality caveats).
assign_periods = _assign_periods


def _with_labels(frame: pl.DataFrame, period: str) -> pl.DataFrame:
    """Add the ``period`` column: :func:`matneo.measures.periods.period_label` of each window.

    The label is computed once per distinct window, then joined on.
    """
    windows = frame.select("period_start", "period_end").unique()
    labels = [period_label(period, start, end) for start, end in windows.iter_rows()]
    return frame.join(
        windows.with_columns(pl.Series("period", labels, dtype=pl.String)),
        on=["period_start", "period_end"],
        maintain_order="left",
    )


def _intervals(num: pl.Series, den: pl.Series, measure: Measure) -> dict[str, np.ndarray]:
    """Value and 95%/99.8% bounds of one measure (NaN where the denominator is zero)."""
    num_f, den_f = num.to_numpy().astype(float), den.to_numpy().astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.where(den_f > 0, num_f / np.where(den_f > 0, den_f, 1) * measure.multiplier, np.nan)
    out: dict[str, np.ndarray] = {"value": value}
    for label, confidence in (("95", 0.95), ("998", 0.998)):
        if measure.unit == "percent":
            low, high = proportion_ci(num_f, den_f, confidence)
            low, high = np.asarray(low) * measure.multiplier, np.asarray(high) * measure.multiplier
        else:
            low, high = rate_ci(num_f, den_f, confidence, multiplier=measure.multiplier)
        out[f"lower{label}"], out[f"upper{label}"] = np.asarray(low), np.asarray(high)
    return out


def with_intervals(frame: pl.DataFrame, measures: list[Measure]) -> pl.DataFrame:
    """Add value and 95%/99.8% intervals to a long frame of measure, numerator, denominator.

    Values and bounds are null where the denominator is zero (undefined, shown as "not
    available"). Percentages use Wilson; rates Byar's with exact Poisson below 10 events.
    """
    parts = []
    for measure in measures:
        part = frame.filter(pl.col("measure") == measure.id)
        if part.is_empty():
            continue
        bounds = _intervals(part.get_column("numerator"), part.get_column("denominator"), measure)
        parts.append(part.with_columns(*[pl.Series(name, array).fill_nan(None) for name, array in bounds.items()]))
    if not parts:
        extra = {c: pl.Float64 for c in ("value", "lower95", "upper95", "lower998", "upper998")}
        return frame.with_columns([pl.lit(None, dtype=t).alias(c) for c, t in extra.items()])
    return pl.concat(parts)


def compute(
    measures: list[str] | None = None,
    level: Level = "trust",
    period: Period = "year",
    start: dt.date | None = None,
    end: dt.date | None = None,
    orgs: list[str] | None = None,
    by: Breakdown | None = None,
    *,
    cube: pl.DataFrame | None = None,
    hierarchy: OrgHierarchy | None = None,
    settings: Settings | None = None,
) -> pl.DataFrame:
    """Measures at ``level`` by ``period`` (optionally ``by`` ethnic group or IMD quintile).

    ``start``/``end`` keep periods that lie within them; ``orgs`` keeps those organisations.
    The cube comes from ``cube`` if given, else from the records store of ``settings`` (one
    of the two is needed), cached per store version. The hierarchy is ``hierarchy``, else the
    instance's of ``settings``, else the packaged one.
    """
    chosen = get_measures(measures)
    if period not in PERIODS:
        raise ValueError(f"period must be one of {', '.join(PERIODS)}, not {period!r}")
    if by is not None and by not in BREAKDOWNS:
        raise ValueError(f"by must be one of {', '.join(BREAKDOWNS)}, not {by!r}")
    hierarchy = hierarchy or load_hierarchy(settings=settings)
    if cube is None:
        if settings is None:
            raise TypeError("compute needs the count cube or the settings of the instance whose store to read")
        cube = cube_for_settings(settings)
    lookup = org_lookup(hierarchy, level)
    if orgs:
        unknown = sorted(set(orgs) - set(lookup.get_column("org_code")))
        if unknown:
            raise ValueError(f"no {level} with code {', '.join(unknown)}")
        lookup = lookup.filter(pl.col("org_code").is_in(orgs))
    counts = [c for m in chosen for c in (numerator_column(m), denominator_column(m))]
    if cube.is_empty():
        return _empty_result(by)
    # The breakdowns not asked for are collapsed once per cube (not once per level and call): the
    # rest then works on trusts × months (× groups), a few thousand rows.
    collapsed = _collapsed(cube, by)
    joined = collapsed.select("trust_code", "month_start", *([by] if by else []), *counts).join(
        lookup, on="trust_code", how="inner"
    )
    keys = ["org_code", "org_name", "month_start", *([by] if by else [])]
    # At trust level each trust is its own organisation: the cube is already summed by trust.
    monthly = joined.drop("trust_code") if level == "trust" else joined.group_by(keys).agg(pl.col(counts).sum())
    if monthly.is_empty():
        return _empty_result(by)
    group_keys = ["org_code", "org_name", "period_start", "period_end", *([by] if by else [])]
    if period == "month":  # each month is its own period: nothing to sum
        summed = monthly.select(
            "org_code",
            "org_name",
            pl.col("month_start").alias("period_start"),
            pl.col("month_start").dt.month_end().alias("period_end"),
            *([by] if by else []),
            *counts,
            pl.lit(1, dtype=pl.Int32).alias("months"),
        )
    else:
        summed = (
            _assign_periods(monthly, period)
            .group_by(group_keys)
            .agg(pl.col(counts).sum(), pl.col("month_start").n_unique().cast(pl.Int32).alias("months"))
        )
    if start is not None:
        summed = summed.filter(pl.col("period_start") >= start)
    if end is not None:
        summed = summed.filter(pl.col("period_end") <= end)
    if by == "imd_quintile":
        summed = summed.with_columns(pl.col("imd_quintile").replace_strict(IMD_QUINTILE_LABELS, return_dtype=pl.String))
    # Sorted once here, in the order of the result within each measure; the measures are then
    # stacked in their registry order, so the long table needs no sort of its own.
    summed = _with_labels(summed.sort(["org_code", "period_start", *([by] if by else [])]), period)
    shared = [*group_keys[:2], "period", *group_keys[2:], "months"]
    parts = []
    for m in chosen:
        num = summed.get_column(numerator_column(m))
        den = summed.get_column(denominator_column(m))
        parts.append(
            summed.select(shared).with_columns(
                pl.lit(m.id).alias("measure"),
                num.alias("numerator"),
                den.alias("denominator"),
                *[pl.Series(name, array).fill_nan(None) for name, array in _intervals(num, den, m).items()],
            )
        )
    columns = [*RESULT_COLUMNS[:4], *([by] if by else []), *RESULT_COLUMNS[4:]]
    result = pl.concat(parts).with_columns(pl.lit(level).alias("level"), pl.lit(False).alias("suppressed"))
    return result.select(columns)


#: The cube collapsed to the dimensions a call needs, per cube (held weakly) and breakdown: every
#: level and period of one table reads the same collapsed frame (issue 10: warm ``compute``).
_COLLAPSED: dict[tuple[int, str | None], tuple[weakref.ref[pl.DataFrame], pl.DataFrame]] = {}
_COLLAPSED_LOCK = threading.Lock()


def _collapsed(cube: pl.DataFrame, by: str | None) -> pl.DataFrame:
    """``cube`` summed over the breakdowns other than ``by``: trust × month (× group) rows."""
    key = (id(cube), by)
    with _COLLAPSED_LOCK:
        found = _COLLAPSED.get(key)
        if found is not None and found[0]() is cube:
            return found[1]
    counts = [c for c in cube.columns if c.endswith(("__num", "__den"))]
    collapsed = cube.group_by("trust_code", "month_start", *([by] if by else [])).agg(pl.col(counts).sum())

    def forget(_: object, key: tuple[int, str | None] = key) -> None:
        with _COLLAPSED_LOCK:
            _COLLAPSED.pop(key, None)

    with _COLLAPSED_LOCK:
        _COLLAPSED[key] = (weakref.ref(cube, forget), collapsed)
    return collapsed


def _empty_result(by: str | None) -> pl.DataFrame:
    schema: dict[str, pl.DataType] = {
        "measure": pl.String(),
        "level": pl.String(),
        "org_code": pl.String(),
        "org_name": pl.String(),
        "period": pl.String(),
        "period_start": pl.Date(),
        "period_end": pl.Date(),
        "months": pl.Int32(),
        "numerator": pl.Int64(),
        "denominator": pl.Int64(),
        "value": pl.Float64(),
        "lower95": pl.Float64(),
        "upper95": pl.Float64(),
        "lower998": pl.Float64(),
        "upper998": pl.Float64(),
        "suppressed": pl.Boolean(),
    }
    if by:
        schema = {**dict(list(schema.items())[:4]), by: pl.String(), **dict(list(schema.items())[4:])}
    return pl.DataFrame(schema=schema)


def cube_for_settings(settings: Settings) -> pl.DataFrame:
    """The count cube of an instance's live store, cached per version."""
    from matneo.records.store import RecordStore

    return load_cube(RecordStore(settings.records_dir), settings.home / "cache")
