"""Assurance on the web: a trust records its position in a real browser (axe on every page),
its LMNS sees the matrix, and nobody else can change or see the trust's words."""

from __future__ import annotations

import re
import socket
from collections.abc import Callable
from pathlib import Path

import httpx
from playwright.sync_api import Page, expect

from .browsing import accessible
from .conftest import OTHER_TRUST, OWN_TRUST, WebInstance

KEY = "cnst_mis_y2:SA8"
UNCONFIRMED = "cnst_mis_y7:SA1"  # its packaged title names the subject only


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
    page.locator("[data-framework=cnst_mis_y2]").get_by_role("link", name="Safety action 8").click()
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


def test_a_trust_records_its_wording_for_a_requirement_that_needs_local_confirmation(
    signed_in: Callable[[str], Page], web: WebInstance
) -> None:
    page = signed_in("trust")
    page.goto(f"/organisations/{OWN_TRUST}/assurance/{UNCONFIRMED}")
    expect(page.locator("form[data-wording-form]")).to_have_count(1)
    page.fill("#wording", "x" * 1001)
    page.get_by_role("button", name="Save wording").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("1000 characters or fewer")
    expect(page.locator("#wording-error")).to_contain_text("1000 characters or fewer")
    accessible(page)
    page.fill("#wording", "Perinatal deaths reviewed with the review tool to the year's standard")
    page.get_by_role("button", name="Save wording").click()
    expect(page.locator(".nhsuk-notification-banner--success")).to_contain_text("Saved")
    expect(page.locator("h1")).to_have_text("Perinatal deaths reviewed with the review tool to the year's standard")
    expect(page.locator("[data-wording-note]")).to_contain_text("wording recorded by the trust")
    expect(page.locator("[data-packaged]")).to_have_text(
        "Perinatal mortality reviews (National Perinatal Mortality Review Tool)"
    )
    expect(page.locator("[data-table=history]")).to_contain_text("wording")
    accessible(page)
    page.goto(f"/organisations/{OWN_TRUST}/assurance")
    row = page.locator(f"[data-requirement='{UNCONFIRMED}']")
    expect(row.locator("[data-wording]")).to_have_text(
        "Perinatal deaths reviewed with the review tool to the year's standard"
    )
    expect(row.locator("[data-wording-note]")).to_contain_text("packaged wording needs local confirmation")
    accessible(page)
    page.goto(f"/organisations/{OWN_TRUST}/assurance/{KEY}")
    expect(page.locator("form[data-wording-form]")).to_have_count(0)  # a confirmed requirement keeps its words


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
        wording = f"/organisations/{OWN_TRUST}/assurance/{UNCONFIRMED}/wording"
        lead = lmns.post(wording, data={"wording": "LMNS words", "csrf_token": lmns.headers["X-CSRF-Token"]})
        assert lead.status_code == 403  # the trust's wording is the trust's to record
        hostile = other.post(wording, data={"wording": "Not ours", "csrf_token": other.headers["X-CSRF-Token"]})
        assert hostile.status_code == 404
        confirmed = trust.post(f"{path}/wording", data={"wording": "Ours", "csrf_token": trust.headers["X-CSRF-Token"]})
        assert confirmed.status_code == 400 and "confirmed from its source" in confirmed.text
        token = trust.headers["X-CSRF-Token"]
        assert trust.post(wording, data={"wording": "Our words", "csrf_token": token}).status_code == 303
        worded = trust.get(f"/organisations/{OWN_TRUST}/assurance?format=json").json()["wordings"]
        assert worded[UNCONFIRMED] == "Our words"
        assert trust.post(wording, data={"wording": "", "csrf_token": token}).status_code == 303  # packaged again
        as_json = trust.get(f"/organisations/{OWN_TRUST}/assurance?format=json").json()
        mine = next(s for s in as_json["statuses"] if s["requirement"] == KEY)
        assert mine["status"] == "in_progress" and mine["trust_code"] == OWN_TRUST
        assert other.get(f"/organisations/{OTHER_TRUST}/assurance").status_code == 200
    finally:
        for client in (trust, other, lmns):
            client.close()


def test_evidence_is_attached_once_and_mapped_to_many(
    signed_in: Callable[[str], Page], web: WebInstance, tmp_path: Path
) -> None:
    """A trust uploads minutes once, maps them to MIS safety action 9 and Ockenden IEA 1, takes one
    off again; the file only ever downloads; its LMNS sees counts, never the title."""
    minutes = tmp_path / "Safety champions October.pdf"
    minutes.write_bytes(b"%PDF-1.7\n1 0 obj << >> endobj\n%%EOF\n")
    page = signed_in("trust")
    page.goto(f"/organisations/{OWN_TRUST}/assurance/cnst_mis_y2:SA9")
    page.get_by_role("link", name="Add evidence for this requirement").click()
    expect(page.locator("#requirement")).to_have_value("cnst_mis_y2:SA9")  # preselected from the requirement
    accessible(page)
    page.select_option("#kind", "minutes")
    page.get_by_role("button", name="Add evidence").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("Enter a title")
    accessible(page)
    page.fill("#title", "Safety champions' meeting, October")
    page.fill("#dated", "2026-10-14")
    page.set_input_files("#file", str(minutes))
    page.get_by_role("button", name="Add evidence").click()
    expect(page.locator(".nhsuk-notification-banner--success")).to_contain_text("Saved")
    expect(page.locator("[data-mapped] [data-requirement='cnst_mis_y2:SA9']")).to_have_count(1)
    expect(page.locator("[data-suggested]")).to_contain_text("Enhanced safety")  # Ockenden IEA 1, linked to SA9
    accessible(page)
    page.locator("[data-suggested] li", has_text="Enhanced safety").get_by_role("button").click()
    expect(page.locator("[data-mapped] li")).to_have_count(2)
    link = page.locator("[data-download]")
    response = page.request.get(link.get_attribute("href") or "")
    assert response.status == 200 and response.body().startswith(b"%PDF")
    assert response.headers["content-disposition"].startswith("attachment")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-type"] == "application/pdf"
    page.goto(f"/organisations/{OWN_TRUST}/assurance/ockenden_first:IEA1")
    expect(page.locator("[data-evidence-list]")).to_contain_text("Safety champions' meeting, October")
    accessible(page)
    page.locator("[data-evidence-list] button").first.click()
    expect(page.locator("[data-evidence-list]")).to_have_count(0)
    page.goto(f"/organisations/{OWN_TRUST}/evidence")
    expect(page.locator("[data-table=evidence]")).to_contain_text("Safety champions' meeting, October")
    accessible(page)

    lead = signed_in("lmns")
    lead.goto(f"/organisations/{OWN_TRUST}/evidence")
    expect(lead.locator("[data-evidence-counts] [data-items]")).not_to_have_text("0")
    expect(lead.locator("body")).not_to_contain_text("Safety champions' meeting")
    accessible(lead)
    lmns = web.hierarchy.ancestor_at(OWN_TRUST, "lmns").code
    lead.goto(f"/organisations/{lmns}/assurance")
    expect(lead.locator(f"[data-trust={OWN_TRUST}] [data-evidence-items]")).not_to_have_text("0")
    lead.goto(f"/organisations/{OWN_TRUST}/assurance/cnst_mis_y2:SA9")
    expect(lead.locator("[data-evidence-count]")).to_contain_text("evidence item")
    expect(lead.locator("body")).not_to_contain_text("Safety champions' meeting")


def declared_too_large(web: WebInstance, client: httpx.Client, path: str) -> bytes:
    """Announce 600 MB and send nothing: the answer's head (the server must not wait for the body)."""
    cookies = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
    host, port = web.base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            (f"POST {path} HTTP/1.1\r\nHost: {host}\r\nCookie: {cookies}\r\n"
             "Content-Type: multipart/form-data; boundary=xyz\r\n"
             f"Content-Length: {600 * 1024 * 1024}\r\n\r\n").encode()
        )  # fmt: skip
        answer = b""
        while b"</html>" not in answer:
            chunk = sock.recv(65536)
            assert chunk, "connection closed without a page"
            answer += chunk
    return answer


def test_evidence_files_are_checked_and_kept_to_the_trust(web: WebInstance) -> None:
    trust, other, lmns = web.client("trust"), web.client("other_trust"), web.client("lmns")
    try:
        path = f"/organisations/{OWN_TRUST}/evidence"
        form = {"csrf_token": trust.headers["X-CSRF-Token"], "kind": "document", "title": "A program"}
        program = trust.post(path, data=form, files={"file": ("policy.pdf", b"MZ\x90\x00" * 64, "application/pdf")})
        assert program.status_code == 415 and "must be a PDF" in program.text
        svg = b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"
        assert trust.post(path, data=form, files={"file": ("chart.svg", svg, "image/svg+xml")}).status_code == 415
        assert declared_too_large(web, trust, path).startswith(b"HTTP/1.1 413")  # before the body is read
        multipart = {"Content-Type": "multipart/form-data; boundary=x"}
        unsized = trust.post(path, content=iter([b"--x--\r\n"]), headers=multipart)
        assert unsized.status_code == 411  # streamed with no length: refused before it is read
        big = trust.post(path, data=form, files={"file": ("big.pdf", b"%PDF-" + b"0" * (25 * 1024 * 1024), "x/y")})
        assert big.status_code == 413 and "larger than 25 MB" in big.text  # within the allowance: stopped while read
        made = trust.post(path, data=form, files={"file": ("policy.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")})
        assert made.status_code == 303
        item = made.headers["location"].split("?")[0]
        assert trust.get(f"{item}/file").status_code == 200
        assert lmns.get(f"{item}/file").status_code == 403 and lmns.get(item).status_code == 403  # counts only
        assert other.get(f"{item}/file").status_code == 404 and other.get(path).status_code == 404
        mapped = lmns.post(f"{item}/map", data={"key": "cnst_mis_y2:SA1", "csrf_token": lmns.headers["X-CSRF-Token"]})
        assert mapped.status_code == 403
        assert lmns.get(f"{path}?format=json").json().keys() == {"code", "items", "requirements_with_evidence"}
        as_json = trust.get(f"{item}?format=json").json()
        assert as_json["title"] == "A program" and as_json["file_name"] == "policy.pdf"
        assert lmns.get(f"{item}?format=json").status_code == 403
        held = trust.get(f"/organisations/{OWN_TRUST}/assurance?format=json").json()["evidence"][OWN_TRUST]
        assert held["items"] >= 1
    finally:
        for client in (trust, other, lmns):
            client.close()


def test_a_trust_imports_survey_figures_and_its_lmns_sees_only_what_it_may(
    signed_in: Callable[[str], Page], web: WebInstance, tmp_path: Path
) -> None:
    fft = tmp_path / "fft.csv"
    fft.write_text("org_code,period,measure,value,responses\n"
                   f"{OWN_TRUST},2026-09,positive_percent,95.1,210\n{OWN_TRUST},2026-10,positive_percent,94.0,198\n"
                   "RJ1,2026-10,positive_percent,80,100\n")  # fmt: skip
    culture = tmp_path / "culture.csv"
    culture.write_text(f"org_code,year,domain,percent_positive,responses\n{OWN_TRUST},2026,teamwork_climate,64,41\n")
    page = signed_in("trust")
    page.goto(f"/organisations/{OWN_TRUST}/assurance")
    page.get_by_role("link", name=re.compile("^Family and staff voice for")).click()
    accessible(page)
    page.get_by_role("button", name="Import").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("Choose a CSV file")
    accessible(page)
    page.select_option("#source", "fft")
    page.set_input_files("#file", str(fft))
    page.get_by_role("button", name="Import").click()
    expect(page.locator("[data-import-result]")).to_contain_text("2 of 3 rows stored")
    expect(page.locator("[data-problems]")).to_contain_text("RJ1 is not a trust you can import figures for")
    accessible(page)
    page.select_option("#source", "culture_survey")
    page.set_input_files("#file", str(culture))
    page.get_by_role("button", name="Import").click()
    expect(page.locator("[data-table=voice]")).to_contain_text("Teamwork climate")
    expect(page.locator("[data-table=voice]")).to_contain_text("94.0%")
    page.goto(f"/organisations/{OWN_TRUST}/assurance")
    expect(page.locator("[data-table=voice]")).to_contain_text("Teamwork climate")

    lead = signed_in("lmns")
    lead.goto(f"/organisations/{OWN_TRUST}/voice")
    expect(lead.locator("[data-table=voice]")).to_contain_text("Responses positive")
    expect(lead.locator("[data-table=voice]")).not_to_contain_text("Teamwork climate")  # culture: the trust's alone
    expect(lead.locator("[data-kept]")).to_contain_text("Safety culture survey")
    expect(lead.locator("form[action$='/voice']")).to_have_count(0)
    accessible(lead)


def test_an_upload_refused_before_it_is_added_leaves_no_received_file(web: WebInstance) -> None:
    """The received bytes wait in ``evidence/incoming/`` for the item; a refusal drops them at once."""
    trust = web.client("trust")
    incoming = web.settings.home / "evidence" / "incoming"
    try:
        before = set(incoming.iterdir()) if incoming.exists() else set()
        form = {"csrf_token": trust.headers["X-CSRF-Token"], "kind": "document", "title": "Audit", "requirement": "x:1"}
        refused = trust.post(
            f"/organisations/{OWN_TRUST}/evidence",
            data=form,
            files={"file": ("audit.pdf", b"%PDF-1.4\n% refused\n%%EOF\n", "application/pdf")},
        )
        assert refused.status_code == 400 and "no requirement" in refused.text
        after = set(incoming.iterdir()) if incoming.exists() else set()
        assert after == before, "the refused upload's bytes were left in incoming/"
    finally:
        trust.close()
