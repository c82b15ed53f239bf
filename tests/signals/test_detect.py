"""Detection end to end: a planted struggling trust is found; methods return well-formed signals."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from matneo.config import Settings
from matneo.measures.counts import load_cube
from matneo.records.load import load_files
from matneo.records.store import RecordStore
from matneo.signals.detect import SIGNAL_COLUMNS, SignalSettings, detect
from matneo.synth import Struggling, write_dataset

PLANTED = "R0A"


@pytest.fixture(scope="module")
def signals(tmp_path_factory: pytest.TempPathFactory) -> pl.DataFrame:
    tmp = tmp_path_factory.mktemp("signals")
    files = write_dataset(
        tmp / "data", [2018, 2019], scale=0.5, seed=11, struggling=[Struggling(PLANTED, dt.date(2019, 1, 1), 3.0)]
    )
    settings = Settings(home=tmp / "home", database_url=f"sqlite:///{tmp / 'home' / 'matneo.db'}")
    load_files(files, settings)
    store = RecordStore(settings.records_dir)
    return detect(store.partition_files(), load_cube(store, None), SignalSettings())


@pytest.mark.slow
def test_a_tripled_risk_is_found_after_it_starts(signals: pl.DataFrame) -> None:
    planted = signals.filter((pl.col("trust_code") == PLANTED) & (pl.col("measure") == "stillbirth_rate"))
    found = set(planted.filter(pl.col("signal_date") >= dt.date(2019, 1, 1)).get_column("method"))
    assert {"funnel", "cusum"} <= found


@pytest.mark.slow
def test_signals_are_well_formed(signals: pl.DataFrame) -> None:
    assert signals.schema == pl.Schema(SIGNAL_COLUMNS)
    assert set(signals.get_column("method")) <= {"funnel", "spc", "cusum"}
    assert signals.get_column("summary").str.len_chars().min() > 10


def test_no_data_no_signals(tmp_path: Path) -> None:
    assert detect([], pl.DataFrame()).is_empty()
