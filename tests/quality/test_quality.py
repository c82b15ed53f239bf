"""Data quality: completeness worked out by hand on a small table, the caveat where the threshold
is crossed, coverage and resent records from the ledger, and ``matneo quality`` as people run it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest

from matneo.config import Settings
from matneo.quality import quality_cube, report_for
from matneo.quality.caveat import caveat, figure_caveats, percent_text
from matneo.quality.cube import build_quality_cube
from matneo.quality.rules import QualityRules, all_inputs, measured_fields, parse_thresholds
from matneo.records.load import load_files
from matneo.records.store import RecordStore
from matneo.reference.organisations import OrgHierarchy

SMOKING = "smoking status at delivery recorded for 71% of maternities: treat with caution"


def matneo(settings: Settings, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, MATNEO_HOME=str(settings.home), MATNEO_DATABASE_URL=settings.database_url)
    env.pop("COLUMNS", None)
    return subprocess.run(
        [sys.executable, "-m", "matneo.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture
def loaded(
    settings: Settings, tmp_path: Path, make_row: Callable[..., dict], write_csv, hierarchy: OrgHierarchy
) -> Settings:  # type: ignore[no-untyped-def]
    """June 2019: 11 births (smoking blank for 4, ethnic Z for 2 and 99 for 1, site blank for 2) and
    one row refused; then a second file with August 2019: 3 births and a copy of June's 11th record.

    By hand, over the 12 months to Aug 2019 (June 10 + August 4 = 14 births, all maternities):
    smoking recorded 6 + 4 = 10 of 14 (71.4%), ethnic category known 7 + 4 = 11 of 14 (78.6%).
    """
    june = {"birth_datetime": "2019-06-15 10:30:00"}
    rows = [make_row(**june, smoking_at_delivery="") for _ in range(4)]
    rows += [make_row(**june, ethnic_category=code) for code in ("Z", "Z", "99")]
    rows += [make_row(**june, site_code="") for _ in range(2)]
    rows += [make_row(**june)]
    moved = make_row(**june)
    rows += [moved, make_row(**june, gestation_weeks="99")]  # the last is refused
    first = load_files([write_csv(tmp_path / "june.csv", rows)], settings, hierarchy)
    assert first.ledger_ids
    august = {"birth_datetime": "2019-08-10 09:00:00"}
    again = [make_row(**august) for _ in range(3)] + [dict(moved, **august)]
    load_files([write_csv(tmp_path / "august.csv", again)], settings, hierarchy)
    return settings


def test_completeness_by_hand(loaded: Settings, hierarchy: OrgHierarchy, trusts: list[tuple[str, str]]) -> None:
    trust, site = trusts[0]
    report = report_for(loaded, hierarchy, trust, detail=True)
    assert report.births == 14 and report.period == "Sep 2018 to Aug 2019"
    smoking = next(f for f in report.fields if f.field == "smoking_at_delivery")
    assert (smoking.known, smoking.population, smoking.percent) == (10, 14, 71.4)
    assert smoking.caveat == SMOKING and smoking.below_threshold
    ethnic = [f for f in report.fields if f.field == "ethnic_category"]
    assert {(f.known, f.population) for f in ethnic} == {(11, 14)}
    assert {f.caveat for f in ethnic} == {
        f"ethnic category known for 78% of {noun}: treat with caution" for noun in ("births", "maternities")
    }
    mode = next(f for f in report.fields if f.field == "mode_of_delivery")
    assert (mode.known, mode.population, mode.caveat) == (14, 14, None)
    assert next(f for f in report.fields if f.field == "outcome").percent == 100.0
    # months and sites: June 10 births, August 4; the site and the unrecorded site
    assert [(m.name, m.births) for m in report.months] == [("Jun 2019", 10), ("Aug 2019", 4)]
    assert {(u.code, u.births) for u in report.units} == {(site, 12), ("", 2)}
    assert next(u for u in report.units if u.code == "").name == "Site not recorded"
    # coverage: July missing; August came in a later load long after the month: late; one record resent
    [coverage] = report.coverage
    assert (coverage.missing_months, coverage.late_months, coverage.resent_records) == (["Jul 2019"], ["Aug 2019"], 1)
    # rejections: 1 of 12 rows of the first file, 0 of 4 of the second
    assert report.rejections == {"rows_read": 16, "rows_rejected": 1, "rejected_percent": 6.25, "loads": 2}


def test_caveat_where_threshold_is_crossed(loaded: Settings, trusts: list[tuple[str, str]]) -> None:
    cube = quality_cube(loaded)
    found = figure_caveats(
        cube, ["smoke_free_at_delivery", "caesarean_rate"], [trusts[0][0]], None, None, QualityRules()
    )
    assert found == {"smoke_free_at_delivery": [SMOKING], "caesarean_rate": []}
    relaxed = figure_caveats(cube, ["smoke_free_at_delivery"], None, None, None, QualityRules(default_threshold=70))
    assert relaxed == {"smoke_free_at_delivery": []}
    strict = QualityRules(default_threshold=50, thresholds=(("smoking_at_delivery", 72.0),))
    assert figure_caveats(cube, ["smoke_free_at_delivery"], None, None, None, strict)["smoke_free_at_delivery"] == [
        SMOKING
    ]
    # the August month alone is complete
    import datetime as dt

    august = figure_caveats(cube, ["smoke_free_at_delivery"], None, dt.date(2019, 8, 1), None, QualityRules())
    assert august == {"smoke_free_at_delivery": []}


def test_caveats_for_a_whole_measure_table(
    loaded: Settings, hierarchy: OrgHierarchy, trusts: list[tuple[str, str]]
) -> None:
    import datetime as dt

    from matneo.measures.compute import org_lookup
    from matneo.quality.caveat import table_caveats

    cube = quality_cube(loaded)
    monthly = table_caveats(cube, "smoke_free_at_delivery", org_lookup(hierarchy, "trust"), "month", QualityRules())
    found = {(r["org_code"], r["period_start"]): r["caveats"] for r in monthly.iter_rows(named=True)}
    june = "smoking status at delivery recorded for 60% of maternities: treat with caution"  # 6 of 10
    assert found == {(trusts[0][0], dt.date(2019, 6, 1)): [june], (trusts[0][0], dt.date(2019, 8, 1)): []}
    yearly = table_caveats(cube, "smoke_free_at_delivery", org_lookup(hierarchy, "england"), "year", QualityRules())
    assert yearly.rows() == [("ENG", dt.date(2019, 1, 1), [SMOKING])]
    hidden = table_caveats(cube, "smoke_free_at_delivery", org_lookup(hierarchy, "trust"), "month", QualityRules(), 20)
    assert all(not words for words in hidden["caveats"].to_list())  # too few records for a reader outside the trust
    # one period only (a funnel's): the same rows as the whole table's for that period, for every period type
    for period in ("month", "year", "rolling_12m", "rolling_3y"):
        lookup = org_lookup(hierarchy, "trust")
        whole = table_caveats(cube, "smoke_free_at_delivery", lookup, period, QualityRules())
        for start in whole["period_start"].unique().to_list():
            one = table_caveats(cube, "smoke_free_at_delivery", lookup, period, QualityRules(), starts=[start])
            assert sorted(one.rows()) == sorted(whole.filter(pl.col("period_start") == start).rows()), (period, start)


def test_counts_summed_once_for_every_measure_give_each_measure_its_own_caveats(
    loaded: Settings, hierarchy: OrgHierarchy
) -> None:
    """A page with a funnel for each measure sums the quality cube once for all of them (issue 10);
    each measure's caveats from those shared sums are those it gets alone, with a reader's
    threshold too."""
    from matneo.measures.compute import org_lookup
    from matneo.measures.definitions import MEASURES
    from matneo.quality.caveat import caveat_sums, table_caveats

    cube = quality_cube(loaded)
    some = 0
    for level, period in (("trust", "month"), ("trust", "year"), ("lmns", "rolling_12m"), ("england", "rolling_3y")):
        lookup = org_lookup(hierarchy, level)
        for start in table_caveats(cube, "smoke_free_at_delivery", lookup, period, QualityRules())["period_start"]:
            sums = caveat_sums(cube, lookup, period, [start], [m.id for m in MEASURES])
            for m in MEASURES:
                for least in (0, 5):
                    alone = table_caveats(cube, m.id, lookup, period, QualityRules(), least, starts=[start])
                    shared = table_caveats(cube, m.id, lookup, period, QualityRules(), least, starts=[start], sums=sums)
                    assert sorted(shared.rows()) == sorted(alone.rows()), (m.id, level, period, start, least)
                    some += sum(1 for words in alone["caveats"].to_list() if words)
    assert some, "the comparison covers caveats that fire"


def test_the_words_of_a_caveat() -> None:
    assert caveat("smoking status at delivery", 62, 100, 90.0) == (
        "smoking status at delivery recorded for 62% of births: treat with caution"
    )
    assert caveat("x", 90, 100, 90.0) is None and caveat("x", 0, 0, 90.0) is None
    assert percent_text(89.99) == "89%" and percent_text(0.2) == "less than 1%" and percent_text(0) == "0%"


def test_outside_scope_aggregates_only(
    loaded: Settings, hierarchy: OrgHierarchy, trusts: list[tuple[str, str]]
) -> None:
    report = report_for(loaded, hierarchy, trusts[0][0], detail=False)
    assert report.births is None and report.months == [] and report.units == [] and report.loads == []
    smoking = next(f for f in report.fields if f.field == "smoking_at_delivery")
    assert (smoking.known, smoking.population, smoking.percent) == (None, None, 71.0)
    assert report.rejections["rows_read"] is None and report.coverage[0].missing_months == []
    mgso4 = next(f for f in report.fields if f.field == "mgso4_within_24h")
    assert mgso4.percent is None  # no births under 30 weeks: nothing to show


def test_implausible_birth_weight(
    sqlite_settings: Settings, tmp_path: Path, make_row: Callable[..., dict], write_csv, hierarchy: OrgHierarchy
) -> None:  # type: ignore[no-untyped-def]
    weights = [3000 + 20 * i for i in range(30)] + [6500]  # quartiles 3150–3450: fences 2250–4350
    rows = [make_row(birth_weight_g=str(w)) for w in weights] + [make_row(gestation_weeks="30", birth_weight_g="3500")]
    load_files([write_csv(tmp_path / "w.csv", rows)], sqlite_settings, hierarchy)
    cube = build_quality_cube(RecordStore(sqlite_settings.records_dir).partition_files(), 3.0)
    assert (cube["bw_judged"].sum(), cube["bw_implausible"].sum()) == (31, 1)  # week 30 has too few to judge


def test_inputs_come_from_the_measures() -> None:
    fields = {i.field for i in all_inputs()}
    assert {"smoking_at_delivery", "ethnic_category", "gestation_weeks", "mode_of_delivery"} <= fields
    assert "birth_weight_g" not in measured_fields() and "neonatal_death_datetime" in measured_fields()
    assert parse_thresholds("85, smoking_at_delivery=95") == (85.0, (("smoking_at_delivery", 95.0),))
    with pytest.raises(ValueError, match="not a field any measure uses"):
        parse_thresholds("sex=50")
    with pytest.raises(ValueError, match="from 0 to 100"):
        parse_thresholds("120")


def test_cli(loaded: Settings, trusts: list[tuple[str, str]]) -> None:
    trust = trusts[0][0]
    result = matneo(loaded, "quality", "--org", trust.lower(), "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["code"] == trust and data["births"] == 14 and SMOKING in data["caveats"]
    table = matneo(loaded, "quality", "--org", trust)
    assert table.returncode == 0, table.stderr
    assert "Caveat: " + SMOKING in " ".join(table.stdout.split())
    assert "Jul 2019" in table.stdout
    unknown = matneo(loaded, "quality", "--org", "NOPE")
    assert unknown.returncode == 2 and "no organisation with code NOPE" in unknown.stderr
    assert pl.DataFrame(data["fields"]).height == len(data["fields"])
    figures = matneo(loaded, "measures", "-m", "smoke_free_at_delivery", "--org", trust, "--period", "month",
                     "--format", "json")  # fmt: skip
    assert figures.returncode == 0, figures.stderr
    by_month = {r["period"]: r["caveats"] for r in json.loads(figures.stdout)}
    assert by_month == {
        "Jun 2019": ["smoking status at delivery recorded for 60% of maternities: treat with caution"],
        "Aug 2019": [],
    }
    shown = matneo(loaded, "measures", "-m", "smoke_free_at_delivery", "--org", trust, "--period", "month")
    assert "Caveat: smoke_free_at_delivery " + trust + " Jun 2019: smoking status" in " ".join(shown.stdout.split())
    as_csv = matneo(loaded, "measures", "-m", "smoke_free_at_delivery", "--org", trust, "--format", "csv").stdout
    assert as_csv.splitlines()[0].endswith('"caveats"') and SMOKING in as_csv  # the year 2019: 10 of 14


def test_reference_doc_is_current() -> None:
    from matneo.quality.reference_doc import render_inputs

    committed = (Path(__file__).parents[2] / "docs" / "data-quality.md").read_text()
    assert render_inputs() in committed, "regenerate: python -m matneo.quality.reference_doc docs/data-quality.md"


IMPLAUSIBLE = "birth weight implausible for gestation in 3.2% of births with both recorded: treat with caution"


def test_implausible_weights_caveat_the_figures_resting_on_gestation_or_weight(
    sqlite_settings: Settings, tmp_path: Path, make_row: Callable[..., dict], write_csv, hierarchy: OrgHierarchy
) -> None:  # type: ignore[no-untyped-def]
    """1 of 31 judged weights is outside its week's fences (3.2%, above the 1% default): figures that
    count by gestation say so, in the same words in a single figure and in a whole table; a figure
    not resting on gestation or weight (caesarean births) does not; a looser setting lifts it."""
    import datetime as dt

    from matneo.measures.compute import org_lookup
    from matneo.quality.caveat import table_caveats, uses_weight_check, weight_caveat

    weights = [3000 + 20 * i for i in range(30)] + [6500]  # as test_implausible_birth_weight: 1 of 31 outside
    rows = [make_row(birth_weight_g=str(w), birth_datetime="2019-06-15 10:30:00") for w in weights]
    load_files([write_csv(tmp_path / "w.csv", rows)], sqlite_settings, hierarchy)
    cube = quality_cube(sqlite_settings)
    assert uses_weight_check("preterm_birth_rate") and not uses_weight_check("caesarean_rate")
    found = figure_caveats(cube, ["preterm_birth_rate", "caesarean_rate"], None, None, None, QualityRules())
    assert IMPLAUSIBLE in found["preterm_birth_rate"] and found["caesarean_rate"] == []
    loose = figure_caveats(cube, ["preterm_birth_rate"], None, None, None, QualityRules(implausible_weight_percent=5))
    assert not any("implausible" in words for words in loose["preterm_birth_rate"])
    table = table_caveats(cube, "preterm_birth_rate", org_lookup(hierarchy, "england"), "month", QualityRules())
    assert table.rows() == [("ENG", dt.date(2019, 6, 1), found["preterm_birth_rate"])]
    hidden = table_caveats(cube, "preterm_birth_rate", org_lookup(hierarchy, "england"), "month", QualityRules(), 50)
    assert hidden["caveats"].to_list() == [[]], "31 judged births: too few for a reader outside the trust"
    # the boundary: exactly the threshold is no caveat; nothing judged is no caveat
    assert weight_caveat(100, 1, QualityRules()) is None and weight_caveat(0, 0, QualityRules()) is None
    assert weight_caveat(100, 2, QualityRules()) is not None


def test_the_implausible_weight_setting_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from matneo.config import get_settings
    from matneo.quality.rules import DEFAULT_IMPLAUSIBLE_WEIGHT_PERCENT, rules_from

    assert rules_from(get_settings(tmp_path)).implausible_weight_percent == DEFAULT_IMPLAUSIBLE_WEIGHT_PERCENT == 1.0
    monkeypatch.setenv("MATNEO_IMPLAUSIBLE_WEIGHT_PERCENT", "2.5")
    assert rules_from(get_settings(tmp_path)).implausible_weight_percent == 2.5
    monkeypatch.setenv("MATNEO_IMPLAUSIBLE_WEIGHT_PERCENT", "lots")
    with pytest.raises(ValueError, match="MATNEO_IMPLAUSIBLE_WEIGHT_PERCENT must be a number"):
        get_settings(tmp_path)
