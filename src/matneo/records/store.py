"""The records store: immutable versions of year/month-partitioned Parquet, read with DuckDB.

Layout under ``$MATNEO_HOME/records``::

    CURRENT                         the live version's name, e.g. "v000003" (replaced atomically)
    versions/v000003/manifest.json  rows per trust per month, and the load batch that made it
    versions/v000003/year=2019/month=6/data_0.parquet
    undo/<batch>.parquet            per load, the rows it replaced: what a revert restores
    undo/<batch>.pruned.json        an undo file removed under the retention (see below)

Why versions: a load must never leave the store half-changed. A load writes only the
partitions it touches into staging, builds the next version beside the live one (untouched
partitions are hard links, so this costs nothing), and then swaps ``CURRENT`` with one
atomic ``os.replace``. A crash or kill at any point before the swap leaves the old version
live; leftovers are swept up by the next writer. Readers open whatever ``CURRENT`` names
and never see a partial load.

Undo retention: only the live version and the one before it are kept (:meth:`RecordStore._sweep`),
but every load also keeps an undo file so it can be reverted later, and those would otherwise grow
without end. After each load the undo files of the oldest loads still in place are removed, keeping
those of the last ``Settings.undo_keep_loads`` loads and of any load finished within
``Settings.undo_keep_days`` days (:func:`undo_to_prune`). A revert goes newest first (a later load
touching the same trust-months blocks it), so the kept loads are always the newest ones: every load
that can still be reverted keeps what each later revert before it needs. A removed file leaves a
small note beside it, so a revert of that load says plainly that it can no longer be undone.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from matneo.records.faults import fault_point
from matneo.records.schema import FIELDS

Partition = tuple[int, int]  # (year, month)


def undo_to_prune(
    loads: Sequence[tuple[str, dt.datetime | None]], keep_loads: int, keep_days: int, now: dt.datetime
) -> list[str]:
    """The batch ids, of ``loads`` (loads still in place, oldest first: (batch id, finished at)),
    whose undo files may go: all before the first load that the retention keeps.

    A load is kept when it is one of the last ``keep_loads``, or finished within ``keep_days`` of
    ``now`` (or has no finish time: kept, to be safe). Only a prefix is ever pruned, never a load
    between two kept ones, so whatever can still be reverted, newest first, keeps its undo file.
    """
    cutoff = now - dt.timedelta(days=keep_days)
    first_kept = max(0, len(loads) - max(keep_loads, 0))
    for index, (_, finished) in enumerate(loads[:first_kept]):
        if finished is None or finished >= cutoff:
            first_kept = index
            break
    return [batch for batch, _ in loads[:first_kept]]


def _partition_name(partition: Partition) -> str:
    return f"year={partition[0]}/month={partition[1]}"


def parse_partition(path: Path) -> Partition:
    """(year, month) of a ``year=Y/month=M`` directory."""
    return int(path.parent.name.split("=")[1]), int(path.name.split("=")[1])


def fsync_file(path: Path) -> None:
    """Flush a file's contents to disk: after a power cut it is whole, not empty or torn.

    ``rename`` and ``fsync`` of a directory make a name durable, not the bytes behind it; a
    file must be fsynced itself before a pointer that makes it live is swapped in.
    """
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass
class Manifest:
    """What a version holds: rows per trust per month, and the load batch that produced it."""

    version: int
    partitions: dict[str, dict[str, int]] = field(default_factory=dict)  # "2019-06" -> {trust: rows}
    batch: dict[str, Any] | None = None

    @property
    def total_rows(self) -> int:
        return sum(sum(trusts.values()) for trusts in self.partitions.values())

    @property
    def trusts(self) -> list[str]:
        return sorted({trust for trusts in self.partitions.values() for trust in trusts})

    @property
    def months(self) -> list[str]:
        return sorted(self.partitions)

    def counts(self) -> dict[tuple[str, str], int]:
        """Rows per (trust, YYYY-MM)."""
        return {(trust, month): n for month, trusts in self.partitions.items() for trust, n in trusts.items()}

    def to_json(self) -> str:
        return json.dumps(
            {"version": self.version, "partitions": self.partitions, "batch": self.batch}, indent=1, sort_keys=True
        )

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        data = json.loads(text)
        return cls(version=data["version"], partitions=data["partitions"], batch=data.get("batch"))


def empty_births_sql() -> str:
    """A zero-row relation with the birth-record columns, for a store with nothing loaded."""
    columns = ", ".join(f'CAST(NULL AS {f.sql_type}) AS "{f.name}"' for f in FIELDS)
    return f"SELECT {columns}, CAST(NULL AS BIGINT) AS year, CAST(NULL AS BIGINT) AS month WHERE FALSE"


class RecordStore:
    """Read and (through :meth:`commit`) replace versions of the birth-record store."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.versions_dir = root / "versions"
        self.undo_dir = root / "undo"  # per load, the rows it replaced: what a revert restores

    # -- reading -------------------------------------------------------------------------
    def current_version(self) -> int | None:
        try:
            name = (self.root / "CURRENT").read_text().strip()
        except FileNotFoundError:
            return None
        return int(name.removeprefix("v"))

    def version_dir(self, version: int) -> Path:
        return self.versions_dir / f"v{version:06d}"

    def manifest(self) -> Manifest:
        version = self.current_version()
        if version is None:
            return Manifest(version=0)
        return Manifest.from_json((self.version_dir(version) / "manifest.json").read_text())

    def partition_files(self, partitions: set[Partition] | None = None, version: int | None = None) -> list[Path]:
        """Parquet files of the live version (or of ``version``: the live one or the one before it,
        which the store keeps), optionally only for some (year, month) partitions."""
        version = version if version is not None else self.current_version()
        if version is None:
            return []
        files = sorted(self.version_dir(version).glob("year=*/month=*/*.parquet"))
        if partitions is None:
            return files
        return [f for f in files if parse_partition(f.parent) in partitions]

    def births_sql(self, partitions: set[Partition] | None = None) -> str:
        """SQL for the live birth records (with ``year`` and ``month`` partition columns)."""
        files = self.partition_files(partitions)
        if not files:
            return empty_births_sql()
        listing = ", ".join("'" + str(f).replace("'", "''") + "'" for f in files)
        return f"SELECT * FROM read_parquet([{listing}], hive_partitioning = true)"

    def connect(self, threads: int | None = None) -> duckdb.DuckDBPyConnection:
        """An in-memory DuckDB connection with a ``births`` view over the live version."""
        con = duckdb.connect()
        if threads:
            con.execute(f"SET threads = {int(threads)}")
        con.execute(f"CREATE VIEW births AS {self.births_sql()}")
        return con

    def undo_file(self, batch_id: str) -> Path:
        return self.undo_dir / f"{batch_id}.parquet"

    def pruned_note(self, batch_id: str) -> dict[str, Any] | None:
        """What :meth:`prune_undo` noted when it removed this load's undo file; None if it did not."""
        try:
            found: dict[str, Any] = json.loads((self.undo_dir / f"{batch_id}.pruned.json").read_text())
        except FileNotFoundError:
            return None
        return found

    # -- writing -------------------------------------------------------------------------
    def apply_undo_retention(
        self, loads: Sequence[tuple[str, dt.datetime | None]], keep_loads: int, keep_days: int, now: dt.datetime
    ) -> list[str]:
        """Remove the undo files the retention no longer keeps (:func:`undo_to_prune`); their batch ids.

        ``loads``: the loads still in place, oldest first (:func:`matneo.db.ledger.loads_in_place`).
        Call while holding :meth:`write_lock`, after the ledger has the newest load.
        """
        doomed = undo_to_prune(loads, keep_loads, keep_days, now)
        note = {"pruned_at": now.strftime("%Y-%m-%d %H:%M"), "keep_loads": keep_loads, "keep_days": keep_days}
        return self.prune_undo(doomed, note)

    def prune_undo(self, batch_ids: Sequence[str], note: dict[str, Any]) -> list[str]:
        """Remove these loads' undo files, leaving ``note`` (when, under what retention) in their place.

        Returns the batch ids whose files were removed (a load that changed nothing has none).
        Call while holding :meth:`write_lock`; the note is written first, so a crash between the
        two leaves a note and the file, never a silent gap.
        """
        removed = []
        for batch_id in batch_ids:
            undo = self.undo_file(batch_id)
            if not undo.is_file():
                continue
            (self.undo_dir / f"{batch_id}.pruned.json").write_text(json.dumps(note, sort_keys=True))
            undo.unlink()
            removed.append(batch_id)
        return removed

    @contextmanager
    def write_lock(self) -> Iterator[None]:
        """One writer at a time per store; sweeps up what a killed writer left behind."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                self._sweep()
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _sweep(self) -> None:
        """Remove versions that are neither live nor the one before it, and unfinished builds."""
        if not self.versions_dir.exists():
            return
        live = self.current_version()
        keep = {self.version_dir(v).name for v in (live, (live or 0) - 1) if v}
        for entry in self.versions_dir.iterdir():
            if entry.name not in keep:
                shutil.rmtree(entry, ignore_errors=True)

    def commit(self, staged: Path, replaced: set[Partition], manifest: Manifest) -> int:
        """Make a new live version: the staged partitions plus every other live partition.

        ``staged`` holds ``year=Y/month=M`` directories written by the loader; ``replaced``
        lists the live partitions they supersede (a live partition listed in ``replaced``
        but absent from ``staged`` is dropped: all its rows were replaced). Call while
        holding :meth:`write_lock`. Returns the new version number.
        """
        previous = self.current_version()
        version = (previous or 0) + 1
        building = self.versions_dir / f".building-v{version:06d}"
        shutil.rmtree(building, ignore_errors=True)
        building.mkdir(parents=True)
        if previous is not None:
            for source in self.partition_files():
                partition = parse_partition(source.parent)
                if partition in replaced:
                    continue
                target = building / _partition_name(partition) / source.name
                target.parent.mkdir(parents=True, exist_ok=True)
                os.link(source, target)
        staged_months = []
        for month_dir in sorted(staged.glob("year=*/month=*")):
            staged_months.append(_partition_name(parse_partition(month_dir)))
            target = building / _partition_name(parse_partition(month_dir))
            if target.exists():
                raise RuntimeError(f"staged partition {target.name} is also kept from the live version")
            target.parent.mkdir(parents=True, exist_ok=True)
            os.rename(month_dir, target)
        manifest.version = version
        (building / "manifest.json").write_text(manifest.to_json())
        # The new Parquet files and the manifest reach the disk before the version can go live
        # (files linked from the live version were flushed when that version was made).
        for name in sorted(staged_months):
            for data_file in sorted((building / name).iterdir()):
                fsync_file(data_file)
        fsync_file(building / "manifest.json")
        for directory in [building, *building.glob("year=*/month=*"), *building.glob("year=*")]:
            _fsync_dir(directory)
        final = self.version_dir(version)
        os.rename(building, final)
        _fsync_dir(self.versions_dir)
        fault_point("before_swap")
        pointer = self.root / "CURRENT.tmp"
        with open(pointer, "w") as handle:
            handle.write(final.name + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(pointer, self.root / "CURRENT")
        _fsync_dir(self.root)
        return version
