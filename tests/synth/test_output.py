"""Files on disk: byte-for-byte reproducibility, formats, and the write_dataset contract."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from matneo.records.schema import ARROW_SCHEMA, FIELD_NAMES
from matneo.synth import Struggling, generate_year, write_dataset

from .checks import AS_OF

SMALL = 0.02


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_same_arguments_give_byte_identical_files(hierarchy, tmp_path: Path, fmt: str) -> None:
    kwargs = dict(
        scale=SMALL,
        seed=3,
        fmt=fmt,
        hierarchy=hierarchy,
        as_of=AS_OF,
        struggling=[Struggling(hierarchy.trusts()[1].code, dt.date(2019, 3, 1), 2.0)],
    )
    first = write_dataset(tmp_path / "a", [2019, 2020], **kwargs)
    second = write_dataset(tmp_path / "b", [2019, 2020], **kwargs)
    alone = write_dataset(tmp_path / "c", [2020], **kwargs)
    assert [p.name for p in first] == [f"births_2019.{fmt}", f"births_2020.{fmt}"]
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes()
    assert alone[0].read_bytes() == first[1].read_bytes(), "a year generated alone is the same file"


def test_different_seeds_differ(hierarchy) -> None:
    a = generate_year(2019, scale=SMALL, seed=1, hierarchy=hierarchy, as_of=AS_OF)
    b = generate_year(2019, scale=SMALL, seed=2, hierarchy=hierarchy, as_of=AS_OF)
    assert not a.equals(b)
    assert set(a.column("mother_id").to_pylist()).isdisjoint(b.column("mother_id").to_pylist())


def test_parquet_round_trips_with_the_record_schema(hierarchy, tmp_path: Path) -> None:
    (path,) = write_dataset(tmp_path, [2019], scale=SMALL, hierarchy=hierarchy, as_of=AS_OF)
    table = pq.read_table(path)
    assert table.column_names == list(FIELD_NAMES)
    # Parquet stores timestamp[s] as milliseconds; casting back is exact.
    assert table.cast(ARROW_SCHEMA).equals(generate_year(2019, scale=SMALL, hierarchy=hierarchy, as_of=AS_OF))


def test_csv_format(hierarchy, tmp_path: Path) -> None:
    (path,) = write_dataset(tmp_path, [2019], scale=SMALL, fmt="csv", hierarchy=hierarchy, as_of=AS_OF)
    text = path.read_bytes().decode("utf-8")
    lines = text.splitlines()
    assert lines[0] == ",".join(FIELD_NAMES)
    columns = {name: i for i, name in enumerate(FIELD_NAMES)}
    rows = [line.split(",") for line in lines[1:]]
    assert all(len(r) == len(FIELD_NAMES) for r in rows)
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", r[columns["birth_datetime"]]) for r in rows)
    assert {r[columns["continuity_of_carer"]] for r in rows} == {"true", "false"}
    assert {r[columns["stillbirth_timing"]] for r in rows} >= {""}, "nulls are empty fields"
    options = pacsv.ConvertOptions(
        column_types=ARROW_SCHEMA, strings_can_be_null=True, true_values=["true"], false_values=["false"]
    )
    read = pacsv.read_csv(path, convert_options=options)
    assert read.cast(ARROW_SCHEMA).equals(generate_year(2019, scale=SMALL, hierarchy=hierarchy, as_of=AS_OF))


def test_write_dataset_contract(hierarchy, tmp_path: Path) -> None:
    seen: list[int] = []
    paths = write_dataset(
        tmp_path / "out", [2018, 2019], scale=0.005, hierarchy=hierarchy, progress=seen.append, as_of=AS_OF
    )
    assert seen == [2018, 2019]
    assert paths == [tmp_path / "out" / "births_2018.parquet", tmp_path / "out" / "births_2019.parquet"]
    assert not list((tmp_path / "out").glob("*.partial"))
    with pytest.raises(ValueError, match="format"):
        write_dataset(tmp_path, [2019], fmt="xlsx", hierarchy=hierarchy)
    with pytest.raises(ValueError, match="1999"):
        write_dataset(tmp_path, [1999], hierarchy=hierarchy)
    with pytest.raises(ValueError, match="2026"):
        write_dataset(tmp_path / "none", [2025, 2026], scale=0.005, hierarchy=hierarchy, as_of=AS_OF)
    assert not (tmp_path / "none").exists(), "checked before anything is written"


def test_years_out_of_range_and_bad_scale_are_refused(hierarchy) -> None:
    with pytest.raises(ValueError, match="before 2000"):
        generate_year(1999, hierarchy=hierarchy)
    with pytest.raises(ValueError, match="future"):
        generate_year(2030, hierarchy=hierarchy, as_of=AS_OF)
    with pytest.raises(ValueError, match="scale"):
        generate_year(2019, scale=0, hierarchy=hierarchy)


def test_default_hierarchy_is_the_reference_one() -> None:
    table = generate_year(2019, scale=0.002, as_of=AS_OF)
    assert isinstance(table, pa.Table) and table.num_rows > 1000
