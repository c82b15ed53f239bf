"""The quality cube: one scan of the records store gives every input's completeness and validity.

Built the way the measures' count cube is (:mod:`matneo.measures.counts`): Polars evaluates
each input's population and "known" condition as flags over the derived columns, then one
``group_by(...).sum()`` counts them per trust, site and month, so each record is read once and
the result is small (trusts × sites × months rows). Cached per store version beside the count
cube. Every organisation and period is a sum over it (:mod:`matneo.quality.report`).

Birth weight for gestation: the fences are worked out first from the store itself (quartiles
of birth weight within each completed week of gestation: a cheap scan of two columns), then a
record is implausible when its weight lies outside them (:mod:`matneo.quality.rules`,
``DEFAULT_BIRTH_WEIGHT_FENCE``).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from matneo.measures.definitions import DERIVED_COLUMNS
from matneo.quality.rules import MIN_WEIGHTS_PER_WEEK, Input, all_inputs, breakdown_inputs, fingerprint
from matneo.records.store import RecordStore

KEYS = ("trust_code", "site_code", "month_start")
#: The site of a record with no site code, as pages name it.
NO_SITE = ""


def population_column(item: Input) -> str:
    return f"{item.key}__pop"


def known_column(item: Input) -> str:
    return f"{item.key}__known"


def cube_inputs() -> tuple[Input, ...]:
    return (*all_inputs(), *breakdown_inputs())


def _condition(sql: str) -> pl.Expr:
    return pl.lit(True) if sql == "TRUE" else pl.sql_expr(sql).fill_null(False)


def weight_fences(files: list[Path], fence: float) -> pl.DataFrame:
    """Per completed week of gestation: the low and high birth-weight fences (Tukey), from
    every stored weight of that week; weeks with fewer than ``MIN_WEIGHTS_PER_WEEK`` have none."""
    schema = {"gestation_weeks": pl.Int16, "bw_low": pl.Float64, "bw_high": pl.Float64}
    if not files:
        return pl.DataFrame(schema=schema)
    weights = pl.col("birth_weight_g").cast(pl.Float64)
    quartiles = (
        pl.scan_parquet(files, hive_partitioning=True)
        .select("gestation_weeks", "birth_weight_g")
        .drop_nulls()
        .group_by("gestation_weeks")
        .agg(
            weights.quantile(0.25, "linear").alias("q1"),
            weights.quantile(0.75, "linear").alias("q3"),
            pl.len().alias("n"),
        )
        .filter(pl.col("n") >= MIN_WEIGHTS_PER_WEEK)
        .collect()
    )
    iqr = pl.col("q3") - pl.col("q1")
    return quartiles.select(
        pl.col("gestation_weeks").cast(pl.Int16),
        (pl.col("q1") - fence * iqr).alias("bw_low"),
        (pl.col("q3") + fence * iqr).alias("bw_high"),
    )


def build_quality_cube(files: list[Path], fence: float) -> pl.DataFrame:
    """Counts per trust, site and month: ``births``, each input's population and known counts,
    ``bw_judged`` (weight recorded in a week with fences) and ``bw_implausible``."""
    inputs = cube_inputs()
    if not files:
        return _empty(inputs)
    fences = weight_fences(files, fence).lazy()
    frame = (
        pl.scan_parquet(files, hive_partitioning=True)
        .with_columns([pl.sql_expr(sql).alias(name) for name, sql in DERIVED_COLUMNS.items()])
        .join(fences, on="gestation_weeks", how="left")
    )
    flags = [pl.lit(1).alias("births")]
    for item in inputs:
        population = _condition(item.population)
        flags += [
            population.alias(population_column(item)),
            (population & _condition(item.known)).alias(known_column(item)),
        ]
    judged = pl.col("birth_weight_g").is_not_null() & pl.col("bw_low").is_not_null()
    outside = (pl.col("birth_weight_g") < pl.col("bw_low")) | (pl.col("birth_weight_g") > pl.col("bw_high"))
    flags += [judged.alias("bw_judged"), (judged & outside).fill_null(False).alias("bw_implausible")]
    keys = ("trust_code", "site_code", "year", "month")
    cube = (
        frame.with_columns(pl.col("site_code").fill_null(NO_SITE)).select(*keys, *flags).group_by(keys).sum().collect()
    )
    return _tidy(cube.with_columns(month_start=pl.date("year", "month", 1)).drop("year", "month"))


def _tidy(cube: pl.DataFrame) -> pl.DataFrame:
    counts = [c for c in cube.columns if c not in KEYS]
    return cube.select(
        pl.col("trust_code").cast(pl.String),
        pl.col("site_code").cast(pl.String),
        pl.col("month_start").cast(pl.Date),
        *[pl.col(c).fill_null(0).cast(pl.Int64) for c in counts],
    ).sort(KEYS)


def _empty(inputs: tuple[Input, ...]) -> pl.DataFrame:
    schema: dict[str, type[pl.DataType] | pl.DataType] = {
        "trust_code": pl.String,
        "site_code": pl.String,
        "month_start": pl.Date,
        "births": pl.Int64,
    }
    for item in inputs:
        schema[population_column(item)] = pl.Int64
        schema[known_column(item)] = pl.Int64
    schema["bw_judged"] = pl.Int64
    schema["bw_implausible"] = pl.Int64
    return pl.DataFrame(schema=schema)


def load_quality_cube(store: RecordStore, fence: float, cache_dir: Path | None = None) -> pl.DataFrame:
    """The quality cube of the live store version, from the cache when it is there."""
    version = store.current_version()
    if version is None or cache_dir is None:
        return build_quality_cube(store.partition_files(), fence)
    path = cache_dir / f"quality-cube-v{version:06d}-{fingerprint()}-{fence:g}.parquet"
    if path.exists():
        return pl.read_parquet(path)
    cube = build_quality_cube(store.partition_files(), fence)
    cache_dir.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".tmp")
    cube.write_parquet(partial)
    partial.replace(path)
    for old in cache_dir.glob("quality-cube-v*.parquet"):
        if old != path:
            old.unlink(missing_ok=True)
    return cube
