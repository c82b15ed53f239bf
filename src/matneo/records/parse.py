"""Turning a file's cells into typed birth-record columns, without losing what was submitted.

CSV files are read as text (Polars' multi-threaded reader), then each column is converted
on its own. Fast path: the whole column converts strictly in one vectorised call — whole
numbers, ``true``/``false``, ``YYYY-MM-DD HH:MM:SS``. Only a column where some cell does not
convert takes the lenient path — surrounding spaces ignored, ``39.0`` accepted as a whole
number, ``yes``/``no`` as true/false, several date-time layouts — and every cell that still
does not convert is flagged in ``<field>__unparsed`` so a rule can report it with the text
as submitted. Clean columns, the common case, never pay for leniency.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

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
    """A file's rows: typed fields, ``_row`` numbers, ``__unparsed`` flags; text if it was needed."""

    typed: pl.DataFrame
    text: pl.DataFrame | None


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


def from_text(text: pl.DataFrame) -> Parsed:
    """Convert a frame of text cells (``_row`` + one text column per field), column by column."""
    text_fields = [f.name for f in FIELDS if f.type not in TYPED_KINDS]
    untidy = text.select([_untidy(name) for name in text_fields]).row(0, named=True)  # one parallel pass
    cleaned: list[pl.Series] = []
    typed: list[pl.Series] = []
    flags: list[pl.Series] = []
    for field in FIELDS:
        column = text.get_column(field.name)
        if field.type not in TYPED_KINDS:
            if untidy[field.name]:
                column = text.select(_clean_text(field.name)).to_series()
            cleaned.append(column)
            typed.append(column)
            continue
        try:
            value = _strict(field, column)
            flag = pl.repeat(False, len(column), eager=True, dtype=pl.Boolean)
        except pl.exceptions.PolarsError:
            column = text.select(_clean_text(field.name)).to_series()
            value = pl.DataFrame(column).select(_lenient(field, pl.col(field.name))).to_series()
            flag = column.is_not_null() & value.is_null()
        cleaned.append(column)
        typed.append(value.alias(field.name))
        flags.append(flag.alias(unparsed(field.name)))
    row = text.get_column("_row")
    return Parsed(typed=pl.DataFrame([row, *typed, *flags]), text=pl.DataFrame([row, *cleaned]))


def _add_missing(frame: pl.DataFrame, dtype_of) -> pl.DataFrame:  # type: ignore[no-untyped-def]
    missing = [pl.lit(None, dtype=dtype_of(f)).alias(f.name) for f in FIELDS if f.name not in frame.columns]
    return frame.with_columns(*missing, pl.col("_row").cast(pl.Int64)).select("_row", *FIELD_NAMES)


def read_csv(path: Path, columns: list[str]) -> Parsed:
    """Read a UTF-8 CSV whose header has been checked."""
    present = [name for name in FIELD_NAMES if name in columns]
    text = pl.read_csv(path, infer_schema=False, columns=present, row_index_name="_row", row_index_offset=2)
    return from_text(_add_missing(text, lambda f: pl.String()))


def read_parquet(path: Path, columns: list[str]) -> Parsed:
    """Read a Parquet file; columns already of the field's type are used as they are."""
    present = [name for name in FIELD_NAMES if name in columns]
    frame = pl.read_parquet(path, columns=present).with_row_index("_row", offset=1)
    if all(frame.schema[name] == polars_type(_field(name)) for name in present):
        flags = [pl.lit(False).alias(unparsed(f.name)) for f in FIELDS if f.type in TYPED_KINDS]
        strings = [_clean_text(f.name) for f in FIELDS if f.type in ("string", "code") and f.name in present]
        return Parsed(typed=_add_missing(frame, polars_type).with_columns(*strings, *flags), text=None)
    as_text = []
    for name in present:
        dtype = frame.schema[name]
        if dtype == pl.String:
            as_text.append(pl.col(name))
        elif isinstance(dtype, pl.Datetime) or dtype == pl.Date:
            as_text.append(pl.col(name).dt.strftime("%Y-%m-%d %H:%M:%S"))
        elif dtype == pl.Boolean:
            as_text.append(pl.col(name).cast(pl.String).str.to_lowercase())
        else:
            as_text.append(pl.col(name).cast(pl.String))
    text = frame.select("_row", *as_text)
    return from_text(_add_missing(text, lambda f: pl.String()))


def _field(name: str) -> Field:
    return next(f for f in FIELDS if f.name == name)
