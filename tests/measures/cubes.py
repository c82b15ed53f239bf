"""Hand-made count cubes for tests: rows of dimensions followed by (numerator, denominator) pairs."""

from __future__ import annotations

import polars as pl

DIMENSIONS = {"trust_code": pl.String, "month_start": pl.Date, "ethnic_group": pl.String, "imd_quintile": pl.Int8}


def cube_frame(rows: list[tuple], measures: list[str]) -> pl.DataFrame:
    """Rows are (trust, month start, ethnic group, IMD quintile, num₁, den₁, num₂, den₂, …)."""
    schema = dict(DIMENSIONS)
    for measure in measures:
        schema[f"{measure}__num"] = pl.Int64
        schema[f"{measure}__den"] = pl.Int64
    return pl.DataFrame(rows, schema=schema, orient="row")
