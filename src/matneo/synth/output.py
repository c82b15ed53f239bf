"""Write generated years to disk as Parquet or CSV, one file per year, byte-reproducibly.

One file per year mirrors how extracts arrive and lets a single year be regenerated without
touching the others. Files are written to a temporary name and renamed, so an interrupted
run never leaves a truncated file that looks complete.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from matneo.synth.casemix import HierarchyLike, build_trust_table
from matneo.synth.generator import Struggling, _generate, check_struggling, default_hierarchy, year_days

FORMATS = ("parquet", "csv", "fhir", "msds")


def dataset_path(out_dir: Path, year: int, fmt: str) -> Path:
    """Where :func:`write_dataset` puts one year: ``out_dir/births_YYYY.<fmt>`` (FHIR: a
    directory ``out_dir/births_YYYY/`` of one Bundle per trust, ``TRUST.json``; MSDS: a directory
    of tables ``out_dir/msds_YYYY/``)."""
    if fmt == "msds":
        return Path(out_dir) / f"msds_{year}"
    return Path(out_dir) / (f"births_{year}" if fmt == "fhir" else f"births_{year}.{fmt}")


def write_fhir(table: pa.Table, directory: Path) -> None:
    """One FHIR Bundle per trust (``matneo.fhir.outbound``): a national year as one Bundle would
    be gigabytes of JSON, and a trust's year is what one maternity system would send."""
    import polars as pl

    from matneo.fhir.outbound import bundle_json

    directory.mkdir(parents=True, exist_ok=True)
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    for (trust,), rows in sorted(frame.partition_by("trust_code", as_dict=True, maintain_order=True).items()):
        path = directory / f"{trust}.json"
        tmp = path.with_name(path.name + ".partial")
        tmp.write_text(bundle_json(rows.iter_rows(named=True)), encoding="utf-8")
        os.replace(tmp, path)


def write_table(table: pa.Table, path: Path, fmt: str) -> None:
    """Write one table deterministically (no timestamps or host details in the file).

    CSV: header = field names, datetimes ``YYYY-MM-DD HH:MM:SS``, booleans ``true``/``false``,
    nulls as empty fields, UTF-8, no quoting (codes and ids never contain commas or quotes;
    Arrow raises rather than write a value that would need them). Parquet: zstd-compressed
    with Arrow's schema; pyarrow writes no creation time, so equal tables give equal bytes.
    Parquet has no second-resolution timestamp, so datetimes are stored as milliseconds and
    read back as ``timestamp[ms]``; ``table.cast(ARROW_SCHEMA)`` restores the exact schema.
    """
    path = Path(path)
    if fmt == "fhir":
        write_fhir(table, path)
        return
    tmp = path.with_name(path.name + ".partial")
    if fmt == "parquet":
        pq.write_table(table, tmp, compression="zstd", row_group_size=256 * 1024)
    elif fmt == "csv":
        options = pacsv.WriteOptions(include_header=True, quoting_style="none", quoting_header="none")
        pacsv.write_csv(table, tmp, write_options=options)
    else:
        raise ValueError(f"unknown format {fmt!r}: expected one of {', '.join(FORMATS)}")
    os.replace(tmp, path)


def write_dataset(
    out_dir: Path,
    years: Sequence[int],
    *,
    scale: float = 1.0,
    seed: int = 7,
    struggling: Sequence[Struggling] = (),
    fmt: str = "parquet",
    hierarchy: HierarchyLike | None = None,
    progress: Callable[[int], None] | None = None,
    as_of: dt.date | None = None,
) -> list[Path]:
    """Generate and write each year to ``out_dir/births_YYYY.<fmt>``; return the paths.

    Everything is checked before the first file is written (format, struggling trust codes,
    years), so a typo fails fast instead of after minutes of generation. Each year is seeded
    on its own (see :func:`matneo.synth.generate_year`), so the files for a year are the same
    whichever other years are written alongside it. ``progress(year)`` is called after each.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}: expected one of {', '.join(FORMATS)}")
    years = [int(y) for y in years]
    if len(set(years)) != len(years):
        raise ValueError(f"years repeated in {years}")
    hierarchy = default_hierarchy() if hierarchy is None else hierarchy
    trusts = build_trust_table(hierarchy, seed)
    check_struggling(struggling, trusts)
    as_of = dt.date.today() if as_of is None else as_of
    for year in years:
        year_days(year, as_of)  # ValueError for a year before 2000 or after the extract date
    if not (math.isfinite(scale) and scale > 0):
        raise ValueError(f"scale must be a positive number, got {scale!r}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for year in years:
        table = _generate(year, trusts, scale=scale, seed=seed, struggling=struggling, as_of=as_of)
        path = dataset_path(out_dir, year, fmt)
        if fmt == "msds":  # the same births as MSDS v2.0 tables, one submission per trust and month
            from matneo.msds.writer import write_msds

            write_msds(pl.from_arrow(table), path)  # type: ignore[arg-type]
        else:
            write_table(table, path, fmt)
        paths.append(path)
        if progress is not None:
            progress(year)
    return paths
