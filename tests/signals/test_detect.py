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
from matneo.signals.casemix import expected_risk, expected_risks
from matneo.signals.detect import (
    COMPOSITES,
    CUSUM_FALSE_ALARMS_PER_100_TRUST_YEARS,
    LEADING_INDICATORS,
    SIGNAL_COLUMNS,
    SIGNAL_MEASURES,
    SignalSettings,
    _excursions,
    cusum_meaning,
    detect,
    funnel_signals,
    stream_risks,
    stream_title,
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
    assert set(signals.get_column("method")) <= {"funnel", "spc", "cusum", "leading_cusum"}
    # composites and leading indicators are streams of their own
    assert set(signals.get_column("measure")) <= {*SIGNAL_MEASURES, *COMPOSITES, *LEADING_INDICATORS}
    leading = signals.filter(pl.col("method") == "leading_cusum")
    assert set(leading.get_column("measure")) <= set(LEADING_INDICATORS)
    assert signals.get_column("summary").str.len_chars().min() > 10


def test_no_data_no_signals(tmp_path: Path) -> None:
    assert detect([], pl.DataFrame()).is_empty()


@pytest.mark.slow
def test_summaries_state_the_configured_limit_and_threshold(signals: pl.DataFrame, store: RecordStore) -> None:
    by_method = {m: rows.get_column("summary").to_list() for (m,), rows in signals.group_by(["method"])}
    assert all(text.endswith("above the upper 99.8% limit") for text in by_method["funnel"])
    # With the benchmark's operating characteristics stored the summary says them in words for
    # the trust's size; without, the measured rate of the threshold sweep.
    assert all(
        text.startswith("CUSUM ")
        and (
            ", threshold 7: about 0.5 false alarms per 100 trust-years; observed " in text
            or ("At this threshold, " in text and "a doubling is usually (4 times in 5) found within" in text)
        )
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


def test_every_default_threshold_has_simulated_operating_characteristics() -> None:
    """The words next to each register signal are simulated for exactly the default thresholds."""
    from matneo.signals.detect import cusum_streams
    from matneo.signals.operating import operating_characteristics

    streams = operating_characteristics()["streams"]
    for method, stream, _, threshold in cusum_streams(SignalSettings()):
        assert f"{threshold:g}" in streams[f"{method}:{stream}"]["thresholds"], (method, stream, threshold)


def test_a_cusum_signals_evidence_is_the_rise_that_crossed_the_threshold() -> None:
    """From the baby after the chart last stood at 0 (or restarted) to the baby that crossed h."""
    path = np.array([0.5, 0.0, 1.0, 3.0, 7.5, 0.0, 2.0, 7.1, 1.0, 7.3])
    assert _excursions(path, np.array([4, 7, 9])) == [(2, 4), (6, 7), (8, 9)]
    assert _excursions(np.array([2.0, 4.0, 8.0]), np.array([2])) == [(0, 2)]


@pytest.mark.slow
def test_one_scan_risks_equal_each_measures_own(store: RecordStore) -> None:
    files = store.partition_files()
    together = expected_risks(files, ["stillbirth_rate", "brain_injury_rate"])
    for measure in ("stillbirth_rate", "brain_injury_rate"):
        alone = expected_risk(files, measure)
        mine = together.filter(pl.col(f"{measure}__obs").is_not_null())
        assert mine.height == alone.height
        key = ["trust_code", "birth_datetime", "observed"]
        left = mine.rename({f"{measure}__obs": "observed", f"{measure}__risk": "risk"}).select(*key, "risk")
        joined = (
            left.sort(*key, "risk")
            .with_row_index()
            .join(alone.sort(*key, "risk").with_row_index(), on="index", suffix="_alone")
        )
        assert (joined["trust_code"] == joined["trust_code_alone"]).all()
        assert np.allclose(joined["risk"].to_numpy(), joined["risk_alone"].to_numpy())


def test_composite_risk_by_hand() -> None:
    """1 − Π(1 − p_k) over the components whose denominator holds the baby; event = any event."""
    risks = pl.DataFrame(
        {
            "trust_code": ["A", "A", "A"],
            "birth_datetime": [dt.datetime(2020, 1, d) for d in (1, 2, 3)],
            # baby 1 live-born: in all three; baby 2 stillborn: only stillbirth; baby 3: in none
            "stillbirth_rate__obs": [0, 1, None],
            "stillbirth_rate__risk": [0.004, 0.004, None],
            "neonatal_mortality_24wk__obs": [1, None, None],
            "neonatal_mortality_24wk__risk": [0.002, None, None],
            "brain_injury_rate__obs": [0, None, None],
            "brain_injury_rate__risk": [0.003, None, None],
        },
        schema_overrides={c: pl.Int8 for c in ("stillbirth_rate__obs", "neonatal_mortality_24wk__obs",
                                               "brain_injury_rate__obs")},
    )  # fmt: skip
    out = stream_risks(risks, COMPOSITES["serious_harm"])
    # baby 1: 1 − 0.996·0.998·0.997 = 1 − 0.991026… = 0.008974; baby 2: 0.004; baby 3 left out
    assert out["risk"].to_list() == pytest.approx([1 - 0.996 * 0.998 * 0.997, 0.004])
    assert out["risk"][0] == pytest.approx(0.008974, abs=1e-6)
    assert out["observed"].to_list() == [1, 1]
    single = stream_risks(risks, ("stillbirth_rate",))
    assert single["risk"].to_list() == [0.004, 0.004]


def test_stream_titles() -> None:
    assert stream_title("serious_harm") == "Serious harm (stillbirth, neonatal death or brain injury)"
    assert stream_title("perinatal_mortality") == "Perinatal mortality (stillbirths and neonatal deaths)"
    assert stream_title("stillbirth_rate") == "Stillbirth rate"


def test_rare_spc_flags_a_month_at_its_exact_limit() -> None:
    """12 months of 100 births; 10 events in the last month only: mean rate 10/1,200, so each
    month expects 0.83. Binomial(100, 1/120): P(X ≥ 4) = 0.0100, P(X ≥ 5) = 0.0016 > 0.00135,
    P(X ≥ 6) = 0.0002: the limit is 6 and only the last month (10) reaches it."""
    from matneo.signals.detect import denominator_column_id, numerator_column_id, rare_spc_signals

    months = [dt.date(2020, m, 1) for m in range(1, 13)]
    cube = pl.DataFrame(
        {
            "trust_code": ["A"] * 12,
            "month_start": months,
            numerator_column_id("stillbirth_rate"): [0] * 11 + [10],
            denominator_column_id("stillbirth_rate"): [100] * 12,
        }
    )
    found = rare_spc_signals(cube, SignalSettings(measures=("stillbirth_rate",)))
    assert found["signal_date"].to_list() == [dt.date(2020, 12, 31)]
    assert "at or above the exact upper limit of 6" in found["summary"][0]
