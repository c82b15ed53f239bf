"""Ambition progress for England and an organisation, from a hand-made count cube."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from matneo.measures.ambition import ambition_report, measure_progress
from matneo.measures.definitions import MEASURES
from matneo.reference.organisations import load_hierarchy

from .cubes import cube_frame


def stillbirth_cube(trust: str, per_year: dict[int, tuple[int, int]]) -> pl.DataFrame:
    """Stillbirths and births per year, spread as one month each of 12 equal months."""
    rows = []
    for year, (stillbirths, births) in per_year.items():
        for month in range(1, 13):
            num = stillbirths // 12 + (1 if month <= stillbirths % 12 else 0)
            rows.append((trust, dt.date(year, month, 1), "White", 3, num, births // 12))
    return cube_frame(rows, ["stillbirth_rate"])


def test_england_uses_the_published_baseline_and_judges_the_latest_year() -> None:
    hierarchy = load_hierarchy()
    trust = hierarchy.trusts()[0].code
    # 2024: 1,800 stillbirths in 600,000 births = 3.0 per 1,000 (95% CI about 2.86–3.14).
    cube = stillbirth_cube(trust, {2010: (3060, 600_000), 2024: (1800, 600_000)})
    progress = measure_progress("stillbirth_rate", None, hierarchy, cube).progress
    assert progress is not None
    assert (progress.baseline.year, progress.baseline.value) == (2010, 5.1)
    # Trajectory in 2024: straight line from the unrounded 2020 target 4.08 to 2.55 in 2025:
    # 4.08 + (2.55 − 4.08) × 4/5 = 2.856. The whole CI is above it, so off track.
    assert progress.expected_at_latest == pytest.approx(2.856)
    assert progress.latest.value == pytest.approx(3.0)
    assert progress.status == "off_track"


def test_an_organisation_starts_from_its_own_first_full_year() -> None:
    hierarchy = load_hierarchy()
    trust = hierarchy.trusts()[0].code
    cube = stillbirth_cube(trust, {2012: (60, 12_000), 2013: (24, 12_000)})
    cube = cube.filter(pl.col("month_start") != dt.date(2012, 1, 1))  # 2012 is not a full year
    assert measure_progress("stillbirth_rate", trust, hierarchy, cube).progress.baseline.year == 2013
    cube = stillbirth_cube(trust, {2011: (60, 12_000), 2019: (12, 12_000)})
    progress = measure_progress("stillbirth_rate", trust, hierarchy, cube).progress
    assert progress.baseline.year == 2011 and progress.baseline.value == pytest.approx(5.0)
    # 2019 is 1.0 per 1,000 (CI about 0.52–1.75), well below the line from 5.0 towards 2.5: ahead.
    assert progress.status == "ahead"
    assert [t.year for t in progress.targets] == [2020, 2025]


def test_report_covers_every_ambition_measure_and_rejects_unknown_codes() -> None:
    hierarchy = load_hierarchy()
    cube = stillbirth_cube(hierarchy.trusts()[0].code, {2019: (40, 12_000)})
    others = [f"{m.id}__{part}" for m in MEASURES for part in ("num", "den") if m.id != "stillbirth_rate"]
    cube = cube.with_columns([pl.lit(0, dtype=pl.Int64).alias(name) for name in others])
    report = ambition_report(cube=cube, hierarchy=hierarchy)
    assert [item.measure for item in report][:2] == ["stillbirth_rate", "neonatal_mortality_24wk"]
    assert report[1].progress is None and report[1].problem == "no full year of data"
    with pytest.raises(KeyError):
        ambition_report("NOPE", cube=cube, hierarchy=hierarchy)


def test_a_triennial_measure_is_named_by_its_triennium_not_its_middle_year() -> None:
    """Maternal mortality for 2022–24 is judged as the year 2023, but is called 2022–24, as on the web."""
    hierarchy = load_hierarchy()
    trust = hierarchy.trusts()[0].code
    rows = [
        (trust, dt.date(year, month, 1), "White", 3, 1, 20_000) for year in (2022, 2023, 2024) for month in range(1, 13)
    ]
    item = measure_progress("maternal_mortality", None, hierarchy, cube_frame(rows, ["maternal_mortality"]))
    assert item.progress is not None and item.progress.latest.year == 2023
    assert item.period_name(item.progress.latest.year) == "2022–24"
    described = item.to_dict()
    assert (described["period_type"], described["latest_period"], described["baseline_period"]) == (
        "rolling_3y",
        "2022–24",
        "2009–11",
    )
    still = measure_progress("stillbirth_rate", None, hierarchy, stillbirth_cube(trust, {2024: (1800, 600_000)}))
    assert (still.to_dict()["latest_period"], still.to_dict()["baseline_period"]) == ("2024", "2010")
