"""Changing a review: each action is one transaction holding the change, the review's trail row
(:class:`~matneo.reviews.models.ReviewChange`, before and after) and the app audit event.

Who may change a review: trust staff of the owning trust, or of a trust taking part in a joint review.
Anyone else in scope may read it (without patient-level content) and gets 403 on a change; a review
outside the user's scope is "not found". A closed review cannot be changed.

Every input is checked first and all problems are reported together, per field
(:class:`ReviewError`), so the web form can show an NHS.UK error summary and lose nothing.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from matneo.auth.access import Access, Forbidden
from matneo.auth.users import audit
from matneo.config import Settings
from matneo.db.models import HarmCase, utcnow
from matneo.db.session import transaction
from matneo.db.trail import TrailWriter, locked_visible
from matneo.harm.portal import CaseError, CaseNotFound
from matneo.harm.report import FieldError
from matneo.records.store import RecordStore
from matneo.reviews.eligibility import assess_record
from matneo.reviews.models import (
    Review,
    ReviewAction,
    ReviewChange,
    ReviewGrade,
    ReviewIssue,
    ReviewMeeting,
    ReviewMember,
    ReviewParentItem,
)
from matneo.reviews.rules import (
    ACTION_STATUSES,
    CARE_AREA_LABELS,
    CONTRIBUTORY_FACTORS,
    GRADES,
    PANEL_ROLES,
    PARENT_CONTRIBUTE,
    PARENT_ITEM_KINDS,
    RELEVANCE,
    STAGE_COLUMNS,
    STORY_STAGES,
    areas_for,
)

__all__ = [
    "EDIT_ROLES",
    "ReviewError",
    "ReviewNotFound",
    "add_action",
    "add_issue",
    "add_meeting",
    "add_member",
    "add_parent_item",
    "answer_parent_item",
    "can_edit",
    "open_for_harm_report",
    "open_from_record",
    "set_grade",
    "update_action",
    "update_findings",
    "update_parents",
    "update_stages",
]

EDIT_ROLES = frozenset({"trust_staff"})
MAX_TEXT = 4_000
MAX_NAME = 254


class ReviewNotFound(CaseNotFound):
    """No such review for this user: unknown or out of scope (the same answer, so ids reveal nothing)."""


class ReviewError(CaseError):
    """Input the user can fix; ``errors`` names each field."""


def joint_trusts(review: Review) -> list[str]:
    return list(json.loads(review.joint_trusts or "[]"))


def taking_part(review: Review) -> set[str]:
    """The owning trust and any joint-review trusts."""
    return {review.trust_code, *joint_trusts(review)}


def can_edit(access: Access, review: Review) -> bool:
    """Trust staff of a trust taking part in the review."""
    return access.user.role in EDIT_ROLES and access.user.org_code in taking_part(review)


def can_see(access: Access, review: Review) -> bool:
    return access.in_scope(review.trust_code) or access.user.org_code in taking_part(review)


def _review_trust(access: Access) -> str:
    org = access.hierarchy.get(access.user.org_code)
    if access.user.role not in EDIT_ROLES or org.level != "trust":
        raise Forbidden("Only trust staff can open or change reviews, and only for their own trust.")
    return org.code


# -- checking input ------------------------------------------------------------------------------
class _Checks:
    """Collects every problem before anything is saved."""

    def __init__(self, today: dt.date) -> None:
        self.today = today
        self.errors: list[FieldError] = []

    def fail(self, field: str, message: str) -> None:
        self.errors.append(FieldError(field, message))

    def text(self, value: Any, field: str, label: str, *, required: bool, limit: int = MAX_TEXT) -> str | None:
        text = ("" if value is None else str(value)).strip()
        if required and not text:
            self.fail(field, f"Enter {label}")
            return None
        if len(text) > limit:
            self.fail(field, f"{label[0].upper()}{label[1:]} must be {limit:,} characters or fewer")
            return None
        return text or None

    def date(
        self, value: Any, field: str, label: str, *, required: bool = False, future: bool = False
    ) -> dt.date | None:
        if isinstance(value, dt.date):
            day: dt.date | None = value
        else:
            text = ("" if value is None else str(value)).strip()
            if not text:
                if required:
                    self.fail(field, f"Enter {label}")
                return None
            try:
                day = dt.date.fromisoformat(text)
            except ValueError:
                self.fail(field, f"{label[0].upper()}{label[1:]} must be a real date")
                return None
        assert day is not None
        if not future and day > self.today:
            self.fail(field, f"{label[0].upper()}{label[1:]} must be today or in the past")
            return None
        return day

    def choice(
        self, value: Any, field: str, label: str, choices: Mapping[str, str], *, required: bool = True
    ) -> str | None:
        text = ("" if value is None else str(value)).strip()
        if not text:
            if required:
                self.fail(field, f"Select {label}")
            return None
        if text not in choices:
            self.fail(field, f"Select {label} from the list")
            return None
        return text

    def done(self) -> None:
        if self.errors:
            raise ReviewError(self.errors)


# -- the trail ------------------------------------------------------------------------------------
CHANGE_ACTIONS = {
    "review.opened": "Review opened",
    "stages.changed": "Stage dates changed",
    "review.closed": "Review closed",
    "member.added": "Panel member added",
    "meeting.added": "Panel meeting recorded",
    "parents.changed": "Parents' involvement changed",
    "parent_item.added": "Parents' question or concern added",
    "parent_item.answered": "Parents' question or concern answered",
    "issue.added": "Issue with care added",
    "grade.set": "Care graded",
    "findings.changed": "Findings changed",
    "action.added": "Action added",
    "action.changed": "Action updated",
}


#: The review trail row for one change, in the caller's transaction.
_change = TrailWriter(ReviewChange, "review_id")


def _editable(session: Session, access: Access, review_id: int) -> Review:
    """The review, locked; 404 outside scope, 403 for anyone but a taking-part trust, closed refused."""
    review = locked_visible(
        session,
        Review,
        review_id,
        lambda review: can_see(access, review),
        ReviewNotFound(f"There is no review {review_id} in your organisation's scope."),
    )
    if not can_edit(access, review):
        raise Forbidden("Only staff of the trusts taking part in this review can change it.")
    if review.status == "closed":
        raise ReviewError([FieldError("review", "This review is closed and can no longer be changed")])
    return review


def _write(
    settings: Settings,
    access: Access,
    review_id: int,
    body: Callable[[Session, Review, str], Any],
) -> Any:
    actor = access.user.email
    with transaction(settings.database_url) as session:
        review = _editable(session, access, review_id)
        result = body(session, review, actor)
        review.updated_at = utcnow()
        return result


# -- opening a review ------------------------------------------------------------------------------
def _new_review(
    trust: str, actor: str, category: str, death: dt.date, birth: dt.date | None, weeks: int | None, days: int | None
) -> Review:
    now = utcnow()
    return Review(
        trust_code=trust,
        status="open",
        category=category,
        death_date=death,
        birth_date=birth,
        gestation_weeks=weeks,
        gestation_days=days,
        joint_trusts="[]",
        story="{}",
        mnsi_investigation=False,
        created_by=actor,
        created_at=now,
        updated_at=now,
    )


def open_from_record(settings: Settings, access: Access, record_id: str) -> int:
    """Open the review of a death in the user's trust's birth records; returns its id (the existing one if any)."""
    trust = _review_trust(access)
    record_id = (record_id or "").strip()
    store = RecordStore(settings.records_dir)
    record = None
    if record_id and store.current_version() is not None:
        with store.connect() as con:
            cursor = con.execute(
                "SELECT * FROM births WHERE trust_code = ? AND record_id = ? LIMIT 1", [trust, record_id]
            )
            row = cursor.fetchone()
            if row is not None:
                record = dict(zip([c[0] for c in cursor.description], row, strict=True))
    if record is None:
        raise ReviewError([FieldError("record_id", "There is no birth record with this number at your trust")])
    answer = assess_record(record)
    if not answer.eligible:
        raise ReviewError([FieldError("record_id", f"This death does not need a PMRT review: {answer.reason}")])
    assert answer.category is not None and answer.death_date is not None
    actor = access.user.email
    with transaction(settings.database_url) as session:
        existing = session.scalars(
            select(Review).where(Review.trust_code == trust, Review.record_id == record_id)
        ).first()
        if existing is not None:
            return existing.id
        birth = record["birth_datetime"]
        review = _new_review(
            trust,
            actor,
            answer.category,
            answer.death_date,
            birth.date() if isinstance(birth, dt.datetime) else None,
            record.get("gestation_weeks"),
            record.get("gestation_days"),
        )
        review.record_id = record_id
        session.add(review)
        session.flush()
        _change(
            session,
            review.id,
            actor,
            "review.opened",
            "Review",
            None,
            {"from": "birth record", "record": record_id},
            sensitive=True,
        )
        audit(session, actor, "review.opened", "review", str(review.id), trust=trust, category=answer.category)
        return review.id


def _harm_category(report: Mapping[str, Any]) -> tuple[str, dt.date | None, dt.date | None]:
    """(category, birth date, death date) from a harm report's answers (``docs/harm-routing.md`` names)."""
    baby = report.get("baby") or {}
    birth = dt.date.fromisoformat(baby["birth_date"]) if baby.get("birth_date") else None
    death = dt.date.fromisoformat(baby["death_date"]) if baby.get("death_date") else None
    weeks = (report.get("gestation") or {}).get("weeks")
    if baby.get("signs_of_life_at_birth") is False:
        return ("late_fetal_loss" if weeks is not None and weeks < 24 else "stillbirth"), birth, birth
    age = baby.get("age_at_death_completed_days")
    if age is None and death is not None and birth is not None:
        age = (death - birth).days
    if age is not None and age >= 28:
        return "post_neonatal_death", birth, death
    return "neonatal_death", birth, death or birth


def open_for_harm_report(session: Session, case: HarmCase, actor: str) -> int:
    """Inside the harm report's own transaction: open its review (once), linked both ways.

    Called by :func:`matneo.harm.portal.submit` and :func:`~matneo.harm.portal.amend` when the report is
    routed to ``PMRT``. The review carries ``harm_report_id``; the harm report finds its review by it.
    If the report's linked birth record already has a review, that review is linked instead.
    """
    found = session.scalars(select(Review).where(Review.harm_report_id == case.id)).first()
    if found is not None:
        return found.id
    if case.linked_record_id:
        found = session.scalars(
            select(Review).where(Review.trust_code == case.trust_code, Review.record_id == case.linked_record_id)
        ).first()
        if found is not None and found.harm_report_id is None:
            found.harm_report_id = case.id
            _change(session, found.id, actor, "review.opened", "Link to harm report", None, {"harm report": case.id})
            return found.id
    report = json.loads(case.report or "{}")
    category, birth, death = _harm_category(report)
    gestation = report.get("gestation") or {}
    review = _new_review(
        case.trust_code,
        actor,
        category,
        death or case.event_date or dt.date.today(),
        birth,
        gestation.get("weeks"),
        gestation.get("days"),
    )
    review.harm_report_id = case.id
    review.record_id = case.linked_record_id
    session.add(review)
    session.flush()
    _change(session, review.id, actor, "review.opened", "Review", None, {"from": "harm report", "harm report": case.id})
    audit(session, actor, "review.opened", "review", str(review.id), trust=case.trust_code, harm_report=case.id)
    return review.id


# -- stages ---------------------------------------------------------------------------------------
def update_stages(
    settings: Settings, access: Access, review_id: int, dates: Mapping[str, Any], *, today: dt.date | None = None
) -> dict[str, str | None]:
    """Set the stage dates (``notified``, ``started``, ``draft_report``, ``shared_with_parents``, ``closed``).

    Dates must be real, not in the future, not before the death, and in stage order. Setting ``closed``
    closes the review: every area of care must be graded first.
    """
    check = _Checks(today or dt.date.today())
    unknown = set(dates) - set(STAGE_COLUMNS)
    for name in sorted(unknown):
        check.fail(name, "This is not a stage of the review")
    parsed = {
        stage: check.date(dates[stage], stage, f"the date ({stage.replace('_', ' ')})")
        for stage in STAGE_COLUMNS
        if stage in dates
    }
    check.done()

    def body(session: Session, review: Review, actor: str) -> dict[str, str | None]:
        new = {stage: getattr(review, column) for stage, column in STAGE_COLUMNS.items()}
        new.update(parsed)
        last: tuple[str, dt.date] | None = None
        for stage in STAGE_COLUMNS:
            day = new[stage]
            if day is None:
                continue
            if day < review.death_date and stage != "notified":
                check.fail(stage, "The date must be on or after the date of death")
            if last is not None and day < last[1] and stage != "notified":
                check.fail(stage, f"The date must be on or after the {last[0].replace('_', ' ')} date")
            if stage != "notified":
                last = (stage, day)
        if new["closed"] is not None:
            graded = {g.area for g in session.scalars(select(ReviewGrade).where(ReviewGrade.review_id == review.id))}
            missing = [a.label for a in areas_for(review.category) if a.id not in graded]
            if missing:
                check.fail("closed", "Grade every area of care before closing the review: " + ", ".join(missing))
        check.done()
        before = {s: _iso(getattr(review, c)) for s, c in STAGE_COLUMNS.items()}
        for stage, column in STAGE_COLUMNS.items():
            setattr(review, column, new[stage])
        after = {s: _iso(getattr(review, c)) for s, c in STAGE_COLUMNS.items()}
        if before != after:
            _change(session, review.id, actor, "stages.changed", "Stage dates", before, after)
            audit(session, actor, "review.stages", "review", str(review.id), stages=sorted(parsed))
        if review.closed_on is not None:
            review.status = "closed"
            _change(session, review.id, actor, "review.closed", "Review", {"status": "open"}, {"status": "closed"})
            audit(session, actor, "review.closed", "review", str(review.id))
        return after

    return _write(settings, access, review_id, body)


def _iso(day: dt.date | None) -> str | None:
    return None if day is None else day.isoformat()


# -- panel ----------------------------------------------------------------------------------------
def add_member(
    settings: Settings, access: Access, review_id: int, *, role: Any, name: Any, external: Any = False
) -> int:
    """Add a panel member by role (a member without a role is refused)."""
    check = _Checks(dt.date.today())
    role_id = check.choice(role, "role", "a role", PANEL_ROLES)
    who = check.text(name, "name", "the member's name", required=True, limit=MAX_NAME)
    is_external = external in (True, "true", "yes", "on", "1")
    check.done()

    def body(session: Session, review: Review, actor: str) -> int:
        row = ReviewMember(review_id=review.id, role=role_id, name=who, external=is_external)
        session.add(row)
        session.flush()
        after = {"role": role_id, "name": who, "external": is_external}
        _change(session, review.id, actor, "member.added", PANEL_ROLES[role_id or "other"], None, after, sensitive=True)
        audit(session, actor, "review.member", "review", str(review.id), role=role_id, external=is_external)
        return row.id

    return _write(settings, access, review_id, body)


def add_meeting(
    settings: Settings,
    access: Access,
    review_id: int,
    *,
    held_on: Any,
    attendees: Any = (),
    today: dt.date | None = None,
) -> int:
    """Record a panel meeting and which panel members attended."""
    check = _Checks(today or dt.date.today())
    day = check.date(held_on, "held_on", "the date of the meeting", required=True)
    ids: list[int] = []
    for value in attendees or ():
        try:
            ids.append(int(value))
        except (TypeError, ValueError):
            check.fail("attendees", "Select attendees from the panel members")
    check.done()

    def body(session: Session, review: Review, actor: str) -> int:
        members = {m.id for m in session.scalars(select(ReviewMember).where(ReviewMember.review_id == review.id))}
        if set(ids) - members:
            raise ReviewError([FieldError("attendees", "Select attendees from the panel members")])
        assert day is not None
        if day < review.death_date:
            raise ReviewError([FieldError("held_on", "The meeting must be on or after the date of death")])
        row = ReviewMeeting(review_id=review.id, held_on=day, attendees=json.dumps(sorted(set(ids))))
        session.add(row)
        session.flush()
        _change(
            session,
            review.id,
            actor,
            "meeting.added",
            "Panel meeting",
            None,
            {"held on": day.isoformat(), "attendees": len(set(ids))},
        )
        audit(session, actor, "review.meeting", "review", str(review.id), meeting=row.id)
        return row.id

    return _write(settings, access, review_id, body)


# -- parents --------------------------------------------------------------------------------------
def update_parents(
    settings: Settings,
    access: Access,
    review_id: int,
    *,
    told_on: Any = None,
    told_by: Any = None,
    key_contact: Any = None,
    contribute: Any = None,
    today: dt.date | None = None,
) -> None:
    """Record that the parents were told about the review (when, by whom), their key contact, and whether
    they want to contribute."""
    check = _Checks(today or dt.date.today())
    day = check.date(told_on, "told_on", "the date the parents were told")
    by = check.text(told_by, "told_by", "who told the parents", required=day is not None, limit=MAX_NAME)
    contact = check.text(key_contact, "key_contact", "the key contact", required=False, limit=MAX_NAME)
    wants = check.choice(
        contribute, "contribute", "whether the parents want to contribute", PARENT_CONTRIBUTE, required=False
    )
    check.done()

    def body(session: Session, review: Review, actor: str) -> None:
        before = {
            "told_on": _iso(review.parents_told_on),
            "told_by": review.parents_told_by,
            "key_contact": review.key_contact,
            "contribute": review.parents_contribute,
        }
        review.parents_told_on, review.parents_told_by = day, by
        review.key_contact, review.parents_contribute = contact, wants
        after = {"told_on": _iso(day), "told_by": by, "key_contact": contact, "contribute": wants}
        if before != after:
            _change(session, review.id, actor, "parents.changed", "Parents' involvement", before, after, sensitive=True)
            audit(session, actor, "review.parents", "review", str(review.id))

    _write(settings, access, review_id, body)


def add_parent_item(settings: Settings, access: Access, review_id: int, *, kind: Any, text: Any) -> int:
    """Add one of the parents' questions or concerns, to be answered in the report."""
    check = _Checks(dt.date.today())
    kind_id = check.choice(kind, "kind", "question or concern", PARENT_ITEM_KINDS)
    words = check.text(text, "text", "the parents' question or concern", required=True)
    check.done()

    def body(session: Session, review: Review, actor: str) -> int:
        row = ReviewParentItem(review_id=review.id, kind=kind_id, text=words)
        session.add(row)
        session.flush()
        _change(
            session,
            review.id,
            actor,
            "parent_item.added",
            PARENT_ITEM_KINDS[kind_id or "question"],
            None,
            {"text": words},
            sensitive=True,
        )
        audit(session, actor, "review.parent_item", "review", str(review.id), item=row.id, kind=kind_id)
        return row.id

    return _write(settings, access, review_id, body)


def answer_parent_item(settings: Settings, access: Access, review_id: int, item_id: int, *, answer: Any) -> None:
    """The report's answer to one of the parents' questions or concerns."""
    check = _Checks(dt.date.today())
    words = check.text(answer, "answer", "the answer", required=True)
    check.done()

    def body(session: Session, review: Review, actor: str) -> None:
        row = session.get(ReviewParentItem, item_id)
        if row is None or row.review_id != review.id:
            raise ReviewNotFound(f"Review {review_id} has no question {item_id}.")
        before = {"answer": row.answer}
        row.answer = words
        if before != {"answer": words}:
            _change(
                session,
                review.id,
                actor,
                "parent_item.answered",
                "Answer to the parents",
                before,
                {"answer": words},
                sensitive=True,
            )
            audit(session, actor, "review.parent_answer", "review", str(review.id), item=row.id)

    _write(settings, access, review_id, body)


# -- findings -------------------------------------------------------------------------------------
def add_issue(
    settings: Settings, access: Access, review_id: int, *, area: Any, description: Any, relevant: Any, factors: Any = ()
) -> int:
    """An issue with care: its area, whether it was relevant to the outcome, its contributory factors."""
    check = _Checks(dt.date.today())
    area_id = check.choice(area, "area", "the area of care", CARE_AREA_LABELS)
    words = check.text(description, "description", "a description of the issue", required=True)
    relevance = check.choice(relevant, "relevant", "whether the issue was relevant to the outcome", RELEVANCE)
    chosen = [str(f) for f in (factors or ())]
    if any(f not in CONTRIBUTORY_FACTORS for f in chosen):
        check.fail("factors", "Select contributory factors from the list")
    check.done()

    def body(session: Session, review: Review, actor: str) -> int:
        if area_id not in {a.id for a in areas_for(review.category)}:
            raise ReviewError([FieldError("area", "This area of care does not apply to this death")])
        row = ReviewIssue(
            review_id=review.id,
            area=area_id,
            description=words,
            relevant=relevance,
            factors=json.dumps(sorted(set(chosen))),
        )
        session.add(row)
        session.flush()
        after = {"area": area_id, "description": words, "relevant": relevance, "factors": sorted(set(chosen))}
        _change(session, review.id, actor, "issue.added", "Issue with care", None, after, sensitive=True)
        audit(session, actor, "review.issue", "review", str(review.id), issue=row.id, area=area_id, relevant=relevance)
        return row.id

    return _write(settings, access, review_id, body)


def set_grade(settings: Settings, access: Access, review_id: int, *, area: Any, grade: Any) -> None:
    """Grade one area of care A–D. A grade needs its area."""
    check = _Checks(dt.date.today())
    area_id = check.choice(area, "area", "the area of care this grade is for", CARE_AREA_LABELS)
    letter = check.choice(grade, "grade", "a grade", {g.letter: g.letter for g in GRADES})
    check.done()

    def body(session: Session, review: Review, actor: str) -> None:
        if area_id not in {a.id for a in areas_for(review.category)}:
            raise ReviewError([FieldError("area", "This area of care is not graded for this death")])
        row = session.scalars(
            select(ReviewGrade).where(ReviewGrade.review_id == review.id, ReviewGrade.area == area_id)
        ).first()
        before = None if row is None else {"grade": row.grade}
        if before == {"grade": letter}:
            return
        if row is None:
            row = ReviewGrade(review_id=review.id, area=area_id)
            session.add(row)
        row.grade = letter or ""
        _change(session, review.id, actor, "grade.set", CARE_AREA_LABELS[area_id or ""], before, {"grade": letter})
        audit(session, actor, "review.grade", "review", str(review.id), area=area_id, grade=letter)

    _write(settings, access, review_id, body)


def update_findings(
    settings: Settings,
    access: Access,
    review_id: int,
    *,
    cause_of_death: Any = None,
    story: Mapping[str, Any] | None = None,
    mnsi_investigation: Any = False,
    mnsi_report_on: Any = None,
    mnsi_findings: Any = None,
    joint_trusts: Any = (),
    today: dt.date | None = None,
) -> None:
    """The story of care by stage, the cause of death (free text: the PMRT's classification is not confirmed
    here), MNSI (under investigation, its report's date and findings) and the trusts of a joint review."""
    check = _Checks(today or dt.date.today())
    cause = check.text(cause_of_death, "cause_of_death", "the cause of death", required=False)
    chapters: dict[str, str] = {}
    for key, value in dict(story or {}).items():
        if key not in STORY_STAGES:
            check.fail(f"story.{key}", "This is not a stage of care")
            continue
        words = check.text(value, f"story.{key}", STORY_STAGES[key].lower(), required=False)
        if words:
            chapters[key] = words
    mnsi = mnsi_investigation in (True, "true", "yes", "on", "1")
    report_on = check.date(mnsi_report_on, "mnsi_report_on", "the date of the MNSI report")
    findings = check.text(mnsi_findings, "mnsi_findings", "MNSI's findings", required=False)
    if (report_on or findings) and not mnsi:
        check.fail("mnsi_investigation", "Say the death is under MNSI investigation before recording MNSI's report")
    codes = [str(c).strip().upper() for c in (joint_trusts or ()) if str(c).strip()]
    for code in codes:
        try:
            if access.hierarchy.get(code).level != "trust":
                check.fail("joint_trusts", f"{code} is not a trust")
        except KeyError:
            check.fail("joint_trusts", f"There is no trust with code {code}")
    check.done()

    def body(session: Session, review: Review, actor: str) -> None:
        joint = sorted(set(codes) - {review.trust_code})
        before = {
            "cause_of_death": review.cause_of_death,
            "story": json.loads(review.story or "{}"),
            "mnsi_investigation": review.mnsi_investigation,
            "mnsi_report_on": _iso(review.mnsi_report_on),
            "mnsi_findings": review.mnsi_findings,
            "joint_trusts": json.loads(review.joint_trusts or "[]"),
        }
        after = {
            "cause_of_death": cause,
            "story": chapters,
            "mnsi_investigation": mnsi,
            "mnsi_report_on": _iso(report_on),
            "mnsi_findings": findings,
            "joint_trusts": joint,
        }
        if before == after:
            return
        review.cause_of_death, review.story = cause, json.dumps(chapters, sort_keys=True)
        review.mnsi_investigation, review.mnsi_report_on, review.mnsi_findings = mnsi, report_on, findings
        review.joint_trusts = json.dumps(joint)
        _change(session, review.id, actor, "findings.changed", "Findings", before, after, sensitive=True)
        audit(session, actor, "review.findings", "review", str(review.id), mnsi=mnsi, joint_trusts=joint)

    _write(settings, access, review_id, body)


# -- actions --------------------------------------------------------------------------------------
def add_action(settings: Settings, access: Access, review_id: int, *, description: Any, owner: Any, due_on: Any) -> int:
    """A SMART action: what will be done, who owns it, by when."""
    check = _Checks(dt.date.today())
    words = check.text(description, "description", "what the action is", required=True)
    who = check.text(owner, "owner", "who owns the action", required=True, limit=MAX_NAME)
    due = check.date(due_on, "due_on", "the date the action is due", required=True, future=True)
    check.done()

    def body(session: Session, review: Review, actor: str) -> int:
        row = ReviewAction(review_id=review.id, description=words, owner=who, due_on=due, status="open")
        session.add(row)
        session.flush()
        after = {"description": words, "owner": who, "due_on": _iso(due), "status": "open"}
        _change(session, review.id, actor, "action.added", "Action", None, after, sensitive=True)
        audit(session, actor, "review.action", "review", str(review.id), action_id=row.id)
        return row.id

    return _write(settings, access, review_id, body)


def update_action(
    settings: Settings,
    access: Access,
    review_id: int,
    action_id: int,
    *,
    status: Any,
    evidence: Any = None,
    done_on: Any = None,
    today: dt.date | None = None,
) -> None:
    """Move an action on: in progress, or done with its evidence and date."""
    check = _Checks(today or dt.date.today())
    state = check.choice(status, "status", "where the action stands", ACTION_STATUSES)
    proof = check.text(evidence, "evidence", "the evidence the action is done", required=state == "done")
    day = check.date(done_on, "done_on", "the date the action was done", required=state == "done")
    check.done()

    def body(session: Session, review: Review, actor: str) -> None:
        row = session.get(ReviewAction, action_id)
        if row is None or row.review_id != review.id:
            raise ReviewNotFound(f"Review {review_id} has no action {action_id}.")
        before = {"status": row.status, "evidence": row.evidence, "done_on": _iso(row.done_on)}
        row.status, row.evidence = state or "open", proof
        row.done_on = day if state == "done" else None
        after = {"status": row.status, "evidence": row.evidence, "done_on": _iso(row.done_on)}
        if before != after:
            _change(session, review.id, actor, "action.changed", "Action", before, after, sensitive=True)
            audit(session, actor, "review.action_changed", "review", str(review.id), action_id=row.id, status=state)

    _write(settings, access, review_id, body)
