"""Settings are passed, never read from the environment behind the caller's back: with
``MATNEO_HOME`` pointing at one instance, code handed another instance's settings works on
that other instance (its organisation extract, its records store)."""

from __future__ import annotations

from pathlib import Path

import pytest

from matneo.config import Settings
from matneo.measures.compute import compute
from matneo.reference.organisations import install_user_extract, load_hierarchy
from matneo.web.services import Services

SMALL_ORGS = """code,name,level,parent_code
ENG,England,england,
Y56,London,region,ENG
QKK,South East London ICB,lmns,Y56
RJ1,Guy's and St Thomas' NHS Foundation Trust,trust,QKK
RJ2,Lewisham and Greenwich NHS Trust,trust,QKK
"""


def instance(home: Path) -> Settings:
    home.mkdir(parents=True, exist_ok=True)
    return Settings(home=home, database_url=f"sqlite:///{home / 'matneo.db'}")


@pytest.fixture
def environment_points_elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """An instance with its own two-trust extract, named by MATNEO_HOME."""
    elsewhere = instance(tmp_path / "elsewhere")
    extract = tmp_path / "extract.csv"
    extract.write_text(SMALL_ORGS, encoding="utf-8")
    install_user_extract(extract, None, elsewhere.home)
    monkeypatch.setenv("MATNEO_HOME", str(elsewhere.home))
    monkeypatch.setenv("MATNEO_DATABASE_URL", elsewhere.database_url)
    return elsewhere


def test_services_use_the_hierarchy_of_the_instance_they_are_given(
    tmp_path: Path, environment_points_elsewhere: Settings
) -> None:
    mine = instance(tmp_path / "mine")
    assert len(Services.create(mine).hierarchy.trusts()) > 2, "mine has no extract: the packaged hierarchy"
    assert [t.code for t in Services.create(environment_points_elsewhere).hierarchy.trusts()] == ["RJ1", "RJ2"]


def test_compute_reads_the_store_and_hierarchy_of_the_settings_it_is_given(
    tmp_path: Path, environment_points_elsewhere: Settings
) -> None:
    mine = instance(tmp_path / "mine")
    mine.ensure_dirs()
    assert compute(None, "trust", "year", settings=mine).height == 0  # mine is empty, whatever is elsewhere
    assert compute(None, "trust", "year", orgs=["R0A"], settings=mine).height == 0, "R0A is in mine's hierarchy"
    with pytest.raises(ValueError, match="no trust with code R0A"):
        compute(None, "trust", "year", orgs=["R0A"], settings=environment_points_elsewhere)
    with pytest.raises(TypeError, match="needs the count cube or the settings"):
        compute(None, "trust", "year")


def test_load_hierarchy_without_settings_is_the_packaged_snapshot(environment_points_elsewhere: Settings) -> None:
    assert len(load_hierarchy().trusts()) > 2
    assert len(load_hierarchy(settings=environment_points_elsewhere).trusts()) == 2


def test_the_pdf_printer_and_concern_rules_are_settings_read_once_at_the_edge(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from matneo.board.render import PdfUnavailable, render_pdf
    from matneo.config import get_settings
    from matneo.triangulation.rules import load_rules

    rules = tmp_path / "rules.json"
    rules.write_text(
        '{"rules": [{"id": "ours", "title": "Our rule", "sources": ["harm", "assurance"], "min_sources": 2,'
        ' "window_months": 3, "rationale": "agreed by our LMNS board"}]}'
    )
    monkeypatch.setenv("MATNEO_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MATNEO_CHROMIUM", str(tmp_path / "no-such-browser"))
    monkeypatch.setenv("MATNEO_CONCERN_RULES", str(rules))
    monkeypatch.setenv("MATNEO_VOICE_LAYOUTS", str(tmp_path / "voice.json"))
    settings = get_settings()
    assert settings.voice_layouts == tmp_path / "voice.json"
    assert settings.chromium == str(tmp_path / "no-such-browser") and settings.concern_rules == rules
    assert [r.id for r in load_rules(settings.concern_rules)] == ["ours"]
    monkeypatch.delenv("MATNEO_CONCERN_RULES")  # read once: the settings in hand still say what to use
    assert [r.id for r in load_rules(settings.concern_rules)] == ["ours"]
    with pytest.raises(PdfUnavailable, match="could not print"):
        render_pdf("<p>pack</p>", settings.chromium)  # the configured browser, not whatever is on PATH


def test_data_quality_settings_are_read_once_at_the_edge(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The completeness threshold, birth-weight fence and lateness are settings (needs local
    confirmation); a value that cannot be used stops MatNeo naming the variable."""
    from matneo.config import get_settings
    from matneo.quality.rules import DEFAULT_LATE_AFTER_DAYS, rules_from

    monkeypatch.setenv("MATNEO_HOME", str(tmp_path / "home"))
    assert rules_from(get_settings()).threshold("smoking_at_delivery") == 90.0
    monkeypatch.setenv("MATNEO_COMPLETENESS_THRESHOLD", "80,smoking_at_delivery=95")
    monkeypatch.setenv("MATNEO_BIRTH_WEIGHT_FENCE", "2.5")
    rules = rules_from(get_settings())
    assert (rules.threshold("smoking_at_delivery"), rules.threshold("ethnic_category")) == (95.0, 80.0)
    assert (rules.birth_weight_fence, rules.late_after_days) == (2.5, DEFAULT_LATE_AFTER_DAYS)
    monkeypatch.setenv("MATNEO_LATE_AFTER_DAYS", "soon")
    with pytest.raises(ValueError, match="MATNEO_LATE_AFTER_DAYS"):
        get_settings()
    monkeypatch.delenv("MATNEO_LATE_AFTER_DAYS")
    monkeypatch.setenv("MATNEO_COMPLETENESS_THRESHOLD", "sex=50")
    with pytest.raises(ValueError, match="MATNEO_COMPLETENESS_THRESHOLD"):
        get_settings()
