"""Turning a file's cells into typed birth-record columns, without losing what was submitted.

Fast path: the whole file parses straight into the field types (Polars' multi-threaded
reader). If any cell does not parse, the file is read again as text and each column is
converted leniently — surrounding spaces ignored, ``39.0`` accepted as a whole number,
``yes``/``no`` accepted as true/false, several date-time layouts — and every cell that
still does not parse is flagged in ``<field>__unparsed`` so a rule can report it with the
text as submitted. Clean files, the common case, never pay for the lenient path.
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


def from_text(text: pl.DataFrame) -> Parsed:
    """Lenient conversion of a frame of text cells (``_row`` + one column per field)."""
    cleaned = text.select("_row", *[_clean_text(name) for name in FIELD_NAMES])
    conversions = []
    for field in FIELDS:
        value = _lenient(field, pl.col(field.name))
        conversions.append(value.alias(field.name))
        if field.type in TYPED_KINDS:
            conversions.append((pl.col(field.name).is_not_null() & value.is_null()).alias(unparsed(field.name)))
    return Parsed(typed=cleaned.select("_row", *conversions), text=cleaned)


def _finish_fast(frame: pl.DataFrame) -> Parsed:
    """Trim text fields and add all-false ``__unparsed`` flags to a frame that parsed cleanly."""
    strings = [_clean_text(f.name) for f in FIELDS if f.type in ("string", "code")]
    flags = [pl.lit(False).alias(unparsed(f.name)) for f in FIELDS if f.type in TYPED_KINDS]
    return Parsed(typed=frame.with_columns(*strings, *flags), text=None)


def _add_missing(frame: pl.DataFrame, dtype_of) -> pl.DataFrame:  # type: ignore[no-untyped-def]
    missing = [pl.lit(None, dtype=dtype_of(f)).alias(f.name) for f in FIELDS if f.name not in frame.columns]
    return frame.with_columns(*missing, pl.col("_row").cast(pl.Int64)).select("_row", *FIELD_NAMES)


def read_csv(path: Path, columns: list[str]) -> Parsed:
    """Read a UTF-8 CSV whose header has been checked: typed if it can be, leniently if not."""
    present = [name for name in FIELD_NAMES if name in columns]
    common = {"columns": present, "row_index_name": "_row", "row_index_offset": 2, "encoding": "utf8"}
    try:
        frame = pl.read_csv(
            path, schema_overrides={f.name: polars_type(f) for f in FIELDS if f.name in present}, **common
        )
    except pl.exceptions.ComputeError:
        frame = None
    if frame is not None:
        return _finish_fast(_add_missing(frame, polars_type))
    text = pl.read_csv(path, infer_schema=False, **common)
    return from_text(_add_missing(text, lambda f: pl.String()))


def read_parquet(path: Path, columns: list[str]) -> Parsed:
    """Read a Parquet file; columns already of the field's type are used as they are."""
    present = [name for name in FIELD_NAMES if name in columns]
    frame = pl.read_parquet(path, columns=present).with_row_index("_row", offset=1)
    if all(frame.schema[name] == polars_type(_field(name)) for name in present):
        return _finish_fast(_add_missing(frame, polars_type))
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
