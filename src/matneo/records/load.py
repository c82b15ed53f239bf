"""Loading birth-record files: validate every row, quarantine bad rows, replace atomically.

One call of :func:`load_files` is one *batch*. For each input file it:

1. checks the file can be read at all — CSV or Parquet, UTF-8, every required column —
   and stops the whole batch with one clear :class:`UnreadableInput` error if not
   (nothing is changed);
2. skips files whose SHA-256 is already in the ledger (idempotent re-loads);
3. streams the rows through the validation rules in DuckDB (see ``validation.py``),
   writing every broken rule of every bad row to a rejection report;
4. treats each file as the authoritative submission for every trust-month it contains:
   earlier rows for those trust-months are replaced (MSDS-style refresh), and an earlier
   copy of any record id it resubmits is removed wherever it was;
5. builds the next store version aside and swaps it in atomically, then writes the ledger.

Nothing here logs row contents: only counts, file names and rule ids.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import logging
import os
import shutil
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from matneo.config import Settings
from matneo.db import ledger
from matneo.db.session import migrate
from matneo.records.faults import fault_point
from matneo.records.schema import DERIVABLE_FIELDS, FIELD_NAMES, FIELDS
from matneo.records.store import Manifest, Partition, RecordStore
from matneo.records.validation import checked_rows_sql, cross_row_violations_sql, violations_sql
from matneo.reference.organisations import OrgHierarchy, load_hierarchy

log = logging.getLogger(__name__)

PARQUET_MAGIC = b"PAR1"
READ_CHUNK = 8 * 1024 * 1024
REQUIRED_COLUMNS = tuple(name for name in FIELD_NAMES if name not in DERIVABLE_FIELDS)
REJECTION_COLUMNS = ("source_file", "row", "field", "value", "reason", "rule")

ProgressCallback = Callable[[str, int, int], None]  # (stage, done, total)


class UnreadableInput(Exception):
    """A file that cannot be loaded at all. The batch stops and nothing changes."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


@dataclass
class InputFile:
    """A file that passed the pre-flight checks."""

    path: Path
    format: str  # csv | parquet
    sha256: str
    size: int
    columns: list[str]


@dataclass
class FileResult:
    """What happened to one input file."""

    path: Path
    status: str  # loaded | duplicate
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    rejection_file: Path | None = None
    trust_months: list[tuple[str, str, int, int]] = field(default_factory=list)  # trust, YYYY-MM, rows, replaced
    duplicate_of: int | None = None
    ignored_columns: list[str] = field(default_factory=list)
    top_reasons: list[tuple[str, int]] = field(default_factory=list)


@dataclass
class BatchResult:
    """What a call of :func:`load_files` did."""

    batch_id: str
    files: list[FileResult]
    store_version: int | None
    ledger_ids: list[int] = field(default_factory=list)

    @property
    def rows_loaded(self) -> int:
        return sum(f.rows_loaded for f in self.files)

    @property
    def rows_rejected(self) -> int:
        return sum(f.rows_rejected for f in self.files)

    @property
    def rows_replaced(self) -> int:
        return sum(replaced for f in self.files for *_, replaced in f.trust_months)


# -- discovery and pre-flight -------------------------------------------------------------
def discover(paths: Sequence[Path]) -> list[Path]:
    """Expand directories into their CSV and Parquet files (sorted); keep named files as given."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in (".csv", ".parquet")))
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


def _hash_and_check_utf8(path: Path, is_csv: bool) -> str:
    """SHA-256 of the file; for CSV also proves the whole file is valid UTF-8 in the same read."""
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(READ_CHUNK):
            digest.update(chunk)
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
    return [column.strip() for column in header]


def inspect(path: Path) -> InputFile:
    """Pre-flight checks: readable, CSV or Parquet, UTF-8, all required columns present."""
    if not path.exists():
        raise UnreadableInput(path, "does not exist")
    if not path.is_file():
        raise UnreadableInput(path, "is not a file")
    with open(path, "rb") as handle:
        head = handle.read(4)
    file_format = _detect_format(path, head)
    sha256 = _hash_and_check_utf8(path, is_csv=file_format == "csv")
    if file_format == "csv":
        columns = _csv_header(path)
    else:
        try:
            columns = list(pq.ParquetFile(path).schema_arrow.names)
        except (pa.ArrowException, OSError) as error:
            raise UnreadableInput(path, f"cannot be read as Parquet: {error}") from None
    duplicated = sorted({c for c in columns if columns.count(c) > 1})
    if duplicated:
        raise UnreadableInput(path, f"has duplicated column names: {', '.join(duplicated)}")
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise UnreadableInput(path, f"is missing required columns: {', '.join(missing)}")
    return InputFile(path=path, format=file_format, sha256=sha256, size=path.stat().st_size, columns=columns)


# -- streaming rows into DuckDB -------------------------------------------------------------
_TEXT_SCHEMA = pa.schema(
    [pa.field("_file", pa.int32()), pa.field("_row", pa.int64())] + [pa.field(n, pa.string()) for n in FIELD_NAMES]
)


def _text_batches(index: int, item: InputFile, on_rows: Callable[[int], None]) -> Iterator[pa.RecordBatch]:
    """Batches of the file as text, with the source file index and spreadsheet row number.

    Rows are numbered as a spreadsheet shows them: for CSV the header is row 1, so the
    first record is row 2; for Parquet the first record is row 1.
    """
    present = [n for n in FIELD_NAMES if n in item.columns]
    if item.format == "csv":
        reader = pacsv.open_csv(
            item.path,
            read_options=pacsv.ReadOptions(block_size=16 * 1024 * 1024, encoding="utf8"),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in item.columns},
                include_columns=present,
                null_values=[""],
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
        )
        batches: Iterator[pa.RecordBatch] = iter(reader)
        first_row = 2
    else:
        batches = pq.ParquetFile(item.path).iter_batches(batch_size=256 * 1024, columns=present)
        first_row = 1
    row = first_row
    try:
        for batch in batches:
            n = batch.num_rows
            arrays = [pa.array(np.full(n, index, dtype=np.int32)), pa.array(np.arange(row, row + n, dtype=np.int64))]
            for name in FIELD_NAMES:
                if name in present:
                    column = batch.column(batch.schema.get_field_index(name))
                    arrays.append(column if column.type == pa.string() else column.cast(pa.string()))
                else:
                    arrays.append(pa.nulls(n, pa.string()))
            row += n
            on_rows(n)
            yield pa.RecordBatch.from_arrays(arrays, schema=_TEXT_SCHEMA)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as error:
        raise UnreadableInput(item.path, f"cannot be read near row {row}: {error}") from None


def _literal_timestamp(moment: dt.datetime) -> str:
    return f"TIMESTAMP '{moment.strftime('%Y-%m-%d %H:%M:%S')}'"


def _register_reference(con: duckdb.DuckDBPyConnection, hierarchy: OrgHierarchy) -> None:
    lookup = hierarchy.trust_lookup().select(["trust_code", "lmns_code", "region_code"])
    sites = pa.table(
        {
            "site_code": [s.code for s in hierarchy.sites.values()],
            "trust_code": [s.trust_code for s in hierarchy.sites.values()],
        },
        schema=pa.schema([("site_code", pa.string()), ("trust_code", pa.string())]),
    )
    con.register("trust_ref", lookup)
    con.register("site_ref", sites)


# -- the batch ----------------------------------------------------------------------------
class Loader:
    """Runs one batch in its own staging directory; see the module docstring for the steps."""

    def __init__(
        self,
        settings: Settings,
        hierarchy: OrgHierarchy | None = None,
        progress: ProgressCallback | None = None,
        now: dt.datetime | None = None,
    ) -> None:
        self.settings = settings
        self.hierarchy = hierarchy or load_hierarchy()
        self.progress = progress or (lambda stage, done, total: None)
        self.now = now or dt.datetime.now()
        self.batch_id = self.now.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
        self.store = RecordStore(settings.records_dir)

    def run(self, paths: Sequence[Path]) -> BatchResult:
        self.settings.ensure_dirs()
        migrate(self.settings.database_url)
        files = discover(paths)
        if not files:
            raise UnreadableInput(Path(", ".join(str(p) for p in paths)), "contains no CSV or Parquet files")
        inputs = [inspect(path) for path in files]
        with self.store.write_lock():
            for leftover in self.settings.staging_dir.iterdir():  # a killed writer's work; we hold the lock
                shutil.rmtree(leftover, ignore_errors=True)
            ledger.reconcile(self.settings.database_url, self.store.manifest().batch, self.store.current_version() or 0)
            return self._run_locked(inputs)

    def _run_locked(self, inputs: list[InputFile]) -> BatchResult:
        results: dict[Path, FileResult] = {}
        fresh: list[InputFile] = []
        seen: dict[str, Path] = {}
        for item in inputs:
            earlier = ledger.find_loaded(self.settings.database_url, item.sha256)
            if earlier is not None or item.sha256 in seen:
                results[item.path] = FileResult(item.path, "duplicate", duplicate_of=earlier.id if earlier else None)
            else:
                seen[item.sha256] = item.path
                fresh.append(item)
        if not fresh:
            return BatchResult(self.batch_id, [results[i.path] for i in inputs], self.store.current_version())

        staging = self.settings.staging_dir / self.batch_id
        staging.mkdir(parents=True)
        try:
            version, batch = self._stage_and_commit(fresh, staging, results)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        fault_point("after_swap")
        ids = ledger.record_batch(self.settings.database_url, batch, version)
        return BatchResult(self.batch_id, [results[i.path] for i in inputs], version, ids)

    def _connect(self, staging: Path) -> duckdb.DuckDBPyConnection:
        con = duckdb.connect(str(staging / "work.duckdb"))
        con.execute(f"SET memory_limit = '{os.environ.get('MATNEO_LOAD_MEMORY_LIMIT', '1GB')}'")
        con.execute(f"SET temp_directory = '{staging / 'spill'}'")
        con.execute("SET preserve_insertion_order = false")
        _register_reference(con, self.hierarchy)
        return con

    def _stage_and_commit(
        self, fresh: list[InputFile], staging: Path, results: dict[Path, FileResult]
    ) -> tuple[int | None, dict[str, Any]]:
        con = self._connect(staging)
        total_bytes = sum(item.size for item in fresh)
        try:
            self._validate(con, fresh, total_bytes)
            fault_point("after_validation")
            self._write_rejections(con, fresh, staging, results)
            out = staging / "out"
            replaced, removed = self._stage_partitions(con, out)
            fault_point("after_staging")
            self._summarise(con, fresh, results, removed)
            has_change = con.execute("SELECT count(*) FROM good").fetchone()[0] > 0 or bool(removed)
            manifest = self._next_manifest(con, out, replaced) if has_change else None
        finally:
            con.close()
        for item in fresh:  # keep reports before the swap: an orphan report beats a lost one
            result = results[item.path]
            if result.rejection_file is not None:
                final = self.settings.rejections_dir / result.rejection_file.name
                os.replace(result.rejection_file, final)
                result.rejection_file = final
        batch = self._batch_record(fresh, results)
        if manifest is None:
            return self.store.current_version(), batch
        manifest.batch = batch
        return self.store.commit(out, replaced, manifest), batch

    def _validate(self, con: duckdb.DuckDBPyConnection, fresh: list[InputFile], total_bytes: int) -> None:
        done = {"rows": 0}

        def on_rows(n: int) -> None:
            done["rows"] += n
            self.progress("validating", done["rows"], 0)

        def all_batches() -> Iterator[pa.RecordBatch]:
            for index, item in enumerate(fresh):
                yield from _text_batches(index, item, on_rows)

        stream = pa.RecordBatchReader.from_batches(_TEXT_SCHEMA, all_batches())
        con.register("incoming", stream)
        load_time = _literal_timestamp(self.now)
        try:
            con.execute(f"CREATE TABLE checked AS {checked_rows_sql('incoming', load_time)}")
        except duckdb.Error as error:
            cause = error.__cause__ or error
            if isinstance(cause, UnreadableInput):
                raise cause from None
            raise
        finally:
            con.unregister("incoming")
        con.execute(
            f"CREATE TABLE violations AS {violations_sql('(SELECT * FROM checked WHERE _bad)', load_time)} "
            f"UNION ALL SELECT * FROM ({cross_row_violations_sql('checked')})"
        )
        columns = ", ".join(f'"{name}"' for name in FIELD_NAMES)
        con.execute(
            f"""CREATE TABLE good AS
                SELECT _file, {columns}, year, month FROM checked
                WHERE NOT _bad AND NOT EXISTS (
                    SELECT 1 FROM violations AS v WHERE v._file = checked._file AND v._row = checked._row)"""
        )

    def _write_rejections(
        self, con: duckdb.DuckDBPyConnection, fresh: list[InputFile], staging: Path, results: dict[Path, FileResult]
    ) -> None:
        counts = dict(con.execute("SELECT _file, count(*) FROM checked GROUP BY _file").fetchall())
        rejected = dict(con.execute("SELECT _file, count(DISTINCT _row) FROM violations GROUP BY _file").fetchall())
        stamp = self.now.strftime("%Y%m%dT%H%M%S")
        for index, item in enumerate(fresh):
            result = FileResult(item.path, "loaded", rows_read=counts.get(index, 0))
            result.rows_rejected = rejected.get(index, 0)
            result.ignored_columns = [c for c in item.columns if c not in FIELD_NAMES]
            results[item.path] = result
            if not result.rows_rejected:
                continue
            result.top_reasons = [
                (reason, n)
                for reason, n in con.execute(
                    "SELECT reason, count(*) AS n FROM violations WHERE _file = ? GROUP BY reason "
                    "ORDER BY n DESC, reason LIMIT 5",
                    [index],
                ).fetchall()
            ]
            target = staging / f"{stamp}-{self.batch_id[-8:]}-{item.path.stem}-rejections.csv"
            source_name = str(item.path).replace("'", "''")
            con.execute(
                f"""COPY (SELECT '{source_name}' AS source_file, _row AS row, field, value, reason, rule
                          FROM violations WHERE _file = {index} ORDER BY _row, rule)
                    TO '{target}' (FORMAT csv, HEADER true)"""
            )
            result.rejection_file = target

    def _stage_partitions(
        self, con: duckdb.DuckDBPyConnection, out: Path
    ) -> tuple[set[Partition], dict[tuple[str, str], int]]:
        """Write every partition the batch changes into ``out``; return them and rows removed.

        Removed rows are counted per (trust, YYYY-MM) of the row that goes: either its
        trust-month is resubmitted, or its record id is resubmitted elsewhere.
        """
        columns = ", ".join(f'CAST("{f.name}" AS {f.sql_type}) AS "{f.name}"' for f in FIELDS)
        con.execute("CREATE TABLE new_tm AS SELECT DISTINCT trust_code, year, month FROM good")
        live_files = self.store.partition_files()
        removed: dict[tuple[str, str], int] = {}
        kept_sql = ""
        replaced: set[Partition] = set()
        if live_files:
            con.execute(f"CREATE VIEW live AS {self.store.births_sql()}")
            con.execute("CREATE TABLE new_ids AS SELECT DISTINCT trust_code, record_id FROM good")
            gone = """
                EXISTS (SELECT 1 FROM new_tm AS n
                        WHERE n.trust_code = l.trust_code AND n.year = l.year AND n.month = l.month)
                OR EXISTS (SELECT 1 FROM new_ids AS i WHERE i.trust_code = l.trust_code AND i.record_id = l.record_id)
            """
            for trust, year, month, n in con.execute(
                f"SELECT trust_code, year, month, count(*) FROM live AS l WHERE {gone} GROUP BY ALL"
            ).fetchall():
                removed[(trust, f"{year:04d}-{month:02d}")] = n
                replaced.add((int(year), int(month)))
            replaced |= {(int(y), int(m)) for y, m in con.execute("SELECT DISTINCT year, month FROM new_tm").fetchall()}
            live_partitions = {
                (int(y), int(m)) for y, m in con.execute("SELECT DISTINCT year, month FROM live").fetchall()
            }
            replaced &= live_partitions
            if replaced:
                kept = self.store.births_sql(replaced)
                kept_sql = f"UNION ALL SELECT {columns}, year, month FROM ({kept}) AS l WHERE NOT ({gone})"
        con.execute(
            f"""COPY (SELECT {columns}, year, month FROM good {kept_sql})
                TO '{out}' (FORMAT parquet, PARTITION_BY (year, month), COMPRESSION zstd)"""
        )
        return replaced, removed

    def _summarise(
        self,
        con: duckdb.DuckDBPyConnection,
        fresh: list[InputFile],
        results: dict[Path, FileResult],
        removed: dict[tuple[str, str], int],
    ) -> None:
        rows = con.execute(
            "SELECT _file, trust_code, year, month, count(*) FROM good GROUP BY ALL ORDER BY ALL"
        ).fetchall()
        supplied: set[tuple[str, str]] = set()
        for index, trust, year, month, n in rows:
            key = (trust, f"{year:04d}-{month:02d}")
            replaced_here = 0 if key in supplied else removed.get(key, 0)
            supplied.add(key)
            result = results[fresh[index].path]
            result.trust_months.append((key[0], key[1], n, replaced_here))
            result.rows_loaded += n
        # Rows removed because their record id moved to another month belong to the first file.
        orphaned = [(t, m, 0, n) for (t, m), n in sorted(removed.items()) if (t, m) not in supplied]
        results[fresh[0].path].trust_months.extend(orphaned)

    def _batch_record(self, fresh: list[InputFile], results: dict[Path, FileResult]) -> dict[str, Any]:
        return {
            "batch_id": self.batch_id,
            "started_at": self.now.isoformat(timespec="seconds"),
            "finished_at": dt.datetime.now().isoformat(timespec="seconds"),
            "files": [
                {
                    "file_name": str(item.path),
                    "sha256": item.sha256,
                    "format": item.format,
                    "bytes": item.size,
                    "status": "loaded",
                    "rows_read": results[item.path].rows_read,
                    "rows_loaded": results[item.path].rows_loaded,
                    "rows_rejected": results[item.path].rows_rejected,
                    "rejection_file": str(results[item.path].rejection_file)
                    if results[item.path].rejection_file
                    else None,
                    "trust_months": [list(tm) for tm in results[item.path].trust_months],
                }
                for item in fresh
            ],
        }

    def _next_manifest(self, con: duckdb.DuckDBPyConnection, out: Path, replaced: set[Partition]) -> Manifest:
        manifest = self.store.manifest()
        partitions = {
            month: trusts
            for month, trusts in manifest.partitions.items()
            if (int(month[:4]), int(month[5:])) not in replaced
        }
        if any(out.glob("year=*/month=*/*.parquet")):
            for year, month, trust, n in con.execute(
                f"SELECT year, month, trust_code, count(*) FROM read_parquet('{out}/*/*/*.parquet', "
                "hive_partitioning = true) GROUP BY ALL ORDER BY ALL"
            ).fetchall():
                partitions.setdefault(f"{year:04d}-{month:02d}", {})[trust] = n
        return Manifest(version=0, partitions=dict(sorted(partitions.items())))


def load_files(
    paths: Sequence[Path],
    settings: Settings,
    hierarchy: OrgHierarchy | None = None,
    progress: ProgressCallback | None = None,
    now: dt.datetime | None = None,
) -> BatchResult:
    """Load files or directories of birth records as one batch. See the module docstring."""
    return Loader(settings, hierarchy, progress, now).run(paths)


def record_failure(settings: Settings, path: Path, problem: str) -> None:
    """Put an unreadable file in the ledger as failed, so the Data page can show why."""
    migrate(settings.database_url)
    sha256 = ""
    size = 0
    if path.is_file():
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            while chunk := handle.read(READ_CHUNK):
                digest.update(chunk)
        sha256, size = digest.hexdigest(), path.stat().st_size
    stamp = dt.datetime.now().isoformat(timespec="seconds")
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
                    "format": path.suffix.lstrip(".").lower() or "unknown",
                    "bytes": size,
                    "status": "failed",
                    "error": problem,
                    "rows_read": 0,
                    "rows_loaded": 0,
                    "rows_rejected": 0,
                }
            ],
        },
        None,
    )
