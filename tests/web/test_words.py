"""Words people understand: no internal codes, Python reprs or ISO timestamps on the harm and admin pages.

Every harm page and the admin page is fetched over HTTP after a case has been worked through every
kind of change (route done, contact, candour step, attachment, an answer amended, an overdue
notification), and the text a person sees is checked: no route ids, audit or trail action codes,
dotted field names, ``user:3`` targets, list or dict reprs, or ISO dates and times.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from html.parser import HTMLParser

import httpx
import pytest

from harm.reports import live_baby, report, stillborn
from matneo.auth.users import AUDIT_ACTIONS
from matneo.harm.portal import CHANGE_ACTIONS
from matneo.harm.report import ANSWER_LABELS
from matneo.harm.rules import ROUTE_IDS
from matneo.web.display import day, when

from .conftest import OWN_TRUST, WebInstance

CODES = re.compile(
    "|".join(
        rf"(?<![\w.]){re.escape(code)}(?![\w])"
        for code in sorted(
            {
                *(r for r in ROUTE_IDS if "_" in r),
                *AUDIT_ACTIONS,
                *CHANGE_ACTIONS,
                *(f for f in ANSWER_LABELS if "." in f),
            },
            key=len,
            reverse=True,
        )
    )
)
SNAKE_CASE = re.compile(r"\b[a-z]+_[a-z0-9_]+\b")  # field names, statuses, roles, route ids as data
TARGET = re.compile(r"\b[a-z_]+:\d+\b")  # audit targets such as user:3
ISO = re.compile(r"\d{4}-\d{2}-\d{2}|\d{2}:\d{2}:\d{2}")
REPR = re.compile(r"\[['\"]|\{['\"]|\b(?:True|False|None)\b")
EMAIL = re.compile(r"\S+@\S+")
HINT = re.compile(r"For example, \d{4}-\d{2}-\d{2}")
FILE_NAME = re.compile(r"\S+\.(?:csv|parquet)\b")  # the names of files people uploaded are theirs


class VisibleText(HTMLParser):
    """The text of a page as a person (or a screen reader) gets it: no tags, attributes or scripts,
    and not what is marked ``<code>`` (text to type exactly, such as a file layout's column names)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.skipping += tag in ("script", "style", "code")

    def handle_endtag(self, tag: str) -> None:
        self.skipping -= tag in ("script", "style", "code")

    def handle_data(self, data: str) -> None:
        if not self.skipping and data.strip():
            self.parts.append(" ".join(data.split()))


def visible(html: str) -> str:
    parser = VisibleText()
    parser.feed(html)
    return "\n".join(parser.parts)


def problems(text: str) -> list[str]:
    """Everything in ``text`` that a person should not have to read (e-mail addresses are fine)."""
    text = FILE_NAME.sub("", EMAIL.sub("", text))
    found = []
    for pattern in (CODES, SNAKE_CASE, TARGET, ISO, REPR):
        found += [m.group(0) for m in pattern.finditer(text)]
    return found


@contextmanager
def signed_in_client(web: WebInstance, who: str) -> Iterator[httpx.Client]:
    client = web.client(who)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture(scope="module")
def worked_case(web: WebInstance) -> dict[str, int]:
    """A stillbirth case with every kind of change, a cooled baby's case with an answer amended,
    a draft, and the overdue notifications made."""
    trust = web.client("trust")
    made = trust.post(
        "/api/v1/harm-reports",
        json={
            "report": report(baby=stillborn("intrapartum"), notifiable_safety_incident=True),
            "patient": {"nhs_number": "9434765919", "label": "Baby of Words"},
            "idempotency_key": uuid.uuid4().hex,
        },
    )
    assert made.status_code == 201, made.text
    case_id = made.json()["id"]
    base = f"/api/v1/harm-reports/{case_id}"
    steps = [
        (f"{base}/routes/MNSI", {"status": "done", "reference": "MNSI-77", "done_on": "2026-03-03"}),
        (f"{base}/routes/PMRT", {"status": "not_applicable", "reason": "Reviewed elsewhere"}),
        (f"{base}/contact", {"contacted_on": "2026-03-04", "by": "Midwife", "method": "phone", "summary": "Called"}),
        (f"{base}/candour", {"step": "verbal", "done_on": "2026-03-04", "by": "Dr B", "note": "Apologised"}),
        (f"{base}/attachment", {"file_name": "timeline", "description": "Timeline"}),
    ]
    for url, data in steps:
        assert trust.post(url, json=data).status_code == 200, url
    cooled = trust.post(
        "/api/v1/harm-reports",
        json={"report": report(baby=live_baby(therapeutic_cooling="active", mri_evidence_hypoxic_injury=None))},
    ).json()["id"]
    amended = trust.post(
        f"/api/v1/harm-reports/{cooled}/amend", json={"changes": {"baby.mri_evidence_hypoxic_injury": True}}
    )
    assert amended.status_code == 200, amended.text
    draft = trust.post("/api/v1/harm-reports", json={"report": {"never_event": False}, "draft": True}).json()["id"]
    due = trust.get("/api/v1/reviews").json()["due"]["deaths"]
    review = trust.post("/api/v1/reviews", json={"record_id": due[0]["record_id"]})
    assert review.status_code == 201, review.text
    review_id = review.json()["id"]
    asked = {"kind": "question", "text": "Why did it happen?"}
    assert trust.post(f"/api/v1/reviews/{review_id}/question", json=asked).status_code == 200
    admin = web.client("admin")
    assert admin.post("/api/v1/harm-overdue-check").status_code == 200
    admin.close()
    trust.close()
    return {"case": case_id, "cooled": cooled, "draft": draft, "review": review_id}


@pytest.mark.parametrize(
    ("who", "path"),
    [
        ("trust", "/harm"),
        ("trust", "/harm/{case}"),
        ("trust", "/harm/{cooled}"),
        ("trust", "/harm/new"),
        ("trust", "/harm/new?draft={draft}"),
        ("lmns", "/harm"),
        ("trust", "/reviews/{review}/reports"),
        ("trust", "/reviews/learning"),
        ("lmns", "/reviews/learning"),
        ("lmns", "/harm/{case}"),
        ("national", "/harm"),
        ("admin", "/admin/users"),
        ("trust_admin", "/admin/users"),
        ("trust", "/organisations/R0A/data-quality"),
        ("other_trust", "/organisations/R0A/data-quality"),
        ("lmns", "/organisations/QOP/data-quality"),
        ("trust", "/qi"),
        ("trust", f"/qi/overview/{OWN_TRUST}"),
        ("national", "/qi/overview/ENG"),
    ],
)
def test_pages_speak_plainly(web: WebInstance, worked_case: dict[str, int], who: str, path: str) -> None:
    client = web.client(who)
    response = client.get(path.format(**worked_case))
    client.close()
    assert response.status_code == 200, response.text
    text = visible(response.text)
    assert problems(text) == [], path


def test_the_case_page_says_what_happened_in_words(web: WebInstance, worked_case: dict[str, int]) -> None:
    with signed_in_client(web, "trust") as client:
        case = client.get(f"/api/v1/harm-reports/{worked_case['case']}").json()
        page = visible(client.get(f"/harm/{worked_case['case']}").text)
        cooled = visible(client.get(f"/harm/{worked_case['cooled']}").text)
        queue = visible(client.get("/harm").text)
        checked = client.post(
            "/harm/new", data={"action": "check", "csrf_token": client.headers["X-CSRF-Token"], "mother.died": "no"}
        )
    assert "Record on LFPSE: as soon as possible (no fixed deadline)" in page
    assert "Refer to MNSI: 3 Mar 2026" in page and "Done on 3 Mar 2026, reference\nMNSI-77" in page
    assert f"Submitted on {when(case['submitted_at'])} by trust@test.invalid" in page
    assert "Route marked done: Maternity and Newborn Safety Investigations (MNSI) referral" in page
    assert "Status: Due" in page and "Status: Done; Reference: MNSI-77; Done on: 3 Mar 2026" in page
    assert "Report submitted\ntrust@test.invalid" not in page and "\nReport submitted\n" in page
    assert "Answer changed: MRI evidence of hypoxic brain injury" in cooled
    assert (
        "MRI evidence of hypoxic brain injury: yes" in cooled
        and "MRI evidence of hypoxic brain injury: not known" in cooled
    )
    assert f"was due by {day('2026-03-03')} and is not done." in queue
    assert "Learn from patient safety events (LFPSE) record" in queue  # open routes by name
    assert checked.status_code == 200 and "There is a problem" in checked.text
    assert problems(visible(checked.text)) == []  # the form's own errors, in words too


def _values(data: object) -> list[str]:
    if isinstance(data, dict):
        return [v for key, value in data.items() if key not in ("route", "schema") for v in _values(value)]
    if isinstance(data, list):
        return [v for item in data for v in _values(item)]
    return [] if data is None else [str(data)]  # null (no reference yet) is JSON's own "nothing"


@pytest.mark.parametrize("route", ["MNSI", "DUTY_OF_CANDOUR", "LFPSE", "PMRT"])
def test_exports_are_in_words(web: WebInstance, worked_case: dict[str, int], route: str) -> None:
    """The export people open from the case page: values in words (only ``route``, its id, stays for programs)."""
    with signed_in_client(web, "trust") as client:
        export = client.get(f"/api/v1/harm-reports/{worked_case['case']}/export/{route}").json()
    assert problems("\n".join(_values(export))) == []
    assert export["route"] == route and export["schema"] == "matneo-harm-export/2"
    if route == "LFPSE":
        assert export["deadlines"] == {"Record on LFPSE": "as soon as possible (no fixed deadline)"}
    if route == "MNSI":
        assert export["deadlines"]["Refer to MNSI"] == "3 Mar 2026"
        assert export["duty_of_candour"]["Told the family in person, gave an account and apologised"] == "4 Mar 2026"
        assert export["event"]["Termination of pregnancy"] == "no"


def test_the_audit_log_says_what_happened_in_words(web: WebInstance, worked_case: dict[str, int]) -> None:
    with signed_in_client(web, "admin") as client:
        html = client.get("/admin/users").text
        page = visible(html)
        # the users were added when the server was set up: page back through "Older events" to them
        pages = [page]
        while (older := re.search(r'href="(/admin/users\?before=\d+)"', html)) and len(pages) < 50:
            html = client.get(older.group(1)).text
            pages.append(visible(html))
        history = "\n".join(pages)
    assert "Submitted a harm report" in page and "Harm report" in page
    assert "Routes: Maternity and Newborn Safety Investigations (MNSI) referral" in page
    assert "Trust: Manchester University NHS Foundation Trust" in page
    assert "Added a user" in history and "Role: Trust staff" in history
    assert "Signed in" in page


def test_the_checks_catch_what_they_are_for() -> None:
    """The patterns above find each kind of code (so a page passing them really has none)."""
    bad = "NHSR_EN; route.done; sign_in.failed; user:3; baby.mri_evidence_hypoxic_injury; ['MNSI']; 2026-12-02T17:46:00"
    assert len(problems(bad)) >= 7
    assert problems("2 Dec 2026, 17:46 — trust@test.invalid — Refer to MNSI") == []


def test_dates_and_times_are_shown_in_uk_time() -> None:
    assert when("2026-12-02T17:46:09") == "2 Dec 2026, 17:46"  # GMT in winter
    assert when("2026-07-01T23:30:00") == "2 Jul 2026, 00:30"  # BST: an hour ahead of UTC
    assert day("2026-03-03") == "3 Mar 2026" and when(None) == "–"


def test_assurance_and_evidence_pages_speak_plainly(web: WebInstance) -> None:
    """The evidence library, an item and the requirement it supports, for the trust and its LMNS;
    then the audit log's lines for adding, mapping, unmapping and downloading evidence."""
    from .conftest import OWN_TRUST

    with signed_in_client(web, "trust") as trust:
        made = trust.post(
            f"/organisations/{OWN_TRUST}/evidence",
            data={"csrf_token": trust.headers["X-CSRF-Token"], "kind": "extract", "title": "Training extract",
                  "dated": "2026-11-30", "requirement": "cnst_mis_y2:SA8"},
            files={"file": ("training.pdf", b"%PDF-1.7\n%%EOF\n", "application/pdf")},
        )  # fmt: skip
        assert made.status_code == 303, made.text
        item = made.headers["location"].split("?")[0]
        token = {"csrf_token": trust.headers["X-CSRF-Token"]}
        assert trust.post(f"{item}/map", data={**token, "key": "ockenden_first:IEA3"}).status_code == 303
        assert trust.post(f"{item}/unmap", data={**token, "key": "ockenden_first:IEA3"}).status_code == 303
        assert trust.get(f"{item}/file").status_code == 200
        imported = trust.post(
            f"/organisations/{OWN_TRUST}/voice",
            data={**token, "source": "fft"},
            files={"file": ("fft.csv", f"org_code,period,measure,value\n{OWN_TRUST},2026-10,positive_percent,93\n")},
        )
        assert "1 of 1 row stored" in imported.text
        worded = trust.post(
            f"/organisations/{OWN_TRUST}/assurance/cnst_mis_y7:SA1/wording",
            data={**token, "wording": "Reviews to the standard in the year's technical guidance"},
        )
        assert worded.status_code == 303, worded.text
        themes = trust.post(
            f"/organisations/{OWN_TRUST}/voice",
            data={**token, "source": "mnvp_themes"},
            files={"file": ("mnvp.csv", "org_code,period_end,theme,mentions,sentiment\n"
                                        f"{OWN_TRUST},2026-09,Waiting for discharge,7,negative\n")},
        )  # fmt: skip
        assert "1 of 1 row stored" in themes.text
        local = trust.post(f"/organisations/{OWN_TRUST}/local-requirements",
                           data={**token, "title": "Audit induction delays", "framework": "cnst_mis_y2",
                                 "due": "2027-03-31"})  # fmt: skip
        assert local.status_code == 303, local.text
        local_path = local.headers["location"].split("?")[0]
        local_key = f"local:{local_path.rsplit('/', 1)[1]}"
        changed = {**token, "title": "Audit induction of labour delays", "framework": "cnst_mis_y2",
                   "due": "2027-06-30"}  # fmt: skip
        assert trust.post(local_path, data=changed).status_code == 303
        assert trust.post(f"/organisations/{OWN_TRUST}/assurance/{local_key}",
                          data={**token, "status": "in_progress", "due": "2027-01-31"}).status_code == 303  # fmt: skip
        assert trust.post(f"{local_path}/retire", data={**token, "reason": "Folded into a project"}).status_code == 303
        assert trust.post(f"{local_path}/reinstate", data=token).status_code == 303
        mistaken = trust.post(
            f"/organisations/{OWN_TRUST}/evidence",
            data={**token, "kind": "link", "title": "Wrong link", "link": "https://a.example/w",
                  "requirement": local_key},
        )  # fmt: skip
        mistaken_item = mistaken.headers["location"].split("?")[0]
        base = f"/organisations/{OWN_TRUST}"
        pages = [
            f"{mistaken_item}/remove",
            f"{base}/local-requirements",
            local_path,
            f"{base}/assurance/{local_key}",
            item,
            f"{base}/evidence",
            f"{base}/assurance",
            f"{base}/assurance/cnst_mis_y2:SA8",
            f"{base}/voice",
            f"{base}/assurance/cnst_mis_y7:SA1",
        ]
        for path in pages:
            response = trust.get(path)
            text = HINT.sub("", visible(response.text))  # the date fields' hints show the format to type
            assert response.status_code == 200 and problems(text) == [], path
        assert trust.post(f"{mistaken_item}/remove", data={**token, "reason": "The wrong link"}).status_code == 303
    lmns = web.hierarchy.ancestor_at(OWN_TRUST, "lmns").code
    with signed_in_client(web, "lmns") as lead:
        for path in (f"/organisations/{OWN_TRUST}/evidence", f"/organisations/{lmns}/assurance",
                     f"/organisations/{OWN_TRUST}/voice"):  # fmt: skip
            response = lead.get(path)
            assert response.status_code == 200 and problems(visible(response.text)) == [], path
    with signed_in_client(web, "admin") as admin:
        log = visible(admin.get("/admin/users").text)
    assert problems(log) == []
    assert "Mapped evidence to an assurance requirement" in log and "Requirement: Ockenden (2020) IEA 3" in log
    assert "Added assurance evidence" in log and "Requirements: MIS year 2 Safety action 8" in log
    assert "Recorded the trust's wording for an assurance requirement" in log
    assert "Imported family and staff survey figures" in log and "Survey figures: Friends and Family Test" in log
    assert "Imported Maternity and Neonatal Voices Partnership feedback themes" in log
    assert "Added a local assurance requirement" in log and "Listed under: MIS year 2" in log
    assert "Changed a local assurance requirement" in log and "Retired a local assurance requirement" in log
    assert "Reinstated a local assurance requirement" in log and "Local assurance requirement" in log
    assert "Removed an assurance evidence item" in log and "Why: The wrong link" in log
