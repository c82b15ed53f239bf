"""Assurance on the web: a trust records its position in a real browser (axe on every page),
its LMNS sees the matrix, and nobody else can change or see the trust's words."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from .browsing import accessible
from .conftest import OTHER_TRUST, OWN_TRUST, WebInstance

KEY = "cnst_mis_y2:SA8"


def test_a_trust_records_a_requirement_and_its_lmns_sees_the_matrix(
    signed_in: Callable[[str], Page], web: WebInstance
) -> None:
    page = signed_in("trust")
    page.goto(f"/organisations/{OWN_TRUST}")
    page.get_by_role("link", name=re.compile("^Assurance for")).click()
    expect(page.locator("h1")).to_have_text("Assurance")
    expect(page.locator("[data-framework=cnst_mis_y2] tbody tr")).to_have_count(10)
    expect(page.locator("[data-requirement='sblcb_v3:E1']")).to_contain_text("Smoke-free at delivery")  # live figure
    accessible(page)
    page.get_by_role("link", name="Safety action 8").click()
    accessible(page)
    page.select_option("#status", "not_applicable")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("Say why this requirement does not apply")
    accessible(page)
    page.select_option("#status", "in_progress")
    page.fill("#owner", "Practice development midwife")
    page.fill("#due", "2020-01-31")  # already past: red
    page.fill("#comment", "Training dates booked for the anaesthetists")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".nhsuk-notification-banner--success")).to_contain_text("Saved")
    expect(page.locator("[data-rag]").first).to_have_text("Red")
    expect(page.locator("[data-table=history]")).to_contain_text("In progress")
    accessible(page)

    lead = signed_in("lmns")
    lmns = web.hierarchy.ancestor_at(OWN_TRUST, "lmns").code
    lead.goto(f"/organisations/{lmns}/assurance")
    expect(lead.locator(f"[data-trust={OWN_TRUST}] [data-red]")).to_have_text("1")
    expect(lead.locator("[data-overdue]")).to_contain_text("MIS year 2 Safety action 8, due 31 Jan 2020")
    accessible(lead)
    lead.goto(f"/organisations/{OWN_TRUST}/assurance/{KEY}")
    expect(lead.locator("form[action*='/assurance/']")).to_have_count(0)  # read only
    expect(lead.locator("[data-table=history]")).to_contain_text("(shown to the trust only)")
    expect(lead.locator("body")).not_to_contain_text("Training dates booked")
    accessible(lead)


def test_who_may_change_assurance(web: WebInstance) -> None:
    trust, other, lmns = web.client("trust"), web.client("other_trust"), web.client("lmns")
    try:
        path = f"/organisations/{OWN_TRUST}/assurance/{KEY}"
        ok = trust.post(path, data={"status": "in_progress", "csrf_token": trust.headers["X-CSRF-Token"]})
        assert ok.status_code == 303
        assert trust.post(path, data={"status": "met"}).status_code == 403  # no CSRF token
        lead = lmns.post(path, data={"status": "met", "csrf_token": lmns.headers["X-CSRF-Token"]})
        assert lead.status_code == 403  # in scope to read, not to change
        assert (
            other.get(path).status_code == 404 and other.get(f"/organisations/{OWN_TRUST}/assurance").status_code == 404
        )
        hostile = other.post(path, data={"status": "met", "csrf_token": other.headers["X-CSRF-Token"]})
        assert hostile.status_code == 404
        assert trust.get(f"/organisations/{OWN_TRUST}/assurance/cnst_mis_y2:SA99").status_code == 404
        as_json = trust.get(f"/organisations/{OWN_TRUST}/assurance?format=json").json()
        mine = next(s for s in as_json["statuses"] if s["requirement"] == KEY)
        assert mine["status"] == "in_progress" and mine["trust_code"] == OWN_TRUST
        assert other.get(f"/organisations/{OTHER_TRUST}/assurance").status_code == 200
    finally:
        for client in (trust, other, lmns):
            client.close()
