"""Perinatal mortality reviews in the web app: the reviews list (due and in progress) and the review page.

One typed context per page (:class:`ReviewsPage`, :class:`ReviewPage`). The forms are described here as
data (:data:`FORMS`) so the template, the error summary and the per-field errors agree on every field's
name, label and element id. The actions live in :mod:`matneo.reviews.actions` and the scoped reads in
:mod:`matneo.reviews.queries`; this module adapts them (``ReviewNotFound`` → 404, field errors → the form,
with what the user typed kept so nothing is lost).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from matneo.auth.access import Access
from matneo.harm.report import FieldError
from matneo.reviews import actions, queries
from matneo.reviews.actions import ReviewError, ReviewNotFound
from matneo.reviews.due import due
from matneo.reviews.rules import (
    ACTION_STATUSES,
    CONTRIBUTORY_FACTORS,
    PANEL_ROLES,
    PARENT_CONTRIBUTE,
    PARENT_ITEM_KINDS,
    RELEVANCE,
    STAGE_LABELS,
    STORY_STAGES,
    grades,
)
from matneo.web.display import day
from matneo.web.services import NotFound, Services

__all__ = [
    "FORMS",
    "LearningPage",
    "ReportsPage",
    "ReviewPage",
    "ReviewsPage",
    "change_review",
    "learning_page",
    "open_review",
    "reports_page",
    "review_page",
    "review_report",
    "reviews_page",
]


@contextmanager
def found() -> Iterator[None]:
    try:
        yield
    except ReviewNotFound as error:
        raise NotFound(str(error)) from None


@dataclass(frozen=True)
class Input:
    """One input of a review form. ``kind``: date | text | textarea | select | radios | checkbox | checkboxes."""

    name: str
    label: str
    kind: str
    choices: tuple[tuple[str, str], ...] = ()
    hint: str = ""


def _pairs(mapping: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(mapping.items())


STAGE_INPUTS = tuple(
    Input(s, STAGE_LABELS[s], "date") for s in ("notified", "started", "draft_report", "shared_with_parents")
)
FORMS: dict[str, tuple[str, tuple[Input, ...]]] = {
    "stages": (
        "Stage dates",
        (*STAGE_INPUTS, Input("closed", "Review closed", "date", hint="Grade every area of care first.")),
    ),
    "member": (
        "Add a panel member",
        (
            Input("role", "Role", "select", (("", "Choose a role"), *_pairs(PANEL_ROLES))),
            Input("name", "Name", "text"),
            Input("external", "From another organisation (external member)", "checkbox"),
        ),
    ),
    "meeting": (
        "Record a panel meeting",
        (Input("held_on", "Date of the meeting", "date"), Input("attendees", "Who attended", "checkboxes")),
    ),
    "parents": (
        "Parents' involvement",
        (
            Input("told_on", "Date the parents were told about the review", "date"),
            Input("told_by", "Who told them", "text"),
            Input("key_contact", "Their named key contact", "text"),
            Input("contribute", "Do the parents want to contribute?", "radios", _pairs(PARENT_CONTRIBUTE)),
        ),
    ),
    "question": (
        "Add a question or concern from the parents",
        (
            Input("kind", "Question or concern", "radios", _pairs(PARENT_ITEM_KINDS)),
            Input("text", "In the parents' words", "textarea"),
        ),
    ),
    "issue": (
        "Add an issue with care",
        (
            Input("area", "Area of care", "select"),
            Input("description", "What the issue was", "textarea"),
            Input("relevant", "Was it relevant to the outcome?", "radios", _pairs(RELEVANCE)),
            Input("factors", "Contributory factors", "checkboxes", _pairs(CONTRIBUTORY_FACTORS)),
        ),
    ),
    "grade": ("Grade the care", (Input("area", "Area of care", "select"), Input("grade", "Grade", "radios"))),
    "findings": (
        "Story of care, cause of death, MNSI and joint review",
        (
            *(Input(f"story.{k}", label, "textarea") for k, label in STORY_STAGES.items()),
            Input(
                "cause_of_death",
                "Cause of death",
                "textarea",
                hint="In words: the PMRT's classification is not built in.",
            ),
            Input("mnsi_investigation", "This death is under MNSI investigation", "checkbox"),
            Input("mnsi_report_on", "Date of the MNSI report", "date"),
            Input("mnsi_findings", "MNSI's findings", "textarea"),
            Input(
                "joint_trusts",
                "Other trusts taking part (joint review)",
                "text",
                hint="Trust codes, separated by commas.",
            ),
        ),
    ),
    "action": (
        "Add an action",
        (
            Input("description", "What will be done (specific and measurable)", "textarea"),
            Input("owner", "Who owns it", "text"),
            Input("due_on", "Due by", "date"),
        ),
    ),
    "answer": ("Answer in the report", (Input("answer", "Answer", "textarea"),)),
    "action_update": (
        "Update the action",
        (
            Input("status", "Where it stands", "radios", _pairs(ACTION_STATUSES)),
            Input("evidence", "Evidence it is done", "textarea"),
            Input("done_on", "Date done", "date"),
        ),
    ),
}
#: Forms repeated per item: the item's id is part of each element id.
PER_ITEM = {"answer": "item_id", "action_update": "action_id"}


def element_id(section: str, name: str, item: Any = None) -> str:
    base = f"{section}-{item}-{name}" if item not in (None, "") else f"{section}-{name}"
    return base.replace("_", "-").replace(".", "-")


def _label(section: str, name: str) -> str:
    for i in FORMS.get(section, ("", ()))[1]:
        if i.name == name:
            return i.label
    return "This form"


@dataclass
class ReviewsPage:
    """The reviews list: deaths due a review (own trust) or counts (others), and reviews in scope."""

    title: str
    due: dict[str, Any]
    reviews: list[dict[str, Any]]
    can_open: bool
    error: list[dict[str, str]] = field(default_factory=list)
    record_id: str = ""
    notices: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"due": self.due, "reviews": self.reviews, "notices": self.notices}

    @property
    def in_progress(self) -> list[dict[str, Any]]:
        return [r for r in self.reviews if r["status"] == "open"]

    @property
    def closed(self) -> list[dict[str, Any]]:
        return [r for r in self.reviews if r["status"] == "closed"]


def reviews_page(services: Services, access: Access, today: dt.date | None = None) -> ReviewsPage:
    settings = services.settings
    listed = queries.review_list(settings.database_url, access, today)
    for r in listed:
        r["overdue_words"] = ", ".join(STAGE_LABELS[s] for s in r["overdue"]) or "None"
    org = access.hierarchy.get(access.user.org_code)
    can_open = access.user.role in actions.EDIT_ROLES and org.level == "trust"
    from matneo.reviews.notices import notices_for

    notices = notices_for(settings.database_url, access) if org.level == "trust" else []
    for n in notices:
        n["stage_label"] = STAGE_LABELS.get(n["stage"], n["stage"])
    return ReviewsPage("Perinatal mortality reviews", due(settings, access, today), listed, can_open, notices=notices)


def open_review(services: Services, access: Access, record_id: str) -> int:
    return actions.open_from_record(services.settings, access, record_id)


@dataclass
class ReviewPage:
    """One review with its forms; ``errors`` and ``values`` re-show a form that failed, as typed."""

    title: str
    review: dict[str, Any]
    errors: list[dict[str, str]] = field(default_factory=list)
    section: str | None = None
    values: dict[str, Any] = field(default_factory=dict)
    done: str | None = None
    today: str = field(default_factory=lambda: dt.date.today().isoformat())

    def to_dict(self) -> dict[str, Any]:
        return self.review

    @property
    def field_errors(self) -> dict[str, str]:
        return {e["id"]: e["message"] for e in self.errors}

    def value(self, section: str, name: str, default: Any = "", item: Any = None) -> Any:
        """What the form shows: what the user typed if this form failed, else the saved value."""
        if self.section == section and (
            item is None or str(self.values.get(PER_ITEM.get(section, ""), "")) == str(item)
        ):
            return self.values.get(name, "")
        return default

    def inputs(self, section: str) -> tuple[Input, ...]:
        found_inputs = FORMS[section][1]
        out = []
        for i in found_inputs:
            if section in ("issue", "grade") and i.name == "area":
                i = Input(
                    "area",
                    i.label,
                    "select",
                    (("", "Choose an area"), *((g["area"], g["label"]) for g in self.review["findings"]["grades"])),
                )
            elif section == "grade" and i.name == "grade":
                i = Input(
                    "grade",
                    i.label,
                    "radios",
                    tuple((g.letter, g.letter if g.wording is None else f"{g.letter}: {g.wording}") for g in grades()),
                )
            elif section == "meeting" and i.name == "attendees":
                i = Input(
                    "attendees",
                    i.label,
                    "checkboxes",
                    tuple(
                        (str(m["id"]), f"{m['role_label']}{': ' + m['name'] if m['name'] else ''}")
                        for m in self.review["panel"]["members"]
                    ),
                )
            out.append(i)
        return tuple(out)

    @property
    def stage_values(self) -> dict[str, str]:
        return {s["stage"]: s["on"] or "" for s in self.review["stages"]}

    @property
    def grade_note(self) -> str:
        return (
            "The wording of each grade has not been confirmed from a primary PMRT source, so only the letter is "
            "shown. Set the wording locally from the PMRT documentation (needs local confirmation)."
            if any(g.wording is None for g in grades())
            else ""
        )

    def day(self, value: Any) -> str:
        return day(value)


def review_page(services: Services, access: Access, review_id: int, **extra: Any) -> ReviewPage:
    with found():
        review = queries.review_detail(services.settings.database_url, access, review_id)
    return ReviewPage(f"Review {review_id}: {review['category_label']}", review, **extra)


def form_errors(error: ReviewError, section: str, values: Mapping[str, Any]) -> list[dict[str, str]]:
    """Each problem with its element id (for the error summary's link) and message."""
    item = values.get(PER_ITEM.get(section, ""), None)
    out = []
    for e in error.errors:
        name = (
            e.field
            if any(i.name == e.field for i in FORMS.get(section, ("", ()))[1])
            else FORMS.get(section, ("", (Input("x", "", ""),)))[1][0].name
        )
        out.append(
            {
                "field": e.field,
                "id": element_id(section, name, item),
                "message": e.message,
                "label": _label(section, name),
            }
        )
    return out


def _list(values: Mapping[str, Any], name: str) -> list[str]:
    value = values.get(name)
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return [v.strip() for v in str(value).split(",") if v.strip()]


def change_review(services: Services, access: Access, review_id: int, section: str, values: Mapping[str, Any]) -> None:
    """One change from the review page or the API (``section`` names the form)."""
    s = services.settings
    v = values
    if section not in FORMS:
        raise NotFound(f"There is no form {section!r} on a review.")
    with found():
        if section == "stages":
            dates = {
                k: v.get(k) for k in ("notified", "started", "draft_report", "shared_with_parents", "closed") if k in v
            }
            actions.update_stages(s, access, review_id, dates)
        elif section == "member":
            actions.add_member(
                s, access, review_id, role=v.get("role"), name=v.get("name"), external=v.get("external", False)
            )
        elif section == "meeting":
            actions.add_meeting(s, access, review_id, held_on=v.get("held_on"), attendees=_list(v, "attendees"))
        elif section == "parents":
            actions.update_parents(
                s,
                access,
                review_id,
                told_on=v.get("told_on"),
                told_by=v.get("told_by"),
                key_contact=v.get("key_contact"),
                contribute=v.get("contribute"),
            )
        elif section == "question":
            actions.add_parent_item(s, access, review_id, kind=v.get("kind"), text=v.get("text"))
        elif section == "answer":
            actions.answer_parent_item(s, access, review_id, _int(v.get("item_id")), answer=v.get("answer"))
        elif section == "issue":
            actions.add_issue(
                s,
                access,
                review_id,
                area=v.get("area"),
                description=v.get("description"),
                relevant=v.get("relevant"),
                factors=_list(v, "factors"),
            )
        elif section == "grade":
            actions.set_grade(s, access, review_id, area=v.get("area"), grade=v.get("grade"))
        elif section == "findings":
            actions.update_findings(
                s,
                access,
                review_id,
                cause_of_death=v.get("cause_of_death"),
                story={k: v.get(f"story.{k}") for k in STORY_STAGES if f"story.{k}" in v},
                mnsi_investigation=v.get("mnsi_investigation", False),
                mnsi_report_on=v.get("mnsi_report_on"),
                mnsi_findings=v.get("mnsi_findings"),
                joint_trusts=_list(v, "joint_trusts"),
            )
        elif section == "action":
            actions.add_action(
                s, access, review_id, description=v.get("description"), owner=v.get("owner"), due_on=v.get("due_on")
            )
        elif section == "action_update":
            actions.update_action(
                s,
                access,
                review_id,
                _int(v.get("action_id")),
                status=v.get("status"),
                evidence=v.get("evidence"),
                done_on=v.get("done_on"),
            )


def _int(value: Any) -> int:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        raise ReviewError([FieldError("item", "Choose an item from the review")]) from None


@dataclass
class LearningPage:
    """Learning across reviews for one organisation, its parents and its children (suppressed outside scope)."""

    title: str
    learning: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.learning.items() if k != "rows"}

    def csv(self) -> str:
        import csv
        import io

        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["measure", "org_code", "level", "numerator", "denominator", "percent", "suppressed"])
        for r in self.learning["rows"]:
            writer.writerow(
                [r["measure"], r["org_code"], r["level"], r["numerator"], r["denominator"], r["value"], r["suppressed"]]
            )
        return out.getvalue()

    def svg(self, chart: Mapping[str, Any]) -> str:
        """The chart as server-rendered SVG (:mod:`matneo.reviews.svg`); its data table is in the template."""
        from matneo.reviews.svg import Bar, Stack, bars_svg, stacked_svg

        title = f"{chart['title']}: {self.learning['org_name']}"
        if chart["kind"] == "stacked":
            stacks = [
                Stack(r["label"], tuple(p["value"] for p in r["parts"]), hidden=r["suppressed"]) for r in chart["rows"]
            ]
            return stacked_svg(stacks, chart["parts"], title=title)
        return bars_svg([Bar(r["label"], r["value"], r["suppressed"]) for r in chart["rows"]], title=title)

    @staticmethod
    def words(c: Mapping[str, Any]) -> str:
        if c["suppressed"]:
            return "Hidden (small numbers)"
        if not c["denominator"]:
            return "No reviews yet"
        return f"{c['numerator']} of {c['denominator']} ({c['value']:.0f}%)"


def learning_page(services: Services, access: Access, org_code: str | None = None) -> LearningPage:
    from matneo.reviews.learning import learning

    try:
        if org_code:
            access.hierarchy.get(org_code)
    except KeyError:
        raise NotFound(f"There is no organisation {org_code}.") from None
    data = learning(services.settings.database_url, access, org_code)
    return LearningPage(f"Learning from reviews: {data['org_name']}", data)


def api_errors(error: ReviewError) -> dict[str, Any]:
    return {
        "detail": "The change is not valid.",
        "errors": [{"field": e.field, "message": e.message} for e in error.errors],
    }


@dataclass
class ReportsPage:
    """A review's reports: the readability of the parents' report (for its author) and the four downloads."""

    title: str
    reports: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return self.reports


def reports_page(services: Services, access: Access, review_id: int) -> ReportsPage:
    from matneo.reviews.report import author_view

    with found():
        view = author_view(services.settings, access, review_id)
    return ReportsPage(f"Reports of review {review_id}", view)


def review_report(services: Services, access: Access, review_id: int, report: str, fmt: str) -> tuple[bytes, str, str]:
    """One report file (bytes, media type, file name); 404 for an unknown report, 503 words if no PDF printer."""
    from matneo.reviews.report import report_file

    with found():
        try:
            return report_file(services.settings, access, review_id, report, fmt)
        except KeyError:
            raise NotFound(f"A review has no report {report}.{fmt}.") from None
