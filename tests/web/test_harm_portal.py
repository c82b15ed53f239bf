"""The harm portal over HTTP: API and pages, access rules, identifiers, the form without JavaScript."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from harm.reports import live_baby, report, stillborn

from .browsing import accessible
from .conftest import OTHER_TRUST, OWN_TRUST, WebInstance

NHS = "9434765919"
LABEL = "Baby of Zebedee"
ROUTES = ["MNSI", "MBRRACE_PERINATAL", "PMRT", "DUTY_OF_CANDOUR", "LFPSE"]
FORM = {
    "incident_known_date": "2026-03-02",
    "termination_of_pregnancy": "no",
    "multiple_pregnancy": "no",
    "gestation.weeks": "39",
    "gestation.days": "0",
    "labour": "spontaneous",
    "mode_of_birth": "vaginal",
    "has_baby": "yes",
    "baby.birth_date": "2026-03-02",
    "baby.signs_of_life_at_birth": "no",
    "baby.fetal_death_timing": "intrapartum",
    "baby.birthweight_g": "3000",
    "baby.outcome_due_to_congenital_condition": "no",
    "mother.died": "no",
    "notifiable_safety_incident": "yes",
    "never_event": "no",
    "death_likely_due_to_problems_in_care": "no",
    "patient.nhs_number": NHS,
    "patient.label": LABEL,
}


def stillbirth() -> dict[str, Any]:
    return report(baby=stillborn("intrapartum"), notifiable_safety_incident=True)


def body(**extra: Any) -> dict[str, Any]:
    return {"report": stillbirth(), "patient": {"nhs_number": NHS, "label": LABEL}, **extra}


@pytest.fixture(scope="module")
def clients(web: WebInstance) -> dict[str, httpx.Client]:
    made = {name: web.client(name) for name in web.users}
    yield made
    for client in made.values():
        client.close()


@pytest.fixture(scope="module")
def case_id(clients: dict[str, httpx.Client]) -> int:
    response = clients["trust"].post("/api/v1/harm-reports", json=body(idempotency_key=uuid.uuid4().hex))
    assert response.status_code == 201, response.text
    return response.json()["id"]


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    return found.group(1)


def test_anonymous_and_forged_requests_are_refused(web: WebInstance, clients: dict[str, httpx.Client]) -> None:
    with web.client() as anonymous:
        assert anonymous.post("/api/v1/harm-reports", json=body()).status_code == 401
        assert anonymous.get("/api/v1/harm-reports").status_code == 401
        assert anonymous.post("/api/v1/harm-route", json={"report": stillbirth()}).status_code == 401
        page = anonymous.get("/harm")
        assert page.status_code == 303 and page.headers["location"].startswith("/sign-in")
    trust = clients["trust"]
    forged = trust.post("/api/v1/harm-reports", json=body(), headers={"X-CSRF-Token": "nope"})
    assert forged.status_code == 403
    form = trust.post("/harm/new", data={**FORM, "action": "submit", "csrf_token": "nope"})
    assert form.status_code == 403


def test_submit_is_idempotent_and_validated(clients: dict[str, httpx.Client]) -> None:
    trust = clients["trust"]
    key = uuid.uuid4().hex
    first = trust.post("/api/v1/harm-reports", json=body(idempotency_key=key))
    assert first.status_code == 201 and first.json()["status"] == "submitted"
    again = trust.post("/api/v1/harm-reports", json=body(idempotency_key=key))
    assert again.status_code == 200 and again.json() == {**first.json(), "repeat": True}

    broken = stillbirth()
    broken["baby"]["birth_date"] = "2026-02-30"
    bad = trust.post("/api/v1/harm-reports", json={"report": broken, "patient": {"nhs_number": "12"}})
    assert bad.status_code == 400
    assert {e["field"] for e in bad.json()["errors"]} == {"baby.birth_date", "patient.nhs_number"}
    assert "baby.birth_date" in bad.json()["detail"]
    assert trust.post("/api/v1/harm-reports", json={"patient": {}}).status_code == 400  # no report at all
    assert trust.post("/api/v1/harm-reports", json={"report": [1]}).status_code == 422  # not an object


@pytest.mark.parametrize("name", ["national", "region", "lmns", "admin", "trust_admin"])
def test_only_trust_staff_can_report(clients: dict[str, httpx.Client], name: str) -> None:
    assert clients[name].post("/api/v1/harm-reports", json=body()).status_code == 403
    assert clients[name].get("/harm/new").status_code == 403


def test_route_update_and_audit_trail(clients: dict[str, httpx.Client], case_id: int) -> None:
    trust = clients["trust"]
    case = trust.get(f"/api/v1/harm-reports/{case_id}").json()
    assert [r["route_id"] for r in case["routes"]] == ROUTES
    assert case["patient"] == {"nhs_number": NHS, "label": LABEL}
    url = f"/api/v1/harm-reports/{case_id}/routes/MNSI"
    missing = trust.post(url, json={"status": "done", "done_on": "2026-03-03"})
    assert missing.status_code == 400 and missing.json()["errors"][0]["field"] == "reference"
    done = trust.post(url, json={"status": "done", "reference": "MNSI-2026-0042", "done_on": "2026-03-03"})
    assert done.status_code == 200 and done.json()["display_status"] == "done"
    assert clients["lmns"].post(url, json={"status": "due"}).status_code == 403
    assert clients["other_trust"].post(url, json={"status": "due"}).status_code == 404
    assert trust.post(f"/api/v1/harm-reports/{case_id}/routes/CDOP", json={"status": "due"}).status_code == 404
    trail = trust.get(f"/api/v1/harm-reports/{case_id}").json()["changes"]
    change = trail[-1]
    assert change["action"] == "route.done" and change["actor"] == "trust@test.invalid"
    assert change["before"]["status"] == "due" and change["after"]["reference"] == "MNSI-2026-0042"
    page = trust.get(f"/harm/{case_id}").text
    assert "MNSI-2026-0042" in page and 'data-change="route.done"' in page and NHS in page


@pytest.mark.parametrize("name", ["national", "region", "lmns", "admin", "trust_admin"])
def test_identifiers_are_for_the_owning_trust_only(clients: dict[str, httpx.Client], case_id: int, name: str) -> None:
    client = clients[name]
    contact = clients["trust"].post(
        f"/api/v1/harm-reports/{case_id}/contact",
        json={"contacted_on": "2026-03-04", "by": "Midwife", "method": "phone", "summary": f"Spoke to {LABEL}"},
    )
    assert contact.status_code == 200
    for path in (f"/api/v1/harm-reports/{case_id}", f"/harm/{case_id}", f"/api/v1/harm-reports/{case_id}/export/MNSI"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert NHS not in response.text and LABEL not in response.text, path
    assert client.get(f"/api/v1/harm-reports/{case_id}").json()["identifiers_hidden"]
    assert client.get(f"/api/v1/harm-reports/{case_id}/export/MNSI").json()["identifiers_withheld"]
    queue = client.get("/api/v1/harm-reports").json()
    assert OWN_TRUST in {t["trust_code"] for t in queue["per_trust"]}
    assert NHS not in str(queue)
    export = clients["trust"].get(f"/api/v1/harm-reports/{case_id}/export/MNSI").json()
    assert export["patient"]["nhs_number"] == NHS and export["event"]["When the stillborn baby died"] == "intrapartum"


def test_cases_outside_scope_do_not_exist(clients: dict[str, httpx.Client], case_id: int) -> None:
    other = clients["other_trust"]
    for path in (f"/api/v1/harm-reports/{case_id}", f"/harm/{case_id}", f"/api/v1/harm-reports/{case_id}/export/MNSI"):
        assert other.get(path).status_code == 404, path
    assert clients["trust"].get("/api/v1/harm-reports/999999").status_code == 404
    assert OWN_TRUST not in {t["trust_code"] for t in other.get("/api/v1/harm-reports").json()["per_trust"]}
    theirs = other.post("/api/v1/harm-reports", json=body())
    assert theirs.status_code == 201
    assert clients["lmns"].get(f"/api/v1/harm-reports/{theirs.json()['id']}").status_code == 404
    assert clients["national"].get(f"/api/v1/harm-reports/{theirs.json()['id']}").status_code == 200
    assert OTHER_TRUST in {t["trust_code"] for t in clients["national"].get("/api/v1/harm-reports").json()["per_trust"]}


def test_preview_routes_a_partial_or_complete_report(clients: dict[str, httpx.Client]) -> None:
    trust = clients["trust"]
    partial = trust.post("/api/v1/harm-route", json={"form": {"has_baby": "yes"}}).json()
    assert not partial["valid"] and {"baby.birth_date", "mother.died"} <= {e["field"] for e in partial["errors"]}
    full = trust.post("/api/v1/harm-route", json={"form": FORM}).json()
    assert full["valid"] and [r["id"] for r in full["routes"]] == ROUTES
    nested = trust.post("/api/v1/harm-route", json={"report": stillbirth()}).json()
    assert [r["id"] for r in nested["routes"]] == ROUTES
    assert trust.get("/api/v1/harm-reports").json()["open_cases"] is not None


def test_the_form_works_without_javascript(web: WebInstance, clients: dict[str, httpx.Client]) -> None:
    trust = web.client("trust")
    blank = trust.get("/harm/new")
    assert blank.status_code == 200 and 'src="/static/harm.js"' in blank.text and "<script>" not in blank.text
    token = csrf_of(blank.text)
    key = re.search(r'name="idempotency_key" value="([^"]+)"', blank.text).group(1)
    form = {**FORM, "csrf_token": token, "idempotency_key": key}

    incomplete = trust.post("/harm/new", data={**form, "mother.died": "", "action": "check"})
    assert incomplete.status_code == 200 and 'href="#f-mother-died"' in incomplete.text
    checked = trust.post("/harm/new", data={**form, "action": "check"})
    assert "Maternity and Newborn Safety Investigations (MNSI) referral" in checked.text
    assert "Refer to MNSI: <strong>3 Mar 2026</strong>" in checked.text  # the MNSI referral deadline

    saved = trust.post("/harm/new", data={**form, "baby.birthweight_g": "", "action": "draft"})
    assert saved.status_code == 303
    draft_id = int(re.search(r"draft=(\d+)", saved.headers["location"]).group(1))
    # drafts survive sign-out: a fresh session finds the draft, with what was typed
    assert trust.post("/sign-out", data={"csrf_token": token}).status_code == 303
    assert trust.get("/harm").status_code == 303
    trust.close()
    trust = web.client("trust")
    assert f"/harm/new?draft={draft_id}" in trust.get("/harm").text
    draft_page = trust.get(f"/harm/new?draft={draft_id}").text
    assert NHS in draft_page and f'name="draft_id" value="{draft_id}"' in draft_page
    token = csrf_of(draft_page)
    form["csrf_token"] = token
    assert clients["lmns"].get(f"/harm/new?draft={draft_id}").status_code == 403
    assert clients["other_trust"].get(f"/harm/new?draft={draft_id}").status_code == 404

    wrong = trust.post(
        "/harm/new", data={**form, "draft_id": str(draft_id), "gestation.weeks": "99", "action": "submit"}
    )
    assert wrong.status_code == 400 and "Gestation: completed weeks" in wrong.text
    sent = trust.post("/harm/new", data={**form, "draft_id": str(draft_id), "action": "submit"})
    assert sent.status_code == 303 and sent.headers["location"] == f"/harm/{draft_id}?submitted=1"
    twice = trust.post("/harm/new", data={**form, "draft_id": str(draft_id), "action": "submit"})
    assert twice.headers["location"] == f"/harm/{draft_id}?submitted=1"  # a double click makes one report

    page = trust.get(f"/harm/{draft_id}")
    assert page.status_code == 200 and 'data-route="PMRT"' in page.text
    done = trust.post(
        f"/harm/{draft_id}/route",
        data={
            "csrf_token": token,
            "route_id": "PMRT",
            "status": "done",
            "reference": "PMRT-77",
            "done_on": "2026-03-20",
        },
    )
    assert done.status_code == 303
    after = trust.get(f"/harm/{draft_id}").text
    assert 'data-status="done"' in after and "PMRT-77" in after and 'data-change="route.done"' in after
    bad = trust.post(f"/harm/{draft_id}/route", data={"csrf_token": token, "route_id": "PMRT", "status": "done"})
    assert bad.status_code == 400 and "reference" in bad.text
    for action, data in (
        ("candour", {"step": "verbal", "done_on": "2026-03-03", "by": "Dr B", "note": "Apologised"}),
        ("attachment", {"file_name": "timeline.pdf", "description": "Timeline"}),
    ):
        assert trust.post(f"/harm/{draft_id}/{action}", data={"csrf_token": token, **data}).status_code == 303
    final = trust.get(f"/harm/{draft_id}").text
    assert "Apologised" in final and "timeline.pdf" in final
    queue = trust.get("/harm").text
    assert f'data-case="{draft_id}"' in queue
    trust.close()


# -- amending a submitted report ------------------------------------------------------------------
MRI = "baby.mri_evidence_hypoxic_injury"
MRI_LABEL = "MRI evidence of hypoxic brain injury"


def cooled_case(client: httpx.Client) -> int:
    """A new case: a cooled term baby whose MRI result is not known yet (NHS Resolution EN pending)."""
    data = report(baby=live_baby(therapeutic_cooling="active", mri_evidence_hypoxic_injury=None))
    response = client.post("/api/v1/harm-reports", json={"report": data, "idempotency_key": uuid.uuid4().hex})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def test_amend_api_reroutes(clients: dict[str, httpx.Client]) -> None:
    trust = clients["trust"]
    case_id = cooled_case(trust)
    url = f"/api/v1/harm-reports/{case_id}/amend"
    case = trust.get(f"/api/v1/harm-reports/{case_id}").json()
    assert [p["field"] for p in case["pending"]] == [MRI]
    assert trust.post(url, json={"changes": {MRI: True}}, headers={"X-CSRF-Token": "nope"}).status_code == 403
    assert clients["lmns"].post(url, json={"changes": {MRI: True}}).status_code == 403
    assert clients["other_trust"].post(url, json={"changes": {MRI: True}}).status_code == 404
    bad = trust.post(url, json={"changes": {"baby.hie_grade": 7}})
    assert bad.status_code == 400 and [e["field"] for e in bad.json()["errors"]] == ["baby.hie_grade"]
    assert trust.post(url, json={"changes": {"baby.colour": "blue"}}).status_code == 400
    assert trust.post(url, json={"changes": "yes"}).status_code == 422
    assert trust.get(f"/api/v1/harm-reports/{case_id}").json() == case  # refused: nothing changed

    amended = trust.post(url, json={"changes": {MRI: True}})
    assert amended.status_code == 200, amended.text
    after = amended.json()
    nhsr = next(r for r in after["routes"] if r["route_id"] == "NHSR_EN")
    # §2b (NHS Resolution EN): 14 and 30 days from the birth on 2026-03-02, so already overdue
    assert nhsr["deadlines"] == {"legal_services_informed": "2026-03-16", "notify_nhsr": "2026-04-01"}
    assert nhsr["display_status"] == "overdue" and after["pending"] == []
    assert [c["action"] for c in after["changes"]][-3:] == ["answer.changed", "route.added", "report.rerouted"]
    assert after["changes"][-3]["after"] == {MRI: True}


def test_pending_answer_form_works_without_javascript(web: WebInstance, clients: dict[str, httpx.Client]) -> None:
    trust = web.client("trust")
    try:
        case_id = cooled_case(clients["trust"])
        page = trust.get(f"/harm/{case_id}")
        assert page.status_code == 200 and "Still unknown" in page.text
        assert f'action="/harm/{case_id}/amend"' in page.text and f'name="{MRI}" type="radio" value="yes"' in page.text
        token = csrf_of(page.text)
        lmns_page = clients["lmns"].get(f"/harm/{case_id}").text
        assert "Still unknown" in lmns_page and f'action="/harm/{case_id}/amend"' not in lmns_page
        assert trust.post(f"/harm/{case_id}/amend", data={MRI: "yes", "csrf_token": "nope"}).status_code == 403
        empty = trust.post(f"/harm/{case_id}/amend", data={"csrf_token": token})
        assert empty.status_code == 400 and "choose or enter an answer" in empty.text
        wrong = trust.post(f"/harm/{case_id}/amend", data={"csrf_token": token, "baby.hie_grade": "7"})
        assert wrong.status_code == 400 and "HIE grade: must be" in wrong.text
        saved = trust.post(f"/harm/{case_id}/amend", data={"csrf_token": token, MRI: "yes"})
        assert saved.status_code == 303 and saved.headers["location"] == f"/harm/{case_id}?done=amend"
        after = trust.get(saved.headers["location"]).text
        assert 'data-route="NHSR_EN"' in after and "Answer saved and the report routed again" in after
        assert 'data-change="answer.changed"' in after and 'data-change="route.added"' in after
        assert f"{MRI_LABEL}: yes" in after and "Still unknown" not in after
    finally:
        trust.close()


# -- in a real browser (Debian's Chromium, as tests/web/test_browser.py) --------------------------
def choose(page: Page, name: str, value: str) -> None:
    """Pick a yes/no/not known radio by the field's name."""
    page.check(f'input[name="{name}"][value="{value}"]')


def test_report_end_to_end_in_the_browser(signed_in: Callable[[str], Page]) -> None:
    page = signed_in("trust")
    errors = page.errors  # type: ignore[attr-defined]
    page.click("text=Harm reports")
    expect(page).to_have_url(re.compile(r"/harm$"))
    accessible(page)
    page.click("text=Report a harm event")
    expect(page).to_have_url(re.compile(r"/harm/new$"))
    accessible(page)

    # fill the form: the routes appear as it is filled in, without pressing anything
    for name, value in FORM.items():
        if name.startswith(("labour", "mode_of_birth", "baby.fetal")):
            page.select_option(f'select[name="{name}"]', value)
        elif value in ("yes", "no"):
            choose(page, name, value)
        else:
            page.fill(f'input[name="{name}"]', value)
    preview = page.locator("#harm-preview")
    expect(preview.locator('[data-route="MNSI"]')).to_be_visible()
    expect(preview).to_contain_text("Refer to MNSI: 3 Mar 2026")
    expect(preview).to_contain_text("Record on LFPSE: as soon as possible")
    choose(page, "notifiable_safety_incident", "no")
    expect(preview.locator('[data-route="DUTY_OF_CANDOUR"]')).to_have_count(0)
    choose(page, "notifiable_safety_incident", "yes")
    expect(preview.locator('[data-route="DUTY_OF_CANDOUR"]')).to_be_visible()
    accessible(page)

    page.click('button[data-action="submit"]')
    expect(page).to_have_url(re.compile(r"/harm/\d+\?submitted=1$"))
    expect(page.locator('[data-route="MNSI"] [data-status]')).to_have_text("Overdue")
    expect(page.locator("[data-patient]")).to_contain_text(NHS)
    accessible(page)

    page.locator('[data-route="MNSI"]').get_by_text("Update this route").click()
    page.fill("#reference-MNSI", "MNSI-BROWSER-1")
    page.fill("#done-on-MNSI", "2026-03-03")
    page.click('[data-route-save="MNSI"]')
    expect(page.locator('[data-route="MNSI"] [data-status]')).to_have_text("Done")
    trail = page.locator('[data-audit] [data-change="route.done"]')
    expect(trail).to_contain_text("trust@test.invalid")
    expect(trail).to_contain_text("Status: Due")
    expect(trail).to_contain_text("Reference: MNSI-BROWSER-1")
    expect(page.locator('[data-route="LFPSE"] [data-status]')).to_have_text("Due")  # no deadline: never overdue
    accessible(page)
    assert not errors, errors


def test_answer_a_pending_question_in_the_browser(
    signed_in: Callable[[str], Page], clients: dict[str, httpx.Client]
) -> None:
    case_id = cooled_case(clients["trust"])
    page = signed_in("trust")
    errors = page.errors  # type: ignore[attr-defined]
    page.goto(f"/harm/{case_id}")
    pending = page.locator(f'[data-pending="{MRI}"]')
    expect(pending).to_contain_text("if yes, NHS Resolution Early Notification scheme applies")
    expect(page.locator('[data-route="NHSR_EN"]')).to_have_count(0)
    accessible(page)

    pending.get_by_label("Yes").check()
    pending.locator(f'[data-amend-save="{MRI}"]').click()
    expect(page).to_have_url(re.compile(rf"/harm/{case_id}\?done=amend$"))
    expect(page.locator('[data-route="NHSR_EN"] [data-status]')).to_have_text("Overdue")
    expect(page.locator('[data-route="NHSR_EN"]')).to_contain_text("Tell the trust's legal services: 16 Mar 2026")
    expect(page.locator(f'[data-pending="{MRI}"]')).to_have_count(0)
    answer = page.locator('[data-audit] [data-change="answer.changed"]')
    expect(answer).to_contain_text("trust@test.invalid")
    expect(answer).to_contain_text(f"{MRI_LABEL}: yes")
    expect(page.locator('[data-audit] [data-change="route.added"]')).to_contain_text("NHS Resolution")
    accessible(page)
    assert not errors, errors
