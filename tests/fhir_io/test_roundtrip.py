"""Synthetic births written as FHIR Bundles load into exactly the store the CSV of the same births gives."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from matneo.config import Settings
from matneo.db.session import upgrade
from matneo.measures.compute import compute
from matneo.records.load import load_files
from matneo.records.store import RecordStore
from matneo.reference.organisations import load_hierarchy
from matneo.synth import write_dataset

AS_OF = dt.date(2025, 1, 1)


def _instance(home: Path) -> Settings:
    home.mkdir(parents=True)
    settings = Settings(home=home, database_url=f"sqlite:///{home / 'matneo.db'}")
    upgrade(settings.database_url, load_hierarchy())
    return settings


def _store(settings: Settings) -> pl.DataFrame:
    files = RecordStore(settings.records_dir).partition_files()
    return pl.read_parquet(files, hive_partitioning=True).sort("trust_code", "record_id")


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Settings, dict]:
    root = tmp_path_factory.mktemp("roundtrip")
    kwargs = {"scale": 0.001, "seed": 11, "as_of": AS_OF, "struggling": ()}
    (csv,) = write_dataset(root / "csv", [2023], fmt="csv", **kwargs)
    (fhir,) = write_dataset(root / "fhir", [2023], fmt="fhir", **kwargs)
    from_csv, from_fhir = _instance(root / "a"), _instance(root / "b")
    load_files([csv], from_csv)
    result = load_files([fhir], from_fhir, input_format="fhir")
    return from_csv, from_fhir, {"rejected": result.rows_rejected, "files": len(result.files)}


def test_the_bundles_give_exactly_the_csv_store(loaded: tuple[Settings, Settings, dict]) -> None:
    from_csv, from_fhir, outcome = loaded
    assert outcome["rejected"] == 0 and outcome["files"] > 1  # one Bundle per trust
    expected, got = _store(from_csv), _store(from_fhir)
    assert got.height == expected.height > 100
    assert got.columns == expected.columns
    assert got.equals(expected)


def test_measure_results_are_the_same(loaded: tuple[Settings, Settings, dict]) -> None:
    from_csv, from_fhir, _ = loaded
    for level in ("trust", "england"):
        a = compute(level=level, period="year", settings=from_csv)
        b = compute(level=level, period="year", settings=from_fhir)
        assert a.height > 0
        assert b.sort(a.columns[:4]).equals(a.sort(a.columns[:4]))


def test_matneo_load_format_fhir(tmp_path: Path, sqlite_settings: Settings) -> None:
    import json

    from typer.testing import CliRunner

    from matneo.cli.main import app

    (folder,) = write_dataset(tmp_path / "fhir", [2023], fmt="fhir", scale=0.0005, seed=3, as_of=AS_OF)
    first = sorted(folder.glob("*.json"))[0]
    result = CliRunner().invoke(app, ["load", "--format", "fhir", "--format", "json", "--dry-run", str(first)])
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    assert plan["loaded_rows"] > 0 and plan["rejected_rows"] == 0
    result = CliRunner().invoke(app, ["load", "--format", "fhir", str(folder)])
    assert result.exit_code == 0, result.output
    assert (RecordStore(sqlite_settings.records_dir).current_version() or 0) >= len(list(folder.glob("*.json")))
