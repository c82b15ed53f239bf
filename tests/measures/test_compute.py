"""compute(): levels, periods, breakdowns, intervals and the published national figures."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from matneo.config import Settings
from matneo.db.session import upgrade
from matneo.measures.compute import RESULT_COLUMNS, compute
from matneo.measures.counts import build_cube, load_cube
from matneo.records.load import load_files
from matneo.records.store import RecordStore
from matneo.reference.codes import national_figure
from matneo.reference.organisations import load_hierarchy
from matneo.stats import proportion_ci, rate_ci
from matneo.synth import write_dataset

from .cubes import cube_frame


def hand_cube(rows: list[tuple[str, dt.date, str, int, int, int]]) -> pl.DataFrame:
    """A cube with stillbirth counts only: (trust, month, ethnic group, IMD quintile, stillbirths, births)."""
    return cube_frame(rows, ["stillbirth_rate"])


@pytest.fixture(scope="module")
def two_trusts() -> tuple[str, str, str]:
    hierarchy = load_hierarchy()
    first = hierarchy.trusts()[0].code
    lmns = hierarchy.ancestor_at(first, "lmns").code
    sibling = next(t.code for t in hierarchy.trusts_under(lmns) if t.code != first)
    return first, sibling, lmns


def test_levels_sum_trusts(two_trusts) -> None:
    first, sibling, lmns = two_trusts
    cube = hand_cube(
        [
            (first, dt.date(2019, 1, 1), "White", 1, 3, 1000),
            (first, dt.date(2019, 1, 1), "Black", 2, 2, 500),
            (sibling, dt.date(2019, 2, 1), "White", 5, 1, 500),
        ]
    )
    trust = compute(["stillbirth_rate"], level="trust", period="year", cube=cube)
    assert trust.columns == list(RESULT_COLUMNS)
    assert trust.filter(pl.col("org_code") == first).select("numerator", "denominator", "months").row(0) == (5, 1500, 1)
    region = compute(["stillbirth_rate"], level="lmns", period="year", cube=cube, orgs=[lmns])
    ((num, den, value, lower, upper),) = region.select("numerator", "denominator", "value", "lower95", "upper95").rows()
    assert (num, den) == (6, 2000)
    assert value == pytest.approx(3.0)  # 6 / 2,000 × 1,000
    expected = rate_ci(6, 2000, 0.95, multiplier=1000)
    assert (lower, upper) == pytest.approx(expected)
    england = compute(["stillbirth_rate"], level="england", period="month", cube=cube)
    assert england.get_column("org_code").unique().to_list() == ["ENG"]
    assert england.get_column("period").to_list() == ["Jan 2019", "Feb 2019"]


def test_periods(two_trusts) -> None:
    first, _, _ = two_trusts
    months = [dt.date(2018 + (m // 12), m % 12 + 1, 1) for m in range(36)]  # Jan 2018 .. Dec 2020
    cube = hand_cube([(first, month, "White", 3, 1, 100) for month in months])
    by = {
        period: compute(["stillbirth_rate"], level="trust", period=period, cube=cube, orgs=[first])
        for period in ("quarter", "year", "financial_year", "rolling_12m", "rolling_3y")
    }
    assert by["quarter"].height == 12 and by["quarter"].get_column("period")[0] == "Jan to Mar 2018"
    assert by["year"].get_column("denominator").to_list() == [1200, 1200, 1200]
    financial = by["financial_year"]
    assert financial.get_column("period").to_list() == ["2017/18", "2018/19", "2019/20", "2020/21"]
    assert financial.get_column("months").to_list() == [3, 12, 12, 9]  # part-years say so
    rolling = by["rolling_12m"]
    assert rolling.height == 25  # windows ending Dec 2018 .. Dec 2020
    assert rolling.row(0, named=True)["period_start"] == dt.date(2018, 1, 1)
    assert rolling.row(0, named=True)["period_end"] == dt.date(2018, 12, 31)
    assert rolling.row(0, named=True)["period"] == "12 months to Dec 2018"  # named by its end
    assert set(rolling.get_column("denominator").to_list()) == {1200}
    assert by["rolling_3y"].select("period", "denominator").rows() == [("2018–20", 3600)]


def test_percentages_use_wilson_and_zero_denominators_are_not_available(two_trusts) -> None:
    first, _, _ = two_trusts
    cube = hand_cube([(first, dt.date(2019, 1, 1), "White", 3, 0, 0)]).with_columns(
        pl.lit(40, dtype=pl.Int64).alias("preterm_birth_rate__num"),
        pl.lit(500, dtype=pl.Int64).alias("preterm_birth_rate__den"),
    )
    result = compute(["stillbirth_rate", "preterm_birth_rate"], level="trust", period="month", cube=cube, orgs=[first])
    stillbirth, preterm = result.rows(named=True)
    assert stillbirth["value"] is None and stillbirth["lower95"] is None
    low, high = proportion_ci(40, 500, 0.998)
    assert preterm["value"] == pytest.approx(8.0)
    assert (preterm["lower998"], preterm["upper998"]) == pytest.approx((low * 100, high * 100))


def test_breakdowns(two_trusts) -> None:
    first, _, _ = two_trusts
    cube = hand_cube(
        [
            (first, dt.date(2019, 1, 1), "White", 1, 3, 1000),
            (first, dt.date(2019, 1, 1), "Black", 1, 4, 500),
            (first, dt.date(2019, 1, 1), "Black", 0, 1, 100),
        ]
    )
    by_ethnicity = compute(["stillbirth_rate"], level="england", period="year", cube=cube, by="ethnic_group")
    assert by_ethnicity.select("ethnic_group", "numerator", "denominator").rows() == [
        ("Black", 5, 600),
        ("White", 3, 1000),
    ]
    by_imd = compute(["stillbirth_rate"], level="england", period="year", cube=cube, by="imd_quintile")
    assert by_imd.select("imd_quintile", "denominator").rows() == [("1 (most deprived)", 1500), ("Not recorded", 100)]


def test_bad_arguments_name_the_problem() -> None:
    cube = hand_cube([])
    with pytest.raises(ValueError, match="unknown measure nonsense"):
        compute(["nonsense"], cube=cube)
    with pytest.raises(ValueError, match="level must be one of"):
        compute(level="ward", cube=cube)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="period must be one of"):
        compute(period="fortnight", cube=cube)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="no trust with code NOPE"):
        compute(orgs=["NOPE"], cube=hand_cube([("R0A", dt.date(2019, 1, 1), "White", 1, 1, 1)]))
    assert compute(["stillbirth_rate"], cube=cube).is_empty()


@pytest.fixture(scope="module")
def national(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, pl.DataFrame]:
    """Two national years of synthetic data, generated, loaded and computed end to end."""
    tmp = tmp_path_factory.mktemp("national")
    files = write_dataset(tmp / "synthetic", [2010, 2019], scale=1.0, seed=7)
    settings = Settings(home=tmp / "home", database_url=f"sqlite:///{tmp / 'home' / 'matneo.db'}")
    settings.ensure_dirs()
    upgrade(settings.database_url, load_hierarchy())
    load_files(files, settings)
    cube = load_cube(RecordStore(settings.records_dir), settings.home / "cache")
    return settings, compute(level="england", period="year", cube=cube)


# (measure, year, published England figure id in reference.codes.NATIONAL_FIGURES)
PUBLISHED = [
    ("stillbirth_rate", "2010"),
    ("stillbirth_rate", "2019"),
    ("neonatal_mortality_24wk", "2019"),
    ("brain_injury_rate", "2010"),
    ("brain_injury_rate", "2019"),
    ("preterm_birth_rate", "2010"),
    ("preterm_birth_rate", "2019"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("measure", "year"), PUBLISHED)
def test_national_rates_sit_close_to_published_figures(national, measure: str, year: str) -> None:
    """Tolerance: the published figure must lie inside the 99.8% interval of the synthetic rate.

    The generator calibrates each year's expected national rate to the published figure, so
    the computed rate differs from it only by sampling error (and by rounding of the
    published value to one decimal place, allowed for with ±0.05).
    """
    _, result = national
    row = result.filter((pl.col("measure") == measure) & (pl.col("period") == year)).row(0, named=True)
    published = national_figure(measure, year).value
    assert row["lower998"] - 0.05 <= published <= row["upper998"] + 0.05, (row, published)


@pytest.mark.slow
def test_cube_is_cached_per_store_version(national) -> None:
    settings, _ = national
    cache = settings.home / "cache"
    (cached,) = cache.glob("measure-cube-v*.parquet")
    store = RecordStore(settings.records_dir)
    assert cached.name.startswith(f"measure-cube-v{store.current_version():06d}-")
    assert load_cube(store, cache).equals(build_cube(store.partition_files()))


def test_empty_store_gives_an_empty_table(tmp_path: Path) -> None:
    store = RecordStore(tmp_path / "records")
    assert compute(cube=load_cube(store, tmp_path / "cache")).is_empty()
