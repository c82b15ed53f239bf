"""Harm cases on both backends: drafts, submission, idempotency, crash safety, routes, trail, scope."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import func, select

from matneo.auth.access import Access, Forbidden
from matneo.config import Settings
from matneo.db.models import AuditEvent, HarmCase, HarmChange, HarmNotification, HarmRoute
from matneo.db.session import transaction
from matneo.harm import HarmReportError, portal
from matneo.harm.portal import CaseError, CaseNotFound, Patient, common, linking, queries
from matneo.harm.portal.exports import export_route

from .conftest import OTHER, OWN
from .reports import live_baby, report, stillborn

SUBMITTED = dt.date(2026, 3, 4)
LATER = dt.date(2026, 3, 20)
NHS = "9434765919"  # valid check digit


def stillbirth() -> dict:
    return report(baby=stillborn("intrapartum"), notifiable_safety_incident=True)


def count(url: str, model: type) -> int:
    with transaction(url) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_submit_routes_and_trails_in_one_go(app_store: Settings, people: dict[str, Access]) -> None:
    url = app_store.database_url
    result = portal.submit(app_store, people["trust"], stillbirth(), Patient(NHS, "Baby of A"), today=SUBMITTED)
    assert result.status == "submitted" and not result.repeat
    detail = queries.case_detail(url, people["trust"], result.id, today=SUBMITTED)
    assert [r["route_id"] for r in detail["routes"]] == [
        "MNSI",
        "MBRRACE_PERINATAL",
        "PMRT",
        "DUTY_OF_CANDOUR",
        "LFPSE",
    ]
    mnsi = detail["routes"][0]
    assert mnsi["next_due"] == "2026-03-03" and mnsi["display_status"] == "overdue"
    assert detail["patient"] == {"nhs_number": NHS, "label": "Baby of A"}
    assert detail["changes"][0]["action"] == "report.submitted"
    assert detail["changes"][0]["after"]["routes"][0] == "MNSI"
    with transaction(url) as session:
        details = [json.loads(d) for d in session.scalars(select(AuditEvent.details))]
    assert all(NHS not in json.dumps(d) and "Baby of A" not in json.dumps(d) for d in details)


def test_bad_report_names_every_field(app_store: Settings, people: dict[str, Access]) -> None:
    data = stillbirth()
    del data["mother"]
    with pytest.raises(HarmReportError) as caught:
        portal.submit(app_store, people["trust"], data, Patient("123"), today=SUBMITTED)
    assert {e.field for e in caught.value.errors} == {"mother", "patient.nhs_number"}
    assert count(app_store.database_url, HarmCase) == 0


def test_idempotency_key_returns_the_first_report(app_store: Settings, people: dict[str, Access]) -> None:
    first = portal.submit(app_store, people["trust"], stillbirth(), idempotency_key="k-1", today=SUBMITTED)
    again = portal.submit(app_store, people["colleague"], stillbirth(), idempotency_key="k-1", today=SUBMITTED)
    assert again.id == first.id and again.repeat
    other = portal.submit(app_store, people["other"], stillbirth(), idempotency_key="k-1", today=SUBMITTED)
    assert other.id != first.id  # keys are per trust
    assert count(app_store.database_url, HarmCase) == 2
    with pytest.raises(CaseError):
        portal.submit(app_store, people["trust"], stillbirth(), idempotency_key="no spaces", today=SUBMITTED)


@pytest.mark.parametrize("point", ["after_report_flushed", "after_routes_flushed"])
def test_a_crash_mid_save_leaves_nothing(
    app_store: Settings, people: dict[str, Access], monkeypatch: pytest.MonkeyPatch, point: str
) -> None:
    def crash(name: str) -> None:
        if name == point:
            raise RuntimeError("power cut")

    monkeypatch.setattr(common, "_checkpoint", crash)
    with pytest.raises(RuntimeError, match="power cut"):
        portal.submit(app_store, people["trust"], stillbirth(), idempotency_key="k", today=SUBMITTED)
    url = app_store.database_url
    assert [count(url, m) for m in (HarmCase, HarmRoute, HarmChange)] == [0, 0, 0]
    monkeypatch.undo()
    assert not portal.submit(app_store, people["trust"], stillbirth(), idempotency_key="k", today=SUBMITTED).repeat


def test_drafts_are_partial_kept_and_submitted_once(app_store: Settings, people: dict[str, Access]) -> None:
    url = app_store.database_url
    draft = portal.save_draft(app_store, people["trust"], {"baby": {"birth_date": "2026-03-02"}}, Patient(label="A"))
    assert draft.status == "draft"
    # a colleague at the same trust carries on (drafts belong to the trust, and survive sign-out)
    again = portal.save_draft(app_store, people["colleague"], stillbirth(), Patient(NHS, "A"), draft_id=draft.id)
    assert again.id == draft.id
    assert queries.report_for_edit(url, people["colleague"], draft.id)["report"] == stillbirth()
    assert [d["case_id"] for d in queries.queue(url, people["trust"], SUBMITTED)["drafts"]] == [draft.id]
    # nobody outside the trust sees a draft
    for name in ("lmns", "national", "other", "trust_admin"):
        with pytest.raises(CaseNotFound):
            queries.case_detail(url, people[name], draft.id)
    done = portal.submit(
        app_store, people["trust"], stillbirth(), Patient(NHS, "A"), draft_id=draft.id, today=SUBMITTED
    )
    assert done.id == draft.id and done.status == "submitted"
    assert portal.submit(app_store, people["trust"], stillbirth(), draft_id=draft.id, today=SUBMITTED).repeat
    assert count(url, HarmCase) == 1 and count(url, HarmRoute) == 5
    with pytest.raises(CaseNotFound):
        portal.save_draft(app_store, people["other"], {}, draft_id=draft.id)


def test_only_trust_staff_report_for_their_own_trust(app_store: Settings, people: dict[str, Access]) -> None:
    for name in ("lmns", "national", "trust_admin"):
        with pytest.raises(Forbidden):
            portal.submit(app_store, people[name], stillbirth(), today=SUBMITTED)


def test_route_updates_are_checked_and_trailed(app_store: Settings, people: dict[str, Access]) -> None:
    url = app_store.database_url
    case_id = portal.submit(app_store, people["trust"], stillbirth(), today=SUBMITTED).id
    with pytest.raises(CaseError, match="reference"):
        portal.update_route(app_store, people["trust"], case_id, "MNSI", "done", done_on="2026-03-03", today=LATER)
    with pytest.raises(CaseError, match="future"):
        portal.update_route(
            app_store, people["trust"], case_id, "MNSI", "done", reference="M1", done_on="2026-04-01", today=LATER
        )
    with pytest.raises(CaseError, match="reason"):
        portal.update_route(app_store, people["trust"], case_id, "PMRT", "not_applicable", today=LATER)
    with pytest.raises(CaseNotFound):
        portal.update_route(app_store, people["trust"], case_id, "CDOP", "due", today=LATER)
    with pytest.raises(Forbidden):
        portal.update_route(app_store, people["lmns"], case_id, "MNSI", "due", today=LATER)
    with pytest.raises(CaseNotFound):
        portal.update_route(app_store, people["other"], case_id, "MNSI", "due", today=LATER)

    portal.update_route(
        app_store, people["trust"], case_id, "MNSI", "done", reference="MNSI/26/001", done_on="2026-03-03", today=LATER
    )
    portal.update_route(
        app_store, people["trust"], case_id, "MNSI", "done", reference="MNSI/26/001", done_on="2026-03-03", today=LATER
    )  # no change, no trail row
    portal.update_route(app_store, people["trust"], case_id, "PMRT", "not_applicable", reason="Baby of A", today=LATER)
    portal.update_route(app_store, people["trust"], case_id, "PMRT", "due", today=LATER)
    detail = queries.case_detail(url, people["trust"], case_id, today=LATER)
    mnsi = next(r for r in detail["routes"] if r["route_id"] == "MNSI")
    assert (mnsi["display_status"], mnsi["reference"], mnsi["done_on"]) == ("done", "MNSI/26/001", "2026-03-03")
    changes = detail["changes"]
    assert [c["action"] for c in changes] == ["report.submitted", "route.done", "route.not_applicable", "route.due"]
    assert changes[1]["before"]["status"] == "due" and changes[1]["after"]["reference"] == "MNSI/26/001"
    assert changes[1]["actor"] == "midwife@r0a.test" and changes[1]["at"]

    seen_by_lmns = queries.case_detail(url, people["lmns"], case_id, today=LATER)
    assert seen_by_lmns["identifiers_hidden"] and seen_by_lmns["patient"] is None
    assert seen_by_lmns["changes"][1]["after"]["reference"] == "MNSI/26/001"  # not sensitive
    assert seen_by_lmns["changes"][2]["after"] is None and seen_by_lmns["changes"][2]["values_hidden"]
    assert "Baby of A" not in json.dumps(seen_by_lmns)


def test_contacts_candour_and_attachments(app_store: Settings, people: dict[str, Access]) -> None:
    url = app_store.database_url
    case_id = portal.submit(app_store, people["trust"], stillbirth(), Patient(NHS), today=SUBMITTED).id
    trust = people["trust"]
    portal.add_family_contact(
        app_store, trust, case_id, contacted_on="2026-03-05", by="J Smith", method="in_person", summary="Met Ms A"
    )
    with pytest.raises(CaseError, match="method"):
        portal.add_family_contact(
            app_store, trust, case_id, contacted_on="2026-03-05", by="J", method="pigeon", summary="x"
        )
    portal.record_candour_step(app_store, trust, case_id, "verbal", done_on="2026-03-05", by="J Smith", note="Apology")
    portal.record_candour_step(app_store, trust, case_id, "verbal", done_on="2026-03-06", by="J Smith", note="Apology")
    portal.add_attachment(app_store, trust, case_id, file_name="timeline-A.pdf", description="Timeline")
    detail = queries.case_detail(url, trust, case_id)
    assert detail["family_contacts"][0]["summary"] == "Met Ms A"
    verbal = detail["candour_steps"][0]
    assert verbal["done_on"] == "2026-03-06"
    assert detail["changes"][-2]["before"]["done_on"] == "2026-03-05"
    assert detail["attachments"][0]["file_name"] == "timeline-A.pdf"
    national = queries.case_detail(url, people["national"], case_id)
    text = json.dumps(national)
    assert "Met Ms A" not in text and "timeline-A" not in text and NHS not in text and "Apology" not in text
    assert national["family_contacts"][0]["on"] == "2026-03-05"
    mnsi = export_route(url, trust, case_id, "MNSI")
    assert mnsi["patient"]["nhs_number"] == NHS and mnsi["duty_of_candour"]["verbal"] == "2026-03-06"
    assert mnsi["event"]["baby.fetal_death_timing"] == "intrapartum"
    withheld = export_route(url, people["lmns"], case_id, "MNSI")
    assert withheld["identifiers_withheld"] and "patient" not in withheld
    with pytest.raises(CaseNotFound):
        export_route(url, people["other"], case_id, "MNSI")
    with pytest.raises(CaseNotFound):
        export_route(url, trust, case_id, "CDOP")


def test_overdue_check_notifies_once_and_queues_order_by_deadline(
    app_store: Settings, people: dict[str, Access]
) -> None:
    url = app_store.database_url
    late = portal.submit(app_store, people["trust"], stillbirth(), today=SUBMITTED).id
    well = portal.submit(app_store, people["trust"], report(), today=SUBMITTED).id
    elsewhere = portal.submit(app_store, people["other"], stillbirth(), today=SUBMITTED).id
    portal.update_route(
        app_store, people["trust"], late, "MNSI", "done", reference="M1", done_on="2026-03-02", today=LATER
    )
    made = portal.overdue_check(url, LATER)
    assert made == portal.overdue_check(url, LATER) + made  # second run makes none
    with transaction(url) as session:
        notes = session.scalars(select(HarmNotification)).all()
    overdue_routes = {(n.report_id, n.route_id) for n in notes if n.report_id == late}
    # LFPSE is "as soon as possible": no date, so never overdue and never notified
    assert overdue_routes == {(late, "MBRRACE_PERINATAL"), (late, "DUTY_OF_CANDOUR")}
    assert all(n.route_id != "LFPSE" for n in notes)
    assert all(NHS not in n.message for n in notes)

    mine = queries.queue(url, people["trust"], LATER)
    assert [c["case_id"] for c in mine["open_cases"]] == [late, well]  # well: only LFPSE, with no date
    assert [c["next_due"] for c in mine["open_cases"]][1] is None
    assert {o["case_id"] for o in mine["overdue"]} == {late}
    assert {n["case_id"] for n in mine["notifications"]} == {late}
    assert elsewhere not in {n["case_id"] for n in mine["notifications"]}
    assert [t["trust_code"] for t in mine["per_trust"]] == [OWN]
    own_row = mine["per_trust"][0]
    assert (own_row["routes_done"], own_row["routes_done_on_time"], own_row["on_time_percent"]) == (1, 1, 100.0)

    lmns = queries.queue(url, people["lmns"], LATER)
    assert lmns["open_cases"] == [] and lmns["notifications"] == [] and lmns["drafts"] == []
    assert [t["trust_code"] for t in lmns["per_trust"]] == [OWN]
    national = queries.queue(url, people["national"], LATER)
    assert {t["trust_code"] for t in national["per_trust"]} == {OWN, OTHER}
    assert portal.mark_notifications_read(url, people["trust"]) == len(mine["notifications"])


def test_overdue_check_command(app_store: Settings, people: dict[str, Access]) -> None:
    """`matneo harm overdue-check` (what cron runs daily) makes the notifications once."""
    import typer
    from typer.testing import CliRunner

    from matneo.cli.harm import harm_app

    cli = typer.Typer()
    cli.add_typer(harm_app, name="harm")
    portal.submit(app_store, people["trust"], stillbirth(), today=SUBMITTED)
    first = CliRunner().invoke(cli, ["harm", "overdue-check", "--today", LATER.isoformat()])
    assert first.exit_code == 0, first.output
    assert first.stdout.strip() == "3 new overdue notifications."  # not LFPSE: it has no deadline
    again = CliRunner().invoke(cli, ["harm", "overdue-check", "--today", LATER.isoformat()])
    assert again.stdout.strip() == "0 new overdue notifications."
    bad = CliRunner().invoke(cli, ["harm", "overdue-check", "--today", "20-03-2026"])
    assert bad.exit_code == 2


# -- amending a submitted report and re-routing ------------------------------------------------
def cooled_baby() -> dict:
    """A term baby, actively cooled (MNSI), MRI result not back yet: NHS Resolution EN is pending."""
    return report(baby=live_baby(therapeutic_cooling="active", mri_evidence_hypoxic_injury=None))


def snapshot(url: str, case_id: int) -> dict:
    """Everything an amendment may write, to show that a refused one wrote nothing."""
    with transaction(url) as session:
        case = session.get(HarmCase, case_id)
        routes = session.scalars(select(HarmRoute).where(HarmRoute.report_id == case_id).order_by(HarmRoute.id))
        return {
            "case": (case.report, case.routing, case.ruleset, case.updated_at),
            "routes": [(r.route_id, r.status, r.deadlines, r.next_due, r.reason) for r in routes],
            "changes": session.scalar(select(func.count()).select_from(HarmChange)),
            "audit": session.scalar(select(func.count()).select_from(AuditEvent)),
        }


def test_mri_result_adds_nhs_resolution_dated_from_the_birth(app_store: Settings, people: dict[str, Access]) -> None:
    url = app_store.database_url
    case_id = portal.submit(app_store, people["trust"], cooled_baby(), today=SUBMITTED).id
    before = queries.case_detail(url, people["trust"], case_id, today=LATER)
    assert [r["route_id"] for r in before["routes"]] == ["MNSI", "LFPSE"]
    assert [p["field"] for p in before["pending"]] == ["baby.mri_evidence_hypoxic_injury"]

    result = portal.amend(
        app_store, people["colleague"], case_id, {"baby.mri_evidence_hypoxic_injury": True}, today=LATER
    )
    assert result.changed == ("baby.mri_evidence_hypoxic_injury",) and result.added == ("NHSR_EN",)
    detail = queries.case_detail(url, people["trust"], case_id, today=LATER)
    nhsr = next(r for r in detail["routes"] if r["route_id"] == "NHSR_EN")
    # §2b (NHS Resolution EN report form page): legal services within 14 days and NHS Resolution within 30 days, both
    # counted from the birth (2026-03-02), not from the day the MRI result was recorded:
    # 2026-03-02 + 14 = 2026-03-16; 2026-03-02 + 30 = 2026-04-01 (March has 31 days).
    assert nhsr["deadlines"] == {"legal_services_informed": "2026-03-16", "notify_nhsr": "2026-04-01"}
    assert nhsr["next_due"] == "2026-03-16"
    assert nhsr["status"] == "due" and nhsr["display_status"] == "overdue"  # amended 2026-03-20: already late
    assert detail["pending"] == [] and detail["report"]["baby"]["mri_evidence_hypoxic_injury"] is True
    assert detail["ruleset"] == before["ruleset"]
    actions = [c["action"] for c in detail["changes"]]
    assert actions == ["report.submitted", "answer.changed", "route.added", "report.rerouted"]
    answer = detail["changes"][1]
    assert answer["actor"] == "obstetrician@r0a.test" and answer["at"]
    assert answer["before"] == {"baby.mri_evidence_hypoxic_injury": None}
    assert answer["after"] == {"baby.mri_evidence_hypoxic_injury": True}
    assert detail["changes"][2]["after"]["deadlines"]["notify_nhsr"] == "2026-04-01"
    # the answer is routing input, shown to the LMNS like the rest of it
    lmns = queries.case_detail(url, people["lmns"], case_id, today=LATER)
    assert lmns["changes"][1]["after"] == {"baby.mri_evidence_hypoxic_injury": True}
    # the same answer again changes nothing and writes nothing
    again = portal.amend(app_store, people["trust"], case_id, {"baby.mri_evidence_hypoxic_injury": True}, today=LATER)
    assert again.changed == () and len(queries.case_detail(url, people["trust"], case_id)["changes"]) == 4
    assert portal.overdue_check(url, LATER) >= 1  # the new, already late route is notified like any other


def test_duty_of_candour_judged_yes_adds_the_route(app_store: Settings, people: dict[str, Access]) -> None:
    url = app_store.database_url
    data = report(baby=stillborn("intrapartum"), notifiable_safety_incident=None)
    case_id = portal.submit(app_store, people["trust"], data, today=SUBMITTED).id
    assert "DUTY_OF_CANDOUR" not in [
        r["route_id"] for r in queries.case_detail(url, people["trust"], case_id)["routes"]
    ]
    result = portal.amend(app_store, people["trust"], case_id, {"notifiable_safety_incident": True}, today=LATER)
    assert result.added == ("DUTY_OF_CANDOUR",)
    detail = queries.case_detail(url, people["trust"], case_id, today=LATER)
    candour = next(r for r in detail["routes"] if r["route_id"] == "DUTY_OF_CANDOUR")
    # §7, §10 (regulation 20): 10 working days from the day the trust became aware (2026-03-02, a
    # Monday; no bank holidays): 3, 4, 5, 6, 9, 10, 11, 12, 13, 16 March.
    assert candour["deadlines"] == {"notification": "2026-03-16"} and candour["display_status"] == "overdue"
    assert detail["candour_applies"]


def test_a_route_that_no_longer_applies(app_store: Settings, people: dict[str, Access]) -> None:
    """Due routes become not applicable with the reason; a done route stays done, noted in the trail."""
    url = app_store.database_url
    case_id = portal.submit(app_store, people["trust"], stillbirth(), Patient(NHS), today=SUBMITTED).id
    portal.update_route(
        app_store, people["trust"], case_id, "MNSI", "done", reference="MNSI/1", done_on="2026-03-03", today=LATER
    )
    changes = {"baby.fetal_death_timing": "antepartum", "notifiable_safety_incident": False}
    result = portal.amend(app_store, people["trust"], case_id, changes, today=LATER)
    assert result.no_longer_applies == ("MNSI", "DUTY_OF_CANDOUR") and result.added == ()
    detail = queries.case_detail(url, people["trust"], case_id, today=LATER)
    routes = {r["route_id"]: r for r in detail["routes"]}
    assert (routes["MNSI"]["status"], routes["MNSI"]["reference"]) == ("done", "MNSI/1")
    candour = routes["DUTY_OF_CANDOUR"]
    assert candour["status"] == "not_applicable"
    assert candour["reason"] == (
        "No longer applies after the report was amended (answers changed: When the stillborn baby died, "
        "Notifiable safety incident (Duty of Candour))."
    )
    assert routes["PMRT"]["status"] == "due"  # still required: untouched
    trail = {c["action"]: c for c in detail["changes"]}
    assert trail["route.no_longer_applies"]["what"].startswith("Maternity and Newborn Safety")
    assert trail["route.no_longer_applies"]["after"]["status"] == "done"
    assert trail["route.not_applicable"]["after"]["reason"] == candour["reason"]
    assert trail["report.rerouted"]["after"]["routes"] == ["MBRRACE_PERINATAL", "PMRT", "LFPSE"]
    lmns = queries.case_detail(url, people["lmns"], case_id, today=LATER)
    assert next(c for c in lmns["changes"] if c["action"] == "route.not_applicable")["values_hidden"]
    # judged yes again: the route the amendment ended applies again (due, same deadlines)
    back = portal.amend(app_store, people["trust"], case_id, {"notifiable_safety_incident": True}, today=LATER)
    assert back.added == ("DUTY_OF_CANDOUR",)
    again = {r["route_id"]: r for r in queries.case_detail(url, people["trust"], case_id)["routes"]}
    assert again["DUTY_OF_CANDOUR"]["status"] == "due" and again["DUTY_OF_CANDOUR"]["reason"] is None


def test_invalid_amendments_change_nothing(app_store: Settings, people: dict[str, Access]) -> None:
    url = app_store.database_url
    case_id = portal.submit(app_store, people["trust"], cooled_baby(), today=SUBMITTED).id
    before = snapshot(url, case_id)
    with pytest.raises(HarmReportError) as caught:
        portal.amend(app_store, people["trust"], case_id, {"baby.hie_grade": 7}, today=LATER)
    assert [e.field for e in caught.value.errors] == ["baby.hie_grade"]
    for changes, field in (
        ({"baby.colour": "blue"}, "baby.colour"),
        ({"baby": None}, "baby"),
        ({"incident_known_date": None}, "incident_known_date"),
        ({}, "changes"),
    ):
        with pytest.raises(CaseError) as refused:
            portal.amend(app_store, people["trust"], case_id, changes, today=LATER)
        assert refused.value.errors[0].field == field
    with pytest.raises(HarmReportError, match="future"):
        portal.amend(app_store, people["trust"], case_id, {"incident_known_date": "2026-04-01"}, today=LATER)
    assert snapshot(url, case_id) == before


def test_only_the_owning_trust_amends(app_store: Settings, people: dict[str, Access]) -> None:
    url = app_store.database_url
    case_id = portal.submit(app_store, people["trust"], cooled_baby(), today=SUBMITTED).id
    draft = portal.save_draft(app_store, people["trust"], cooled_baby()).id
    before = snapshot(url, case_id)
    change = {"baby.mri_evidence_hypoxic_injury": True}
    with pytest.raises(CaseNotFound):
        portal.amend(app_store, people["other"], case_id, change, today=LATER)
    for name in ("lmns", "national", "trust_admin"):
        with pytest.raises(Forbidden):
            portal.amend(app_store, people[name], case_id, change, today=LATER)
    with pytest.raises(CaseError, match="draft"):
        portal.amend(app_store, people["trust"], draft, change, today=LATER)
    assert snapshot(url, case_id) == before


@pytest.mark.parametrize("point", ["after_amended_report_flushed", "after_amended_routes_flushed"])
def test_a_crash_mid_amendment_leaves_the_case_as_it_was(
    app_store: Settings, people: dict[str, Access], monkeypatch: pytest.MonkeyPatch, point: str
) -> None:
    url = app_store.database_url
    case_id = portal.submit(app_store, people["trust"], cooled_baby(), today=SUBMITTED).id
    before = snapshot(url, case_id)

    def crash(name: str) -> None:
        if name == point:
            raise RuntimeError("power cut")

    monkeypatch.setattr(common, "_checkpoint", crash)
    with pytest.raises(RuntimeError, match="power cut"):
        portal.amend(app_store, people["trust"], case_id, {"baby.mri_evidence_hypoxic_injury": True}, today=LATER)
    assert snapshot(url, case_id) == before  # report, routes, trail rows and audit: all or nothing
    monkeypatch.undo()
    done = portal.amend(app_store, people["trust"], case_id, {"baby.mri_evidence_hypoxic_injury": True}, today=LATER)
    assert done.added == ("NHSR_EN",)


def test_deadlines_keep_their_clock_and_move_with_the_dates(
    app_store: Settings, people: dict[str, Access], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A report submitted without an awareness date keeps the submission day as its clock; changing
    a clock date re-dates the routes still required (trailed), and the birth-record link is redone."""
    url = app_store.database_url
    links = iter([(None, "none"), ("REC-0301", "linked")])  # at submission, then after the amendment
    monkeypatch.setattr(linking, "link_record", lambda *args: next(links))
    data = stillbirth()
    del data["incident_known_date"]
    case_id = portal.submit(app_store, people["trust"], data, today=SUBMITTED).id
    first = {r["route_id"]: r for r in queries.case_detail(url, people["trust"], case_id)["routes"]}
    awareness_clock = {"notification": "2026-03-18"}  # Duty of Candour: 10 working days from the submission day
    assert first["DUTY_OF_CANDOUR"]["deadlines"] == awareness_clock
    result = portal.amend(
        app_store, people["trust"], case_id, {"baby.birth_date": "2026-03-01", "never_event": False}, today=LATER
    )
    assert result.changed == ("baby.birth_date",)  # never_event was already false
    detail = queries.case_detail(url, people["trust"], case_id)
    routes = {r["route_id"]: r for r in detail["routes"]}
    assert routes["DUTY_OF_CANDOUR"]["deadlines"] == awareness_clock  # not counted from the amendment day
    assert routes["PMRT"]["deadlines"]["review_started"] == "2026-05-01"  # 2 months after the (stillbirth) birth
    assert "PMRT" in result.deadlines_changed and "DUTY_OF_CANDOUR" not in result.deadlines_changed
    assert detail["event_date"] == "2026-03-01"
    actions = [c["action"] for c in detail["changes"]]
    assert "route.deadlines_changed" in actions
    assert detail["birth_record"] == {"status": "linked", "record_id": "REC-0301"}
    relinked = next(c for c in detail["changes"] if c["action"] == "birth_record.relinked")
    assert relinked["before"]["status"] == "none" and relinked["after"]["record"] == "REC-0301"
    lmns = queries.case_detail(url, people["lmns"], case_id)
    assert "REC-0301" not in json.dumps(lmns)  # the link is an identifier: owning trust only


def test_a_route_redated_by_an_amendment_is_notified_again_when_it_goes_overdue(
    app_store: Settings, people: dict[str, Access]
) -> None:
    """Notices are once per missed deadline, not once per route: after the birth date is corrected,
    routes whose new deadline has also passed get a new notice (a missed one would be unsafe)."""
    url = app_store.database_url
    case_id = portal.submit(app_store, people["trust"], stillbirth(), today=SUBMITTED).id
    first = portal.overdue_check(url, LATER)
    assert first > 0
    result = portal.amend(app_store, people["trust"], case_id, {"baby.birth_date": "2026-03-01"}, today=LATER)
    routes = {r["route_id"]: r for r in queries.case_detail(url, people["trust"], case_id)["routes"]}
    expected = {
        r
        for r in result.deadlines_changed
        if routes[r]["status"] == "due" and routes[r]["next_due"] < LATER.isoformat()
    }
    assert expected, "the correction moved at least one deadline that has passed"
    assert portal.overdue_check(url, LATER) == len(expected)
    assert portal.overdue_check(url, LATER) == 0
    with transaction(url) as session:
        notices = session.scalars(select(HarmNotification).where(HarmNotification.report_id == case_id)).all()
    for route in expected:
        due = sorted(n.due_on.isoformat() for n in notices if n.route_id == route)
        assert len(due) == 2 and due[0] != due[1] and routes[route]["next_due"] in due


def test_migration_0007_keeps_existing_notices_from_repeating(app_store: Settings, people: dict[str, Access]) -> None:
    """Upgrading gives existing notices their route's deadline, so the next check repeats none."""
    from alembic import command
    from alembic.config import Config

    from matneo.db.session import MIGRATIONS_DIR, get_engine, migrate

    url = app_store.database_url
    portal.submit(app_store, people["trust"], stillbirth(), today=SUBMITTED)
    made = portal.overdue_check(url, LATER)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with get_engine(url).begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0006")  # notices as they were: no deadline recorded
    migrate(url)
    with transaction(url) as session:
        notices = session.scalars(select(HarmNotification)).all()
        routes = {(r.report_id, r.route_id): r.next_due for r in session.scalars(select(HarmRoute))}
    assert len(notices) == made
    assert all(n.due_on == routes[(n.report_id, n.route_id)] for n in notices)
    assert portal.overdue_check(url, LATER) == 0
