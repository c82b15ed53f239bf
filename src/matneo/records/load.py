"""Loading birth-record files: validate every row, quarantine bad rows, replace atomically.

One call of :func:`load_files` is one *batch* of files. First every file is checked to be
loadable at all — CSV or Parquet, UTF-8, every required column — and if any is not, the
batch stops with one clear :class:`UnreadableInput` error before anything changes. Then
every file is prepared, before any is loaded:

1. a file whose SHA-256 is already in the ledger is skipped (idempotent re-loads);
2. every row is parsed and checked against the validation rules (``parse.py``,
   ``validation.py``); every broken rule of every bad row goes to a rejection report;
3. with a ``scope`` (the trusts the person loading may write: an upload), every row's trust
   code *as the loader parsed it* — the value that would be stored — must be in scope, or
   the whole batch is refused with :class:`OutsideScope` and nothing changes. The check is
   here, on the parsed values, because only the loader knows what a cell becomes (a binary
   or categorical Parquet column, surrounding spaces): a check on the raw file can be fooled.

4. the *plan* is worked out (``changes.py``): per trust-month, the rows before and after,
   and the records that move from another month. In ``resubmit`` mode (the default) each
   file is the full resubmission of every trust-month it contains; in ``upsert`` mode it
   adds or corrects records and leaves the other rows of the month alone. A resubmission
   that would leave a trust-month with fewer than half its rows is refused
   (:class:`PlanRefused`) unless ``allow_shrink``. With ``dry_run`` the plan is returned and
   nothing changes.

Then file by file, in order, each as one atomic step:

5. the rows of every trust-month the file changes, as they were, are kept aside as the
   load's *undo* file (``records/undo/``), so the load can be reverted (``revert.py``);
6. the next store version is built aside and swapped in atomically; then the ledger row,
   with the outcome per trust-month, and its audit event are written in one transaction.

A batch killed part-way leaves the files before it loaded and the rest untouched; running
the same command again skips what is loaded and carries on.

With ``one_load`` (an upload of several files on the Data page) the files found are one input,
read together (:func:`together`): one plan, one load, one store version, one ledger row.

Nothing here logs row contents: only counts, file names and rule ids.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import functools
import hashlib
import importlib
import logging
import os
import shutil
import uuid
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from matneo.config import Settings
from matneo.csvsafe import frame_csv
from matneo.db import ledger
from matneo.db.session import check_schema
from matneo.records.changes import (
    KEY_SCHEMA,
    KEYS,
    MODES,
    MonthChange,
    month_key,
    month_label,
    plan_changes,
    totals,
)
from matneo.records.faults import fault_point
from matneo.records.parse import STORE_SCHEMA, Parsed, read_csv, read_parquet
from matneo.records.schema import DERIVABLE_FIELDS, FIELD_NAMES, REQUIRED_FIELDS
from matneo.records.status import plural
from matneo.records.store import Manifest, Partition, RecordStore, fsync_file, parse_partition
from matneo.records.validation import _as_text, cross_row_violations, explain, flag_bad_rows, with_context
from matneo.reference.organisations import OrgHierarchy, load_hierarchy

log = logging.getLogger(__name__)

PARQUET_MAGIC = b"PAR1"
READ_CHUNK = 8 * 1024 * 1024
#: A file must have these columns; any other documented column may be absent (its field is then
#: empty for every row, and the load says which were absent).
REQUIRED_COLUMNS = REQUIRED_FIELDS
REJECTION_COLUMNS = ("source_file", "row", "field", "value", "reason", "rule")
REPORT_VALUE_CHARS = 100  # longer values are cut short in the rejection report
#: Why a file that passed the pre-flight checks still could not be parsed. Fixed words, never
#: the parser's own message: that quotes the rows it could not parse (identifiers and all),
#: and this text is kept in the ledger and shown on the Data page.
UNPARSEABLE = {
    "csv": "cannot be read as CSV: check that every quoted value has its closing quote "
    "and every row has as many values as the header row",
    "parquet": "cannot be read as a Parquet file of birth records (a column may not be text or numbers)",
    "fhir": "cannot be read as a FHIR Bundle of births",
}
#: File name endings each file-based input format looks for in a directory.
SUFFIXES = {"csv": (".csv", ".parquet"), "fhir": (".json",)}
#: The longest name a load of several files gets (:func:`files_label`): the ledger's ``file_name``
#: holds 500 characters, and a folder's name (an MSDS extract's, on the Data page) 255 bytes.
FILES_LABEL_CHARS = 240

ProgressCallback = Callable[[str, int, int], None]  # (what is happening, files done, files in all)


class OutsideScope(Exception):
    """Rows of trusts the person loading may not write. The batch is refused; nothing changes.

    The message names organisation codes only (public reference data) and counts the rest:
    it never quotes a cell, which could be anything.
    """

    def __init__(self, path: Path, trusts: list[str], unknown_rows: int) -> None:
        self.path = path
        self.trusts = trusts
        self.unknown_rows = unknown_rows
        parts = []
        if trusts:
            shown = ", ".join(trusts[:5]) + ("…" if len(trusts) > 5 else "")
            parts.append(f"records of {plural(len(trusts), 'trust')} outside your organisation ({shown})")
        if unknown_rows:
            parts.append(f"{plural(unknown_rows, 'row')} whose trust code is not a trust in your organisation")
        super().__init__(f"The file has {' and '.join(parts)}. Nothing was loaded.")


class UnreadableInput(Exception):
    """A file that cannot be loaded at all. The batch stops and nothing changes."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


class PlanRefused(Exception):
    """A full resubmission that would leave trust-months with fewer than half their rows.

    Probably a partial extract. Nothing changes; load again allowing it if the file really
    is the whole month.
    """

    def __init__(self, shrinking: list[MonthChange]) -> None:
        self.shrinking = shrinking
        first = shrinking[0]
        more = f" (and {plural(len(shrinking) - 1, 'other trust-month')})" if len(shrinking) > 1 else ""
        super().__init__(
            f"Nothing was loaded: the file would replace {first.existing_rows:,} records of {first.trust_code} "
            f"{month_label(first.month)} with {first.new_rows:,}{more}, fewer than half. "
            "Load it as a full resubmission only if it holds every record of those months."
        )


class PlanChanged(Exception):
    """The records changed after the plan was shown (another load); nothing was loaded."""


@dataclass
class InputFile:
    """A file that passed the pre-flight checks."""

    path: Path
    format: str  # csv | parquet
    sha256: str
    size: int
    columns: list[str]  # names as matched: surrounding spaces removed
    header: list[str]  # names exactly as in the file
    absent: list[str] = field(default_factory=list)  # optional columns the file does not have
    notices: list[str] = field(default_factory=list)  # what the reader wants the person loading to know
    source: Any = None  # what a non-file input format needs to read it (e.g. an MSDS extract's tables)


@dataclass
class SourceRows:
    """What an input format's reader makes of one input: birth-record rows and what it could not make.

    ``locate`` turns validation failures (``_row``, ``rule``, ``field``, ``value``, ``reason``)
    into rejection report rows that name the input's own file, row and item (an MSDS table's
    data item, a FHIR element); without it the report names the file and the birth-record
    column. ``unjoined`` holds report rows of records that never became birth records.
    """

    parsed: Parsed
    locate: Callable[[pl.DataFrame], pl.DataFrame] | None = None
    unjoined: pl.DataFrame | None = None
    unjoined_count: int = 0
    notices: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class InputFormat:
    """One kind of input: how to find the inputs among the paths given, check each, and read it."""

    name: str
    description: str
    discover: Callable[[Sequence[Path]], list[Path]]
    inspect: Callable[[Path], InputFile]
    read: Callable[[InputFile], SourceRows]


@dataclass
class Prepared:
    """A file validated, its good rows and rejection report staged, waiting to be loaded."""

    index: int
    item: InputFile
    staging: Path  # holds good.arrow and the rejection report until the file is loaded
    result: FileResult


@dataclass
class FileResult:
    """What happened to one input file."""

    path: Path
    status: str  # loaded | duplicate
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    rejection_file: Path | None = None
    months: list[MonthChange] = field(default_factory=list)  # the plan, then the outcome
    moved_records: int = 0  # supplied records that were stored in another month
    duplicate_of: int | None = None
    ignored_columns: list[str] = field(default_factory=list)
    absent_columns: list[str] = field(default_factory=list)  # optional columns the file did not have
    notices: list[str] = field(default_factory=list)
    top_reasons: list[tuple[str, int]] = field(default_factory=list)

    @property
    def rows_added(self) -> int:
        return totals(self.months)["rows_added"]

    @property
    def rows_replaced(self) -> int:
        return totals(self.months)["rows_replaced"]

    @property
    def rows_removed(self) -> int:
        return totals(self.months)["rows_removed"]


@dataclass
class BatchResult:
    """What a call of :func:`load_files` did (or, with ``dry_run``, would do)."""

    batch_id: str
    files: list[FileResult]
    store_version: int | None
    ledger_ids: list[int] = field(default_factory=list)
    mode: str = "resubmit"
    dry_run: bool = False

    @property
    def rows_loaded(self) -> int:
        return sum(f.rows_loaded for f in self.files)

    @property
    def rows_rejected(self) -> int:
        return sum(f.rows_rejected for f in self.files)

    @property
    def rows_replaced(self) -> int:
        return sum(f.rows_replaced for f in self.files)

    @property
    def moved_records(self) -> int:
        return sum(f.moved_records for f in self.files)

    def changes(self) -> list[MonthChange]:
        """Per trust-month over the batch: rows before the first file and after the last."""
        merged: dict[tuple[str, str], MonthChange] = {}
        for item in self.files:
            for change in item.months:
                key = (change.trust_code, change.month)
                first = merged.get(key)
                if first is not None:  # supplied by an earlier file of the batch too
                    change = MonthChange(key[0], key[1], first.existing_rows, change.new_rows)
                merged[key] = change
        return [merged[key] for key in sorted(merged)]

    def shrinking(self) -> list[MonthChange]:
        """Trust-months a full resubmission would leave with fewer than half their rows."""
        return [c for f in self.files for c in f.months if c.shrinks] if self.mode == "resubmit" else []

    def plan(self) -> dict[str, Any]:
        """The plan (or outcome) as ``matneo load --dry-run --format json`` prints it."""
        return {
            "files": [str(f.path) for f in self.files],
            "mode": self.mode,
            "replaces": [
                {"trust_code": c.trust_code, "month": c.month, "existing_rows": c.existing_rows, "new_rows": c.new_rows}
                for c in self.changes()
            ],
            "moved_records": self.moved_records,
            "rejected_rows": self.rows_rejected,
            "loaded_rows": self.rows_loaded,
            "skipped": [str(f.path) for f in self.files if f.status == "duplicate"],
            "notices": [
                {"file": str(f.path), "absent_columns": f.absent_columns, "notices": f.notices}
                for f in self.files
                if f.absent_columns or f.notices
            ],
            "partial_months": [
                {"trust_code": c.trust_code, "month": c.month, "existing_rows": c.existing_rows, "new_rows": c.new_rows}
                for c in self.shrinking()
            ],
        }


# -- discovery and pre-flight -------------------------------------------------------------
def discover(paths: Sequence[Path], input_format: str = "csv") -> list[Path]:
    """Expand directories into their CSV and Parquet files (FHIR: JSON files), sorted; keep
    named files as given."""
    suffixes = SUFFIXES[input_format]
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in suffixes))
        else:
            found.append(path)
    return found


def _detect_format(path: Path, head: bytes) -> str:
    if head.startswith(PARQUET_MAGIC):
        return "parquet"
    if path.suffix.lower() == ".csv":
        return "csv"
    if path.suffix.lower() == ".parquet":
        raise UnreadableInput(path, "has a .parquet name but is not a Parquet file")
    raise UnreadableInput(path, "is not a CSV (.csv) or Parquet (.parquet) file")


def _hash_and_check_utf8(path: Path, is_csv: bool, watch: Callable[[bytes], None] | None = None) -> str:
    """SHA-256 of the file; for CSV also proves the whole file is valid UTF-8 in the same read.

    ``watch``, if given, sees every chunk read, so that an input format can learn more of the
    file in the same read (an MSDS table: whether any cell may need tidying)."""
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(READ_CHUNK):
            digest.update(chunk)
            if watch is not None:
                watch(chunk)
            if is_csv:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as error:
                    raise UnreadableInput(
                        path,
                        f"is not UTF-8 text (invalid byte at position {offset + error.start}); "
                        "save it as CSV UTF-8 and load it again",
                    ) from None
            offset += len(chunk)
    if is_csv:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise UnreadableInput(path, "is not UTF-8 text (it ends part-way through a character)") from None
    return digest.hexdigest()


def _csv_header(path: Path) -> list[str]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        try:
            header = next(csv.reader(handle))
        except StopIteration:
            raise UnreadableInput(path, "is empty: expected a header row of column names") from None
        except csv.Error as error:
            raise UnreadableInput(path, f"cannot be read as CSV: {error}") from None
    return header


def inspect(path: Path, input_format: str = "csv") -> InputFile:
    """Pre-flight checks: readable, CSV or Parquet, UTF-8, all required columns present.

    A FHIR file must be UTF-8; whether it is a Bundle is known only once it is parsed."""
    if not path.exists():
        raise UnreadableInput(path, "does not exist")
    if not path.is_file():
        raise UnreadableInput(path, "is not a file")
    if input_format == "fhir":
        sha256 = _hash_and_check_utf8(path, is_csv=True)
        return InputFile(path=path, format="fhir", sha256=sha256, size=path.stat().st_size, columns=[], header=[])
    with open(path, "rb") as handle:
        head = handle.read(4)
    file_format = _detect_format(path, head)
    sha256 = _hash_and_check_utf8(path, is_csv=file_format == "csv")
    if file_format == "csv":
        header = _csv_header(path)
    else:
        try:
            header = list(pq.ParquetFile(path).schema_arrow.names)
        except (pa.ArrowException, OSError):
            raise UnreadableInput(path, "cannot be read as Parquet (the file may be damaged)") from None
    columns = [name.strip() for name in header]
    duplicated = {c for c in columns if columns.count(c) > 1}
    if duplicated:  # name only our own columns: a broken header row may hold anything
        named = sorted(duplicated & set(FIELD_NAMES))
        raise UnreadableInput(path, f"has duplicated column names: {', '.join(named) or 'some columns'}")
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise UnreadableInput(path, f"is missing required columns: {', '.join(missing)}")
    absent = [c for c in FIELD_NAMES if c not in columns and c not in DERIVABLE_FIELDS]
    size = path.stat().st_size
    return InputFile(
        path=path, format=file_format, sha256=sha256, size=size, columns=columns, header=header, absent=absent
    )


def read_records(item: InputFile) -> SourceRows:
    """Parse a birth-record file (CSV or Parquet) that passed :func:`inspect`."""
    try:
        parsed = read_csv(item.path, item.header) if item.format == "csv" else read_parquet(item.path, item.header)
    except (pl.exceptions.PolarsError, OSError):
        raise UnreadableInput(item.path, UNPARSEABLE[item.format]) from None
    return SourceRows(parsed)


def read_bundle(item: InputFile) -> SourceRows:
    """Parse a FHIR Bundle file that passed :func:`inspect` (``matneo.fhir.inbound``); its rows
    carry ``Parsed.where``, the resource and element of each value, for the rejection report."""
    from matneo.fhir.inbound import read_fhir  # only FHIR loads pay for the FHIR models

    try:
        parsed = read_fhir(item.path, item.header)
    except (pl.exceptions.PolarsError, OSError):
        raise UnreadableInput(item.path, UNPARSEABLE["fhir"]) from None
    except ValueError as error:  # a file that is no Bundle: fixed words, never its content
        raise UnreadableInput(item.path, str(error)) from None
    return SourceRows(parsed)


RECORD_FILES = InputFormat("csv", "birth-record files (CSV or Parquet)", discover, inspect, read_records)
FHIR_BUNDLES = InputFormat(
    "fhir",
    "FHIR Bundle files (.json)",
    functools.partial(discover, input_format="fhir"),
    functools.partial(inspect, input_format="fhir"),
    read_bundle,
)
#: Input formats by name: ``module:attribute`` of their :class:`InputFormat`, imported when used so
#: that a format's package (and its dependencies) is loaded only by those who load that format.
#: Each reads its inputs into the same typed rows, so validation, rejection reports and the
#: atomic load are shared.
INPUT_FORMATS: dict[str, str] = {
    "csv": "matneo.records.load:RECORD_FILES",
    "msds": "matneo.msds.source:MSDS_EXTRACTS",
    "fhir": "matneo.records.load:FHIR_BUNDLES",
}


def get_input_format(name: str) -> InputFormat:
    """The input format called ``name`` (``csv``, ``msds``…)."""
    if name not in INPUT_FORMATS:
        raise ValueError(f"unknown input format {name!r}: expected one of {', '.join(INPUT_FORMATS)}")
    module, attribute = INPUT_FORMATS[name].split(":")
    found: InputFormat = getattr(importlib.import_module(module), attribute)
    return found


# -- several files as one load -------------------------------------------------------------
def files_label(names: Sequence[str], limit: int = FILES_LABEL_CHARS) -> str:
    """How a load of several files is named in the ledger and on the Data page: by its files
    ("a.csv, b.csv, c.csv"), or by as many as fit and how many more ("a.csv, b.csv and 7 other
    files"), in at most ``limit`` characters. One file is named by its own name."""
    if len(names) == 1:
        return names[0]
    for shown in range(len(names), 0, -1):
        rest = len(names) - shown
        label = ", ".join(names[:shown]) + (f" and {plural(rest, 'other file')}" if rest else "")
        if len(label) <= limit:
            return label
    return plural(len(names), "file")


@dataclass(frozen=True)
class Together:
    """The files of one input made of several (``load_files(..., one_load=True)``), in order."""

    parts: list[InputFile]


def together(parts: list[InputFile]) -> InputFile:
    """Several inspected files as one input, so one load: one plan, one store version, one ledger
    row, one undo file and one revert, as an MSDS extract's table files are one load.

    Its rows are all the files' rows together (:func:`read_together`): a full resubmission holds
    every record of its trust-months from all the files, and the checks across rows (a record
    id given twice, the babies of a multiple birth) see all of them. Its SHA-256 is that of the
    files' SHA-256s, sorted, so the same files loaded again, in any order or under any names,
    are skipped as loaded before. A file given twice is read once. It is named by its files'
    names (:func:`files_label`), not their paths."""
    distinct: dict[str, InputFile] = {}
    notices: list[str] = []
    for part in parts:
        first = distinct.setdefault(part.sha256, part)
        if first is not part:
            notices.append(f"{part.path.name} is the same as {first.path.name}, so it was read once.")
    kept = list(distinct.values())
    if len(kept) == 1:
        kept[0].notices = [*kept[0].notices, *notices]
        return kept[0]
    digest = hashlib.sha256(b"files\n")
    for sha256 in sorted(distinct):
        digest.update(f"{sha256}\n".encode())
    formats = sorted({part.format for part in kept})
    columns = list(dict.fromkeys(name for part in kept for name in part.columns))
    absent = {name for part in kept for name in part.absent}
    return InputFile(
        path=Path(files_label([part.path.name for part in kept])),
        format="+".join(formats),
        sha256=digest.hexdigest(),
        size=sum(part.size for part in kept),
        columns=columns,
        header=[],
        absent=[name for name in FIELD_NAMES if name in absent],  # absent from one file or more
        notices=list(dict.fromkeys([*(n for part in kept for n in part.notices), *notices])),
        source=Together(kept),
    )


def describe_rows(violations: pl.DataFrame, file_name: str) -> pl.DataFrame:
    """Rejection report rows of a file whose reader does not locate its own: the file's name
    (never a server path), the row and the birth-record column."""
    return violations.select(
        pl.lit(file_name).alias("source_file"),
        pl.col("_row").cast(pl.Int64).alias("row"),
        "field",
        "value",
        "reason",
        "rule",
    )


def read_together(item: InputFile, read: Callable[[InputFile], SourceRows]) -> SourceRows:
    """Read the files of :func:`together` as one input: each with its format's reader, their rows
    numbered on from one file to the next (``_row``), and every rejection located in its own file
    and row. A file without records refuses the load, naming the file, as it would alone."""
    parts: list[InputFile] = item.source.parts
    read_parts = [read(part) for part in parts]
    starts: list[int] = []
    end = 0
    for part, rows in zip(parts, read_parts, strict=True):
        if rows.parsed.typed.is_empty() and not rows.unjoined_count:
            raise UnreadableInput(part.path, "has no records: only a header row")
        starts.append(end)
        end += int(rows.parsed.typed.get_column("_row").max() or 0) + 1  # type: ignore[arg-type]
    text_columns = list(dict.fromkeys(name for rows in read_parts for name in rows.parsed.text.columns))

    def shifted(frame: pl.DataFrame, start: int) -> pl.DataFrame:
        return frame.with_columns(pl.col("_row") + start)

    def as_submitted(parsed: Parsed) -> pl.DataFrame:
        """The file's cells as submitted, with the columns other files have as text (read typed here)."""
        missing = [name for name in text_columns if name not in parsed.text.columns]
        typed = parsed.typed.select("_row", *(_as_text(name).alias(name) for name in missing))
        return parsed.text.join(typed, on="_row", how="left").select(text_columns)

    pairs = list(zip(read_parts, starts, strict=True))
    typed = pl.concat([shifted(rows.parsed.typed, start) for rows, start in pairs], how="vertical_relaxed")
    text = pl.concat([shifted(as_submitted(rows.parsed), start) for rows, start in pairs], how="vertical_relaxed")
    wheres = [shifted(rows.parsed.where, start) for rows, start in pairs if rows.parsed.where is not None]
    unjoined = [rows.unjoined for rows in read_parts if rows.unjoined is not None and len(rows.unjoined)]
    first_rows = pl.Series(starts, dtype=pl.Int64)

    def locate(violations: pl.DataFrame) -> pl.DataFrame:
        index = first_rows.search_sorted(violations.get_column("_row").cast(pl.Int64), side="right")
        marked = violations.with_columns((index.cast(pl.Int64) - 1).alias("_part"))
        described = []
        for number, (part, rows) in enumerate(zip(parts, read_parts, strict=True)):
            own = marked.filter(pl.col("_part") == number).drop("_part")
            own = own.with_columns(pl.col("_row") - starts[number])
            described.append(rows.locate(own) if rows.locate is not None else describe_rows(own, part.path.name))
        return pl.concat(described, how="vertical_relaxed")

    return SourceRows(
        Parsed(typed, text, pl.concat(wheres, how="vertical_relaxed") if wheres else None),
        locate=locate,
        unjoined=pl.concat(unjoined, how="vertical_relaxed") if unjoined else None,
        unjoined_count=sum(rows.unjoined_count for rows in read_parts),
        notices=list(dict.fromkeys(notice for rows in read_parts for notice in rows.notices)),
    )


# -- one file -----------------------------------------------------------------------------
def _reference_frames(hierarchy: OrgHierarchy) -> tuple[pl.DataFrame, pl.DataFrame]:
    lookup = pl.DataFrame(hierarchy.trust_lookup().select(["trust_code", "lmns_code", "region_code"]))
    trust_ref = lookup.rename({"lmns_code": "_ref_lmns_code", "region_code": "_ref_region_code"})
    site_ref = pl.DataFrame(
        {
            "site_code": [s.code for s in hierarchy.sites.values()],
            "_ref_site_trust": [s.trust_code for s in hierarchy.sites.values()],
        },
        schema={"site_code": pl.String, "_ref_site_trust": pl.String},
    )
    return trust_ref, site_ref  # type: ignore[return-value]


class Loader:
    """Plans a batch, then loads its files one at a time, each atomically; see the module docstring."""

    def __init__(
        self,
        settings: Settings,
        hierarchy: OrgHierarchy | None = None,
        progress: ProgressCallback | None = None,
        now: dt.datetime | None = None,
        scope: Collection[str] | None = None,
        actor: str = "cli",
        mode: str = "resubmit",
        input_format: str = "csv",
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}")
        if input_format not in INPUT_FORMATS:
            raise ValueError(f"input_format must be one of {', '.join(INPUT_FORMATS)}")
        self.input_format = input_format
        self.settings = settings
        self.hierarchy = hierarchy or load_hierarchy(settings=settings)
        self.progress = progress or (lambda stage, done, total: None)
        self.now = now or dt.datetime.now()  # wall-clock time, as births are recorded: for validation
        self.scope = None if scope is None else frozenset(scope)
        self.actor = actor
        self.mode = mode
        self.format = get_input_format(input_format)
        self.started = utcnow()
        self.batch_id = self.started.strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:8]  # UTC, marked Z
        self.store = RecordStore(settings.records_dir)
        self.trust_ref, self.site_ref = _reference_frames(self.hierarchy)

    def run(
        self,
        paths: Sequence[Path],
        dry_run: bool = False,
        allow_shrink: bool = False,
        expect_version: int | None = None,
        one_load: bool = False,
    ) -> BatchResult:
        self.settings.ensure_dirs()
        check_schema(self.settings.database_url)
        files = self.format.discover(paths)
        if not files:
            raise UnreadableInput(Path(", ".join(str(p) for p in paths)), f"contains no {self.format.description}")
        with ThreadPoolExecutor(max_workers=2) as pool:  # hashing releases the GIL: check two files at once
            inputs = list(pool.map(self.format.inspect, files))
        if one_load and len(inputs) > 1:
            inputs = [together(inputs)]
        results: dict[int, FileResult] = {}
        ledger_ids: list[int] = []
        with self.store.write_lock():
            sweep_staging(self.settings)
            ledger.reconcile(self.settings.database_url, self.store.manifest().batch, self.store.current_version() or 0)
            if expect_version is not None and (self.store.current_version() or 0) != expect_version:
                raise PlanChanged("The records changed after this plan was made; nothing was loaded.")
            prepared: list[Prepared] = []
            try:
                seen: set[str] = set()
                for index, item in enumerate(inputs):  # every file checked before any is loaded
                    self.progress(f"checking {item.path.name}", index, len(inputs))  # files done, files in all
                    earlier = ledger.find_loaded(self.settings.database_url, item.sha256)
                    if earlier is not None or item.sha256 in seen:
                        duplicate_of = earlier.id if earlier else None
                        results[index] = FileResult(item.path, "duplicate", duplicate_of=duplicate_of)
                        continue
                    seen.add(item.sha256)
                    prepared.append(self._prepare(index, item))
                self._plan(prepared)
                for ready in prepared:
                    results[ready.index] = ready.result
                ordered = [results[i] for i in sorted(results)]
                shrinking = BatchResult(self.batch_id, ordered, None, [], self.mode).shrinking()
                if shrinking and not (allow_shrink or dry_run):  # a dry run shows them in its plan
                    raise PlanRefused(shrinking)
                if dry_run:
                    for ready in prepared:  # the reports go with the staging area: nothing is kept
                        ready.result.rejection_file = None
                else:
                    for done, ready in enumerate(prepared):
                        self.progress(f"loading {ready.item.path.name}", done, len(prepared))
                        results[ready.index], load_id = self._load_one(ready)
                        ledger_ids.append(load_id)
                    self.store.apply_undo_retention(  # docs/architecture.md, "Undo retention"
                        ledger.loads_in_place(self.settings.database_url),
                        self.settings.undo_keep_loads,
                        self.settings.undo_keep_days,
                        utcnow(),
                    )
            finally:
                for ready in prepared:
                    shutil.rmtree(ready.staging, ignore_errors=True)
            self.progress("loaded", len(inputs), len(inputs))
        ordered = [results[index] for index in sorted(results)]
        return BatchResult(self.batch_id, ordered, self.store.current_version(), ledger_ids, self.mode, dry_run)

    def _prepare(self, index: int, item: InputFile) -> Prepared:
        """Validate one file and stage its good rows, changing nothing live."""
        staging = self.settings.staging_dir / f"{self.batch_id}-{index}"
        staging.mkdir(parents=True)
        try:
            good, result = self._validate(item, staging)
        except OutsideScope as refusal:
            shutil.rmtree(staging, ignore_errors=True)
            ledger.record_refusal(
                self.settings.database_url, self.actor, item.path.name, refusal.trusts, refusal.unknown_rows
            )
            raise
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        result.rows_loaded = len(good)
        good.write_ipc(staging / "good.arrow", compression="uncompressed")  # read back once: the fastest format
        return Prepared(index, item, staging, result)

    def _check_scope(self, path: Path, typed: pl.DataFrame) -> None:
        """Refuse the batch if any row's trust code, as parsed (what would be stored), is out of scope."""
        if self.scope is None:
            return
        codes = typed.get_column("trust_code").drop_nulls().value_counts()
        outside = [(code, n) for code, n in codes.iter_rows() if code not in self.scope]
        if outside:
            known = {trust.code for trust in self.hierarchy.trusts()}
            trusts = sorted(code for code, _ in outside if code in known)
            raise OutsideScope(path, trusts, sum(n for code, n in outside if code not in known))

    def _plan(self, prepared: list[Prepared]) -> None:
        """Each file's changes, as if the files before it in the batch were loaded (nothing changes)."""
        news = [pl.read_ipc(ready.staging / "good.arrow", columns=list(KEY_SCHEMA)) for ready in prepared]
        if not news:
            return
        live = live_keys(self.store, pl.concat(news))
        counts = self.store.manifest().counts()
        for ready, new in zip(prepared, news, strict=True):
            ready.result.months, ready.result.moved_records, gone = plan_changes(new, live, counts, self.mode)
            live = pl.concat([live.join(gone, on=list(KEY_SCHEMA), how="anti"), new])
            counts.update({(c.trust_code, c.month): c.new_rows for c in ready.result.months})

    def _load_one(self, ready: Prepared) -> tuple[FileResult, int]:
        item, result, staging = ready.item, ready.result, ready.staging
        file_batch = staging.name
        try:
            fault_point("after_validation")
            good = pl.read_ipc(staging / "good.arrow")
            new = good.select(list(KEY_SCHEMA))
            live = live_keys(self.store, new)
            counts = self.store.manifest().counts()
            result.months, result.moved_records, gone = plan_changes(new, live, counts, self.mode)
            out = staging / "out"
            replaced, before = stage_partitions(self.store, good, gone, result.months, out)
            fault_point("after_staging")
            manifest = next_manifest(self.store, out, replaced) if result.months else None
            if result.rejection_file is not None:  # keep reports before the swap: an orphan beats a loss
                final = self.settings.rejections_dir / result.rejection_file.name
                fsync_file(result.rejection_file)
                os.replace(result.rejection_file, final)
                result.rejection_file = final
            batch = self._batch_record(file_batch, item, result)
            version = self.store.current_version()
            if manifest is not None:
                self.store.undo_dir.mkdir(parents=True, exist_ok=True)  # kept before the swap, as reports are
                before.write_parquet(self.store.undo_dir / f"{file_batch}.parquet")
                fsync_file(self.store.undo_dir / f"{file_batch}.parquet")  # on disk before the load is live
                manifest.batch = batch
                version = self.store.commit(out, replaced, manifest)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        fault_point("after_swap")
        (load_id,) = ledger.record_batch(self.settings.database_url, batch, version)
        log.info(  # counts only: never row contents
            "load %s (%s): %s read, %s loaded, %s rejected; store version %s",
            load_id,
            self.mode,
            result.rows_read,
            result.rows_loaded,
            result.rows_rejected,
            version,
        )
        return result, load_id

    def _validate(self, item: InputFile, staging: Path) -> tuple[pl.DataFrame, FileResult]:
        """Parse and check every row; write the rejection report; return the good rows."""
        rows = read_together(item, self.format.read) if isinstance(item.source, Together) else self.format.read(item)
        parsed = rows.parsed
        if parsed.typed.is_empty() and not rows.unjoined_count:
            raise UnreadableInput(item.path, "has no records: only a header row")
        self._check_scope(item.path, parsed.typed)
        frame = with_context(parsed.typed, self.trust_ref, self.site_ref, self.now)
        frame = frame.with_columns(_bad=flag_bad_rows(frame))
        violations = pl.concat([explain(frame.filter(pl.col("_bad")), parsed.text), cross_row_violations(frame)])
        if parsed.where is not None:  # name the resource and element of each rejected cell
            violations = (
                violations.join(parsed.where, on=["_row", "field"], how="left")
                .with_columns(
                    field=pl.when(pl.col("where").is_not_null())
                    .then(pl.col("field") + " (" + pl.col("where") + ")")
                    .otherwise(pl.col("field"))
                )
                .drop("where")
            )
        rejected = violations.select("_row").unique()
        good = frame.filter(~pl.col("_bad")).join(rejected, on="_row", how="anti")
        unjoined = rows.unjoined_count
        result = FileResult(
            item.path, "loaded", rows_read=len(frame) + unjoined, rows_rejected=len(rejected) + unjoined
        )
        result.ignored_columns = [c for c in item.columns if c not in FIELD_NAMES]
        result.absent_columns = list(item.absent)
        result.notices = [*item.notices, *rows.notices]
        described = rows.locate(violations) if rows.locate is not None else describe_rows(violations, item.path.name)
        if rows.unjoined is not None and len(rows.unjoined):
            described = pl.concat([described, rows.unjoined.cast(described.schema)])
        if len(described):
            counts = described.group_by("reason").len().sort(["len", "reason"], descending=[True, False])
            result.top_reasons = [(reason, n) for reason, n in counts.head(5).iter_rows()]
            stem = "files" if isinstance(item.source, Together) else item.path.stem  # several: named by its load
            report = staging / f"{self.batch_id}-{stem}-rejections.csv"
            table = described.sort(["source_file", "row", "rule"]).select(
                "source_file",
                "row",
                "field",
                pl.when(pl.col("value").str.len_chars() > REPORT_VALUE_CHARS)
                .then(pl.col("value").str.slice(0, REPORT_VALUE_CHARS) + "…")
                .otherwise(pl.col("value"))
                .alias("value"),
                "reason",
                "rule",
            )
            report.write_text(frame_csv(table), encoding="utf-8")  # values typed by others: no formulas
            result.rejection_file = report
        ordered = [pl.col(name).cast(dtype) for name, dtype in STORE_SCHEMA.items()]
        lmns_region = [
            pl.coalesce("lmns_code", "_ref_lmns_code").alias("lmns_code"),
            pl.coalesce("region_code", "_ref_region_code").alias("region_code"),
        ]
        good = good.with_columns(*lmns_region).select(
            *ordered,
            year=pl.col("birth_datetime").dt.year().cast(pl.Int32),
            month=pl.col("birth_datetime").dt.month().cast(pl.Int32),
        )
        return good, result

    def _batch_record(self, batch_id: str, item: InputFile, result: FileResult) -> dict[str, Any]:
        return {
            "batch_id": batch_id,
            "started_at": ledger.batch_time(self.started),
            "finished_at": ledger.batch_time(utcnow()),
            "files": [
                {
                    "file_name": str(item.path),
                    "sha256": item.sha256,
                    "format": item.format,
                    "bytes": item.size,
                    "status": "loaded",
                    "actor": self.actor,
                    "mode": self.mode,
                    "rows_read": result.rows_read,
                    "rows_loaded": result.rows_loaded,
                    "rows_rejected": result.rows_rejected,
                    "moved_records": result.moved_records,
                    "rejection_file": str(result.rejection_file) if result.rejection_file else None,
                    "months": [change.to_dict() for change in result.months],
                }
            ],
        }


# -- shared with revert.py ------------------------------------------------------------------
def utcnow() -> dt.datetime:
    """Now in UTC, without a time zone: how the app store keeps times."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def sweep_staging(settings: Settings) -> None:
    """Remove what a killed writer left in staging. Call holding the store's write lock."""
    for leftover in settings.staging_dir.iterdir():
        shutil.rmtree(leftover, ignore_errors=True)


def scan_partitions(files: list[Path]) -> pl.LazyFrame:
    """Stored rows of these partition files, with ``year`` and ``month`` as 32-bit integers."""
    return pl.scan_parquet(files, hive_partitioning=True).with_columns(
        pl.col("year").cast(pl.Int32), pl.col("month").cast(pl.Int32)
    )


def live_keys(store: RecordStore, new: pl.DataFrame, months: pl.DataFrame | None = None) -> pl.DataFrame:
    """Keys of the stored rows a load of ``new`` may change: the rows of its trust-months (and
    of ``months``) and the stored copies of its records."""
    files = store.partition_files()
    if not files:
        return pl.DataFrame(schema=KEY_SCHEMA)
    keys, ids = list(KEYS), ["trust_code", "record_id"]
    whole = new.select(keys) if months is None else pl.concat([new.select(keys), months.select(keys)])
    live = scan_partitions(files).select(list(KEY_SCHEMA))
    affected = [
        live.join(whole.unique().lazy(), on=keys, how="semi"),
        live.join(new.select(ids).lazy(), on=ids, how="semi"),
    ]
    return pl.concat(affected).unique().collect()


def touched_months(changes: list[MonthChange]) -> pl.DataFrame:
    """(trust_code, year, month) of each changed trust-month."""
    return pl.DataFrame(
        {
            "trust_code": [c.trust_code for c in changes],
            "year": [int(c.month[:4]) for c in changes],
            "month": [int(c.month[5:]) for c in changes],
        },
        schema={"trust_code": pl.String, "year": pl.Int32, "month": pl.Int32},
    )


def stage_partitions(
    store: RecordStore, good: pl.DataFrame, gone: pl.DataFrame, changes: list[MonthChange], out: Path
) -> tuple[set[Partition], pl.DataFrame]:
    """Write every partition a load changes into ``out``: its stored rows except those that go,
    plus the new rows. Returns the live partitions replaced and the rows the changed
    trust-months held before (to undo the load)."""
    columns = [*STORE_SCHEMA, "year", "month"]
    touched = touched_months(changes)
    live_partitions = {parse_partition(f.parent) for f in store.partition_files()}
    replaced = set(touched.select("year", "month").iter_rows()) & live_partitions
    combined = good.select(columns)
    before = pl.DataFrame(schema={**STORE_SCHEMA, "year": pl.Int32, "month": pl.Int32})
    if replaced:
        rows = scan_partitions(store.partition_files(replaced)).select(columns).collect()
        before = rows.join(touched, on=list(KEYS), how="semi")
        combined = pl.concat([combined, rows.join(gone, on=list(KEY_SCHEMA), how="anti")])
    if len(combined):
        combined.write_parquet(out, partition_by=["year", "month"], compression="zstd")
    return replaced, before


def next_manifest(store: RecordStore, out: Path, replaced: set[Partition]) -> Manifest:
    """The manifest of the live version with the ``replaced`` partitions swapped for ``out``."""
    manifest = store.manifest()
    kept = manifest.partitions.items()
    partitions = {month: trusts for month, trusts in kept if (int(month[:4]), int(month[5:])) not in replaced}
    staged = sorted(out.glob("year=*/month=*/*.parquet"))
    if staged:
        counts = (
            pl.scan_parquet(staged, hive_partitioning=True)
            .group_by("year", "month", "trust_code")
            .len()
            .sort("year", "month", "trust_code")
            .collect()
        )
        for year, month, trust, n in counts.iter_rows():
            partitions.setdefault(month_key(year, month), {})[trust] = n
    return Manifest(version=0, partitions=dict(sorted(partitions.items())))


def load_files(
    paths: Sequence[Path],
    settings: Settings,
    hierarchy: OrgHierarchy | None = None,
    progress: ProgressCallback | None = None,
    now: dt.datetime | None = None,
    *,
    scope: Collection[str] | None = None,
    actor: str = "cli",
    mode: str = "resubmit",
    dry_run: bool = False,
    allow_shrink: bool = False,
    expect_version: int | None = None,
    input_format: str = "csv",
    one_load: bool = False,
) -> BatchResult:
    """Load files or directories of birth records as one batch. See the module docstring.

    ``scope``: the organisation codes the person loading may write (an upload: their
    organisation and everything under it); a row of any other trust refuses the whole batch
    with :class:`OutsideScope`. None for the national command line: any trust. ``actor``
    names who is loading, for the audit log. ``mode``: ``resubmit`` (each file is the full
    resubmission of its trust-months) or ``upsert`` (add or correct records). ``dry_run``:
    work out the plan and change nothing. ``allow_shrink``: accept a resubmission that leaves
    a trust-month with fewer than half its rows. ``expect_version``: refuse with
    :class:`PlanChanged` unless the store is still at the version the plan was made on.
    ``input_format``: the name of an entry of :data:`INPUT_FORMATS` — ``csv`` (birth-record
    CSV or Parquet files, the default), ``msds`` (MSDS v2.0 tables, :mod:`matneo.msds`) or
    ``fhir`` (FHIR Bundles, :mod:`matneo.fhir.inbound`). ``one_load``: load all the files found
    as one input (:func:`together`: one plan, one store version, one ledger row, one revert), as
    the Data page loads an upload of several files; otherwise each file is its own load.
    """
    loader = Loader(settings, hierarchy, progress, now, scope, actor, mode, input_format)
    return loader.run(
        paths, dry_run=dry_run, allow_shrink=allow_shrink, expect_version=expect_version, one_load=one_load
    )


def record_failure(settings: Settings, path: Path, problem: str, actor: str | None = None) -> None:
    """Put an unreadable file in the ledger as failed, so the Data page can show why.

    With an ``actor`` (an upload through the web), the ledger row names them and the
    ``records.upload_failed`` audit event is written in the same transaction as the row
    (:func:`matneo.db.ledger.record_batch`): a failure is never in the ledger unaudited, nor
    audited without its row.
    """
    check_schema(settings.database_url)
    sha256 = ""
    size = 0
    if path.is_file():
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            while chunk := handle.read(READ_CHUNK):
                digest.update(chunk)
        sha256, size = digest.hexdigest(), path.stat().st_size
    stamp = ledger.batch_time(utcnow())
    ledger.record_batch(
        settings.database_url,
        {
            "batch_id": "failed-" + uuid.uuid4().hex[:8],
            "started_at": stamp,
            "finished_at": stamp,
            "files": [
                {
                    "file_name": str(path),
                    "sha256": sha256,
                    "format": _suffix_format(path),
                    "bytes": size,
                    "status": "failed",
                    "error": problem,
                    "rows_read": 0,
                    "rows_loaded": 0,
                    "rows_rejected": 0,
                    "actor": actor,
                }
            ],
        },
        None,
    )


def _suffix_format(path: Path) -> str:
    """A failed file's format as the ledger keeps it: its name's ending, if that is a plain one
    (a load of several files is named "a.csv and 2 other files", whose "suffix" is not)."""
    suffix = path.suffix.lstrip(".").lower()
    return suffix if suffix.isalnum() and len(suffix) <= 16 else "unknown"


def rejection_report_csv(path: Path) -> str:
    """A stored rejection report as it is downloaded: the file's name only, formulas neutralised.

    New reports are written this way; this also makes safe the reports written before, which
    named the file by its full server path and kept uploaded values as they were.
    """
    report = pl.read_csv(path, infer_schema=False)
    fixes = []
    if "source_file" in report.columns:
        fixes.append(pl.col("source_file").str.replace(r"^.*[/\\]", ""))
    if "row" in report.columns:
        fixes.append(pl.col("row").cast(pl.Int64, strict=False))
    return frame_csv(report.with_columns(fixes))
