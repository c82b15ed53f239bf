"""The pages in a real browser: Debian's Chromium driven by Playwright, against the real server.

Every page visited is checked with axe-core (WCAG rules; zero violations allowed). The
numbers a page shows are compared with the API's for the same user, so the HTML and the JSON
cannot drift apart. Needs /usr/bin/chromium (installed by scripts/setup-browser; never a
downloaded browser).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
from playwright.sync_api import Browser, Page, expect

from matneo.reference.organisations import load_hierarchy

from .browsing import accessible
from .conftest import OWN_TRUST, PASSWORD, WebInstance


def charts_drawn(page: Page) -> None:
    page.wait_for_selector("body[data-charts-ready]")
    assert page.locator("[data-rendered=failed]").count() == 0
    assert page.locator("[data-rendered=true]").count() == page.locator("[data-chart]").count()
    assert not page.errors, page.errors  # type: ignore[attr-defined]


def api(page: Page, path: str) -> dict:
    """The API's answer for the same signed-in user (the page's own session cookie)."""
    response = page.request.get(path)
    assert response.ok, response.text()
    return response.json()


def two_dp(value: float | None) -> str:
    return "–" if value is None else f"{value:,.2f}"


def test_sign_in_page_is_accessible_and_refuses_a_wrong_password(browser: Browser, web: WebInstance) -> None:
    context = browser.new_context(base_url=web.base_url)
    page = context.new_page()
    page.goto("/funnel")
    expect(page).to_have_url(re.compile(r"/sign-in\?next=/funnel"))
    accessible(page)
    page.fill("#email", web.users["trust"][0])
    page.fill("#password", "not the password at all")
    page.click("button[type=submit]")
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("not right")
    accessible(page)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(r"/funnel$"))
    context.close()


def test_overview_numbers_match_the_api(signed_in: Callable[[str], Page]) -> None:
    page = signed_in("trust")
    charts_drawn(page)
    accessible(page)
    overview = api(page, "/api/v1/overview")
    assert overview["ambition"], "the overview lists the ambition measures"
    for card in overview["ambition"]:
        cell = page.locator(f'tr[data-measure="{card["measure"]}"] [data-value]')
        expected = "suppressed" if card["suppressed"] else two_dp(card["latest_value"])
        assert cell.inner_text().startswith(expected), (card["measure"], cell.inner_text(), expected)
    assert page.locator("[data-chart]").count() == len(overview["ambition"])


def test_organisation_page_numbers_match_the_api(signed_in: Callable[[str], Page]) -> None:
    page = signed_in("trust")
    page.goto(f"/organisations/{OWN_TRUST}?measure=stillbirth_rate")
    charts_drawn(page)
    accessible(page)
    body = api(page, f"/api/v1/organisations/{OWN_TRUST}?measure=stillbirth_rate")
    assert body["unsuppressed"] is True
    for summary in body["summaries"]:
        cell = page.locator(f'tr[data-measure="{summary["measure"]}"] [data-value]')
        assert cell.inner_text().startswith(two_dp(summary["value"])), summary["measure"]
    expect(page.locator("[data-spc-variation]")).to_be_visible()
    icon = page.locator("[data-spc-variation] [data-icon]").first
    assert icon.get_attribute("data-icon") == body["spc"]["variation_icon"]
    page.locator("#trend summary").click()
    rows = page.locator('table[data-table="trend"] tbody tr')
    assert rows.count() == len(body["trend"]["rows"])


def test_spc_assurance_for_a_measure_with_a_target(signed_in: Callable[[str], Page]) -> None:
    """Smoke-free at delivery has a 94% target (measure registry): the chart says whether the
    process will meet it, with the Making Data Count assurance icon beside the words."""
    page = signed_in("trust")
    page.goto(f"/organisations/{OWN_TRUST}?measure=smoke_free_at_delivery")
    charts_drawn(page)
    body = api(page, f"/api/v1/organisations/{OWN_TRUST}?measure=smoke_free_at_delivery")
    assert body["spc"]["assurance_icon"] in ("pass", "fail", "inconsistent")
    icons = page.locator("[data-spc-variation] [data-icon]")
    assert [icons.nth(i).get_attribute("data-icon") for i in range(icons.count())] == [
        body["spc"]["variation_icon"],
        body["spc"]["assurance_icon"],
    ]
    accessible(page)


def test_funnel_point_opens_its_organisation_page(signed_in: Callable[[str], Page]) -> None:
    page = signed_in("national")
    page.goto(f"/funnel?measure=stillbirth_rate&level=trust&period=rolling_12m&highlight={OWN_TRUST}")
    charts_drawn(page)
    accessible(page)
    funnel = api(page, "/api/v1/funnel?measure=stillbirth_rate&level=trust&period=rolling_12m")
    own = next(p for p in funnel["points"] if p["org_code"] == OWN_TRUST)
    point = page.locator(f'#funnel svg path[aria-label*="Code: {OWN_TRUST};"]').first
    point.click(force=True)
    expect(page).to_have_url(re.compile(rf"/organisations/{OWN_TRUST}\?measure=stillbirth_rate$"))
    expect(page.locator("h1")).to_have_text(own["org_name"])
    charts_drawn(page)


def test_acknowledging_a_signal(signed_in: Callable[[str], Page], web: WebInstance) -> None:
    page = signed_in("trust")
    page.goto("/signals")
    accessible(page)
    card = page.locator("[data-signal]").first
    signal_id = card.get_attribute("data-signal")
    card.locator("textarea").fill("Reviewed at the maternity safety champions meeting")
    card.locator("button[type=submit]").click()
    expect(page.locator(".nhsuk-notification-banner")).to_contain_text(f"Signal {signal_id} acknowledged")
    accessible(page)
    history = page.locator(f'[data-signal="{signal_id}"] [data-history]')
    expect(history).to_contain_text("Reviewed at the maternity safety champions meeting")
    expect(page.locator(f'[data-signal="{signal_id}"] [data-status]')).to_have_text("Acknowledged")


def test_uploading_two_files_with_a_bad_row_shows_one_plan_one_load_and_the_rejection(
    signed_in: Callable[[str], Page], bad_upload: Callable[[str], Path], make_row, write_csv, tmp_path: Path
) -> None:
    """Two files chosen together in the real page's file field are one plan and one load."""
    page = signed_in("trust")
    page.goto("/data")
    accessible(page)
    first = bad_upload(OWN_TRUST)
    site = {"trust_code": OWN_TRUST, "site_code": load_hierarchy().sites_of(OWN_TRUST)[0].code}
    second = write_csv(
        tmp_path / "second-site.csv",
        [make_row(record_id=f"SECOND-{uuid.uuid4().hex[:8]}", birth_datetime="2018-06-20 11:00:00", **site)],
    )
    page.set_input_files("#file", [str(first), str(second)])
    # add or correct: a full resubmission would shrink the month when other tests (in any order)
    # have loaded more June 2018 records, and then ask for a second confirmation
    page.check("#mode-upsert")
    page.click("form[action='/data/upload'] button[type=submit]")
    expect(page.locator("h1")).to_have_text("Check before loading")
    expect(page.locator("[data-plan-files] li")).to_have_text([first.name, second.name])
    expect(page.locator("[data-plan-sentences]")).to_contain_text("R0A June 2018")  # other tests load June 2018 too
    accessible(page)
    page.get_by_role("button", name="Continue and load").click()
    result = page.locator("[data-upload-result]")
    expect(result).to_contain_text("Loaded 3 rows")
    expect(result).to_contain_text("1 row rejected")
    expect(page.locator("[data-rejections]")).to_contain_text("gestation")
    expect(page.locator('[data-table="loads"] tbody tr').first).to_contain_text(f"{first.name}, {second.name}")
    accessible(page)
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("Download the rejection report")).click()
    report = Path(download.value.path()).read_text()
    assert "gestation_weeks" in report and "61" in report and f'"{first.name}"' in report
    # reverting asks first, showing what would change; cancelling changes nothing
    page.get_by_role("link", name=re.compile("Revert this load")).first.click()
    expect(page.locator("h1")).to_contain_text("Revert load")
    expect(page.locator('table[data-table="revert"]')).to_contain_text("June 2018")
    accessible(page)
    page.get_by_role("link", name="Cancel and go back to data").click()
    expect(page.locator("h1")).to_have_text("Data")


def test_admin_page_adds_a_user_and_shows_the_audit_log(signed_in: Callable[[str], Page], web: WebInstance) -> None:
    page = signed_in("admin")
    page.goto("/admin/users")
    accessible(page)
    page.fill("#new-email", "new.midwife@test.invalid")
    page.select_option("#role", "trust_staff")
    page.select_option("#org_code", OWN_TRUST)
    page.fill("#new-password", "a long enough password")
    page.click("form[action='/admin/users'] button[type=submit]")
    expect(page.locator('[data-user="new.midwife@test.invalid"]')).to_be_visible()
    expect(page.locator('table[data-table="audit"]')).to_contain_text("Added a user")
    accessible(page)
    assert httpx.get(web.base_url + "/health").status_code == 200


def test_sign_out(signed_in: Callable[[str], Page]) -> None:
    page = signed_in("lmns")
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/sign-in"))
    expect(page.locator("main")).to_contain_text("You have signed out")
    page.goto("/signals")
    expect(page).to_have_url(re.compile(r"/sign-in\?next=/signals"))
