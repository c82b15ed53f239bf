"""What the figure pages say and show, in a real browser against the session's web instance.

Periods named and drawn at the end of their window (and named the same by the CLI), the SPC
headline naming the month its icons describe, every inequality group accounted for, funnel
positions judged by the measure's direction, no sideways scrolling on a phone, and the methods
guide and the other guides (the Data page links what each kind of file must hold) served as
pages. Every page visited is checked with axe-core.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from matneo.reference.codes import ETHNIC_GROUPS

from .browsing import accessible
from .conftest import OTHER_TRUST, OWN_TRUST, PASSWORD, WebInstance
from .test_browser import api, charts_drawn

PHONE_WIDTH = 390  # an iPhone 12 to 15 in portrait, in CSS pixels


def embedded_spec(page: Page, chart_id: str) -> dict:
    """The Vega-Lite spec a chart was drawn from, as the page embeds it."""
    return json.loads(page.locator(f"script#{chart_id}-spec").text_content() or "null")


def matneo_cli(web: WebInstance, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, MATNEO_HOME=str(web.settings.home), MATNEO_DATABASE_URL=web.settings.database_url)
    return subprocess.run(
        [sys.executable, "-m", "matneo.cli.main", *args], env=env, capture_output=True, text=True, check=False
    )


# -- 1. periods ------------------------------------------------------------------------------
def test_rolling_rates_are_drawn_and_named_at_the_end_of_their_window(signed_in: Callable[[str], Page]) -> None:
    """The session data run to Dec 2023: the last 12-month point is "12 months to Dec 2023",
    drawn on Dec 2023 (drawn at its start it would sit on Jan 2023, a year early)."""
    page = signed_in("trust")
    page.goto(f"/organisations/{OWN_TRUST}?measure=stillbirth_rate")
    charts_drawn(page)
    points = [p for p in embedded_spec(page, "trend")["datasets"]["points"] if p["series"].startswith("Manchester")]
    last = max(points, key=lambda p: p["plot_date"])
    assert (last["plot_date"], last["period"], last["period_end"]) == (
        "2023-12-01",
        "12 months to Dec 2023",
        "2023-12-31",
    )
    assert all(p["plot_date"][:7] == p["period_end"][:7] for p in points)  # every point on its last month
    page.locator("#trend summary").click()
    expect(page.locator('table[data-table="trend"] tbody tr').last).to_contain_text("12 months to Dec 2023")
    expect(page.locator('tr[data-measure="stillbirth_rate"]')).to_contain_text("12 months to Dec 2023")


def test_yearly_charts_read_by_year_and_the_cli_names_periods_as_the_web_does(
    signed_in: Callable[[str], Page], web: WebInstance
) -> None:
    page = signed_in("national")
    charts_drawn(page)
    accessible(page)
    for measure in ("stillbirth_rate", "maternal_mortality"):
        ticks = page.locator(f"#trend-{measure} svg .role-axis-label text").all_text_contents()
        years = [t for t in ticks if re.fullmatch(r"\d{4}", t)]
        assert years and not [t for t in ticks if re.fullmatch(r"[A-Z][a-z]{2} \d{4}", t)], ticks
    web_periods = {c["measure"]: c["latest_period"] for c in api(page, "/api/v1/overview")["ambition"]}
    assert web_periods["maternal_mortality"] == "2021–23" and web_periods["stillbirth_rate"] == "2023"
    triennium = next(p for p in embedded_spec(page, "trend-maternal_mortality")["datasets"]["points"])
    assert triennium["period"] == "2019–21" and triennium["plot_date"] == "2021-01-01"  # at its last year
    result = matneo_cli(web, "ambition", "--format", "json")
    assert result.returncode == 0, result.stderr
    cli_periods = {item["measure"]: item["latest_period"] for item in json.loads(result.stdout)}
    for measure, period in web_periods.items():
        if period is not None and cli_periods.get(measure) is not None:
            assert cli_periods[measure] == period, measure
    assert cli_periods["maternal_mortality"] == "2021–23"


# -- 2. the SPC headline ----------------------------------------------------------------------
@pytest.mark.parametrize("measure", ["stillbirth_rate", "perinatal_mortality", "brain_injury_rate", "caesarean_rate"])
def test_spc_headline_describes_the_latest_point_and_says_which_month(
    signed_in: Callable[[str], Page], measure: str
) -> None:
    """The icon and words describe the latest month shown (NHSRplotthedots ``ptd_get_icons``), and
    say so; when that month is common cause, an earlier special cause on the chart is named."""
    page = signed_in("trust")
    page.goto(f"/organisations/{OWN_TRUST}?measure={measure}")
    charts_drawn(page)
    spc = api(page, f"/api/v1/organisations/{OWN_TRUST}?measure={measure}")["spc"]
    shown = [row for row in spc["rows"] if row[1] is not None]
    latest = shown[-1]
    assert spc["icon_period"] == latest[0]
    headline = page.locator("[data-spc-variation]")
    expect(headline.locator("dt").first).to_have_text(f"Variation in {latest[0]}, the latest month")
    assert headline.locator("[data-icon]").first.get_attribute("data-icon") == spc["variation_icon"]
    assert (spc["variation_icon"] == "common_cause") == (latest[5] == "Common cause variation")
    words = headline.locator("[data-variation-text]")
    earlier = [row for row in shown[:-1] if row[5] != "Common cause variation"]
    if latest[5] == "Common cause variation" and earlier:
        expect(words).to_contain_text(f"The most recent special cause was in {earlier[-1][0]}")
    elif latest[5] != "Common cause variation":
        expect(words).not_to_contain_text("no significant change")
    accessible(page)


# -- 3. inequality groups ---------------------------------------------------------------------
@pytest.mark.parametrize(("user", "trust"), [("trust", OWN_TRUST), ("trust", OTHER_TRUST)])
def test_every_inequality_group_is_listed_with_the_reason_it_is_not_shown(
    signed_in: Callable[[str], Page], user: str, trust: str
) -> None:
    page = signed_in(user)
    page.goto(f"/organisations/{trust}?measure=stillbirth_rate")
    charts_drawn(page)
    accessible(page)
    charts = {c["id"]: c for c in api(page, f"/api/v1/organisations/{trust}?measure=stillbirth_rate")["inequalities"]}
    ethnic = charts["inequalities-ethnic_group"]
    assert [row[0] for row in ethnic["rows"]] == list(ETHNIC_GROUPS)
    imd = charts["inequalities-imd_quintile"]
    assert len(imd["rows"]) == 6 and imd["rows"][0][0] == "5 (least deprived)"
    for chart in (ethnic, imd):
        drawn = {p["group"] for p in (chart["vega_lite"] or {"datasets": {"points": []}})["datasets"]["points"]}
        hidden = [row for row in chart["rows"] if isinstance(row[1], str)]
        assert drawn | {row[0] for row in hidden} == {row[0] for row in chart["rows"]}
        figure = page.locator(f"#{chart['id']}")
        for group, reason in ((row[0], row[1].removeprefix("not shown: ")) for row in hidden):
            note = figure.locator("p", has_text=re.compile(rf"^Not shown: .*{re.escape(group)}"))
            expect(note).to_contain_text(reason)
    if trust == OTHER_TRUST:  # suppressed for a reader outside the trust: said, not dropped
        assert any("hidden to protect privacy" in str(row[1]) for row in ethnic["rows"] + imd["rows"])


# -- 4. funnel positions ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("measure", "above"),
    [("continuity_of_carer", "Better than expected"), ("pph_1500", "Worse than expected")],
)
def test_funnel_positions_say_better_or_worse_by_the_measure_direction(
    signed_in: Callable[[str], Page], measure: str, above: str
) -> None:
    """Above the 99.8% limit is better for continuity of carer, worse for severe PPH; the limit
    stays in the words, and the tag colour repeats (never replaces) them."""
    page = signed_in("national")
    page.goto(f"/funnel?measure={measure}&level=trust&period=rolling_12m")
    charts_drawn(page)
    accessible(page)
    points = api(page, f"/api/v1/funnel?measure={measure}&level=trust&period=rolling_12m")["points"]
    high = [p for p in points if p["position"] == "above_998"]
    assert high, "the session data have a trust above the 99.8% limit for this measure"
    row = page.locator('table[data-table="points"] tr', has_text=high[0]["org_name"])
    expect(row).to_contain_text(f"{above} (above the 99.8% limit)")
    tag = row.locator(".nhsuk-tag")
    assert ("nhsuk-tag--blue" if above.startswith("Better") else "nhsuk-tag--orange") in (
        tag.get_attribute("class") or ""
    )
    legend = page.locator("#funnel svg .role-legend-label text").all_text_contents()
    assert above in legend and "Above the 99.8% limit" not in legend


# -- 5. phones --------------------------------------------------------------------------------
@pytest.fixture
def phone(browser: Browser, web: WebInstance) -> Iterator[Callable[[str], Page]]:
    """``phone(name)``: a page 390 CSS pixels wide, signed in as that user."""
    contexts = []

    def open_as(name: str) -> Page:
        context = browser.new_context(base_url=web.base_url, viewport={"width": PHONE_WIDTH, "height": 844})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.errors = []  # type: ignore[attr-defined]
        page.on("pageerror", lambda error: page.errors.append(str(error)))  # type: ignore[attr-defined]
        page.goto("/sign-in")
        page.fill("#email", web.users[name][0])
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        expect(page).to_have_url(re.compile(r"/$"))
        return page

    yield open_as
    for context in contexts:
        context.close()


#: Elements that reach past the right edge of the screen (outside any box that scrolls), for the message.
OVERFLOWING = """() => [...document.querySelectorAll("body *")].filter(el => {
  if (el.getBoundingClientRect().right <= window.innerWidth + 1) return false;
  for (let p = el.parentElement; p && p !== document.body; p = p.parentElement)
    if (getComputedStyle(p).overflowX !== "visible") return false;
  return true;
}).slice(0, 5).map(el => el.outerHTML.slice(0, 120))"""

MAIN_PAGES = [
    "/",
    f"/organisations/{OWN_TRUST}?measure=stillbirth_rate",
    f"/organisations/{OWN_TRUST}?measure=continuity_of_carer_black_asian",
    "/funnel?measure=continuity_of_carer_most_deprived",
    "/signals",
    "/harm",
    "/data",
    "/methods",
    "/guides/msds",
    "/admin/users",
]


def test_no_sideways_scrolling_on_a_phone_and_the_menu_collapses(phone: Callable[[str], Page]) -> None:
    page = phone("trust_admin")
    for path in MAIN_PAGES:
        page.goto(path)
        if page.locator("[data-chart]").count():
            charts_drawn(page)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE_WIDTH, (path, width, page.evaluate(OVERFLOWING))
        assert page.locator("[data-rendered=failed]").count() == 0
    # NHS.UK header: links that do not fit move into a "More" menu.
    toggle = page.get_by_role("button", name="Browse More")
    expect(toggle).to_be_visible()
    expect(page.get_by_role("link", name="Harm reports")).to_be_hidden()
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_role("link", name="Harm reports")).to_be_visible()
    accessible(page)


# -- 6. methods -------------------------------------------------------------------------------
def test_method_notes_link_to_a_served_page(
    signed_in: Callable[[str], Page], browser: Browser, web: WebInstance
) -> None:
    page = signed_in("trust")
    page.set_default_timeout(90_000)  # the first organisation page of a cold instance builds every summary
    charts_drawn(page)
    assert "docs/methods.md" not in page.content()
    page.get_by_role("link", name="How the trajectory and status are worked out").click()
    expect(page).to_have_url(re.compile(r"/methods#trajectories-to-the-ambition$"))
    expect(page.locator("h1")).to_have_text("Statistical methods")
    expect(page.locator("h2#trajectories-to-the-ambition")).to_be_in_viewport()
    accessible(page)
    linked = (
        (f"/organisations/{OWN_TRUST}?measure=stillbirth_rate", "statistical-process-control-making-data-count"),
        (f"/organisations/{OWN_TRUST}?measure=stillbirth_rate", "inequalities"),
        ("/funnel", "funnel-plots-and-overdispersion"),
    )
    for path, anchor in linked:
        page.goto(path)
        assert "docs/" not in page.locator("main").inner_text()
        assert page.locator(f'main a[href="/methods#{anchor}"]').count() == 1
    page.goto("/methods")
    for _, anchor in linked:
        expect(page.locator(f"h2#{anchor}")).to_have_count(1)
    # The Data page says what each kind of file must hold by linking its guide, served as a page.
    page.goto("/data")
    assert not re.search(r"docs/|\.md\b", page.locator("main").inner_text())
    page.locator("[data-format-guides]").get_by_role("link", name="MSDS v2.0 extracts").click()
    expect(page).to_have_url(re.compile(r"/guides/msds$"))
    expect(page.locator("h1")).to_have_text("MSDS v2.0 input")
    expect(page.locator("main table.nhsuk-table").first).to_be_visible()
    accessible(page)
    page.locator("main").get_by_role("link", name="tos", exact=True).first.click()  # a source, in the page
    expect(page).to_have_url(re.compile(r"/guides/msds#tos$"))
    expect(page.locator("li#tos")).to_be_in_viewport()
    page.locator("main").get_by_role("link", name="the birth record", exact=True).click()  # another guide
    expect(page).to_have_url(re.compile(r"/guides/birth-record$"))
    expect(page.locator("h1")).to_have_text("The birth record")
    page.get_by_role("contentinfo").get_by_role("link", name=re.compile("^All guides")).click()
    expect(page).to_have_url(re.compile(r"/guides$"))
    expect(page.locator("[data-guides] a")).to_have_count(7)
    accessible(page)
    anonymous = browser.new_context(base_url=web.base_url)
    stranger = anonymous.new_page()
    for path in ("/methods", "/guides/msds"):
        stranger.goto(path)
        expect(stranger).to_have_url(re.compile(rf"/sign-in\?next={path}$"))
    anonymous.close()
