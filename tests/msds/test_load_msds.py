"""Loading MSDS v2.0 tables (``matneo load --format msds``) through the real loader and store.

The store and the measures made from MSDS tables must be exactly those made from the
birth-record CSV of the same births; what cannot be joined or validated is reported in MSDS
terms (table file, row, data item). Runs against both app-store backends.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from matneo.config import Settings
from matneo.db.session import upgrade
from matneo.measures.compute import compute
from matneo.records.load import UnreadableInput, load_files
from matneo.records.store import RecordStore
from matneo.reference.organisations import load_hierarchy
from matneo.synth.output import write_dataset

YEAR = 2022
AS_OF = dt.date(2026, 1, 1)


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The same synthetic births written as birth-record CSV and as MSDS tables."""
    root = tmp_path_factory.mktemp("synthetic")
    (csv_file,) = write_dataset(root / "csv", [YEAR], scale=0.004, fmt="csv", as_of=AS_OF)
    (msds_dir,) = write_dataset(root / "msds", [YEAR], scale=0.004, fmt="msds", as_of=AS_OF)
    return csv_file, msds_dir


def stored(settings: Settings) -> pl.DataFrame:
    files = RecordStore(settings.records_dir).partition_files()
    return pl.read_parquet(files, hive_partitioning=True).sort("record_id")


def fresh(tmp_path: Path, name: str) -> Settings:
    home = tmp_path / name
    home.mkdir(parents=True)
    settings = Settings(home=home, database_url=f"sqlite:///{home / 'matneo.db'}")
    upgrade(settings.database_url, load_hierarchy())
    return settings


def copy_extract(source: Path, target: Path) -> Path:
    target.mkdir(parents=True)
    for path in source.iterdir():
        (target / path.name).write_bytes(path.read_bytes())
    return target


def rows_of(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def write_rows(path: Path, rows: list[dict[str, str]]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def test_msds_tables_give_exactly_the_store_and_measures_of_the_csv(
    settings: Settings, synthetic: tuple[Path, Path], tmp_path: Path
) -> None:
    csv_file, msds_dir = synthetic
    by_csv = fresh(tmp_path, "by-csv")
    from_csv = load_files([csv_file], by_csv)
    from_msds = load_files([msds_dir.parent], settings, input_format="msds")
    assert from_msds.rows_rejected == from_csv.rows_rejected == 0
    assert from_msds.rows_loaded == from_csv.rows_loaded > 1000
    assert stored(settings).equals(stored(by_csv))
    for level in ("trust", "england"):
        assert compute(level=level, settings=settings).equals(compute(level=level, settings=by_csv))
    again = load_files([msds_dir], settings, input_format="msds")
    assert [f.status for f in again.files] == ["duplicate"]  # the same extract again adds nothing


def test_errors_name_the_msds_table_row_and_data_item(
    sqlite_settings: Settings, synthetic: tuple[Path, Path], tmp_path: Path
) -> None:
    extract = copy_extract(synthetic[1], tmp_path / "extract")
    babies = rows_of(extract / "MSD401BabyDemographics.csv")
    babies[2]["GestationLengthBirth"] = "about forty weeks"
    babies[4]["DeliveryMethodCode"] = "Q"
    babies[6]["LabourDeliveryID"] = "NO-SUCH-DELIVERY"
    babies[8]["Person_ID_Baby"] = babies[9]["Person_ID_Baby"]
    write_rows(extract / "MSD401BabyDemographics.csv", babies)
    result = load_files([extract], sqlite_settings, input_format="msds")
    (item,) = result.files
    assert item.rows_read == len(babies)
    assert item.rows_rejected == 5
    assert item.rejection_file is not None
    report = {(r["row"], r["rule"]): r for r in rows_of(item.rejection_file)}
    gestation = report[("4", "gestation_weeks_type")]
    assert gestation["source_file"] == "MSD401BabyDemographics.csv"
    assert gestation["field"] == "MSD401BabyDemographics.GestationLengthBirth (gestation_weeks)"
    assert gestation["value"] == "about forty weeks"
    method = report[("6", "mode_of_delivery_code")]
    assert method["field"] == "MSD401BabyDemographics.DeliveryMethodCode (mode_of_delivery)"
    assert method["value"] == "Q"  # the MSDS code as submitted
    unjoined = report[("8", "msds_no_labour_delivery")]
    assert "no labour and delivery record (MSD301)" in unjoined["reason"]
    assert {report[(row, "msds_duplicate_baby")]["source_file"] for row in ("10", "11")} == {
        "MSD401BabyDemographics.csv"
    }


def test_the_most_recent_submission_for_a_period_wins(
    sqlite_settings: Settings, synthetic: tuple[Path, Path], tmp_path: Path
) -> None:
    extract = copy_extract(synthetic[1], tmp_path / "extract")
    babies = rows_of(extract / "MSD401BabyDemographics.csv")
    first = babies[0]
    same = [b for b in babies if b["UniqSubmissionID"] == first["UniqSubmissionID"]]
    newer = str(max(int(b["UniqSubmissionID"]) for b in babies) + 1)
    resubmitted = [{**b, "UniqSubmissionID": newer} for b in same]
    resubmitted[0]["PersonPhenSex"] = "2" if first["PersonPhenSex"] != "2" else "1"
    write_rows(extract / "MSD401BabyDemographics.csv", babies + resubmitted)
    for table in ("MSD001MotherDemog", "MSD101PregnancyBooking", "MSD301LabourDelivery", "MSD302CareActivityLabDel"):
        rows = rows_of(extract / f"{table}.csv")
        extra = [{**r, "UniqSubmissionID": newer} for r in rows if r["UniqSubmissionID"] == first["UniqSubmissionID"]]
        write_rows(extract / f"{table}.csv", rows + extra)
    for table in ("MSD402NeonatalAdmission", "MSD405CareActivityBaby"):
        rows = rows_of(extract / f"{table}.csv")
        extra = [{**r, "UniqSubmissionID": newer} for r in rows if r["UniqSubmissionID"] == first["UniqSubmissionID"]]
        write_rows(extract / f"{table}.csv", rows + extra)
    result = load_files([extract], sqlite_settings, input_format="msds")
    (item,) = result.files
    assert item.rows_rejected == 0
    assert item.rows_loaded == len(babies)
    assert any("earlier submissions" in notice for notice in item.notices)
    sex = stored(sqlite_settings).filter(pl.col("record_id") == first["Person_ID_Baby"]).get_column("sex").item()
    assert sex == ("female" if resubmitted[0]["PersonPhenSex"] == "2" else "male")


def test_an_extract_without_its_baby_table_changes_nothing(
    sqlite_settings: Settings, synthetic: tuple[Path, Path], tmp_path: Path
) -> None:
    extract = copy_extract(synthetic[1], tmp_path / "extract")
    (extract / "MSD401BabyDemographics.csv").unlink()
    with pytest.raises(UnreadableInput, match="has no MSD401BabyDemographics table"):
        load_files([extract / "MSD301LabourDelivery.csv"], sqlite_settings, input_format="msds")
    assert RecordStore(sqlite_settings.records_dir).current_version() is None


def test_a_pipe_delimited_extract_without_optional_tables_loads(
    sqlite_settings: Settings, synthetic: tuple[Path, Path], tmp_path: Path
) -> None:
    extract = tmp_path / "pipes"
    extract.mkdir()
    for name in ("MSD401BabyDemographics", "MSD301LabourDelivery"):
        rows = rows_of(synthetic[1] / f"{name}.csv")
        with open(extract / f"{name.lower()[:6]}_2022.txt", "w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]), delimiter="|")
            writer.writeheader()
            writer.writerows(rows)
    result = load_files([extract], sqlite_settings, input_format="msds")
    (item,) = result.files
    assert item.rows_loaded + item.rows_rejected == item.rows_read > 1000
    records = stored(sqlite_settings)
    assert records.get_column("ethnic_category").null_count() == len(records)  # MSD001 absent: empty, not refused
    assert any(n.startswith("there is no MSD001MotherDemog table: maternal_age, ethnic_category") for n in item.notices)


def test_msds_reference_doc_is_current() -> None:
    from matneo.msds.reference_doc import render

    committed = (Path(__file__).resolve().parents[2] / "docs" / "msds.md").read_text(encoding="utf-8")
    assert committed == render(), "regenerate: python -m matneo.msds.reference_doc > docs/msds.md"


def test_every_unconfirmed_mapping_entry_says_so_in_the_doc() -> None:
    from matneo.msds.mapping import load_mapping
    from matneo.msds.reference_doc import render

    mapping = load_mapping()
    text = render()
    for name, fm in mapping.fields.items():
        (line,) = [row for row in text.splitlines() if row.startswith(f"| `{name}` |")]
        assert ("needs local confirmation" in line) is (not fm.confirmed), name
    assert all(source.url for source in mapping.sources.values())


def test_an_extract_whose_babies_all_lack_a_labour_record_rejects_them_all(
    sqlite_settings: Settings, synthetic: tuple[Path, Path], tmp_path: Path
) -> None:
    extract = copy_extract(synthetic[1], tmp_path / "extract")
    labour = rows_of(extract / "MSD301LabourDelivery.csv")
    write_rows(extract / "MSD301LabourDelivery.csv", [{**labour[0], "LabourDeliveryID": "ELSEWHERE"}])
    named = [extract / "MSD401BabyDemographics.csv", extract / "MSD301LabourDelivery.csv"]
    result = load_files(named, sqlite_settings, input_format="msds")
    (item,) = result.files  # the two files named stand for their one extract
    assert item.rows_loaded == 0
    assert item.rows_rejected == item.rows_read > 1000
    assert item.top_reasons[0][0].startswith("the baby has no labour and delivery record (MSD301)")


def test_a_care_activity_recorded_twice_counts_its_last_row(
    sqlite_settings: Settings, synthetic: tuple[Path, Path], tmp_path: Path
) -> None:
    extract = copy_extract(synthetic[1], tmp_path / "extract")
    activities = rows_of(extract / "MSD405CareActivityBaby.csv")
    weighed = next(r for r in activities if r["ObsCode"] == "27113001")
    write_rows(extract / "MSD405CareActivityBaby.csv", [*activities, {**weighed, "ObsValue": "2.5", "UCUMUnit": "kg"}])
    result = load_files([extract], sqlite_settings, input_format="msds")
    assert result.rows_rejected == 0
    records = stored(sqlite_settings).filter(pl.col("record_id") == weighed["Person_ID_Baby"])
    assert records.get_column("birth_weight_g").item() == 2500


def test_untidy_cells_load_as_their_tidy_values(
    sqlite_settings: Settings, synthetic: tuple[Path, Path], tmp_path: Path
) -> None:
    """Spaces around keys and codes, and empty quoted values, are tidied before the joins.

    Files without a space, tab or ``""`` skip the tidying pass; this one has them, so it must
    still load every baby, joined, with the codes mapped as in the tidy extract.
    """
    tidy = tmp_path / "tidy-home"
    tidy.mkdir()
    clean = Settings(home=tidy, database_url=f"sqlite:///{tidy / 'matneo.db'}")
    upgrade(clean.database_url, load_hierarchy())
    load_files([synthetic[1]], clean, input_format="msds")
    extract = copy_extract(synthetic[1], tmp_path / "extract")
    labour = rows_of(extract / "MSD301LabourDelivery.csv")
    labour[0]["LabourDeliveryID"] = f" {labour[0]['LabourDeliveryID']} "
    labour[0]["LabourOnsetMethod"] = f"{labour[0]['LabourOnsetMethod']}\t"
    write_rows(extract / "MSD301LabourDelivery.csv", labour)
    babies_file = extract / "MSD401BabyDemographics.csv"
    babies = rows_of(babies_file)
    babies[0]["DeliveryMethodCode"] = f" {babies[0]['DeliveryMethodCode']}"
    babies[1]["PersonDeathDateBaby"] = ""
    text = babies_file.read_text(encoding="utf-8")
    write_rows(babies_file, babies)
    with open(babies_file, "w", encoding="utf-8", newline="") as handle:  # every cell quoted: "" is an empty value
        writer = csv.DictWriter(handle, fieldnames=list(babies[0]), quoting=csv.QUOTE_ALL)
        writer.writeheader()
        writer.writerows(babies)
    assert '""' in babies_file.read_text(encoding="utf-8") and '""' not in text
    result = load_files([extract], sqlite_settings, input_format="msds")
    assert result.rows_rejected == 0
    assert stored(sqlite_settings).equals(stored(clean))


def test_hash_keyed_join_gives_the_exact_join() -> None:
    """Missing keys match nothing; a repeated key keeps its last row; the result is the text join's."""
    from matneo.msds.reader import _join_last

    left = pl.DataFrame({"s": ["1", "1", "2", None, "2"], "k": ["a", "b", "a", "a", None], "n": [1, 2, 3, 4, 5]})
    right = pl.DataFrame({"s": ["1", "2", "1", None], "k": ["a", "a", "b", "a"], "v": ["x", "y", "z", "w"]})
    expected = left.join(right, on=["s", "k"], how="left", maintain_order="left")
    assert _join_last(left, right, ["s", "k"]).equals(expected)
    repeated = pl.concat([right, pl.DataFrame({"s": ["1"], "k": ["a"], "v": ["later"]})])
    joined = _join_last(left, repeated, ["s", "k"])
    assert joined.get_column("v").to_list() == ["later", "z", "y", None, None]
