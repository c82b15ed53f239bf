"""The parents' report and the review report: built from the review, escaped, scored for readability,
only for the trusts taking part, audited; the PDF printed by the real Chromium when it is installed."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest
from sqlalchemy import select

from matneo.auth.access import Access, Forbidden
from matneo.config import Settings
from matneo.db.models import AuditEvent
from matneo.db.session import transaction
from matneo.reviews import actions
from matneo.reviews.actions import ReviewNotFound
from matneo.reviews.report import author_view, readability, report_file

TODAY = dt.date(2026, 12, 3)
EASY = (
    "We are sorry. The scan was late. It should have been done on the day you asked. We have changed how we book scans."
)
HARD = (
    "Notwithstanding comprehensive multidisciplinary deliberation, the panel determined that suboptimal "
    "intrapartum cardiotocographic interpretation constituted a contributory consideration."
)


def test_readability_scores_plain_words_higher_than_jargon_and_nothing_for_no_text() -> None:
    easy, hard = readability(EASY), readability(HARD)
    assert easy.reading_ease is not None and hard.reading_ease is not None
    assert easy.reading_ease > 80 > 30 > hard.reading_ease  # Flesch's "easy" and "very difficult" bands
    assert easy.band in ("easy", "very easy") and hard.band == "very difficult"
    assert easy.reading_age is not None and hard.reading_age is not None and easy.reading_age < hard.reading_age
    assert easy.words == 24 and easy.sentences == 4
    empty = readability("   ")
    assert empty.reading_ease is None and empty.words == 0 and "no text" in empty.words_text


@pytest.fixture
def written(with_deaths: Settings, people: dict[str, Access]) -> int:
    s, trust = with_deaths, people["trust"]
    review_id = actions.open_from_record(s, trust, "SB-24")
    item = actions.add_parent_item(s, trust, review_id, kind="question", text="Why was the scan <b>late</b>?")
    actions.add_parent_item(s, trust, review_id, kind="concern", text="Nobody rang us back.")
    actions.answer_parent_item(s, trust, review_id, item, answer=EASY)
    actions.update_findings(
        s,
        trust,
        review_id,
        story={"pregnancy": "You came in at 24 weeks. <script>alert(1)</script>"},
        cause_of_death="The placenta stopped working well.",
    )
    actions.add_action(
        s, trust, review_id, description="Book every scan within two days.", owner="Scan lead", due_on="2027-03-01"
    )
    return review_id


def test_the_parents_report_holds_answers_story_and_actions_escaped(
    with_deaths: Settings, people: dict[str, Access], written: int
) -> None:
    data, media, name = report_file(with_deaths, people["trust"], written, "parents", "html", TODAY)
    html = data.decode()
    assert media.startswith("text/html") and name == f"review-{written}-parents-report.html"
    assert "Why was the scan &lt;b&gt;late&lt;/b&gt;?" in html and "<b>late</b>" not in html
    assert "&lt;script&gt;" in html and "<script>" not in html
    assert EASY in html and "The placenta stopped working well." in html
    assert "Book every scan within two days. (to be done by 1 Mar 2027)" in html
    assert "We have not answered this yet." in html  # the concern without an answer
    assert "SB-24" not in html  # no record number in the parents' report
    panel, _, panel_name = report_file(with_deaths, people["trust"], written, "panel", "html", TODAY)
    assert b"SB-24" in panel and b"Flesch reading ease" in panel and panel_name.endswith("review-report.html")
    from web.test_words import problems, visible

    assert problems(visible(html)) == [] and problems(visible(panel.decode())) == []  # words, not codes or ISO dates
    with transaction(with_deaths.database_url) as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "review.report")).all()
        assert [e.target_id for e in events] == [str(written)] * 2 and "SB-24" not in events[0].details


def test_the_author_sees_each_parts_score_and_what_is_unanswered(
    with_deaths: Settings, people: dict[str, Access], written: int
) -> None:
    view = author_view(with_deaths, people["trust"], written, TODAY)
    parts = {s["id"]: s for s in view["sections"]}
    assert parts["questions"]["words"] == 24 and parts["changes"]["reading_ease"] is not None
    assert view["unanswered"] == 1 and view["readability"]["words"] > 24
    assert {f["url"].rsplit("/", 1)[1] for f in view["files"]} == {
        "parents.html",
        "parents.pdf",
        "panel.html",
        "panel.pdf",
    }
    assert any("doi.org/10.1037/h0057532" in s["url"] for s in view["sources"])


def test_only_staff_of_the_trusts_taking_part_get_the_reports(
    with_deaths: Settings, people: dict[str, Access], written: int
) -> None:
    for name in ("lmns", "national", "trust_admin"):  # in scope, but not staff of the trust: 403
        with pytest.raises(Forbidden):
            report_file(with_deaths, people[name], written, "parents", "html", TODAY)
    with pytest.raises(ReviewNotFound):
        report_file(with_deaths, people["other"], written, "panel", "html", TODAY)
    actions.update_findings(with_deaths, people["trust"], written, joint_trusts=["RJ1"])
    data, _, _ = report_file(with_deaths, people["other"], written, "parents", "html", TODAY)
    assert EASY.encode() in data


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Chromium is not installed (scripts/setup-browser)")
def test_the_reports_print_to_pdf(with_deaths: Settings, people: dict[str, Access], written: int) -> None:
    data, media, name = report_file(with_deaths, people["trust"], written, "parents", "pdf", TODAY)
    assert data.startswith(b"%PDF") and media == "application/pdf" and name.endswith(".pdf")
    from io import BytesIO

    from pypdf import PdfReader

    text = "".join(page.extract_text() for page in PdfReader(BytesIO(data)).pages)
    assert "Your questions and our answers" in text and "What will change" in text
