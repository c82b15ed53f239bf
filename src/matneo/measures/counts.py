"""The count cube: one scan of the records store gives every measure's numerator and denominator.

All measures are computed from one table: for each trust, month of birth, ethnic group and
IMD quintile, the numerator and denominator of every registered measure. It is built with a
single pass over the birth records (conditional sums, so each row is read once), is small
(at most trusts × months × 6 × 6 rows), and is cached per store version, so pages and
commands never rescan the records for the same data. Every level, period and breakdown is
then a sum over this cube (``compute.py``).

Two engines evaluate the same SQL definitions: Polars (``build_cube``, used in production
because it evaluates the conditions about twice as fast here) and DuckDB (``cube_sql``, the
reference). Tests check that they agree on the same records.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path
from typing import cast

import duckdb
import polars as pl

from matneo.measures.definitions import DERIVED_COLUMNS, MEASURES, Measure
from matneo.records.store import RecordStore

DIMENSIONS = ("trust_code", "month_start", "ethnic_group", "imd_quintile")


def numerator_column(measure: Measure) -> str:
    return f"{measure.id}__num"


def denominator_column(measure: Measure) -> str:
    return f"{measure.id}__den"


def cube_sql(births_sql: str, measures: tuple[Measure, ...] = MEASURES) -> str:
    """SQL for the count cube over ``births_sql`` (a relation of birth records)."""
    derived = ", ".join(f"({sql}) AS {name}" for name, sql in DERIVED_COLUMNS.items())
    sums = []
    for m in measures:
        den = f"coalesce(({m.denominator}), FALSE)"
        num = f"coalesce(({m.numerator}), FALSE)"
        sums.append(f"sum(CAST({den} AS INTEGER)) AS {denominator_column(m)}")
        sums.append(f"sum(CAST({den} AND {num} AS INTEGER)) AS {numerator_column(m)}")
    return f"""
        WITH b AS (SELECT *, {derived} FROM ({births_sql}) AS births)
        SELECT trust_code,
               CAST(date_trunc('month', birth_datetime) AS DATE) AS month_start,
               ethnic_group,
               coalesce(imd_quintile, 0) AS imd_quintile,
               {", ".join(sums)}
        FROM b
        GROUP BY ALL
    """


def registry_fingerprint(measures: tuple[Measure, ...] = MEASURES) -> str:
    """Changes whenever a definition changes, so a cached cube is never stale."""
    text = repr([(m.id, m.numerator, m.denominator) for m in measures]) + repr(DERIVED_COLUMNS)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def build_cube(files: list[Path], measures: tuple[Measure, ...] = MEASURES) -> pl.DataFrame:
    """Run the one scan over the store's Parquet ``files``. ``imd_quintile`` 0 means not recorded."""
    if not files:
        return _empty_cube(measures)
    frame = _with_derived(pl.scan_parquet(files, hive_partitioning=True))
    flags = _flags(measures)
    keys = ("trust_code", "year", "month", "ethnic_group", "imd_quintile")
    # Flags first, then one sum: Polars then shares the repeated denominator conditions
    # (common-subexpression elimination), which halves the time of the scan.
    cube = frame.with_columns(pl.col("imd_quintile").fill_null(0)).select(*keys, *flags).group_by(keys).sum().collect()
    return _tidy(cube.with_columns(month_start=pl.date("year", "month", 1)).drop("year", "month"))


def _with_derived(frame: pl.LazyFrame) -> pl.LazyFrame:
    return frame.with_columns([pl.sql_expr(sql).alias(name) for name, sql in DERIVED_COLUMNS.items()])


def _flags(measures: tuple[Measure, ...]) -> list[pl.Expr]:
    """Each measure's denominator and numerator condition as a Boolean column: the one evaluation
    of the registry's SQL that every count (trust cube, site counts) is a sum of."""
    flags = []
    for m in measures:
        den = pl.sql_expr(m.denominator).fill_null(False)
        num = pl.sql_expr(m.numerator).fill_null(False)
        flags += [den.alias(denominator_column(m)), (den & num).alias(numerator_column(m))]
    return flags


def build_site_counts(files: list[Path], trust_code: str, measures: tuple[Measure, ...] = MEASURES) -> pl.DataFrame:
    """Every measure's numerator and denominator per site and month of one trust's records.

    The same conditions as :func:`build_cube` (:func:`_flags`), summed by ``site_code`` instead
    of ethnic group and IMD quintile, so the sites of a trust add up to the trust's cube rows
    (records without a site code count for the trust only: ``site_code`` null here). A QI
    project of one site charts its own births (issue 13). One scan of the store, filtered to
    the trust before the conditions are evaluated.
    """
    counts = [c for m in measures for c in (denominator_column(m), numerator_column(m))]
    schema = {"site_code": pl.String, "month_start": pl.Date, **dict.fromkeys(counts, pl.Int64)}
    if not files:
        return pl.DataFrame(schema=schema)
    frame = pl.scan_parquet(files, hive_partitioning=True).filter(pl.col("trust_code") == trust_code)
    keys = ("site_code", "year", "month")
    summed = _with_derived(frame).select(*keys, *_flags(measures)).group_by(keys).sum().collect()
    return summed.select(
        pl.col("site_code").cast(pl.String),
        pl.date("year", "month", 1).alias("month_start"),
        *[pl.col(c).fill_null(0).cast(pl.Int64) for c in counts],
    ).sort("site_code", "month_start")


def build_reference_cube(births_sql: str, measures: tuple[Measure, ...] = MEASURES) -> pl.DataFrame:
    """The same cube computed by DuckDB from :func:`cube_sql` (the reference engine)."""
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    try:
        return _tidy(cast(pl.DataFrame, pl.from_arrow(con.sql(cube_sql(births_sql, measures)).to_arrow_table())))
    finally:
        con.close()


def _tidy(cube: pl.DataFrame) -> pl.DataFrame:
    counts = [c for c in cube.columns if c.endswith(("__num", "__den"))]
    return cube.select(
        pl.col("trust_code").cast(pl.String),
        pl.col("month_start").cast(pl.Date),
        pl.col("ethnic_group").cast(pl.String),
        pl.col("imd_quintile").cast(pl.Int8),
        *[pl.col(c).fill_null(0).cast(pl.Int64) for c in counts],
    ).sort(DIMENSIONS)


def _empty_cube(measures: tuple[Measure, ...]) -> pl.DataFrame:
    schema = {"trust_code": pl.String, "month_start": pl.Date, "ethnic_group": pl.String, "imd_quintile": pl.Int8}
    for m in measures:
        schema[denominator_column(m)] = pl.Int64
        schema[numerator_column(m)] = pl.Int64
    return pl.DataFrame(schema=schema)


def load_cube(store: RecordStore, cache_dir: Path | None = None, version: int | None = None) -> pl.DataFrame:
    """The cube for the live store version (or ``version``), from the cache when it is there.

    The cached cubes of this version and the one before it are kept: the web app serves the
    previous version until the new one is warm (issue 10), and may need its cube meanwhile.
    """
    version = version if version is not None else store.current_version()
    if version is None or cache_dir is None:
        return build_cube(store.partition_files(version=version))
    path = cache_dir / f"measure-cube-v{version:06d}-{registry_fingerprint()}.parquet"
    if path.exists():
        return pl.read_parquet(path)
    cube = build_cube(store.partition_files(version=version))
    cache_dir.mkdir(parents=True, exist_ok=True)
    partial = path.parent / f"{path.name}.{threading.get_ident()}.tmp"
    cube.write_parquet(partial)
    partial.replace(path)
    for old in cache_dir.glob("measure-cube-v*.parquet"):
        old_version = int(old.name.removeprefix("measure-cube-v")[:6]) if old.name[14:20].isdigit() else -1
        if old != path and (old_version < version - 1 or not old.name.endswith(f"-{registry_fingerprint()}.parquet")):
            old.unlink(missing_ok=True)
    return cube
