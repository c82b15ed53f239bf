"""Harm cases on both backends: drafts, submission, idempotency, crash safety, routes, trail, scope."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import func, select

from matneo.auth.access import Access, Forbidden
from matneo.auth.signin import SignedInUser
from matneo.config import Settings
from matneo.db.models import AuditEvent, HarmCase, HarmChange, HarmNotification, HarmRoute
from matneo.db.session import prepare, transaction
from matneo.harm import HarmReportError, cases, queries
from matneo.harm.cases import CaseError, CaseNotFound, Patient
from matneo.harm.exports import export_route
from matneo.reference.organisations import OrgHierarchy

from .reports import report, stillborn

OWN, OTHER = "R0A", "RJ1"
SUBMITTED = dt.date(2026, 3, 4)
LATER = dt.date(2026, 3, 20)
NHS = "9434765919"  # valid check digit


def stillbirth() -> dict:
    return report(baby=stillborn("intrapartum"), notifiable_safety_incident=True)


@pytest.fixture
def app_store(settings: Settings) -> Settings:
    settings.ensure_dirs()
    prepare(settings.database_url)
    return settings


@pytest.fixture(scope="module")
def people(hierarchy: OrgHierarchy) -> dict[str, Access]:
    def make(i: int, email: str, role: str, org: str) -> Access:
        return Access(SignedInUser(i, email, role, org, "csrf"), hierarchy)

    return {
        "trust": make(1, "midwife@r0a.test", "trust_staff", OWN),
        "colleague": make(2, "obstetrician@r0a.test", "trust_staff", OWN),
        "other": make(3, "staff@rj1.test", "trust_staff", OTHER),
        "lmns": make(4, "lead@lmns.test", "lmns_lead", hierarchy.ancestor_at(OWN, "lmns").code),
        "national": make(5, "analyst@eng.test", "national_analyst", "ENG"),
        "trust_admin": make(6, "admin@r0a.test", "administrator", OWN),
    }


def count(url: str, model: type) -> int:
    with transaction(url) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_submit_routes_and_trails_in_one_go(app_store: Settings, people: dict[str, Access]) -> None:
    url = app_store.database_url
    result = cases.submit(app_store, people["trust"], stillbirth(), Patient(NHS, "Baby of A"), today=SUBMITTED)
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
        cases.submit(app_store, people["trust"], data, Patient("123"), today=SUBMITTED)
    assert {e.field for e in caught.value.errors} == {"mother", "patient.nhs_number"}
    assert count(app_store.database_url, HarmCase) == 0


def test_idempotency_key_returns_the_first_report(app_store: Settings, people: dict[str, Access]) -> None:
    first = cases.submit(app_store, people["trust"], stillbirth(), idempotency_key="k-1", today=SUBMITTED)
    again = cases.submit(app_store, people["colleague"], stillbirth(), idempotency_key="k-1", today=SUBMITTED)
    assert again.id == first.id and again.repeat
    other = cases.submit(app_store, people["other"], stillbirth(), idempotency_key="k-1", today=SUBMITTED)
    assert other.id != first.id  # keys are per trust
    assert count(app_store.database_url, HarmCase) == 2
    with pytest.raises(CaseError):
        cases.submit(app_store, people["trust"], stillbirth(), idempotency_key="no spaces", today=SUBMITTED)


@pytest.mark.parametrize("point", ["after_report_flushed", "after_routes_flushed"])
def test_a_crash_mid_save_leaves_nothing(
    app_store: Settings, people: dict[str, Access], monkeypatch: pytest.MonkeyPatch, point: str
) -> None:
    def crash(name: str) -> None:
        if name == point:
            raise RuntimeError("power cut")

    monkeypatch.setattr(cases, "_checkpoint", crash)
    with pytest.raises(RuntimeError, match="power cut"):
        cases.submit(app_store, people["trust"], stillbirth(), idempotency_key="k", today=SUBMITTED)
    url = app_store.database_url
    assert [count(url, m) for m in (HarmCase, HarmRoute, HarmChange)] == [0, 0, 0]
    monkeypatch.undo()
    assert not cases.submit(app_store, people["trust"], stillbirth(), idempotency_key="k", today=SUBMITTED).repeat


def test_drafts_are_partial_kept_and_submitted_once(app_store: Settings, people: dict[str, Access]) -> None:
    url = app_store.database_url
    draft = cases.save_draft(app_store, people["trust"], {"baby": {"birth_date": "2026-03-02"}}, Patient(label="A"))
    assert draft.status == "draft"
    # a colleague at the same trust carries on (drafts belong to the trust, and survive sign-out)
    again = cases.save_draft(app_store, people["colleague"], stillbirth(), Patient(NHS, "A"), draft_id=draft.id)
    assert again.id == draft.id
    assert queries.report_for_edit(url, people["colleague"], draft.id)["report"] == stillbirth()
    assert [d["case_id"] for d in queries.queue(url, people["trust"], SUBMITTED)["drafts"]] == [draft.id]
    # nobody outside the trust sees a draft
    for name in ("lmns", "national", "other", "trust_admin"):
        with pytest.raises(CaseNotFound):
            queries.case_detail(url, people[name], draft.id)
    done = cases.submit(app_store, people["trust"], stillbirth(), Patient(NHS, "A"), draft_id=draft.id, today=SUBMITTED)
    assert done.id == draft.id and done.status == "submitted"
    assert cases.submit(app_store, people["trust"], stillbirth(), draft_id=draft.id, today=SUBMITTED).repeat
    assert count(url, HarmCase) == 1 and count(url, HarmRoute) == 5
    with pytest.raises(CaseNotFound):
        cases.save_draft(app_store, people["other"], {}, draft_id=draft.id)


def test_only_trust_staff_report_for_their_own_trust(app_store: Settings, people: dict[str, Access]) -> None:
    for name in ("lmns", "national", "trust_admin"):
        with pytest.raises(Forbidden):
            cases.submit(app_store, people[name], stillbirth(), today=SUBMITTED)


def test_route_updates_are_checked_and_trailed(app_store: Settings, people: dict[str, Access]) -> None:
    url = app_store.database_url
    case_id = cases.submit(app_store, people["trust"], stillbirth(), today=SUBMITTED).id
    with pytest.raises(CaseError, match="reference"):
        cases.update_route(app_store, people["trust"], case_id, "MNSI", "done", done_on="2026-03-03", today=LATER)
    with pytest.raises(CaseError, match="future"):
        cases.update_route(
            app_store, people["trust"], case_id, "MNSI", "done", reference="M1", done_on="2026-04-01", today=LATER
        )
    with pytest.raises(CaseError, match="reason"):
        cases.update_route(app_store, people["trust"], case_id, "PMRT", "not_applicable", today=LATER)
    with pytest.raises(CaseNotFound):
        cases.update_route(app_store, people["trust"], case_id, "CDOP", "due", today=LATER)
    with pytest.raises(Forbidden):
        cases.update_route(app_store, people["lmns"], case_id, "MNSI", "due", today=LATER)
    with pytest.raises(CaseNotFound):
        cases.update_route(app_store, people["other"], case_id, "MNSI", "due", today=LATER)

    cases.update_route(
        app_store, people["trust"], case_id, "MNSI", "done", reference="MNSI/26/001", done_on="2026-03-03", today=LATER
    )
    cases.update_route(
        app_store, people["trust"], case_id, "MNSI", "done", reference="MNSI/26/001", done_on="2026-03-03", today=LATER
    )  # no change, no trail row
    cases.update_route(app_store, people["trust"], case_id, "PMRT", "not_applicable", reason="Baby of A", today=LATER)
    cases.update_route(app_store, people["trust"], case_id, "PMRT", "due", today=LATER)
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
    case_id = cases.submit(app_store, people["trust"], stillbirth(), Patient(NHS), today=SUBMITTED).id
    trust = people["trust"]
    cases.add_family_contact(
        app_store, trust, case_id, contacted_on="2026-03-05", by="J Smith", method="in_person", summary="Met Ms A"
    )
    with pytest.raises(CaseError, match="method"):
        cases.add_family_contact(
            app_store, trust, case_id, contacted_on="2026-03-05", by="J", method="pigeon", summary="x"
        )
    cases.record_candour_step(app_store, trust, case_id, "verbal", done_on="2026-03-05", by="J Smith", note="Apology")
    cases.record_candour_step(app_store, trust, case_id, "verbal", done_on="2026-03-06", by="J Smith", note="Apology")
    cases.add_attachment(app_store, trust, case_id, file_name="timeline-A.pdf", description="Timeline")
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
    late = cases.submit(app_store, people["trust"], stillbirth(), today=SUBMITTED).id
    well = cases.submit(app_store, people["trust"], report(), today=SUBMITTED).id
    elsewhere = cases.submit(app_store, people["other"], stillbirth(), today=SUBMITTED).id
    cases.update_route(
        app_store, people["trust"], late, "MNSI", "done", reference="M1", done_on="2026-03-02", today=LATER
    )
    made = cases.overdue_check(url, LATER)
    assert made == cases.overdue_check(url, LATER) + made  # second run makes none
    with transaction(url) as session:
        notes = session.scalars(select(HarmNotification)).all()
    overdue_routes = {(n.report_id, n.route_id) for n in notes if n.report_id == late}
    assert overdue_routes == {(late, "MBRRACE_PERINATAL"), (late, "DUTY_OF_CANDOUR"), (late, "LFPSE")}
    assert all(NHS not in n.message for n in notes)

    mine = queries.queue(url, people["trust"], LATER)
    assert [c["case_id"] for c in mine["open_cases"]] == [late, well]  # both next due 2026-03-02 (LFPSE)
    assert {o["case_id"] for o in mine["overdue"]} == {late, well}
    assert {n["case_id"] for n in mine["notifications"]} == {late, well}
    assert elsewhere not in {n["case_id"] for n in mine["notifications"]}
    assert [t["trust_code"] for t in mine["per_trust"]] == [OWN]
    own_row = mine["per_trust"][0]
    assert (own_row["routes_done"], own_row["routes_done_on_time"], own_row["on_time_percent"]) == (1, 1, 100.0)

    lmns = queries.queue(url, people["lmns"], LATER)
    assert lmns["open_cases"] == [] and lmns["notifications"] == [] and lmns["drafts"] == []
    assert [t["trust_code"] for t in lmns["per_trust"]] == [OWN]
    national = queries.queue(url, people["national"], LATER)
    assert {t["trust_code"] for t in national["per_trust"]} == {OWN, OTHER}
    assert cases.mark_notifications_read(url, people["trust"]) == len(mine["notifications"])


def test_overdue_check_command(app_store: Settings, people: dict[str, Access]) -> None:
    """`matneo harm overdue-check` (what cron runs daily) makes the notifications once."""
    import typer
    from typer.testing import CliRunner

    from matneo.harm.cli import harm_app

    cli = typer.Typer()
    cli.add_typer(harm_app, name="harm")
    cases.submit(app_store, people["trust"], stillbirth(), today=SUBMITTED)
    first = CliRunner().invoke(cli, ["harm", "overdue-check", "--today", LATER.isoformat()])
    assert first.exit_code == 0, first.output
    assert first.stdout.strip() == "4 new overdue notifications."
    again = CliRunner().invoke(cli, ["harm", "overdue-check", "--today", LATER.isoformat()])
    assert again.stdout.strip() == "0 new overdue notifications."
    bad = CliRunner().invoke(cli, ["harm", "overdue-check", "--today", "20-03-2026"])
    assert bad.exit_code == 2
