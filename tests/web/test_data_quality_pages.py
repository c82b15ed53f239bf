"""The data-quality page and the caveat on the web: a trust sees its own detail down to its
sites, anyone else sees aggregates and is refused a site's detail; the page and its JSON are
one context; a figure whose inputs fall below the threshold says so on the organisation page,
in the API and on the data-quality page. Axe on every page, in a real browser."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import httpx
from playwright.sync_api import Page, expect

from matneo.auth.access import Access
from matneo.auth.signin import SignedInUser
from matneo.measures.definitions import MEASURES_BY_ID
from matneo.web.pages.funnel import funnel_data
from matneo.web.services import Services

from .browsing import accessible
from .conftest import OTHER_TRUST, OWN_TRUST, PASSWORD, WebInstance, plant_signal, serve, sign_in


def test_a_trust_sees_its_own_detail_down_to_its_sites(web: WebInstance) -> None:
    trust = web.client("trust")
    try:
        body = trust.get(f"/api/v1/organisations/{OWN_TRUST}/data-quality").json()
        assert body["unsuppressed"] is True and body["detail"] is True and body["births"] > 0
        assert len(body["months"]) == 12 and body["units"], "months and sites"
        site = next(u["code"] for u in body["units"] if u["code"])
        smoking = next(f for f in body["fields"] if f["field"] == "smoking_at_delivery")
        assert smoking["population"] > 0 and 0 < smoking["percent"] <= 100
        one = trust.get(f"/api/v1/organisations/{OWN_TRUST}/data-quality", params={"site": site}).json()
        assert one["site"] == site and 0 < one["births"] < body["births"]
        page = trust.get(f"/organisations/{OWN_TRUST}/data-quality")
        assert page.status_code == 200 and 'data-table="units"' in page.text
        assert f'href="/organisations/{OWN_TRUST}/data-quality"' in trust.get(f"/organisations/{OWN_TRUST}").text
        assert f'href="/organisations/{OWN_TRUST}/data-quality"' in trust.get("/data").text
    finally:
        trust.close()


def test_another_trust_sees_aggregates_and_is_refused_site_detail(web: WebInstance) -> None:
    other = web.client("other_trust")
    try:
        body = other.get(f"/api/v1/organisations/{OWN_TRUST}/data-quality").json()
        assert body["unsuppressed"] is False and body["births"] is None
        assert body["months"] == [] and body["units"] == [] and body["loads"] == []
        assert all(f["population"] is None and f["known"] is None for f in body["fields"])
        assert body["rejections"]["rows_read"] is None
        site = web.hierarchy.sites_of(OWN_TRUST)[0].code
        for path in (f"/api/v1/organisations/{OWN_TRUST}/data-quality", f"/organisations/{OWN_TRUST}/data-quality"):
            refused = other.get(path, params={"site": site})
            assert refused.status_code == 403, (path, refused.text)
        page = other.get(f"/organisations/{OWN_TRUST}/data-quality")
        assert page.status_code == 200 and 'data-table="units"' not in page.text and "outside your scope" in page.text
    finally:
        other.close()


def test_an_lmns_sees_its_trusts(web: WebInstance) -> None:
    lmns = web.hierarchy.ancestor_at(OWN_TRUST, "lmns").code
    lead = web.client("lmns")
    try:
        body = lead.get(f"/api/v1/organisations/{lmns}/data-quality").json()
        assert body["units_title"] == "Trusts" and OWN_TRUST in {u["code"] for u in body["units"]}
        assert OWN_TRUST in {c["trust_code"] for c in body["coverage"]}
    finally:
        lead.close()


def test_a_figure_on_poor_data_carries_the_caveat(web: WebInstance) -> None:
    """With a threshold above what the synthetic data records (about 1% of smoking statuses are
    missing), the smoke-free figure carries the caveat everywhere it is shown."""
    strict = dataclasses.replace(web.settings, completeness_threshold=99.9)
    base_url, stop = serve(strict)
    client = httpx.Client(base_url=base_url, timeout=120)
    try:
        email, _, _ = web.users["trust"]
        sign_in(client, email, PASSWORD)
        body = client.get(f"/api/v1/organisations/{OWN_TRUST}", params={"measure": "smoke_free_at_delivery"}).json()
        summary = next(s for s in body["summaries"] if s["measure"] == "smoke_free_at_delivery")
        [words] = [c for c in summary["caveats"] if c.startswith("smoking status at delivery recorded for")]
        assert words.endswith("% of maternities: treat with caution")
        assert words in body["caveats"]
        page = client.get(f"/organisations/{OWN_TRUST}", params={"measure": "smoke_free_at_delivery"}).text
        assert words.capitalize() in page
        quality = client.get(f"/api/v1/organisations/{OWN_TRUST}/data-quality").json()
        assert words in quality["caveats"]
        rows = client.get(
            "/api/v1/measures", params={"measure": "smoke_free_at_delivery", "org": OWN_TRUST, "period": "year"}
        ).json()["rows"]
        flagged = [any(c.startswith("smoking status at delivery") for c in r["caveats"]) for r in rows]
        assert any(flagged), "years with a missing smoking status carry the caveat"
        assert all(isinstance(r["caveats"], list) for r in rows)  # a year with every status recorded has none
        funnel = client.get("/api/v1/funnel", params={"measure": "smoke_free_at_delivery", "period": "year"}).json()
        points = {p["org_code"]: p for p in funnel["points"]}
        assert any(c.startswith("smoking status at delivery recorded for") for c in points[OWN_TRUST]["caveats"])
        assert all(isinstance(p["caveats"], list) for p in points.values())
        # the ambition measures rest on required fields and brain injury, recorded for every live birth
        assert all(card["caveats"] == [] for card in client.get("/api/v1/overview").json()["ambition"])
        planted = plant_signal(web.settings.database_url, OWN_TRUST, "smoke_free_at_delivery", "planted: caveat")
        signal = next(s for s in client.get("/api/v1/signals").json()["signals"] if s["id"] == planted)
        assert any(c.startswith("smoking status at delivery recorded for") for c in signal["caveats"])
        assert "This signal rests on incomplete data." in client.get("/signals").text
        lenient = web.client("trust")
        try:  # the instance with the default threshold: no caveat on the same figure
            usual = lenient.get(f"/api/v1/organisations/{OWN_TRUST}", params={"measure": "smoke_free_at_delivery"})
            assert not next(s for s in usual.json()["summaries"] if s["measure"] == "smoke_free_at_delivery")["caveats"]
        finally:
            lenient.close()
    finally:
        client.close()
        stop()


def test_pages_are_accessible(signed_in: Callable[[str], Page], web: WebInstance) -> None:
    page = signed_in("trust")
    page.goto(f"/organisations/{OWN_TRUST}/data-quality")
    expect(page.locator('table[data-table="fields"]')).to_be_visible()
    accessible(page)
    page.locator("select#site").select_option(index=1)
    page.get_by_role("button", name="Show site").click()
    expect(page.locator("h1")).to_contain_text("one site")
    accessible(page)
    other = signed_in("other_trust")
    other.goto(f"/organisations/{OWN_TRUST}/data-quality")
    expect(other.locator('table[data-table="fields"]')).to_be_visible()
    accessible(other)
    other.goto(f"/organisations/{OTHER_TRUST}")
    other.get_by_role("link", name="Data quality for").first.click()
    expect(other.locator("h1")).to_contain_text("Data quality")
    accessible(other)


def test_trust_readers_share_the_caveats_of_a_funnel_none_of_whose_organisations_is_theirs(web: WebInstance) -> None:
    """A funnel's caveats differ between readers only in which of its organisations are the
    reader's (their caveats may rest on small numbers): every trust user reading the LMNS funnel
    shares one set, and an LMNS lead, one of whose organisations it holds, has their own."""
    services = Services.create(web.settings)
    measure = MEASURES_BY_ID["smoke_free_at_delivery"]

    def caveats_of(role: str, code: str) -> dict[str, list[str]]:
        access = Access(SignedInUser(0, "", role, code, ""), services.hierarchy)
        return {p.org_code: p.caveats for p in funnel_data(services, access, measure, "lmns", "rolling_12m").points}

    def entries() -> int:
        return sum(1 for key in services.results.entries.keys_newest_first() if key[1:3] == ("memo", "funnel-caveats"))

    own, other = caveats_of("trust_staff", OWN_TRUST), caveats_of("trust_staff", OTHER_TRUST)
    assert entries() == 1
    assert {c: own[c] for c in own.keys() & other.keys()} == {c: other[c] for c in own.keys() & other.keys()}
    caveats_of("lmns_lead", services.hierarchy.ancestor_at(OWN_TRUST, "lmns").code)
    assert entries() == 2
