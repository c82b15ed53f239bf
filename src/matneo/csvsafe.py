"""CSV that opens safely in a spreadsheet: the one place text cells are neutralised.

Every CSV MatNeo hands out (rejection reports, chart data tables, ``matneo measures --format
csv``) can hold text someone else typed: a value from an uploaded file, an organisation name.
A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage
return before one) as a formula, which can fetch web addresses with the sheet's data or run
commands. OWASP's CSV Injection guidance (https://owasp.org/www-community/attacks/CSV_Injection)
is that no cell may begin with ``=``, ``+``, ``-``, ``@``, tab (0x09) or carriage return
(0x0D); such a cell gets a leading single quote, so it is read as text, and cells are wrapped
in double quotes with embedded quotes doubled, so a value cannot start a new cell.

Only text cells are changed. Numbers stay numbers, unquoted, so a negative count or a rate
below the reference (``-1.5``) still sums in the sheet; a text cell that looks like a negative
number ("-5" as typed in a file) becomes ``'-5``, as the guidance asks. Neutralising is
idempotent: a neutralised cell starts with ``'`` and is left alone the second time.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

import polars as pl

__all__ = ["FORMULA_START", "csv_text", "frame_csv", "neutralise", "neutralise_frame"]

#: First characters that make a spreadsheet read a cell as a formula (OWASP CSV Injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_PATTERN = r"^[=+\-@\t\r]"  # FORMULA_START as a regular expression (checked in the tests)


def neutralise(value: Any) -> Any:
    """A text cell that would start a formula, with a leading ``'``; anything else unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_text(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """CSV of a header and rows: text cells neutralised and quoted, numbers bare, ``None`` empty."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
    writer.writerow([neutralise(c) for c in columns])
    for row in rows:
        writer.writerow(["" if v is None else neutralise(v) for v in row])
    return buffer.getvalue()


def neutralise_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame with every text column neutralised as :func:`neutralise` does (numbers untouched)."""
    text = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    return frame.with_columns(
        pl.when(pl.col(name).str.contains(_FORMULA_PATTERN))
        .then(pl.lit("'") + pl.col(name))
        .otherwise(pl.col(name))
        .alias(name)
        for name in text
    )


def frame_csv(frame: pl.DataFrame) -> str:
    """A polars frame as CSV, as :func:`csv_text` writes it (text neutralised and quoted, numbers bare)."""
    safe = neutralise_frame(frame).rename({c: neutralise(c) for c in frame.columns})
    return safe.write_csv(quote_style="non_numeric")
