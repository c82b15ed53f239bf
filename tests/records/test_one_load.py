"""Several files as one load (``load_files(..., one_load=True)``, the Data page's upload of several files).

Trusts send a month as several files (FHIR Bundles, CSV or Parquet files). Loaded file by file,
each file would be a load and a store version of its own, and in a full resubmission each file
would replace the trust-months the one before it supplied. As one load, the files are one
submission: one plan, one store version, one ledger row and one revert, with every file's rows.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import select

from matneo.config import Settings
from matneo.db.models import Load
from matneo.db.session import transaction
from matneo.records.load import UnreadableInput, files_label, load_files
from matneo.records.revert import revert_load
from matneo.records.schema import FIELD_NAMES
from matneo.records.store import RecordStore

DECEMBER = "2024-12-10 09:00:00"


def stored(settings: Settings) -> list[tuple]:
    sql = "SELECT trust_code, record_id, month FROM births ORDER BY 1, 2"
    return RecordStore(settings.records_dir).connect().execute(sql).fetchall()


def loads(settings: Settings) -> list[Load]:
    with transaction(settings.database_url) as session:
        return list(session.scalars(select(Load).order_by(Load.id)))


def december(make_row, prefix: str, n: int, **changes: str) -> list[dict[str, str]]:
    return [make_row(record_id=f"{prefix}{i}", birth_datetime=DECEMBER, **changes) for i in range(n)]


def parquet_of(path: Path, rows: list[dict[str, str]]) -> Path:
    pl.DataFrame({name: [row[name] for row in rows] for name in FIELD_NAMES}).write_parquet(path)
    return path


def test_a_month_in_several_files_is_one_load_with_every_files_records(
    settings: Settings, make_row, write_csv, tmp_path: Path
) -> None:
    load_files([write_csv(tmp_path / "earlier.csv", december(make_row, "OLD", 4))], settings)
    version = RecordStore(settings.records_dir).current_version()
    bad = make_row(record_id="BAD", gestation_weeks="61", birth_datetime=DECEMBER)
    files = [
        write_csv(tmp_path / "site-a.csv", [*december(make_row, "A", 3), bad]),
        parquet_of(tmp_path / "site-b.parquet", december(make_row, "B", 2)),
    ]
    plan = load_files(files, settings, dry_run=True, one_load=True)
    assert [f.path.name for f in plan.files] == ["site-a.csv, site-b.parquet"]
    assert [(c.existing_rows, c.new_rows, c.added, c.removed) for c in plan.changes()] == [(4, 5, 5, 4)]
    result = load_files(files, settings, one_load=True)
    assert len(result.ledger_ids) == 1 and result.store_version == (version or 0) + 1
    assert [r[1] for r in stored(settings)] == ["A0", "A1", "A2", "B0", "B1"]  # both files: one submission
    load = loads(settings)[-1]
    assert (load.file_name, load.file_format, load.rows_read, load.rows_loaded, load.rows_rejected) == (
        "site-a.csv, site-b.parquet",
        "csv+parquet",
        6,
        5,
        1,
    )
    report = Path(load.rejection_file or "").read_text()
    assert '"site-a.csv",5,"gestation_weeks","61"' in report  # the file and its own row
    again = load_files(list(reversed(files)), settings, one_load=True)  # the same files, in another order
    assert [f.status for f in again.files] == ["duplicate"] and again.ledger_ids == []
    revert_load(settings, load.id)
    assert [r[1] for r in stored(settings)] == ["OLD0", "OLD1", "OLD2", "OLD3"]


def test_file_by_file_each_resubmission_replaces_the_one_before(
    settings: Settings, make_row, write_csv, tmp_path: Path
) -> None:
    """The command line's batch (each file its own load) is not one submission: the contrast."""
    files = [
        write_csv(tmp_path / "a.csv", december(make_row, "A", 2)),
        write_csv(tmp_path / "b.csv", december(make_row, "B", 2)),
    ]
    result = load_files(files, settings, allow_shrink=True)
    assert len(result.ledger_ids) == 2
    assert [r[1] for r in stored(settings)] == ["B0", "B1"]


def test_a_record_in_two_files_is_rejected_in_both_as_in_one_file(
    settings: Settings, make_row, write_csv, tmp_path: Path
) -> None:
    twice = make_row(record_id="TWICE", birth_datetime=DECEMBER)
    files = [
        write_csv(tmp_path / "one.csv", [*december(make_row, "A", 2), twice]),
        write_csv(tmp_path / "two.csv", [twice, *december(make_row, "B", 1)]),
    ]
    result = load_files(files, settings, one_load=True)
    assert (result.rows_loaded, result.rows_rejected) == (3, 2)
    report = Path(loads(settings)[-1].rejection_file or "").read_text().splitlines()
    assert [line.split(",")[:2] for line in report if "TWICE" in line] == [['"one.csv"', "4"], ['"two.csv"', "2"]]


def test_a_file_given_twice_is_read_once(settings: Settings, make_row, write_csv, tmp_path: Path) -> None:
    rows = december(make_row, "A", 2)
    first = write_csv(tmp_path / "a.csv", rows)
    copy = write_csv(tmp_path / "copy-of-a.csv", rows)
    result = load_files(
        [first, copy, write_csv(tmp_path / "b.csv", december(make_row, "B", 1))], settings, one_load=True
    )
    assert (result.rows_loaded, result.rows_rejected) == (3, 0)
    assert "copy-of-a.csv is the same as a.csv, so it was read once." in result.files[0].notices


def test_a_file_without_records_refuses_the_load_by_its_name(
    settings: Settings, make_row, write_csv, tmp_path: Path
) -> None:
    files = [write_csv(tmp_path / "good.csv", december(make_row, "A", 2)), write_csv(tmp_path / "empty.csv", [])]
    with pytest.raises(UnreadableInput, match="has no records") as refused:
        load_files(files, settings, one_load=True)
    assert refused.value.path.name == "empty.csv"
    assert stored(settings) == [] and loads(settings) == []


def test_a_load_of_many_files_is_named_within_the_ledgers_limit() -> None:
    assert files_label(["a.csv"]) == "a.csv"
    assert files_label(["a.csv", "b.csv", "c.csv"]) == "a.csv, b.csv, c.csv"
    names = [f"bundle-{i:03d}.json" for i in range(200)]
    label = files_label(names)
    assert len(label) <= 240 and label.startswith("bundle-000.json, bundle-001.json")
    assert label.endswith(" and 187 other files")
    assert files_label(["x" * 300, "y.csv"]) == "2 files"
