"""Measures: every registered measure at all four levels by month, against a pandas groupby baseline.

Needs a loaded instance (``MATNEO_HOME``), e.g. ten national years:

    MATNEO_HOME=/tmp/natl .venv/bin/matneo demo --years 2015-2024 --no-serve
    MATNEO_HOME=/tmp/natl .venv/bin/python benchmarks/bench_measures.py

Both sides start from the same Parquet files and the same per-row measure conditions
(evaluated by Polars from the registry, timed on both sides), then:

(a) baseline — pandas: for each level and each measure, ``groupby([org, month]).sum()`` of
    the numerator and denominator flags, then value and a Wilson/Byar interval per row;
(b) peer — DuckDB: what an analyst would write, one SQL query over the Parquet files with
    every measure's numerator and denominator summed by trust and month, rolled up to LMNS,
    region and England with ``GROUPING SETS`` over a trust → LMNS → region lookup, then value
    and interval per row (the same numpy interval functions). This is the strongest simple
    peer: one scan, one group-by, no breakdowns kept;
(b′) like for like — DuckDB builds MatNeo's own cube (``counts.cube_sql``: breakdowns by ethnic
    group and IMD quintile kept), then the same ``compute``;
(c) MatNeo — ``build_cube`` (one pass: all measures × trust × month × ethnic group × IMD
    quintile) then ``compute`` at trust, LMNS, region and England by month; cold (the cube
    built from the files) and warm (the cube cached per store version, as pages use it).

Prints the times and ratios. Targets: ≥ 10× faster than the pandas baseline, faster than the
DuckDB peer cold (issue 10; MatNeo keeps the ethnic-group and IMD breakdowns the peer drops),
warm ≤ 0.3 s.
"""

from __future__ import annotations

import sys
import time

import duckdb
import numpy as np
import pandas as pd
import polars as pl

from matneo.config import get_settings
from matneo.measures.compute import LEVELS, compute, org_lookup
from matneo.measures.counts import build_cube, build_reference_cube
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


def _with_interval(frame: pd.DataFrame, m) -> None:  # type: ignore[no-untyped-def]
    num = frame[f"{m.id}__num"].to_numpy(float)
    den = frame[f"{m.id}__den"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = num / den * m.multiplier
    if m.unit == "percent":
        lower, upper = proportion_ci(num, den, 0.95)
    else:
        lower, upper = rate_ci(num, den, 0.95, multiplier=m.multiplier)
    frame[f"{m.id}__value"], frame[f"{m.id}__lower95"], frame[f"{m.id}__upper95"] = value, lower, upper


def duckdb_peer(files: list, hierarchy) -> int:  # type: ignore[no-untyped-def]
    """One DuckDB query: every measure's sums by trust and month, rolled up to the four levels."""
    trusts = hierarchy.trusts()
    lookup = pd.DataFrame(
        {
            "trust_code": [t.code for t in trusts],
            "lmns": [hierarchy.ancestor_at(t.code, "lmns").code for t in trusts],
            "region": [hierarchy.ancestor_at(t.code, "region").code for t in trusts],
        }
    )
    derived = ", ".join(f"({sql}) AS {name}" for name, sql in DERIVED_COLUMNS.items())
    sums = []
    for m in MEASURES:
        sums.append(f"count(*) FILTER (WHERE ({m.denominator})) AS {m.id}__den")
        sums.append(f"count(*) FILTER (WHERE ({m.denominator}) AND ({m.numerator})) AS {m.id}__num")
    paths = ", ".join(f"'{f}'" for f in files)
    totals = ", ".join(f"sum({m.id}__{part}) AS {m.id}__{part}" for m in MEASURES for part in ("den", "num"))
    # One scan grouped by trust and month; the roll-up to LMNS, region and England is then over
    # those ~14,000 trust-month rows, not the six million records (the faster of the two ways
    # to write it: grouping sets straight over the joined records took 4.2 s against this one's
    # time on the same machine, 2026-12-04).
    sql = f"""
        WITH b AS (SELECT *, {derived} FROM read_parquet([{paths}], hive_partitioning = true)),
        t AS (SELECT trust_code, year, month, {", ".join(sums)} FROM b GROUP BY trust_code, year, month)
        SELECT CASE WHEN grouping(t.trust_code) = 0 THEN 'trust' WHEN grouping(l.lmns) = 0 THEN 'lmns'
                    WHEN grouping(l.region) = 0 THEN 'region' ELSE 'england' END AS level,
               coalesce(t.trust_code, l.lmns, l.region, 'ENG') AS org_code,
               make_date(t.year, t.month, 1) AS month_start,
               {totals}
        FROM t JOIN lookup AS l ON l.trust_code = t.trust_code
        GROUP BY GROUPING SETS ((t.trust_code, t.year, t.month), (l.lmns, t.year, t.month),
                                (l.region, t.year, t.month), (t.year, t.month))
    """
    con = duckdb.connect()
    try:
        con.execute("SET enable_progress_bar = false")
        con.register("lookup", lookup)
        frame = con.sql(sql).df()
    finally:
        con.close()
    for m in MEASURES:
        _with_interval(frame, m)
    return len(frame) * len(MEASURES)


def duckdb_cube(files: list, hierarchy) -> int:  # type: ignore[no-untyped-def]
    """Like for like: DuckDB builds MatNeo's cube (breakdowns kept, ``counts.cube_sql``), then the same compute."""
    paths = ", ".join(f"'{f}'" for f in files)
    cube = build_reference_cube(f"SELECT * FROM read_parquet([{paths}], hive_partitioning = true)")
    return sum(compute(level=level, period="month", cube=cube, hierarchy=hierarchy).height for level in LEVELS)


def ours(files: list, hierarchy) -> int:  # type: ignore[no-untyped-def]
    cube = build_cube(files)
    return sum(compute(level=level, period="month", cube=cube, hierarchy=hierarchy).height for level in LEVELS)


def ours_warm(files: list, hierarchy, cube: pl.DataFrame) -> int:  # type: ignore[no-untyped-def]
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
    cube = build_cube(files)
    runs = (
        ("pandas groupby baseline", baseline),
        ("duckdb one-query peer", duckdb_peer),
        ("duckdb, matneo's cube", duckdb_cube),
        ("matneo cube + compute", ours),
        ("matneo compute (warm)", lambda f, h: ours_warm(f, h, cube)),
    )
    only_ours = "--only-ours" in sys.argv[1:]  # skip the baseline and the peer (minutes on a loaded machine)
    for name, run in runs:
        if only_ours and not name.startswith("matneo"):
            timings[name] = float("nan")
            continue
        best, best_cpu = float("inf"), float("inf")
        for _ in range(3 if name != "pandas groupby baseline" else 1):
            start, cpu = time.perf_counter(), time.process_time()
            produced = run(files, hierarchy)
            best, best_cpu = min(best, time.perf_counter() - start), min(best_cpu, time.process_time() - cpu)
        timings[name] = best
        # CPU time of this process (all its threads): on a shared machine the wall time also
        # counts waiting for a core.
        print(f"{name:26} {best:7.2f} s  CPU {best_cpu:7.2f} s  ({produced:,} result rows; best of runs)")
    cold, warm = timings["matneo cube + compute"], timings["matneo compute (warm)"]
    peer = timings["duckdb one-query peer"]
    if not only_ours:
        print(f"ratio to pandas: {timings['pandas groupby baseline'] / cold:.1f}× faster cold (target ≥ 10×)")
        verdict = "PASS" if cold < peer else "MISS"
        print(f"ratio to DuckDB peer: {peer / cold:.2f}× cold ({verdict}: target faster than the peer)")
        like = timings["duckdb, matneo's cube"]
        print(f"like for like (the same cube, breakdowns kept, by DuckDB): {like / cold:.2f}× faster cold")
    print(f"warm compute {warm:.2f} s ({'PASS' if warm <= 0.3 else 'MISS'}: target ≤ 0.3 s)")


if __name__ == "__main__":
    main()
