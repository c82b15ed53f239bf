"""Detection end to end: a planted struggling trust is found; methods return well-formed signals."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from matneo.config import Settings
from matneo.db.session import upgrade
from matneo.measures.counts import load_cube
from matneo.records.load import load_files
from matneo.records.store import RecordStore
from matneo.reference.organisations import load_hierarchy
from matneo.signals.detect import (
    CUSUM_FALSE_ALARMS_PER_100_TRUST_YEARS,
    SIGNAL_COLUMNS,
    SignalSettings,
    _excursions,
    cusum_meaning,
    detect,
    funnel_signals,
)
from matneo.synth import Struggling, write_dataset

PLANTED = "R0A"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> RecordStore:
    tmp = tmp_path_factory.mktemp("signals")
    files = write_dataset(
        tmp / "data", [2018, 2019], scale=0.5, seed=11, struggling=[Struggling(PLANTED, dt.date(2019, 1, 1), 3.0)]
    )
    settings = Settings(home=tmp / "home", database_url=f"sqlite:///{tmp / 'home' / 'matneo.db'}")
    settings.ensure_dirs()
    upgrade(settings.database_url, load_hierarchy())
    load_files(files, settings)
    return RecordStore(settings.records_dir)


@pytest.fixture(scope="module")
def signals(store: RecordStore) -> pl.DataFrame:
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


@pytest.mark.slow
def test_summaries_state_the_configured_limit_and_threshold(signals: pl.DataFrame, store: RecordStore) -> None:
    by_method = {m: rows.get_column("summary").to_list() for (m,), rows in signals.group_by(["method"])}
    assert all(text.endswith("above the upper 99.8% limit") for text in by_method["funnel"])
    assert all(
        text.startswith("CUSUM ") and ", threshold 7: about 0.5 false alarms per 100 trust-years; observed " in text
        for text in by_method["cusum"]
    )
    wider = funnel_signals(store.partition_files(), SignalSettings(funnel_position="above_95"))
    assert all(text.endswith("above the upper 95% limit") for text in wider.get_column("summary"))
    # Above the 99.8% limit is above the 95% limit too: every 99.8% signal is among the 95% ones.
    key = ["trust_code", "measure", "signal_date"]
    assert (
        signals.filter(pl.col("method") == "funnel").select(key).join(wider.select(key), on=key, how="anti").is_empty()
    )
    assert wider.height > len(by_method["funnel"])


def test_cusum_threshold_reads_as_false_alarms() -> None:
    assert cusum_meaning(7.43, 2.0, 7.0) == "CUSUM 7.4, threshold 7: about 0.5 false alarms per 100 trust-years"
    assert cusum_meaning(5.0, 2.0, 5.0) == "CUSUM 5.0, threshold 5: about 7.3 false alarms per 100 trust-years"
    assert cusum_meaning(4.2, 2.0, 4.0) == "CUSUM 4.2, threshold 4: about 25 false alarms per 100 trust-years"
    assert cusum_meaning(6.6, 2.0, 6.5) == (
        "CUSUM 6.6, threshold 6.5: false-alarm rate not measured for this threshold (see benchmarks/bench_signals.py)"
    )


def test_false_alarm_rates_are_the_validation_benchmarks() -> None:
    """The constant is docs/performance.md's CUSUM threshold sweep (odds ratio 2), row for row."""
    text = (Path(__file__).parents[2] / "docs" / "performance.md").read_text(encoding="utf-8")
    table = text.split("#### CUSUM threshold sweep (odds ratio 2)")[1].split("\n\n")[1]
    measured = {
        (2.0, float(cells[0])): float(cells[3])
        for row in table.splitlines()[2:]
        for cells in [[c.strip() for c in row.strip("|").split("|")]]
    }
    assert measured == CUSUM_FALSE_ALARMS_PER_100_TRUST_YEARS
    assert measured[(2.0, SignalSettings().cusum_threshold)] == 0.47


def test_a_cusum_signals_evidence_is_the_rise_that_crossed_the_threshold() -> None:
    """From the baby after the chart last stood at 0 (or restarted) to the baby that crossed h."""
    path = np.array([0.5, 0.0, 1.0, 3.0, 7.5, 0.0, 2.0, 7.1, 1.0, 7.3])
    assert _excursions(path, np.array([4, 7, 9])) == [(2, 4), (6, 7), (8, 9)]
    assert _excursions(np.array([2.0, 4.0, 8.0]), np.array([2])) == [(0, 2)]
