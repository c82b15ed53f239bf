"""The written outputs of a review: the parents' plain-English report and the panel's review report.

Both are built from :func:`matneo.reviews.queries.review_detail` as the owning (or joint) trust sees it, as
one standalone HTML document each (styles inline, no script, no external file, every value escaped by
Jinja's autoescape), and printed to PDF by the board pack's headless Chromium
(:func:`matneo.board.render.render_pdf`). Patient-level content: only staff of the trusts taking part
produce them (:func:`report_file` refuses anyone else), and each one produced is audited.

The parents' report holds what the parents asked for, in the order the PMRT FAQs describe the report to
parents: their questions and concerns each with its answer, what happened (the story of care and the cause
of death, in the words the panel wrote), and what will change (the actions). Its **readability** is shown to
the author, never to the parents, with the formulas' sources:

* Flesch reading ease: R. Flesch, "A new readability yardstick", *Journal of Applied Psychology* 32(3),
  221–233, 1948, https://doi.org/10.1037/h0057532 — 206.835 − 1.015 × words per sentence − 84.6 × syllables
  per word; 0–100, higher is easier; the bands are Flesch's own table (1948, table 5).
* Flesch–Kincaid grade level: J. P. Kincaid, R. P. Fishburne, R. L. Rogers, B. S. Chissom, "Derivation of
  new readability formulas for Navy enlisted personnel", Research Branch Report 8-75, Naval Technical
  Training Command, 1975, https://stars.library.ucf.edu/istlibrary/56/ — a US school grade.
* The approximate reading age is that grade plus 5 years (US children start grade 1 at about 6): a
  conversion, not a measurement. No target score is set: a local target **needs local confirmation**.

The counts (words, sentences, syllables) are those of the maintained ``textstat`` package (PyPI), which
counts syllables from the CMU Pronouncing Dictionary and hyphenation patterns beyond it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from matneo.auth.access import Access, Forbidden
from matneo.auth.users import audit
from matneo.config import Settings
from matneo.dates import day_text
from matneo.db.session import transaction

__all__ = [
    "FORMULA_SOURCES",
    "REPORTS",
    "Readability",
    "author_view",
    "panel_html",
    "parents_html",
    "parents_sections",
    "readability",
    "report_file",
]

_ENV = Environment(loader=PackageLoader("matneo.reviews", "templates"), autoescape=select_autoescape(["html"]))

#: Flesch's table of reading ease (1948, table 5): the lowest score of each band and its description.
FLESCH_BANDS: tuple[tuple[float, str], ...] = (
    (90, "very easy"),
    (80, "easy"),
    (70, "fairly easy"),
    (60, "standard"),
    (50, "fairly difficult"),
    (30, "difficult"),
    (float("-inf"), "very difficult"),
)
#: Years added to a US school grade for an approximate reading age (grade 1 starts at about age 6).
GRADE_TO_AGE = 5

FORMULA_SOURCES: tuple[dict[str, str], ...] = (
    {
        "name": "Flesch reading ease",
        "source": 'R. Flesch, "A new readability yardstick", Journal of Applied Psychology 32(3), 221–233, 1948',
        "url": "https://doi.org/10.1037/h0057532",
    },
    {
        "name": "Flesch–Kincaid grade level",
        "source": "J. P. Kincaid and others, Derivation of new readability formulas for Navy enlisted personnel, "
        "Research Branch Report 8-75, Naval Technical Training Command, 1975",
        "url": "https://stars.library.ucf.edu/istlibrary/56/",
    },
)


@dataclass(frozen=True)
class Readability:
    """How easy a text is to read: Flesch reading ease (0–100, higher is easier) and an approximate reading age."""

    words: int
    sentences: int
    reading_ease: float | None
    band: str | None
    grade: float | None
    reading_age: int | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def words_text(self) -> str:
        """The score in a sentence for the author."""
        if self.reading_ease is None or self.reading_age is None:
            return "There is no text to score yet."
        return (
            f"Flesch reading ease {self.reading_ease:.0f} out of 100 ({self.band}); "
            f"approximate reading age {self.reading_age} years."
        )


def readability(text: str) -> Readability:
    """Score ``text``; no score (``None``) for text without a word. Why textstat: see the module docstring."""
    import textstat

    words = int(textstat.lexicon_count(text))
    if not words:
        return Readability(0, 0, None, None, None, None)
    sentences = max(1, int(textstat.sentence_count(text)))
    ease = round(float(textstat.flesch_reading_ease(text)), 1)
    grade = round(float(textstat.flesch_kincaid_grade(text)), 1)
    band = next(label for floor, label in FLESCH_BANDS if ease >= floor)
    return Readability(words, sentences, ease, band, grade, max(5, round(grade) + GRADE_TO_AGE))


def _day(value: str | None) -> str:
    return day_text(dt.date.fromisoformat(value)) if value else "not yet"


def parents_sections(review: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The parents' report in three parts (questions, what happened, what will change), each with its text.

    ``review`` is :func:`~matneo.reviews.queries.review_detail` as a taking-part trust sees it. Each part
    has ``items`` for the report and ``text`` (everything the parents will read in it) for the score.
    """
    questions = [
        {"kind": i["kind_label"], "text": i["text"] or "", "answer": i["answer"] or ""}
        for i in review["parents"]["items"]
    ]
    findings = review["findings"]
    story = [{"label": s["label"], "text": s["text"]} for s in findings["story"] if s["text"]]
    actions = [
        {"description": a["description"] or "", "due": _day(a["due_on"]), "done": a["status"] == "done"}
        for a in review["actions"]
    ]
    happened = [s["text"] for s in story]
    if findings["cause_of_death"]:
        happened.append(findings["cause_of_death"])
    return {
        "questions": {"items": questions, "text": "\n\n".join(q["answer"] for q in questions if q["answer"])},
        "happened": {"items": story, "cause": findings["cause_of_death"] or "", "text": "\n\n".join(happened)},
        "changes": {"items": actions, "text": "\n\n".join(a["description"] for a in actions)},
    }


def parents_html(review: dict[str, Any], produced: dt.date) -> str:
    """The parents' report as one standalone, accessible HTML document (no score in it: that is for the author)."""
    sections = parents_sections(review)
    return _ENV.get_template("parents_report.html").render(
        review=review, sections=sections, produced=day_text(produced), day=_day
    )


def panel_html(review: dict[str, Any], produced: dt.date) -> str:
    """The review report for the panel and the trust: every part of the review, dates in words."""
    score = readability("\n\n".join(s["text"] for s in parents_sections(review).values() if s["text"]))
    return _ENV.get_template("review_report.html").render(
        review=review, produced=day_text(produced), day=_day, score=score, sources=FORMULA_SOURCES
    )


#: The reports of a review: key → (what it is called, the file name's stem).
REPORTS = {"parents": ("The parents' report", "parents-report"), "panel": ("The review report", "review-report")}
FORMATS = {"html": ("web page", "text/html; charset=utf-8"), "pdf": ("PDF", "application/pdf")}
SECTION_TITLES = {"questions": "Answers to their questions", "happened": "What happened", "changes": "What will change"}


def _owned(settings: Settings, access: Access, review_id: int, today: dt.date | None) -> dict[str, Any]:
    """The review with its patient-level content, for staff of a trust taking part; Forbidden for anyone else."""
    from matneo.reviews.queries import review_detail

    review = review_detail(settings.database_url, access, review_id, today)  # ReviewNotFound outside scope
    if review["content_hidden"]:
        raise Forbidden(
            "The reports of a review hold patient details: only staff of the trusts taking part can produce them."
        )
    return review


def _scored(text: str) -> dict[str, Any]:
    score = readability(text)
    return score.to_dict() | {"text": score.words_text}


def author_view(settings: Settings, access: Access, review_id: int, today: dt.date | None = None) -> dict[str, Any]:
    """What the author sees before downloading: the review's name and the readability of each part."""
    review = _owned(settings, access, review_id, today)
    sections = parents_sections(review)
    whole = "\n\n".join(s["text"] for s in sections.values() if s["text"])
    return {
        "id": review["id"],
        "category_label": review["category_label"],
        "readability": _scored(whole),
        "sections": [
            {"id": key, "title": SECTION_TITLES[key]} | _scored(part["text"]) for key, part in sections.items()
        ],
        "unanswered": sum(1 for q in sections["questions"]["items"] if not q["answer"]),
        "sources": list(FORMULA_SOURCES),
        "files": [
            {
                "report": report,
                "format": fmt,
                "label": f"{title} ({FORMATS[fmt][0]})",
                "url": f"/reviews/{review['id']}/reports/{report}.{fmt}",
            }
            for report, (title, _) in REPORTS.items()
            for fmt in FORMATS
        ],
    }


def report_file(
    settings: Settings, access: Access, review_id: int, report: str, fmt: str, today: dt.date | None = None
) -> tuple[bytes, str, str]:
    """(bytes, media type, file name) of one report; audited, as it carries patient details out of MatNeo.

    ``PdfUnavailable`` (from the board pack's renderer) when there is no Chromium to print with.
    """
    if report not in REPORTS or fmt not in FORMATS:
        raise KeyError(f"{report}.{fmt}")
    review = _owned(settings, access, review_id, today)
    day = today or dt.date.today()
    html = parents_html(review, day) if report == "parents" else panel_html(review, day)
    if fmt == "pdf":
        from matneo.board.render import render_pdf

        data = render_pdf(html, settings.chromium)
    else:
        data = html.encode("utf-8")
    with transaction(settings.database_url) as session:
        audit(
            session,
            access.user.email,
            "review.report",
            "review",
            str(review_id),
            report=REPORTS[report][0].lower(),
            format=FORMATS[fmt][0],
        )
    return data, FORMATS[fmt][1], f"review-{review_id}-{REPORTS[report][1]}.{fmt}"
