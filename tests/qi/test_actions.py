"""QI actions on both backends: access, validation and an audit event in the same transaction."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from matneo.auth.access import Access, Forbidden
from matneo.config import Settings
from matneo.db.models import AuditEvent, QiMeasureValue, QiProject, Signal
from matneo.db.session import transaction
from matneo.qi import actions, queries
from matneo.qi.access import QiNotFound
from matneo.qi.core import QiInputError, UnreadableFile

from .conftest import MEMBER, OWN

TODAY = dt.date(2026, 12, 3)


def _audits(url: str, action: str) -> int:
    with transaction(url) as session:
        return session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)) or 0


def _collaborative(url: str, people: dict[str, Access]) -> int:
    cid = actions.create_collaborative(
        url, people["national"], {"name": "Maternal and neonatal safety", "kind": "national", "org_code": "ENG"}
    )
    wave = actions.add_wave(url, people["national"], cid, {"name": "Wave 1", "starts_on": "2026-04-01"})
    actions.add_member(url, people["national"], cid, OWN, wave)
    actions.add_member(url, people["national"], cid, MEMBER, wave)
    return cid


def _project(url: str, people: dict[str, Access], cid: int) -> int:
    return actions.create_project(
        url,
        people["trust"],
        {
            "trust_code": OWN,
            "title": "Magnesium sulphate before 30 weeks",
            "aim_what": "Increase mothers given magnesium sulphate before birth under 30 weeks",
            "aim_how_much": "from 70% to 90%",
            "aim_by_when": "2027-03-31",
        },
        [cid],
    )


def test_project_is_shared_with_its_collaborative_and_no_one_else(
    app_store: Settings, people: dict[str, Access]
) -> None:
    url = app_store.database_url
    cid = _collaborative(url, people)
    pid = _project(url, people, cid)
    # A member trust of the collaborative sees it, read-only.
    seen = queries.project_view(url, people["member"], None, pid)
    assert seen.title == "Magnesium sulphate before 30 weeks" and not seen.can_edit
    with pytest.raises(Forbidden):
        actions.update_project(url, people["member"], pid, {"title": "Taken over"})
    # A trust outside the collaborative (even in the same LMNS) gets the same answer as for an unknown id.
    with pytest.raises(QiNotFound):
        queries.project_view(url, people["outsider"], None, pid)
    with pytest.raises(QiNotFound):
        queries.project_view(url, people["outsider"], None, 999)
    # The LMNS lead over the trust sees and may change it; administrators may not change it.
    assert queries.project_view(url, people["lmns"], None, pid).can_edit
    with pytest.raises(Forbidden):
        actions.set_progress(url, people["admin"], pid, 2.0)
    assert [p["id"] for p in queries.list_projects(url, people["member"])] == [pid]
    assert queries.list_projects(url, people["outsider"]) == []


def test_every_change_is_audited_with_it_and_a_refused_change_leaves_nothing(
    app_store: Settings, people: dict[str, Access]
) -> None:
    url = app_store.database_url
    cid = _collaborative(url, people)
    pid = _project(url, people, cid)
    assert _audits(url, "qi.project_created") == 1
    with pytest.raises(QiInputError) as caught:
        actions.create_project(url, people["trust"], {"trust_code": OWN, "title": "", "ends_on": "2026-02-30"})
    assert {e.field for e in caught.value.errors} == {"title", "ends_on"}
    # A project in a collaborative its trust has not joined is refused as a whole.
    other = actions.create_collaborative(
        url, people["lmns"], {"name": "LMNS smoking", "kind": "lmns", "org_code": people["lmns"].user.org_code}
    )
    with pytest.raises(QiInputError, match="not a member"):
        actions.create_project(url, people["trust"], {"trust_code": OWN, "title": "Smoking"}, [other])
    with transaction(url) as session:
        assert session.scalar(select(func.count()).select_from(QiProject)) == 1
    assert _audits(url, "qi.project_created") == 1
    actions.set_progress(url, people["trust"], pid, "2.5")
    with pytest.raises(QiInputError, match=r"from 0\.5 to 5"):
        actions.set_progress(url, people["trust"], pid, "2.7")
    assert _audits(url, "qi.progress_set") == 1
    view = queries.project_view(url, people["trust"], None, pid)
    assert view.progress_score == 2.5 and view.suggestion.label.startswith("Suggestion")


def test_trusts_outside_the_area_cannot_join_a_regional_or_lmns_collaborative(
    app_store: Settings, people: dict[str, Access]
) -> None:
    url = app_store.database_url
    lmns = people["lmns"].user.org_code
    cid = actions.create_collaborative(url, people["lmns"], {"name": "Local", "kind": "lmns", "org_code": lmns})
    actions.add_member(url, people["lmns"], cid, OWN)
    with pytest.raises(QiInputError, match="already a member"):
        actions.add_member(url, people["lmns"], cid, OWN)
    with pytest.raises(QiInputError, match="not in the area"):
        actions.add_member(url, people["lmns"], cid, MEMBER)
    with pytest.raises(Forbidden):
        actions.create_collaborative(url, people["trust"], {"name": "Mine", "kind": "lmns", "org_code": lmns})
    with pytest.raises(QiInputError, match="run by a region"):
        actions.create_collaborative(url, people["lmns"], {"name": "X", "kind": "regional", "org_code": lmns})


def test_driver_diagram_aim_primary_secondary_ideas(app_store: Settings, people: dict[str, Access]) -> None:
    url = app_store.database_url
    cid = _collaborative(url, people)
    pid = _project(url, people, cid)
    trust = people["trust"]
    primary = actions.add_driver(url, trust, pid, {"text": "Reliable identification of women at risk"})
    secondary = actions.add_driver(url, trust, pid, {"text": "Preterm labour proforma", "parent_id": str(primary)})
    with pytest.raises(QiInputError, match="primary drivers"):
        actions.add_driver(url, trust, pid, {"text": "Too deep", "parent_id": str(secondary)})
    idea = actions.add_change_idea(url, trust, {"title": "MgSO4 grab box", "driver_id": str(secondary)}, project_id=pid)
    shared = actions.add_change_idea(url, people["national"], {"title": "Magnesium checklist"}, collaborative_id=cid)
    actions.link_idea(url, trust, pid, secondary, shared)
    diagram = queries.project_view(url, trust, None, pid).to_dict()["driver_diagram"]
    assert diagram["aim"].startswith("Increase mothers given magnesium sulphate")
    assert [(p["text"], [s["text"] for s in p["secondary"]]) for p in diagram["primary"]] == [
        ("Reliable identification of women at risk", ["Preterm labour proforma"])
    ]
    assert [i["id"] for i in diagram["primary"][0]["secondary"][0]["change_ideas"]] == [idea, shared]
    # A trust outside the collaborative cannot add to its library.
    with pytest.raises(QiNotFound):
        actions.add_change_idea(url, people["outsider"], {"title": "Mine"}, collaborative_id=cid)
    actions.remove_driver(url, trust, pid, primary)
    assert queries.project_view(url, trust, None, pid).drivers == []


def test_custom_measure_entry_and_import(app_store: Settings, people: dict[str, Access]) -> None:
    url = app_store.database_url
    cid = _collaborative(url, people)
    pid = _project(url, people, cid)
    trust = people["trust"]
    mid = actions.add_measure(
        url,
        trust,
        pid,
        {"kind": "process", "source": "custom", "title": "Given MgSO4", "unit": "percent", "direction": "increase"},
    )
    assert actions.add_value(url, trust, mid, {"period": "2026-10", "numerator": "7", "denominator": "9"}, today=TODAY)
    with pytest.raises(QiInputError, match="Oct 2026 already has a value"):
        actions.add_value(url, trust, mid, {"period": "2026-10-15", "numerator": "1", "denominator": "9"}, today=TODAY)
    with pytest.raises(QiInputError, match="cannot be more than the denominator"):
        actions.add_value(url, trust, mid, {"period": "2026-09", "numerator": "10", "denominator": "9"}, today=TODAY)
    with pytest.raises(QiInputError, match="has not finished"):
        actions.add_value(url, trust, mid, {"period": "2026-12", "numerator": "1", "denominator": "9"}, today=TODAY)
    with pytest.raises(Forbidden):
        actions.add_value(
            url, people["member"], mid, {"period": "2026-08", "numerator": "1", "denominator": "2"}, today=TODAY
        )

    def stored() -> int:
        with transaction(url) as session:
            return session.scalar(select(func.count()).select_from(QiMeasureValue)) or 0

    with pytest.raises(UnreadableFile):
        actions.import_values(url, trust, mid, b"\xff\xfe\x00garbage", today=TODAY)
    assert stored() == 1 and _audits(url, "qi.values_imported") == 0
    report = actions.import_values(
        url, trust, mid, b"period,numerator,denominator\n2026-08,5,8\n2026-09,9,8\n2026-10,1,1\n", today=TODAY
    )
    assert len(report.accepted) == 1 and [r.line for r in report.rejected] == [3, 4]
    assert stored() == 2 and _audits(url, "qi.values_imported") == 1
    measure = queries.project_view(url, trust, None, pid).measures[0]
    assert [(p.label, round(p.value or 0, 1)) for p in measure.points] == [("Aug 2026", 62.5), ("Oct 2026", 77.8)]
    actions.delete_value(url, trust, mid, dt.date(2026, 10, 1))
    assert stored() == 1


def test_baseline_changes_need_a_reason(app_store: Settings, people: dict[str, Access]) -> None:
    url = app_store.database_url
    pid = _project(url, people, _collaborative(url, people))
    mid = actions.add_measure(
        url, people["trust"], pid, {"kind": "outcome", "source": "matneo", "matneo_measure": "stillbirth_rate"}
    )
    with pytest.raises(QiInputError, match="Say why"):
        actions.update_measure(url, people["trust"], mid, {"rule_set": "ihi", "baseline_points": "12"})
    actions.update_measure(
        url, people["trust"], mid, {"rule_set": "ihi", "baseline_points": "12", "baseline_reason": "Before the bundle"}
    )
    measure = queries.project_view(url, people["trust"], None, pid).measures[0]
    assert (measure.rule_set, measure.baseline_points, measure.baseline_reason) == ("ihi", 12, "Before the bundle")
    assert measure.title == "Stillbirth rate" or measure.matneo_measure == "stillbirth_rate"
    with pytest.raises(QiInputError, match="MatNeo's measures"):
        actions.add_measure(
            url, people["trust"], pid, {"kind": "outcome", "source": "matneo", "matneo_measure": "nope"}
        )


def test_pdsa_cycle_plan_do_study_act_pinned_to_charts(app_store: Settings, people: dict[str, Access]) -> None:
    url = app_store.database_url
    cid = _collaborative(url, people)
    pid = _project(url, people, cid)
    trust = people["trust"]
    idea = actions.add_change_idea(url, trust, {"title": "Grab box"}, project_id=pid)
    mid = actions.add_measure(
        url,
        trust,
        pid,
        {"kind": "process", "source": "custom", "title": "Boxes checked", "unit": "count", "direction": "increase"},
    )
    actions.add_value(url, trust, mid, {"period": "2026-09", "value": "3"}, today=TODAY)
    plan = {
        "title": "Grab box on delivery suite",
        "question": "Will a grab box speed up giving MgSO4?",
        "prediction": "Most eligible women get it within an hour",
        "plan": "Midwife in charge, delivery suite, two weeks",
        "starts_on": "2026-10-05",
        "change_idea_id": str(idea),
    }
    with pytest.raises(QiInputError) as caught:
        actions.save_pdsa(url, trust, pid, plan | {"act": "adopt"})
    assert [e.field for e in caught.value.errors] == ["study_notes"]
    cycle = actions.save_pdsa(url, trust, pid, plan)
    actions.save_pdsa(
        url,
        trust,
        pid,
        plan | {"do_notes": "Used 6 times", "study_notes": "5 of 6 within the hour", "act": "adopt"},
        cycle,
    )
    actions.add_annotation(
        url, trust, pid, {"on_date": "2026-10-01", "text": "Bundle launched", "measure_id": str(mid)}
    )
    view = queries.project_view(url, trust, None, pid)
    assert view.pdsa[0].stage == "Act" and view.pdsa[0].change_idea == "Grab box"
    assert [(m.kind, m.on) for m in view.measures[0].markers] == [
        ("note", dt.date(2026, 10, 1)),
        ("pdsa", dt.date(2026, 10, 5)),
    ]
    assert _audits(url, "qi.pdsa_created") == 1 and _audits(url, "qi.pdsa_updated") == 1
    library = queries.collaborative_view(url, people["member"], None, cid)
    assert [p.title for p in library.projects] == ["Magnesium sulphate before 30 weeks"]
    assert library.projects[0].pdsa_cycles == 1


def test_text_with_a_nul_character_is_refused_not_a_server_error(
    app_store: Settings, people: dict[str, Access]
) -> None:
    # PostgreSQL cannot store NUL in text: without the check this was a 500 on that backend.
    url = app_store.database_url
    with pytest.raises(QiInputError, match="cannot be stored"):
        actions.create_project(url, people["trust"], {"trust_code": OWN, "title": "Bad\x00title"})
    with transaction(url) as session:
        assert session.scalar(select(func.count()).select_from(QiProject)) == 0


def test_a_project_links_the_signal_that_prompted_it_within_its_trust(
    app_store: Settings, people: dict[str, Access]
) -> None:
    url = app_store.database_url
    with transaction(url) as session:
        own = Signal(
            trust_code=OWN,
            measure="stillbirth_rate",
            method="funnel",
            status="open",
            first_signal_date=dt.date(2023, 6, 30),
            last_signal_date=dt.date(2023, 6, 30),
            summary="Stillbirth rate above the upper limit",
        )
        theirs = Signal(
            trust_code=MEMBER,
            measure="stillbirth_rate",
            method="funnel",
            status="open",
            first_signal_date=dt.date(2023, 6, 30),
            last_signal_date=dt.date(2023, 6, 30),
            summary="Another trust's signal",
        )
        session.add_all([own, theirs])
        session.flush()
        own_id, their_id = own.id, theirs.id
    cid = _collaborative(url, people)
    fields = {"trust_code": OWN, "title": "Stillbirths"}
    with pytest.raises(QiInputError, match="trust's signals"):
        actions.create_project(url, people["trust"], fields | {"signal_id": str(their_id)}, [cid])
    pid = actions.create_project(url, people["trust"], fields | {"signal_id": str(own_id)}, [cid])
    mine = queries.project_view(url, people["trust"], None, pid)
    assert mine.signal is not None and mine.signal["summary"] == "Stillbirth rate above the upper limit"
    assert [o[0] for o in mine.signal_options] == [own_id]
    # A member of the collaborative from another trust learns only that a signal prompted it.
    seen = queries.project_view(url, people["member"], None, pid)
    assert seen.signal is None and seen.signal_linked and seen.signal_options == []
    # Saving the details without the field keeps the link; choosing none removes it.
    actions.update_project(url, people["trust"], pid, {"title": "Stillbirths"})
    assert queries.project_view(url, people["trust"], None, pid).signal_linked
    actions.update_project(url, people["trust"], pid, {"title": "Stillbirths", "signal_id": ""})
    assert not queries.project_view(url, people["trust"], None, pid).signal_linked
