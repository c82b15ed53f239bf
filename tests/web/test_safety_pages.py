"""Triangulation on the web: the planted trust on its LMNS's list with the evidence, a decision
recorded in a real browser (axe on every page), and who may see and decide."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from playwright.sync_api import Page, expect

from matneo.assurance.tracker import update

from .browsing import accessible
from .conftest import OTHER_TRUST, OWN_TRUST, WebInstance


def test_the_lmns_sees_the_planted_trust_and_records_a_decision(
    signed_in: Callable[[str], Page], web: WebInstance
) -> None:
    # a second, independent source of concern beside the planted signal: a requirement not met
    update(web.settings.database_url, OWN_TRUST, "ockenden_first:IEA4", {"status": "not_met"}, actor="tests",
           actor_org=OWN_TRUST, today=dt.date.today())  # fmt: skip
    lmns = web.hierarchy.ancestor_at(OWN_TRUST, "lmns").code
    lead = signed_in("lmns")
    lead.goto(f"/organisations/{lmns}/safety")
    card = lead.locator(f"[data-trust={OWN_TRUST}]")
    expect(card.locator("[data-rule=two_sources]")).to_be_visible()
    expect(card).to_contain_text("Stillbirth rate")  # the planted signal
    expect(card).to_contain_text("IEA 4")  # the red requirement, named
    accessible(lead)
    card.get_by_role("button", name="Record decision about").click()  # nothing chosen
    expect(lead.locator(".nhsuk-error-summary")).to_contain_text("Choose what was decided")
    accessible(lead)
    card = lead.locator(f"[data-trust={OWN_TRUST}]")
    card.locator("select[name=decision]").select_option("enhanced_surveillance")
    card.locator("textarea[name=note]").fill("Met the head of midwifery: outcomes and training.")
    card.locator("input[name=review_on]").fill((dt.date.today() + dt.timedelta(days=90)).isoformat())
    card.get_by_role("button", name="Record decision about").click()
    expect(lead.locator(".nhsuk-notification-banner--success")).to_contain_text("Decision recorded")
    expect(lead.locator(f"[data-trust={OWN_TRUST}] [data-decisions]")).to_contain_text(
        "Enhanced surveillance by the LMNS"
    )
    accessible(lead)

    trust = signed_in("trust")
    trust.goto(f"/organisations/{OWN_TRUST}/safety")
    expect(trust.locator("[data-timeline]")).to_contain_text("Outcome signal")
    expect(trust.locator("form[action*='/decisions']")).to_have_count(0)  # a trust cannot decide about itself
    accessible(trust)


def test_who_may_see_and_decide(web: WebInstance) -> None:
    lmns_code = web.hierarchy.ancestor_at(OWN_TRUST, "lmns").code
    trust, other, lmns = web.client("trust"), web.client("other_trust"), web.client("lmns")
    try:
        form = {
            "decision": "monitor",
            "note": "fine",
            "review_on": (dt.date.today() + dt.timedelta(days=30)).isoformat(),
        }
        path = f"/organisations/{lmns_code}/safety/{OWN_TRUST}/decisions"
        assert other.get(f"/organisations/{lmns_code}/safety").status_code == 404
        assert other.post(path, data={**form, "csrf_token": other.headers["X-CSRF-Token"]}).status_code == 404
        own = trust.post(f"/organisations/{OWN_TRUST}/safety/{OWN_TRUST}/decisions",
                         data={**form, "csrf_token": trust.headers["X-CSRF-Token"]})  # fmt: skip
        assert own.status_code == 403
        assert lmns.post(path, data=form).status_code == 403  # no CSRF token
        elsewhere = f"/organisations/{lmns_code}/safety/{OTHER_TRUST}/decisions"  # a trust outside the LMNS
        assert lmns.post(elsewhere, data={**form, "csrf_token": lmns.headers["X-CSRF-Token"]}).status_code == 404
        ok = lmns.post(path, data={**form, "csrf_token": lmns.headers["X-CSRF-Token"]})
        assert ok.status_code == 303
        listed = lmns.get(f"/organisations/{lmns_code}/safety?format=json").json()
        mine = next(t for t in listed["trusts"] if t["trust_code"] == OWN_TRUST)
        assert mine["decision"]["decision"] == "Monitor (routine oversight)"
    finally:
        for client in (trust, other, lmns):
            client.close()
