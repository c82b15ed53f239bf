"""Board packs on the web: produce one from the trust page in a real browser (axe on every page,
the pack itself included), open the archive, and who may do what."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from .browsing import accessible
from .conftest import OTHER_TRUST, OWN_TRUST, WebInstance


def test_a_trust_produces_its_pack_and_opens_it_from_the_archive(signed_in: Callable[[str], Page]) -> None:
    page = signed_in("trust")
    page.goto(f"/organisations/{OWN_TRUST}")
    page.get_by_role("link", name=re.compile("Board packs for")).click()
    expect(page).to_have_url(re.compile(rf"/organisations/{OWN_TRUST}/board-packs$"))
    expect(page.locator("h1")).to_have_text("Board packs")
    accessible(page)
    page.select_option("#month", "2023-12")
    page.get_by_role("button", name="Produce board pack").click()
    expect(page.locator(".nhsuk-notification-banner--success")).to_contain_text("produced and archived")
    accessible(page)
    expect(page.locator("[data-table=packs] tbody tr").first).to_contain_text("Dec 2023")
    page.get_by_role("link", name="Open the pack").click()
    expect(page.locator("h1")).to_have_text("Maternity and neonatal safety board pack")
    expect(page.locator("#summary-heading")).to_have_text("Executive summary")
    # the planted signal (opened Dec 2023) is in the pack, with what it shows
    expect(page.locator("section[aria-labelledby=signals-heading]")).to_contain_text("planted by the web tests")
    accessible(page)


def test_who_may_see_and_produce_packs(web: WebInstance) -> None:
    trust, other, lmns, anonymous = web.client("trust"), web.client("other_trust"), web.client("lmns"), web.client()
    try:
        token = trust.headers["X-CSRF-Token"]
        made = trust.post(f"/organisations/{OWN_TRUST}/board-packs", data={"month": "2023-06", "csrf_token": token})
        assert made.status_code == 303, made.text
        pack_id = int(made.headers["location"].rsplit("=", 1)[1])
        html = trust.get(f"/organisations/{OWN_TRUST}/board-packs/{pack_id}.html")
        assert html.status_code == 200 and "Jun 2023" in html.text
        pdf = trust.get(f"/organisations/{OWN_TRUST}/board-packs/{pack_id}.pdf")
        assert pdf.content.startswith(b"%PDF") and pdf.headers["content-disposition"].startswith("attachment")
        # the LMNS above the trust may open it; another trust may not even learn it exists
        assert lmns.get(f"/organisations/{OWN_TRUST}/board-packs/{pack_id}.html").status_code == 200
        assert other.get(f"/organisations/{OWN_TRUST}/board-packs").status_code == 404
        assert other.get(f"/organisations/{OWN_TRUST}/board-packs/{pack_id}.html").status_code == 404
        assert other.get(f"/organisations/{OTHER_TRUST}/board-packs/{pack_id}.html").status_code == 404
        refused = other.post(
            f"/organisations/{OWN_TRUST}/board-packs",
            data={"month": "2023-06", "csrf_token": other.headers["X-CSRF-Token"]},
        )
        assert refused.status_code == 404
        no_csrf = trust.post(f"/organisations/{OWN_TRUST}/board-packs", data={"month": "2023-06"})
        assert no_csrf.status_code == 403
        bad = trust.post(f"/organisations/{OWN_TRUST}/board-packs", data={"month": "June", "csrf_token": token})
        assert bad.status_code == 400 and "nhsuk-error-summary" in bad.text and "Choose the month" in bad.text
        empty = trust.post(f"/organisations/{OWN_TRUST}/board-packs", data={"month": "2011-01", "csrf_token": token})
        assert empty.status_code == 400 and "There are no figures" in empty.text
        assert anonymous.get(f"/organisations/{OWN_TRUST}/board-packs").status_code in (303, 307, 401)
        assert trust.get(f"/organisations/{OWN_TRUST}/board-packs/{pack_id}.exe").status_code == 404
    finally:
        for client in (trust, other, lmns, anonymous):
            client.close()
