"""Measures: every registered measure at all four levels by month, against a pandas groupby baseline.

Needs a loaded instance (``MATNEO_HOME``), e.g. ten national years:

    MATNEO_HOME=/tmp/natl .venv/bin/matneo demo --years 2015-2024 --no-serve
    MATNEO_HOME=/tmp/natl .venv/bin/python benchmarks/bench_measures.py

Both sides start from the same Parquet files and the same per-row measure conditions
(evaluated by Polars from the registry, timed on both sides), then:

(a) baseline — pandas: for each level and each measure, ``groupby([org, month]).sum()`` of
    the numerator and denominator flags, then value and a Wilson/Byar interval per row;
(b) MatNeo — ``build_cube`` (one pass: all measures × trust × month × ethnic group × IMD
    quintile) then ``compute`` at trust, LMNS, region and England by month.

Prints both times and the ratio. Target: ≥ 10× faster than the baseline and under 2 s.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import polars as pl

from matneo.config import get_settings
from matneo.measures.compute import LEVELS, compute, org_lookup
from matneo.measures.counts import build_cube
from matneo.measures.definitions import DERIVED_COLUMNS, MEASURES
from matneo.records.store import RecordStore
from matneo.reference.organisations import load_hierarchy
from matneo.stats import proportion_ci, rate_ci


def baseline(files: list, hierarchy) -> int:  # type: ignore[no-untyped-def]
    """The straightforward way: flags per row, then one pandas groupby per level per measure."""
    frame = pl.scan_parquet(files, hive_partitioning=True).with_columns(
        [pl.sql_expr(sql).alias(name) for name, sql in DERIVED_COLUMNS.items()]
    )
    flags = []
    for m in MEASURES:
        den = pl.sql_expr(m.denominator).fill_null(False)
        flags += [den.alias(f"{m.id}__den"), (den & pl.sql_expr(m.numerator).fill_null(False)).alias(f"{m.id}__num")]
    rows = frame.select("trust_code", "year", "month", *flags).collect().to_pandas()
    rows["month_start"] = pd.to_datetime({"year": rows["year"], "month": rows["month"], "day": 1})
    produced = 0
    for level in LEVELS:
        lookup = org_lookup(hierarchy, level).to_pandas()[["trust_code", "org_code"]]
        with_org = rows.merge(lookup, on="trust_code")
        for m in MEASURES:
            grouped = with_org.groupby(["org_code", "month_start"])[[f"{m.id}__num", f"{m.id}__den"]].sum()
            num = grouped[f"{m.id}__num"].to_numpy(float)
            den = grouped[f"{m.id}__den"].to_numpy(float)
            with np.errstate(divide="ignore", invalid="ignore"):
                grouped["value"] = num / den * m.multiplier
            if m.unit == "percent":
                grouped["lower95"], grouped["upper95"] = proportion_ci(num, den, 0.95)
            else:
                grouped["lower95"], grouped["upper95"] = rate_ci(num, den, 0.95, multiplier=m.multiplier)
            produced += len(grouped)
    return produced


def ours(files: list, hierarchy) -> int:  # type: ignore[no-untyped-def]
    cube = build_cube(files)
    return sum(compute(level=level, period="month", cube=cube, hierarchy=hierarchy).height for level in LEVELS)


def main() -> None:
    settings = get_settings()
    store = RecordStore(settings.records_dir)
    files = store.partition_files()
    if not files:
        raise SystemExit(f"nothing loaded in {settings.home}: run `matneo demo --no-serve` first")
    hierarchy = load_hierarchy()
    rows = store.manifest().total_rows
    print(
        f"{rows:,} birth records in {len(files)} partitions; {len(MEASURES)} measures × {len(LEVELS)} levels by month"
    )
    timings = {}
    for name, run in (("pandas groupby baseline", baseline), ("matneo cube + compute", ours)):
        best = float("inf")
        for _ in range(2):
            start = time.perf_counter()
            produced = run(files, hierarchy)
            best = min(best, time.perf_counter() - start)
        timings[name] = best
        print(f"{name:26} {best:7.2f} s  ({produced:,} result rows)")
    ratio = timings["pandas groupby baseline"] / timings["matneo cube + compute"]
    print(f"ratio: {ratio:.1f}× faster (target ≥ 10×); matneo {timings['matneo cube + compute']:.2f} s (target < 2 s)")


if __name__ == "__main__":
    main()
