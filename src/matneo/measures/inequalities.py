"""Inequalities: every measure by ethnic group or IMD quintile, with ratios to a reference group.

The reference groups follow national inequality reporting (MBRRACE-UK Perinatal
Surveillance reports; NHS England Core20PLUS5): ethnic groups are compared with White
women, deprivation quintiles with the least deprived quintile. Rates per 1,000 or 100,000
use the rate ratio with a log-normal interval; percentages use the risk ratio with Katz's
interval (``matneo.stats``). "Where the numbers allow": a ratio is shown only when both
groups have at least one event; otherwise it is null (not available), never zero or
infinite. "Not stated" ethnicity and unrecorded deprivation are shown but never used as
the reference.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from matneo.measures.compute import Breakdown, Level, Period, compute
from matneo.measures.definitions import get_measures
from matneo.stats import rate_ratio_ci, risk_ratio_ci

REFERENCE_GROUP: dict[str, str] = {"ethnic_group": "White", "imd_quintile": "5 (least deprived)"}


def add_ratios(table: pl.DataFrame, by: str) -> pl.DataFrame:
    """Add ``reference_group``, ``ratio``, ``ratio_lower95`` and ``ratio_upper95`` to a breakdown."""
    reference = REFERENCE_GROUP[by]
    keys = ["measure", "org_code", "period_start", "period_end"]
    ref = table.filter(pl.col(by) == reference).select(
        *keys, pl.col("numerator").alias("ref_numerator"), pl.col("denominator").alias("ref_denominator")
    )
    joined = table.join(ref, on=keys, how="left")
    parts = []
    for measure in get_measures(joined.get_column("measure").unique().to_list()):
        part = joined.filter(pl.col("measure") == measure.id)
        x1 = part.get_column("numerator").to_numpy().astype(float)
        n1 = part.get_column("denominator").to_numpy().astype(float)
        x2 = part.get_column("ref_numerator").fill_null(0).to_numpy().astype(float)
        n2 = part.get_column("ref_denominator").fill_null(0).to_numpy().astype(float)
        ratio_ci = risk_ratio_ci if measure.unit == "percent" else rate_ratio_ci
        ratio, lower, upper = (np.asarray(a, dtype=float) for a in ratio_ci(x1, n1, x2, n2, 0.95))
        ratio = np.where(x1 > 0, ratio, np.nan)  # no events in the group: no ratio, not a ratio of 0
        parts.append(
            part.with_columns(
                pl.Series("ratio", ratio).fill_nan(None),
                pl.Series("ratio_lower95", lower).fill_nan(None),
                pl.Series("ratio_upper95", upper).fill_nan(None),
            )
        )
    result = (
        pl.concat(parts)
        if parts
        else joined.with_columns(
            [pl.lit(None, dtype=pl.Float64).alias(c) for c in ("ratio", "ratio_lower95", "ratio_upper95")]
        )
    )
    return result.drop("ref_numerator", "ref_denominator").with_columns(pl.lit(reference).alias("reference_group"))


def inequalities(
    measures: list[str] | None = None,
    by: Breakdown = "ethnic_group",
    level: Level = "england",
    period: Period = "year",
    orgs: list[str] | None = None,
    **options,  # type: ignore[no-untyped-def]
) -> pl.DataFrame:
    """:func:`compute` broken down ``by`` ethnic group or IMD quintile, with ratios to the reference."""
    if by not in REFERENCE_GROUP:
        raise ValueError(f"by must be one of {', '.join(REFERENCE_GROUP)}, not {by!r}")
    table = compute(measures, level=level, period=period, orgs=orgs, by=by, **options)
    return add_ratios(table, by)
