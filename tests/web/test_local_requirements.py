"""Local requirements, removing evidence and partnership feedback themes on the web: in a real
browser with axe on every new page and form (and no sideways scrolling at 390 px), then the scope
attacks over real HTTP — another trust, the LMNS on a trust's list, a trust on its LMNS's."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from .browsing import accessible
from .conftest import OTHER_TRUST, OWN_TRUST, PASSWORD, WebInstance


def no_sideways_scroll(browser: Browser, web: WebInstance, who: str, paths: list[str]) -> None:
    context = browser.new_context(base_url=web.base_url, viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        page.goto("/sign-in")
        page.fill("#email", web.users[who][0])
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        expect(page).to_have_url(re.compile(r"/$"))
        for path in paths:
            page.goto(path)
            assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
    finally:
        context.close()


def test_a_trust_and_its_lmns_add_local_requirements_that_work_like_any_other(
    signed_in: Callable[[str], Page], web: WebInstance, browser: Browser
) -> None:
    lmns = web.hierarchy.ancestor_at(OWN_TRUST, "lmns").code
    page = signed_in("trust")
    page.goto(f"/organisations/{OWN_TRUST}/assurance")
    page.locator("[data-local-link]").get_by_role("link", name="Local requirements").click()
    expect(page.locator("h1")).to_have_text("Local requirements")
    accessible(page)
    page.get_by_role("button", name="Add the requirement").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("Enter the requirement")
    expect(page.locator("#title-error")).to_be_visible()
    accessible(page)
    page.fill("#title", "Audit induction of labour delays each quarter")
    page.fill("#description", "Decision to start, and start to the labour ward.")
    page.fill("#source", "Action 4 of the trust's review of induction delays")
    page.fill("#due", "2020-03-31")  # already past: red until met
    page.get_by_role("button", name="Add the requirement").click()
    expect(page.locator(".nhsuk-notification-banner--success")).to_contain_text("Saved")
    expect(page.locator("h1")).to_have_text("Audit induction of labour delays each quarter")
    accessible(page)
    own_path = page.url.split("?")[0]
    own_id = own_path.rsplit("/", 1)[1]
    key = f"local:{own_id}"
    page.fill("#title", "Audit delays in induction of labour each quarter")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("[data-table=history]")).to_contain_text("Audit induction of labour delays each quarter")
    page.get_by_role("button", name="Retire the requirement").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("Say why the requirement is retired")
    accessible(page)
    page.fill("#reason", "Folded into the induction improvement project")
    page.get_by_role("button", name="Retire the requirement").click()
    expect(page.locator("[data-retired]")).to_be_visible()
    accessible(page)
    page.goto(f"/organisations/{OWN_TRUST}/assurance")
    expect(page.locator(f"[data-requirement='{key}']")).to_have_count(0)  # retired: not listed
    page.goto(own_path)
    page.get_by_role("button", name="Reinstate the requirement").click()
    expect(page.locator("[data-retired]")).to_have_count(0)
    # on the tracker like any requirement: its own group, status, RAG, history
    page.goto(f"/organisations/{OWN_TRUST}/assurance")
    row = page.locator(f"[data-requirement='{key}']")
    expect(row).to_contain_text("Audit delays in induction of labour each quarter")
    expect(row.locator("[data-local]")).to_have_text("Local")
    expect(row.locator("[data-rag]")).to_have_text("Red")
    accessible(page)
    row.get_by_role("link").first.click()
    expect(page.locator("[data-local-owner]")).to_contain_text("Added by")
    expect(page.locator("[data-local-source]")).to_contain_text("Action 4 of the trust's review")
    accessible(page)
    page.select_option("#status", "in_progress")
    page.fill("#owner", "Intrapartum matron")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".nhsuk-notification-banner--success")).to_contain_text("Saved")
    expect(page.locator("[data-table=history]")).to_contain_text("retired")  # the definition's history too
    expect(page.locator("[data-table=history]")).to_contain_text("Intrapartum matron")

    lead = signed_in("lmns")
    lead.goto(f"/organisations/{lmns}/assurance")
    lead.locator("[data-local-link]").get_by_role("link").click()
    accessible(lead)
    lead.fill("#title", "Report the partnership's 'you said, we did' to the LMNS board each quarter")
    lead.select_option("#framework", "delivery_plan_2023")
    lead.get_by_role("button", name="Add the requirement").click()
    expect(lead.locator(".nhsuk-notification-banner--success")).to_contain_text("Saved")
    expect(lead.locator("dl")).to_contain_text("every trust in")
    accessible(lead)
    asked = f"local:{lead.url.split('?')[0].rsplit('/', 1)[1]}"
    lead.goto(f"/organisations/{lmns}/assurance")
    expect(lead.locator("[data-overdue]")).to_contain_text(f"Local requirement {own_id}, due 31 Mar 2020")
    accessible(lead)
    # the LMNS's requirement reaches every trust of the LMNS, listed under the framework it chose
    page.goto(f"/organisations/{OWN_TRUST}/assurance")
    expect(page.locator(f"[data-framework=delivery_plan_2023] [data-requirement='{asked}']")).to_have_count(1)
    page.goto(f"/organisations/{OWN_TRUST}/local-requirements")
    expect(page.locator("[data-inherited]")).to_contain_text("you said, we did")
    accessible(page)
    neighbour = next(t.code for t in web.hierarchy.trusts_under(lmns) if t.code != OWN_TRUST)
    lead.goto(f"/organisations/{neighbour}/assurance")
    expect(lead.locator(f"[data-requirement='{asked}']")).to_have_count(1)
    expect(lead.locator(f"[data-requirement='{key}']")).to_have_count(0)  # R0A's own is R0A's alone
    no_sideways_scroll(browser, web, "trust", [f"/organisations/{OWN_TRUST}/local-requirements", own_path,
                                               f"/organisations/{OWN_TRUST}/assurance/{key}"])  # fmt: skip
    # retired again, so the other tests of this (shared) instance count R0A's reds as before
    client = web.client("trust")
    try:
        done = client.post(f"{own_path}/retire", data={"csrf_token": client.headers["X-CSRF-Token"], "reason": "Done"})
        assert done.status_code == 303
    finally:
        client.close()


def test_a_trust_removes_a_mistaken_evidence_item_after_confirming(
    signed_in: Callable[[str], Page], web: WebInstance, browser: Browser, tmp_path: Path
) -> None:
    wrong = tmp_path / "September minutes.pdf"
    wrong.write_bytes(b"%PDF-1.7\n% removed by the test\n%%EOF\n")
    page = signed_in("trust")
    page.goto(f"/organisations/{OWN_TRUST}/evidence?key=cnst_mis_y2:SA9")
    page.select_option("#kind", "minutes")
    page.fill("#title", "Safety champions' meeting, September (wrong month)")
    page.set_input_files("#file", str(wrong))
    page.get_by_role("button", name="Add evidence").click()
    expect(page.locator(".nhsuk-notification-banner--success")).to_contain_text("Saved")
    item = page.url.split("?")[0]
    file_url = f"{item}/file"
    assert page.request.get(file_url).status == 200
    page.get_by_role("link", name="Remove this evidence item").click()
    expect(page.locator("h1")).to_contain_text("Remove")
    expect(page.locator("[data-requirements]")).to_contain_text("Safety action 9")
    accessible(page)
    no_sideways_scroll(browser, web, "trust", [page.url])
    page.get_by_role("button", name="Remove the evidence item").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("Say why the evidence item is being removed")
    accessible(page)
    page.fill("#reason", "The September minutes were attached instead of October's")
    page.get_by_role("button", name="Remove the evidence item").click()
    expect(page.locator("[data-removed]")).to_contain_text("removed")
    expect(page.locator("body")).not_to_contain_text("September (wrong month)")
    accessible(page)
    assert page.request.get(item).status == 404 and page.request.get(file_url).status == 404
    page.goto(f"/organisations/{OWN_TRUST}/assurance/cnst_mis_y2:SA9")
    expect(page.locator("body")).not_to_contain_text("September (wrong month)")
    with_admin = web.client("admin")
    try:
        log = with_admin.get("/admin/users").text
    finally:
        with_admin.close()
    assert "Removed an assurance evidence item" in log and "attached instead of October" in log


def test_partnership_feedback_themes_are_imported_and_shown(
    signed_in: Callable[[str], Page], web: WebInstance, tmp_path: Path
) -> None:
    themes = tmp_path / "mnvp.csv"
    themes.write_text(
        "org_code,period_end,theme,mentions,sentiment,what_we_heard,what_we_did\n"
        f"{OWN_TRUST},2026-06,Communication during induction,5,negative,,\n"
        f'{OWN_TRUST},2026-09,Communication during induction,12,negative,"Long waits, little said",New leaflet\n'
        f"{OWN_TRUST},2026-09,Kindness on the birth centre,20,positive,,\n"
        f"{OTHER_TRUST},2026-09,Not ours,3,negative,,\n"
    )
    page = signed_in("trust")
    page.goto(f"/organisations/{OWN_TRUST}/voice")
    expect(page.locator("[data-no-themes]")).to_be_visible()
    page.select_option("#source", "mnvp_themes")
    page.set_input_files("#file", str(themes))
    page.get_by_role("button", name="Import").click()
    expect(page.locator("[data-import-result]")).to_contain_text("3 of 4 rows stored")
    table = page.locator("[data-table=voice-themes]")
    expect(table.locator("caption")).to_contain_text("Jul–Sep 2026")
    expect(table.locator("[data-theme='Communication during induction'] [data-rising]")).to_be_visible()
    expect(table).to_contain_text("Long waits, little said")
    expect(page.locator("[data-theme-layout]")).to_contain_text("needs local confirmation")
    accessible(page)
    page.goto(f"/organisations/{OWN_TRUST}/assurance")
    expect(page.locator("[data-table=voice-themes]")).to_contain_text("Kindness on the birth centre")
    lead = signed_in("lmns")
    lead.goto(f"/organisations/{OWN_TRUST}/voice")
    expect(lead.locator("[data-table=voice-themes]")).to_contain_text("Communication during induction")
    accessible(lead)
    json = web.client("trust")
    try:
        body = json.get(f"/organisations/{OWN_TRUST}/voice?format=json").json()
    finally:
        json.close()
    (report,) = body["themes"]
    assert report["period"] == "2026-09" and report["themes"][0]["theme"] == "Kindness on the birth centre"


def test_scope_is_checked_on_every_local_requirement_and_removal(web: WebInstance) -> None:
    lmns = web.hierarchy.ancestor_at(OWN_TRUST, "lmns").code
    trust, other, lead = web.client("trust"), web.client("other_trust"), web.client("lmns")

    def form(client, **values: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
        return {"csrf_token": client.headers["X-CSRF-Token"], **values}

    try:
        mine = trust.post(f"/organisations/{OWN_TRUST}/local-requirements", data=form(trust, title="Ours"))
        assert mine.status_code == 303
        mine_path = mine.headers["location"].split("?")[0]
        mine_key = f"local:{mine_path.rsplit('/', 1)[1]}"
        asked = lead.post(f"/organisations/{lmns}/local-requirements", data=form(lead, title="The LMNS's"))
        assert asked.status_code == 303
        asked_id = asked.headers["location"].split("?")[0].rsplit("/", 1)[1]
        # another trust: R0A's list and R0A's requirement are not in its area
        assert other.get(f"/organisations/{OWN_TRUST}/local-requirements").status_code == 404
        assert other.post(f"/organisations/{OWN_TRUST}/local-requirements",
                          data=form(other, title="Planted")).status_code == 404  # fmt: skip
        assert other.post(f"{mine_path}/retire", data=form(other, reason="x")).status_code == 404
        # ... nor reachable through its own trust's pages by naming the key
        assert other.get(f"/organisations/{OTHER_TRUST}/assurance/{mine_key}").status_code == 404
        planted = other.post(f"/organisations/{OTHER_TRUST}/assurance/{mine_key}", data=form(other, status="met"))
        assert planted.status_code == 404
        theirs = other.post(f"/organisations/{OTHER_TRUST}/evidence",
                            data=form(other, kind="link", title="t", link="https://a.example/"))  # fmt: skip
        assert theirs.status_code == 303
        item = theirs.headers["location"].split("?")[0]
        assert other.post(f"{item}/map", data=form(other, key=mine_key)).status_code == 400
        assert other.post(f"{item}/map", data=form(other, key=f"local:{asked_id}")).status_code == 400
        # the LMNS reads R0A's list (it counts in the matrix) but cannot change it
        assert lead.get(f"/organisations/{OWN_TRUST}/local-requirements").status_code == 200
        assert lead.post(f"/organisations/{OWN_TRUST}/local-requirements",
                         data=form(lead, title="LMNS on R0A's list")).status_code == 403  # fmt: skip
        assert lead.post(mine_path, data=form(lead, title="Changed by the LMNS")).status_code == 403
        assert lead.post(f"{mine_path}/retire", data=form(lead, reason="x")).status_code == 403
        # R0A's staff cannot change the LMNS's list, even through R0A's own path
        assert trust.post(f"/organisations/{lmns}/local-requirements",
                          data=form(trust, title="Trust on the LMNS list")).status_code in (403, 404)  # fmt: skip
        hijack = trust.post(f"/organisations/{OWN_TRUST}/local-requirements/{asked_id}/retire",
                            data=form(trust, reason="Not ours to retire"))  # fmt: skip
        assert hijack.status_code == 404
        assert trust.get(f"/organisations/{OWN_TRUST}/local-requirements/{asked_id}").status_code == 404
        # but R0A records its own position on the LMNS's requirement
        assert trust.post(f"/organisations/{OWN_TRUST}/assurance/local:{asked_id}",
                          data=form(trust, status="in_progress")).status_code == 303  # fmt: skip
        assert trust.post(f"{mine_path}/nonsense", data=form(trust)).status_code == 404
        # removing evidence: the trust's own staff only
        held = trust.post(f"/organisations/{OWN_TRUST}/evidence",
                          data=form(trust, kind="link", title="Kept", link="https://a.example/k"))  # fmt: skip
        kept = held.headers["location"].split("?")[0]
        assert lead.get(f"{kept}/remove").status_code == 403
        assert lead.post(f"{kept}/remove", data=form(lead, reason="x")).status_code == 403
        assert other.post(f"{kept}/remove", data=form(other, reason="x")).status_code == 404
        stranger_path = kept.replace(f"/organisations/{OWN_TRUST}/", f"/organisations/{OTHER_TRUST}/")
        assert other.post(f"{stranger_path}/remove", data=form(other, reason="x")).status_code == 404
        assert trust.get(kept).status_code == 200  # still there
        assert trust.get(f"{kept}/remove?format=json").json()["title"] == "Kept"
        lists = trust.get(f"/organisations/{OWN_TRUST}/local-requirements?format=json").json()
        assert lists["items"][-1] | {"due": None} == {"key": mine_key, "title": "Ours", "framework": None, "due": None,
                                                     "retired": False, "owner": OWN_TRUST}  # fmt: skip
        assert f"local:{asked_id}" in [i["key"] for i in lists["inherited"]]
        assert f"local:{asked_id}" not in [i["key"] for i in lists["items"]]
    finally:
        for client in (trust, other, lead):
            client.close()
