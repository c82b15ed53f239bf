"""Running a review: every change validated per field, trailed with before/after and audited in one
transaction; access by trust; a harm report routed to PMRT opens its review, linked both ways."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import func, select

from harm.reports import died_at, report, stillborn
from matneo.auth.access import Access, Forbidden
from matneo.config import Settings
from matneo.db.models import AuditEvent
from matneo.db.session import transaction
from matneo.harm import portal as harm_cases
from matneo.harm import queries as harm_queries
from matneo.reviews import actions, queries
from matneo.reviews.due import due_for_trusts
from matneo.reviews.models import ReviewChange

from .conftest import OTHER, OWN

TODAY = dt.date(2026, 12, 3)


def fields(error: actions.ReviewError) -> dict[str, str]:
    return {e.field: e.message for e in error.errors}


def counts(settings: Settings) -> tuple[int, int]:
    with transaction(settings.database_url) as session:
        return (
            session.scalar(select(func.count()).select_from(ReviewChange)) or 0,
            session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action.like("review.%"))) or 0,
        )


def test_a_review_is_opened_from_the_due_list_and_walked_to_closed(
    with_deaths: Settings, people: dict[str, Access]
) -> None:
    s, trust = with_deaths, people["trust"]
    review_id = actions.open_from_record(s, trust, "NND-22")
    assert actions.open_from_record(s, trust, "NND-22") == review_id  # once only
    assert "NND-22" not in {d["record_id"] for d in due_for_trusts(s, [OWN], TODAY)}
    with pytest.raises(actions.ReviewError) as not_eligible:
        actions.open_from_record(s, trust, "ALIVE-1")
    assert "does not need a PMRT review" in fields(not_eligible.value)["record_id"]
    with pytest.raises(actions.ReviewError):
        actions.open_from_record(s, trust, "SB-OTHER")  # another trust's record: not at your trust

    detail = queries.review_detail(s.database_url, trust, review_id, TODAY)
    assert detail["category"] == "neonatal_death" and detail["record_id"] == "NND-22"
    assert [w["id"] for w in detail["panel"]["warnings"]] == ["no_external_member", "no_neonatologist", "no_chair"]
    started = next(st for st in detail["stages"] if st["stage"] == "started")
    assert started["due"] == "2019-08-15" and started["status"] == "overdue" and started["needs_local_confirmation"]

    chair = actions.add_member(s, trust, review_id, role="chair", name="Dr A Chair")
    neo = actions.add_member(s, trust, review_id, role="neonatologist", name="Dr B Neo")
    actions.add_member(s, trust, review_id, role="obstetrician", name="Dr C External", external="on")
    actions.add_meeting(s, trust, review_id, held_on="2019-07-20", attendees=[chair, neo], today=TODAY)
    actions.update_parents(
        s,
        trust,
        review_id,
        told_on="2019-06-17",
        told_by="Bereavement midwife",
        key_contact="Jo",
        contribute="yes",
        today=TODAY,
    )
    item = actions.add_parent_item(s, trust, review_id, kind="question", text="Why was the scan not repeated?")
    actions.answer_parent_item(s, trust, review_id, item, answer="The panel found the scan should have been repeated.")
    actions.add_issue(
        s,
        trust,
        review_id,
        area="up_to_birth",
        description="Growth scan not repeated",
        relevant="yes",
        factors=["task", "communication"],
    )
    action = actions.add_action(
        s, trust, review_id, description="Audit growth scans", owner="Fetal medicine lead", due_on="2027-03-01"
    )
    actions.update_action(
        s, trust, review_id, action, status="done", evidence="Audit report", done_on="2026-11-01", today=TODAY
    )
    actions.update_stages(s, trust, review_id, {"notified": "2019-06-18", "started": "2019-07-01"}, today=TODAY)

    with pytest.raises(actions.ReviewError) as ungraded:
        actions.update_stages(s, trust, review_id, {"closed": "2019-11-01"}, today=TODAY)
    assert "Grade every area of care" in fields(ungraded.value)["closed"]
    for area, grade in (("up_to_birth", "C"), ("baby_after_birth", "A"), ("mother_after_birth", "B")):
        actions.set_grade(s, trust, review_id, area=area, grade=grade)
    actions.update_stages(
        s,
        trust,
        review_id,
        {"draft_report": "2019-09-01", "shared_with_parents": "2019-10-01", "closed": "2019-11-01"},
        today=TODAY,
    )
    detail = queries.review_detail(s.database_url, trust, review_id, TODAY)
    assert detail["status"] == "closed" and not detail["can_edit"]
    assert detail["panel"]["warnings"] == []
    assert {g["area"]: g["grade"] for g in detail["findings"]["grades"]} == {
        "up_to_birth": "C",
        "baby_after_birth": "A",
        "mother_after_birth": "B",
    }
    assert all(g["needs_local_confirmation"] and g["wording"] is None for g in detail["findings"]["grades"])
    assert detail["parents"]["items"][0]["answered"]
    assert detail["actions"][0]["status"] == "done"
    assert [st["status"] for st in detail["stages"]] == ["done"] * 6
    with pytest.raises(actions.ReviewError) as closed:
        actions.add_member(s, trust, review_id, role="midwife", name="Late")
    assert "closed" in fields(closed.value)["review"]
    trail = [c["action"] for c in detail["changes"]]
    assert trail[0] == "review.opened" and trail[-1] == "review.closed" and "grade.set" in trail
    stage_change = next(c for c in detail["changes"] if c["action"] == "stages.changed")
    assert stage_change["before"]["notified"] is None and stage_change["after"]["notified"] == "2019-06-18"


def test_bad_input_names_every_field_and_writes_nothing(with_deaths: Settings, people: dict[str, Access]) -> None:
    s, trust = with_deaths, people["trust"]
    review_id = actions.open_from_record(s, trust, "SB-24")
    before = counts(s)
    with pytest.raises(actions.ReviewError) as no_role:
        actions.add_member(s, trust, review_id, role="", name="")
    assert set(fields(no_role.value)) == {"role", "name"}
    with pytest.raises(actions.ReviewError) as no_area:
        actions.set_grade(s, trust, review_id, area="", grade="E")
    assert set(fields(no_area.value)) == {"area", "grade"}
    with pytest.raises(actions.ReviewError) as baby_area:
        actions.set_grade(s, trust, review_id, area="baby_after_birth", grade="A")  # stillbirth: not graded
    assert "area" in fields(baby_area.value)
    with pytest.raises(actions.ReviewError) as order:
        actions.update_stages(s, trust, review_id, {"started": "2019-08-01", "draft_report": "2019-07-01"}, today=TODAY)
    assert "on or after the started date" in fields(order.value)["draft_report"]
    with pytest.raises(actions.ReviewError) as future:
        actions.update_stages(s, trust, review_id, {"started": "2027-01-01", "draft_report": "31/12/2019"}, today=TODAY)
    assert set(fields(future.value)) == {"started", "draft_report"}
    with pytest.raises(actions.ReviewError) as before_death:
        actions.update_stages(s, trust, review_id, {"started": "2019-01-01"}, today=TODAY)
    assert "date of death" in fields(before_death.value)["started"]
    with pytest.raises(actions.ReviewError) as action:
        actions.add_action(s, trust, review_id, description="", owner="", due_on="soon")
    assert set(fields(action.value)) == {"description", "owner", "due_on"}
    with pytest.raises(actions.ReviewError) as done:
        actions.update_action(s, trust, review_id, 999, status="done")
    assert set(fields(done.value)) == {"evidence", "done_on"}
    assert counts(s) == before


def test_each_change_has_its_trail_and_audit_event_together(with_deaths: Settings, people: dict[str, Access]) -> None:
    s, trust = with_deaths, people["trust"]
    review_id = actions.open_from_record(s, trust, "SB-24")
    start = counts(s)
    actions.set_grade(s, trust, review_id, area="up_to_birth", grade="B")
    assert counts(s) == (start[0] + 1, start[1] + 1)
    actions.set_grade(s, trust, review_id, area="up_to_birth", grade="B")  # no change, no trail
    assert counts(s) == (start[0] + 1, start[1] + 1)
    actions.set_grade(s, trust, review_id, area="up_to_birth", grade="D")
    detail = queries.review_detail(s.database_url, trust, review_id, TODAY)
    last = detail["changes"][-1]
    assert (last["before"], last["after"]) == ({"grade": "B"}, {"grade": "D"})
    with transaction(s.database_url) as session:
        details = [
            json.loads(d) for d in session.scalars(select(AuditEvent.details).where(AuditEvent.action.like("review.%")))
        ]
    assert all("SB-24" not in json.dumps(d) for d in details)  # no record ids in the app-wide audit


def test_access_by_trust_scope_and_joint_review(with_deaths: Settings, people: dict[str, Access]) -> None:
    s = with_deaths
    review_id = actions.open_from_record(s, people["trust"], "LFL-22")
    actions.add_parent_item(s, people["trust"], review_id, kind="concern", text="Nobody called us back")
    with pytest.raises(actions.ReviewNotFound):
        queries.review_detail(s.database_url, people["other"], review_id, TODAY)
    with pytest.raises(actions.ReviewNotFound):
        actions.set_grade(s, people["other"], review_id, area="up_to_birth", grade="A")
    lmns = queries.review_detail(s.database_url, people["lmns"], review_id, TODAY)
    assert lmns["content_hidden"] and lmns["record_id"] is None
    assert lmns["parents"]["items"][0]["text"] is None
    assert "Nobody called us back" not in json.dumps(lmns)
    with pytest.raises(Forbidden):
        actions.set_grade(s, people["lmns"], review_id, area="up_to_birth", grade="A")
    with pytest.raises(Forbidden):
        actions.set_grade(s, people["trust_admin"], review_id, area="up_to_birth", grade="A")
    assert [r["id"] for r in queries.review_list(s.database_url, people["national"], TODAY)] == [review_id]
    assert queries.review_list(s.database_url, people["other"], TODAY) == []

    actions.update_findings(s, people["trust"], review_id, joint_trusts=[OTHER], today=TODAY)
    joint = queries.review_detail(s.database_url, people["other"], review_id, TODAY)
    assert not joint["content_hidden"] and joint["parents"]["items"][0]["text"] == "Nobody called us back"
    actions.set_grade(s, people["other"], review_id, area="up_to_birth", grade="A")
    assert [r["id"] for r in queries.review_list(s.database_url, people["other"], TODAY)] == [review_id]
    with pytest.raises(actions.ReviewError) as bad_trust:
        actions.update_findings(s, people["trust"], review_id, joint_trusts=["NOPE"], mnsi_findings="x", today=TODAY)
    assert set(fields(bad_trust.value)) == {"joint_trusts", "mnsi_investigation"}


def test_a_harm_report_routed_to_pmrt_opens_its_review_linked_both_ways(
    app_store: Settings, people: dict[str, Access]
) -> None:
    s, trust = app_store, people["trust"]
    result = harm_cases.submit(s, trust, report(baby=stillborn(), weeks=36), today=dt.date(2026, 3, 5))
    case = harm_queries.case_detail(s.database_url, trust, result.id, today=dt.date(2026, 3, 5))
    assert "PMRT" in [r["route_id"] for r in case["routes"]]
    review_id = case["review_id"]
    assert review_id is not None
    detail = queries.review_detail(s.database_url, trust, review_id, TODAY)
    assert detail["harm_report_id"] == result.id
    assert (detail["category"], detail["death_date"]) == ("stillbirth", "2026-03-02")
    again = harm_cases.submit(s, trust, report(baby=died_at(3), weeks=30), today=dt.date(2026, 3, 9))
    nnd = harm_queries.case_detail(s.database_url, trust, again.id, today=dt.date(2026, 3, 9))["review_id"]
    assert queries.review_detail(s.database_url, trust, nnd, TODAY)["category"] == "neonatal_death"
    well = harm_cases.submit(s, trust, report(never_event=True), today=dt.date(2026, 3, 9))
    assert harm_queries.case_detail(s.database_url, trust, well.id, today=dt.date(2026, 3, 9))["review_id"] is None
