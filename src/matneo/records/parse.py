"""Turning a file's cells into typed birth-record columns, without losing what was submitted.

CSV files are read by Polars' multi-threaded reader with whole-number and true/false
columns typed straight away and everything else as text; if any cell does not fit, the
file is read again all as text. Then each column is converted on its own. Fast path: the
whole column converts strictly in one vectorised call (``YYYY-MM-DD HH:MM:SS`` for dates).
Only a column where some cell does not convert takes the lenient path — surrounding spaces
ignored, ``39.0`` accepted as a whole number, ``yes``/``no`` as true/false, several
date-time layouts — and every cell that still does not convert is flagged in
``<field>__unparsed`` so a rule can report it with the text as submitted. Clean files, the
common case, never pay for leniency. Parquet columns already of the right type are used as
they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from matneo.records.schema import FIELD_NAMES, FIELDS, Field
from matneo.records.validation import TYPED_KINDS, unparsed

POLARS_TYPES: dict[str, pl.DataType] = {
    "string": pl.String(),
    "code": pl.String(),
    "int": pl.Int32(),
    "bool": pl.Boolean(),
    "datetime": pl.Datetime("us"),
}
TRUE_WORDS = ("true", "t", "yes", "y", "1")
FALSE_WORDS = ("false", "f", "no", "n", "0")
DATETIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d",
)


def polars_type(field: Field) -> pl.DataType:
    return POLARS_TYPES[field.type]


STORE_SCHEMA: dict[str, pl.DataType] = {f.name: polars_type(f) for f in FIELDS}


@dataclass
class Parsed:
    """A file's rows: typed fields, ``_row`` numbers, ``__unparsed`` flags; the text-read fields as submitted."""

    typed: pl.DataFrame
    text: pl.DataFrame
    #: (``_row``, ``field``, ``where``): the element each cell came from, for inputs whose rows
    #: are assembled from several places (a FHIR Bundle); the rejection report names it.
    where: pl.DataFrame | None = None


def _lenient(field: Field, text: pl.Expr) -> pl.Expr:
    """Convert trimmed text to the field's type; null where it cannot be converted."""
    if field.type == "int":
        number = text.cast(pl.Float64, strict=False)
        return pl.when(number == number.floor()).then(number).cast(pl.Int32, strict=False)
    if field.type == "bool":
        lowered = text.str.to_lowercase()
        return pl.when(lowered.is_in(TRUE_WORDS)).then(True).when(lowered.is_in(FALSE_WORDS)).then(False)
    if field.type == "datetime":
        return pl.coalesce(
            [text.str.strptime(pl.Datetime("us"), fmt, strict=False, exact=True) for fmt in DATETIME_FORMATS]
        )
    return text


def _clean_text(name: str) -> pl.Expr:
    stripped = pl.col(name).str.strip_chars()
    return pl.when(stripped != "").then(stripped)


def _untidy(name: str) -> pl.Expr:
    """Does any cell have surrounding white space, or is empty rather than missing?"""
    column = pl.col(name)
    spaced = column.str.starts_with(" ") | column.str.ends_with(" ")
    tabbed = column.str.starts_with("\t") | column.str.ends_with("\t")
    return (spaced | tabbed | (column == "")).any().alias(name)


def _strict(field: Field, column: pl.Series) -> pl.Series:
    """The whole column in the field's type, or an exception if any cell does not convert."""
    if field.type == "int":
        return column.cast(pl.Int32, strict=True)
    if field.type == "bool":
        return column.replace_strict({"true": True, "false": False}, return_dtype=pl.Boolean)
    return column.str.strptime(pl.Datetime("us"), DATETIME_FORMATS[0], strict=True)


def _convert_column(field: Field, column: pl.Series) -> tuple[pl.Series, pl.Series, pl.Series | None]:
    """(typed values, unparsed flags, text as submitted or None) for one typed field."""
    target = polars_type(field)
    if column.dtype == target:
        return column, pl.repeat(False, len(column), eager=True, dtype=pl.Boolean), None
    if column.dtype != pl.String:
        try:  # another width of integer, another time unit, a date: a lossless cast is enough
            return column.cast(target, strict=True), pl.repeat(False, len(column), eager=True, dtype=pl.Boolean), None
        except pl.exceptions.PolarsError:
            column = column.cast(pl.String)
    try:
        return _strict(field, column), pl.repeat(False, len(column), eager=True, dtype=pl.Boolean), column
    except pl.exceptions.PolarsError:
        cleaned = pl.DataFrame(column).select(_clean_text(column.name)).to_series()
        value = pl.DataFrame(cleaned).select(_lenient(field, pl.col(field.name))).to_series()
        return value, cleaned.is_not_null() & value.is_null(), cleaned


def convert(frame: pl.DataFrame) -> Parsed:
    """Type a frame of ``_row`` plus one column per field, each text or already typed."""
    text_fields = [f.name for f in FIELDS if f.type not in TYPED_KINDS]
    untidy = frame.select([_untidy(name) for name in text_fields]).row(0, named=True)  # one parallel pass
    typed: list[pl.Series] = []
    flags: list[pl.Series] = []
    text: list[pl.Series] = []
    for field in FIELDS:
        column = frame.get_column(field.name)
        if field.type not in TYPED_KINDS:
            if untidy[field.name]:
                column = frame.select(_clean_text(field.name)).to_series()
            typed.append(column)
            text.append(column)
            continue
        value, flag, submitted = _convert_column(field, column)
        typed.append(value.alias(field.name))
        flags.append(flag.alias(unparsed(field.name)))
        if submitted is not None:
            text.append(submitted.alias(field.name))
    row = frame.get_column("_row").cast(pl.Int64)
    return Parsed(typed=pl.DataFrame([row, *typed, *flags]), text=pl.DataFrame([row, *text]))


def _add_missing(frame: pl.DataFrame) -> pl.DataFrame:
    missing = [pl.lit(None, dtype=pl.String).alias(f.name) for f in FIELDS if f.name not in frame.columns]
    return frame.with_columns(*missing).select("_row", *FIELD_NAMES)


def read_csv(path: Path, header: list[str]) -> Parsed:
    """Read a UTF-8 CSV whose header has been checked; header names match without surrounding spaces."""
    source = {name.strip(): name for name in header}
    present = [name for name in FIELD_NAMES if name in source]
    options: dict[str, Any] = {"columns": [source[n] for n in present], "row_index_name": "_row", "row_index_offset": 2}
    text = {source[n]: pl.String() for n in present}
    quick = {source[f.name]: polars_type(f) for f in FIELDS if f.type in ("int", "bool") and f.name in source}
    try:
        frame = pl.read_csv(path, schema_overrides={**text, **quick}, **options)
    except pl.exceptions.ComputeError:  # some whole-number or true/false cell is untidy: read it all as text
        frame = pl.read_csv(path, infer_schema=False, **options)
    blank = pl.all_horizontal(pl.exclude("_row").is_null())  # an empty line, e.g. at the end of the file
    return convert(_add_missing(frame.filter(~blank).rename({source[n]: n for n in present})))


def read_parquet(path: Path, header: list[str]) -> Parsed:
    """Read a Parquet file; columns already of the field's type are used as they are."""
    source = {name.strip(): name for name in header}
    present = [name for name in FIELD_NAMES if name in source]
    frame = pl.read_parquet(path, columns=[source[n] for n in present]).with_row_index("_row", offset=1)
    frame = frame.rename({source[n]: n for n in present})
    text_like = [pl.col(n).cast(pl.String) for n in present if _field(n).type not in TYPED_KINDS]
    return convert(_add_missing(frame.with_columns(text_like)))


def _field(name: str) -> Field:
    return next(f for f in FIELDS if f.name == name)
