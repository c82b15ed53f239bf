"""The planted trust needs a conversation, with its evidence; decisions are checked, kept and audited."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from matneo.assurance.demo import seed_demo_assurance
from matneo.config import Settings
from matneo.db.models import AuditEvent, Signal
from matneo.db.session import dispose_all_engines, transaction, upgrade
from matneo.measures.results import ResultCache
from matneo.records.load import load_files
from matneo.reference.organisations import OrgHierarchy, load_hierarchy
from matneo.synth import write_dataset
from matneo.triangulation.decisions import DecisionProblem, decisions, record_decision
from matneo.triangulation.picture import pictures

PLANTED = "R0A"
TODAY = dt.date(2026, 12, 3)


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, OrgHierarchy, ResultCache]]:
    home = tmp_path_factory.mktemp("triangulation")
    settings = Settings(home=home, database_url=f"sqlite:///{home / 'matneo.db'}")
    settings.ensure_dirs()
    upgrade(settings.database_url, load_hierarchy())
    hierarchy = load_hierarchy()
    load_files(write_dataset(home / "synthetic", range(2022, 2024), scale=0.02, seed=3), settings, hierarchy)
    with transaction(settings.database_url) as session:  # an open outcome signal at the planted trust
        session.add(Signal(trust_code=PLANTED, measure="stillbirth_rate", method="cusum", status="open",
                           first_signal_date=dt.date(2023, 9, 30), last_signal_date=dt.date(2023, 12, 31),
                           summary="CUSUM crossed its threshold"))  # fmt: skip
    seed_demo_assurance(settings.database_url, hierarchy, PLANTED, TODAY)  # reds: training overdue
    yield settings, hierarchy, ResultCache(settings, hierarchy)
    dispose_all_engines()


def test_the_planted_trust_is_on_its_lmns_list_with_the_evidence(
    loaded: tuple[Settings, OrgHierarchy, ResultCache],
) -> None:
    settings, hierarchy, results = loaded
    lmns = hierarchy.ancestor_at(PLANTED, "lmns").code
    found = pictures(settings.database_url, results, hierarchy, lmns, TODAY)
    first = found[0]
    assert first.trust_code == PLANTED and first.needs_conversation  # listed first
    fired = {f.rule.id: f for f in first.fired}
    assert "two_sources" in fired
    assert fired["two_sources"].sources == ["assurance", "outcome_signal"]
    texts = [c.text for c in fired["two_sources"].evidence]
    assert any(t.startswith("Stillbirth rate: Risk-adjusted CUSUM signal since Sep 2023") for t in texts)
    assert any("assurance requirements red (Safety action 8" in t for t in texts)
    neighbours = [p for p in found if p.trust_code != PLANTED]
    assert all(not p.fired for p in neighbours if not any(c.source == "assurance" for c in p.concerns))
    as_json = first.to_dict()
    assert as_json["rules"][0]["evidence"] and "Safety culture survey results" in as_json["not_yet_available"]


def test_decisions_are_checked_kept_and_audited(loaded: tuple[Settings, OrgHierarchy, ResultCache]) -> None:
    settings, _, _ = loaded
    url = settings.database_url

    def decide(**changes: object):  # type: ignore[no-untyped-def]
        values: dict[str, object] = dict(decision="enhanced_surveillance", note="Met the HoM; CUSUM and training.",
                                         review_on="2027-03-01", actor="lmns@test", actor_org="QOP",
                                         may_decide=True, today=TODAY)  # fmt: skip
        return record_decision(url, PLANTED, **{**values, **changes})  # type: ignore[arg-type]

    for changes, field in [
        ({"decision": "shrug"}, "decision"),
        ({"note": "  "}, "note"),
        ({"review_on": "soon"}, "review_on"),
        ({"review_on": "2026-12-03"}, "review_on"),  # not in the future
    ]:
        with pytest.raises(DecisionProblem) as problem:
            decide(**changes)
        assert problem.value.field == field
    with pytest.raises(PermissionError):
        decide(may_decide=False)
    first = decide()
    second = decide(decision="escalate_to_region", note="No improvement at review.", review_on="2027-06-01")
    kept = decisions(url, [PLANTED])[PLANTED]
    assert [d.id for d in kept] == [second.id, first.id]  # history kept, newest first
    assert kept[0].label == "Escalate to the region"
    with transaction(url) as session:
        actions = session.scalars(select(AuditEvent.action).where(AuditEvent.target_id == PLANTED)).all()
    assert actions.count("triangulation.decide") == 2


def test_leading_indicator_signals_are_their_own_source(loaded: tuple[Settings, OrgHierarchy, ResultCache]) -> None:
    """A leading-indicator CUSUM reaches triangulation as `leading_indicator`, never as an outcome signal."""
    from matneo.triangulation.sources import concerns

    settings, _, results = loaded
    with transaction(settings.database_url) as session:
        session.add(Signal(trust_code=PLANTED, measure="term_nnu_admission", method="leading_cusum", status="open",
                           first_signal_date=dt.date(2023, 10, 31), last_signal_date=dt.date(2023, 12, 31),
                           summary="CUSUM crossed its threshold"))  # fmt: skip
    try:
        found = concerns(settings.database_url, results, [PLANTED], TODAY)[PLANTED]
    finally:  # the module's other tests expect only the outcome signal
        with transaction(settings.database_url) as session:
            for s in session.scalars(select(Signal).where(Signal.method == "leading_cusum")):
                session.delete(s)
    leading = [c for c in found if c.source == "leading_indicator"]
    assert [c.text for c in leading] == [
        "Term admissions to neonatal units: Leading indicator CUSUM signal since Oct 2023"
    ]
    assert all("neonatal units" not in c.text for c in found if c.source == "outcome_signal")
