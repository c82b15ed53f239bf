"""The one-scan detection (``scan.py``) gives exactly what the per-measure implementation gave.

The reference below is the implementation ``detect`` used before the scan (the funnel from
``adjusted_ratios``, the CUSUM from ``expected_risks`` + ``stream_risks`` + ``run_cusum`` for
each trust), kept here as the oracle: same signals, same dates, same chart values, same words.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from matneo.config import Settings
from matneo.dates import day_text
from matneo.db.session import upgrade
from matneo.records.load import load_files
from matneo.records.parse import STORE_SCHEMA
from matneo.records.store import RecordStore
from matneo.reference.organisations import load_hierarchy
from matneo.signals.casemix import expected_risks
from matneo.signals.cusum import run_cusum
from matneo.signals.detect import (
    COMPOSITES,
    SignalSettings,
    _excursions,
    adjusted_ratios,
    cusum_meaning,
    cusum_signals,
    cusum_streams,
    detect,
    funnel_ratios,
    funnel_signals,
    risk_frame,
    stream_risks,
)
from matneo.signals.operating import operating_characteristics, operating_words
from matneo.signals.scan import scan_babies
from matneo.synth import Struggling, write_dataset

PLANTED = "R0A"


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    tmp = tmp_path_factory.mktemp("scan")
    paths = write_dataset(
        tmp / "data", [2018, 2019], scale=0.3, seed=5, struggling=[Struggling(PLANTED, dt.date(2019, 1, 1), 3.0)]
    )
    settings = Settings(home=tmp / "home", database_url=f"sqlite:///{tmp / 'home' / 'matneo.db'}")
    settings.ensure_dirs()
    upgrade(settings.database_url, load_hierarchy())
    load_files(paths, settings)
    return RecordStore(settings.records_dir).partition_files()


def reference_cusum(files: list[Path], settings: SignalSettings) -> list[dict[str, object]]:
    """The CUSUM pass as it was: per-measure risks in one frame, then run_cusum per trust and stream."""
    streams = cusum_streams(settings)
    risks = expected_risks(files, sorted({m for _, _, parts, _ in streams for m in parts}))
    operating = operating_characteristics()
    rows: list[dict[str, object]] = []
    for method, stream, components, threshold in streams:
        babies = stream_risks(risks, components)
        for (trust,), one in babies.group_by(["trust_code"], maintain_order=True):
            result = run_cusum(
                one["observed"].to_numpy().astype(float),
                one["risk"].to_numpy().astype(float),
                settings.cusum_odds_ratio,
                threshold=threshold,
            )
            when = one["birth_datetime"]
            span_days = max(1, (when[-1] - when[0]).days)
            births_per_year = one.height * 365.25 / span_days
            for start, end in _excursions(result.path, result.signals):
                value = float(result.path[end])
                words = operating_words(operating, method, stream, threshold, births_per_year)
                meaning = (
                    f"CUSUM {value:.1f}, threshold {threshold:g}"
                    if words
                    else cusum_meaning(value, settings.cusum_odds_ratio, threshold)
                )
                rows.append(
                    {
                        "trust_code": trust,
                        "measure": stream,
                        "method": method,
                        "signal_date": when[end].date(),
                        "summary": f"{meaning}; observed {int(result.outcomes[start : end + 1].sum())}, expected "
                        f"{float(result.risks[start : end + 1].sum()):.1f} after case-mix adjustment among babies "
                        f"born {day_text(when[start].date())} to {day_text(when[end].date())}"
                        + (f". {words}" if words else ""),
                        "statistic": value,
                    }
                )
    return rows


def _key(row: dict[str, object]) -> tuple[str, ...]:
    return (str(row["trust_code"]), str(row["measure"]), str(row["method"]), str(row["signal_date"]))


@pytest.mark.slow
@pytest.mark.parametrize("threshold", [3.0, 8.0])
def test_cusum_signals_are_the_reference_implementations(files: list[Path], threshold: float) -> None:
    """Every stream at h = 3 (many signals and restarts) and at the register's h = 8."""
    settings = dataclasses.replace(
        SignalSettings(),
        composites=tuple(COMPOSITES),
        cusum_threshold=threshold,
        composite_threshold=threshold,
        leading_threshold=threshold,
    )
    expected = sorted(reference_cusum(files, settings), key=_key)
    found = sorted(cusum_signals(files, settings).to_dicts(), key=_key)
    assert len(found) == len(expected) > 0
    drove = re.compile(r" \(\d+ stillbirths? \(\d+\.\d expected\)(, \d+ [a-z ]+ \(\d+\.\d expected\))+\)")
    for new, old in zip(found, expected, strict=True):
        assert _key(new) == _key(old)
        assert new["statistic"] == old["statistic"]  # the same float, not merely close
        summary = str(new["summary"])
        if new["measure"] in COMPOSITES:
            named = drove.search(summary)
            assert named is not None, summary
            summary = summary.replace(named.group(0), "")
        assert summary == old["summary"]
    if threshold == 3.0:  # restarts exercised: a trust and stream with several signals
        assert max(pl.DataFrame(found).group_by("trust_code", "measure", "method").len()["len"]) > 2


@pytest.mark.slow
def test_funnel_from_the_scan_is_indirect_standardisation(files: list[Path]) -> None:
    settings = SignalSettings()
    babies = risk_frame(files, settings)
    mine = funnel_ratios(babies, settings.measures).sort("measure", "trust_code", "year")
    theirs = adjusted_ratios(files, settings.measures).sort("measure", "trust_code", "year")
    assert mine.select("measure", "trust_code", "year", "observed").equals(
        theirs.select("measure", "trust_code", "year", "observed")
    )
    assert np.allclose(mine["expected"].to_numpy(), theirs["expected"].to_numpy(), rtol=1e-12, atol=0)
    for wide in ("above_998", "above_95"):
        chosen = dataclasses.replace(settings, funnel_position=wide)
        mine_signals = funnel_signals(files, chosen, funnel_ratios(babies, settings.measures))
        their_signals = funnel_signals(files, chosen)
        assert mine_signals.height > 0
        # the same trust-years, dates and words; the ratio to the last bits of a float
        assert mine_signals.drop("statistic").equals(their_signals.drop("statistic"))
        assert np.allclose(mine_signals["statistic"], their_signals["statistic"], rtol=1e-12, atol=0)


@pytest.mark.slow
def test_detect_finds_the_planted_trust_with_one_scan(files: list[Path]) -> None:
    found = detect(files, pl.DataFrame())
    planted = found.filter((pl.col("trust_code") == PLANTED) & (pl.col("signal_date") >= dt.date(2019, 1, 1)))
    assert {"funnel", "cusum"} <= set(planted["method"])


def test_composite_signals_name_their_components(tmp_path: Path) -> None:
    """Two trusts of 200 babies, one stillbirth each early on; at T1 seven events in a row (babies
    150–156: four stillbirths and three brain injuries) take the serious-harm chart over h = 4.5.

    By hand: every baby is in one stratum, so each one's stillbirth risk is England's 6/400 =
    0.015 and brain injury risk 3/394 among the live-born; neonatal deaths 0. Over the rise's
    seven babies: 7 × 0.015 = 0.105 stillbirths expected, 3 × 3/394 = 0.023 brain injuries.
    Each event adds about log 2 = 0.69, so the seventh takes the chart from about 4.1 to 4.8.
    """
    born = dt.datetime(2019, 6, 1, 8, 0)
    healthy = {
        "outcome": "live_birth",
        "gestation_weeks": 40,
        "gestation_days": 0,
        "birth_weight_g": 3400,
        "plurality": 1,
        "birth_order": 1,
        "maternal_age": 30,
        "ethnic_category": "A",
        "imd_decile": 5,
        "brain_injury": False,
    }
    records = []
    for n in range(400):
        record: dict[str, object] = dict.fromkeys(STORE_SCHEMA) | healthy
        record["trust_code"] = "T1" if n < 200 else "T2"
        record["record_id"], record["mother_id"] = f"R{n}", f"M{n}"
        record["birth_datetime"] = born + dt.timedelta(hours=n % 200)
        if n in (150, 152, 154, 156, 10, 210):
            record["outcome"] = "stillbirth"
        if n in (151, 153, 155):
            record["brain_injury"] = True
        records.append(record)
    path = tmp_path / "year=2019" / "month=6" / "data.parquet"
    path.parent.mkdir(parents=True)
    pl.DataFrame(records, schema=STORE_SCHEMA).write_parquet(path)
    settings = SignalSettings(methods=("cusum",), measures=(), composite_threshold=4.5)
    found = cusum_signals([path], settings)
    assert found["trust_code"].to_list() == ["T1"]
    assert found["summary"][0].endswith(
        "among babies born 7 Jun 2019 to 7 Jun 2019 (4 stillbirths (0.1 expected), 0 neonatal deaths "
        "(0.0 expected), 3 brain injuries (0.0 expected))"
    )
    assert "; observed 7, expected 0.1 after case-mix adjustment" in found["summary"][0]


def test_a_store_out_of_time_order_is_sorted(tmp_path: Path) -> None:
    """Babies written out of time order within a month come out in time order within each trust."""
    born = dt.datetime(2019, 6, 1, 8, 0)
    records = []
    for n, hours in enumerate([5, 1, 4, 2, 3, 0]):
        record: dict[str, object] = dict.fromkeys(STORE_SCHEMA)
        record |= {"trust_code": "T2" if n % 2 else "T1", "outcome": "live_birth", "gestation_weeks": 40}
        record |= {"gestation_days": 0, "plurality": 1, "birth_order": 1, "record_id": f"R{n}", "mother_id": f"M{n}"}
        record["birth_datetime"] = born + dt.timedelta(hours=hours)
        records.append(record)
    path = tmp_path / "year=2019" / "month=6" / "data.parquet"
    path.parent.mkdir(parents=True)
    pl.DataFrame(records, schema=STORE_SCHEMA).write_parquet(path)
    babies = scan_babies([path], ["stillbirth_rate"])
    assert babies.trusts == ["T1", "T2"]
    assert babies.starts.tolist() == [0, 3] and babies.stops.tolist() == [3, 6]
    hours = ((babies.when - np.datetime64(born)) // np.timedelta64(1, "h")).tolist()
    assert hours == [3, 4, 5, 0, 1, 2]
