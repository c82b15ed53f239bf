"""Reading reviews, scoped by construction.

* A review exists for a user when its trust is in their scope, or their trust takes part in it (a joint
  review); otherwise :class:`~matneo.reviews.actions.ReviewNotFound` (404, so ids reveal nothing).
* Patient-level content (the birth record, people's names, parents' questions, the story of care, issues,
  actions' text, the values of sensitive trail rows) is read only for staff of the trusts taking part;
  everyone else gets ``None`` and ``content_hidden: true``. Stage dates, deadlines, grades, panel roles and
  counts are not patient-identifying and are shown to everyone in scope.
* "Overdue" is derived, never stored: a stage not reached after its deadline.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from matneo.auth.access import Access
from matneo.db.session import transaction
from matneo.reviews.actions import CHANGE_ACTIONS, ReviewNotFound, can_edit, can_see, joint_trusts
from matneo.reviews.eligibility import CATEGORY_LABELS
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
    PANEL_ROLES,
    PARENT_CONTRIBUTE,
    PARENT_ITEM_KINDS,
    RELEVANCE,
    STAGE_COLUMNS,
    STAGES,
    STORY_STAGES,
    ReviewOptions,
    areas_for,
    composition_warnings,
    grades,
    stage_deadlines,
)

__all__ = ["load_review", "review_detail", "review_list", "stage_rows"]

LIST_LIMIT = 500


def _iso(value: dt.date | dt.datetime | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="seconds")
    return value.isoformat()


def load_review(session: Session, access: Access, review_id: int) -> Review:
    review = session.get(Review, review_id)
    if review is None or not can_see(access, review):
        raise ReviewNotFound(f"There is no review {review_id} in your organisation's scope.")
    return review


def stage_rows(
    review: Review, first_meeting: dt.date | None, today: dt.date, options: ReviewOptions | None = None
) -> list[dict[str, Any]]:
    """Each stage: its date, deadline (with source and confirmation) and status (done | due | overdue | none)."""
    rules = {d.stage: d for d in stage_deadlines(options)}
    out = []
    for stage, label, column in STAGES:
        reached = first_meeting if column is None else getattr(review, column)
        rule = rules[stage]
        due = rule.due(review.death_date)
        if reached is not None:
            status = "done" if due is None or reached <= due else "done_late"
        elif review.status == "closed":
            status = "not_reached"
        elif due is not None and due < today:
            status = "overdue"
        else:
            status = "due" if due is not None else "no_deadline"
        out.append(
            {
                "stage": stage,
                "label": label,
                "on": _iso(reached),
                "due": _iso(due),
                "deadline": None if rule.period is None else str(rule.period),
                "deadline_text": rule.text,
                "source": rule.source,
                "needs_local_confirmation": rule.needs_local_confirmation,
                "status": status,
            }
        )
    return out


def _first_meetings(session: Session, ids: list[int]) -> dict[int, dt.date]:
    out: dict[int, dt.date] = {}
    if not ids:
        return out
    for review_id, held_on in session.execute(
        select(ReviewMeeting.review_id, ReviewMeeting.held_on).where(ReviewMeeting.review_id.in_(ids))
    ):
        if review_id not in out or held_on < out[review_id]:
            out[review_id] = held_on
    return out


def _visible(access: Access):  # type: ignore[no-untyped-def]
    """The SQL filter for the reviews a user may see: in scope, or joint with their trust."""
    trusts = access.trusts_in_scope()
    org = access.user.org_code
    return or_(Review.trust_code.in_(trusts), Review.joint_trusts.contains(f'"{org}"'))


def review_list(
    url: str, access: Access, today: dt.date | None = None, options: ReviewOptions | None = None
) -> list[dict[str, Any]]:
    """Reviews in scope, newest death first: id, trust, harm report, status, stage dates and deadlines."""
    day = today or dt.date.today()
    with transaction(url) as session:
        reviews = session.scalars(
            select(Review)
            .where(_visible(access))
            .order_by(Review.death_date.desc(), Review.id.desc())
            .limit(LIST_LIMIT)
        ).all()
        meetings = _first_meetings(session, [r.id for r in reviews])
        out = []
        for r in reviews:
            stages = stage_rows(r, meetings.get(r.id), day, options)
            out.append(
                {
                    "id": r.id,
                    "trust_code": r.trust_code,
                    "trust_name": _name(access, r.trust_code),
                    "joint_trusts": joint_trusts(r),
                    "harm_report_id": r.harm_report_id,
                    "status": r.status,
                    "category": r.category,
                    "category_label": CATEGORY_LABELS.get(r.category, r.category),
                    "death_date": _iso(r.death_date),
                    "stages": {s["stage"]: {"on": s["on"], "due": s["due"], "status": s["status"]} for s in stages},
                    "overdue": [s["stage"] for s in stages if s["status"] == "overdue"],
                    "can_edit": can_edit(access, r),
                }
            )
        return out


def review_detail(
    url: str, access: Access, review_id: int, today: dt.date | None = None, options: ReviewOptions | None = None
) -> dict[str, Any]:
    """Everything the review page shows; patient-level content for the trusts taking part only."""
    day = today or dt.date.today()
    with transaction(url) as session:
        review = load_review(session, access, review_id)
        owner = can_edit(access, review)
        rid = review.id
        members = session.scalars(
            select(ReviewMember).where(ReviewMember.review_id == rid).order_by(ReviewMember.id)
        ).all()
        meetings = session.scalars(
            select(ReviewMeeting)
            .where(ReviewMeeting.review_id == rid)
            .order_by(ReviewMeeting.held_on, ReviewMeeting.id)
        ).all()
        items = session.scalars(
            select(ReviewParentItem).where(ReviewParentItem.review_id == rid).order_by(ReviewParentItem.id)
        ).all()
        issues = session.scalars(select(ReviewIssue).where(ReviewIssue.review_id == rid).order_by(ReviewIssue.id)).all()
        graded = {g.area: g.grade for g in session.scalars(select(ReviewGrade).where(ReviewGrade.review_id == rid))}
        actions = session.scalars(
            select(ReviewAction).where(ReviewAction.review_id == rid).order_by(ReviewAction.due_on, ReviewAction.id)
        ).all()
        changes = session.scalars(
            select(ReviewChange).where(ReviewChange.review_id == rid).order_by(ReviewChange.id)
        ).all()
        first = meetings[0].held_on if meetings else None
        # Improvement projects working on each action (issue 13), as far as this user can see them.
        from matneo.qi.queries import projects_for_review_actions  # the QI package reads reviews, not the reverse

        linked = projects_for_review_actions(session, access, [a.id for a in actions])
        grade_words = {g.letter: g for g in grades(options)}
        member_dicts = [
            {
                "id": m.id,
                "role": m.role,
                "role_label": PANEL_ROLES.get(m.role, m.role),
                "name": m.name if owner else None,
                "external": m.external,
            }
            for m in members
        ]
        return {
            "id": rid,
            "trust_code": review.trust_code,
            "trust_name": _name(access, review.trust_code),
            "joint_trusts": [{"code": c, "name": _name(access, c)} for c in joint_trusts(review)],
            "harm_report_id": review.harm_report_id,
            "status": review.status,
            "category": review.category,
            "category_label": CATEGORY_LABELS.get(review.category, review.category),
            "death_date": _iso(review.death_date),
            "birth_date": _iso(review.birth_date) if owner else None,
            "gestation": None
            if review.gestation_weeks is None
            else f"{review.gestation_weeks}+{review.gestation_days or 0}",
            "record_id": review.record_id if owner else None,
            "can_edit": owner and review.status == "open",
            "content_hidden": not owner,
            "stages": stage_rows(review, first, day, options),
            "panel": {
                "members": member_dicts,
                "warnings": composition_warnings(
                    review.category, [{"role": m.role, "external": m.external} for m in members]
                ),
                "meetings": [
                    {"id": m.id, "held_on": _iso(m.held_on), "attendees": len(json.loads(m.attendees))}
                    for m in meetings
                ],
            },
            "parents": {
                "told_on": _iso(review.parents_told_on),
                "told_by": review.parents_told_by if owner else None,
                "key_contact": review.key_contact if owner else None,
                "contribute": review.parents_contribute,
                "contribute_label": PARENT_CONTRIBUTE.get(review.parents_contribute or "", None),
                "items": [
                    {
                        "id": i.id,
                        "kind": i.kind,
                        "kind_label": PARENT_ITEM_KINDS.get(i.kind, i.kind),
                        "text": i.text if owner else None,
                        "answer": i.answer if owner else None,
                        "answered": bool(i.answer),
                    }
                    for i in items
                ],
            },
            "findings": {
                "cause_of_death": review.cause_of_death if owner else None,
                "story": [
                    {"stage": k, "label": label, "text": json.loads(review.story or "{}").get(k) if owner else None}
                    for k, label in STORY_STAGES.items()
                ],
                "mnsi_investigation": review.mnsi_investigation,
                "mnsi_report_on": _iso(review.mnsi_report_on),
                "mnsi_findings": review.mnsi_findings if owner else None,
                "issues": [
                    {
                        "id": i.id,
                        "area": i.area,
                        "area_label": CARE_AREA_LABELS.get(i.area, i.area),
                        "description": i.description if owner else None,
                        "relevant": i.relevant,
                        "relevant_label": RELEVANCE.get(i.relevant, i.relevant),
                        "factors": [
                            {"id": f, "label": CONTRIBUTORY_FACTORS.get(f, f)} for f in json.loads(i.factors or "[]")
                        ],
                    }
                    for i in issues
                ],
                "grades": [
                    {
                        "area": a.id,
                        "label": a.label,
                        "grade": graded.get(a.id),
                        "wording": grade_words[graded[a.id]].wording if a.id in graded else None,
                        "needs_local_confirmation": a.id in graded
                        and grade_words[graded[a.id]].needs_local_confirmation,
                    }
                    for a in areas_for(review.category)
                ],
            },
            "actions": [
                {
                    "id": a.id,
                    "description": a.description if owner else None,
                    "owner": a.owner if owner else None,
                    "due_on": _iso(a.due_on),
                    "status": a.status,
                    "status_label": ACTION_STATUSES.get(a.status, a.status),
                    "overdue": a.status != "done" and a.due_on < day,
                    "evidence": a.evidence if owner else None,
                    "done_on": _iso(a.done_on),
                    "qi_projects": linked.get(a.id, []),
                }
                for a in actions
            ],
            "changes": [
                {
                    "at": _iso(c.at),
                    "actor": c.actor,
                    "action": c.action,
                    "action_label": CHANGE_ACTIONS.get(c.action, c.action),
                    "what": c.what,
                    "before": json.loads(c.before) if c.before and (owner or not c.sensitive) else None,
                    "after": json.loads(c.after) if c.after and (owner or not c.sensitive) else None,
                    "values_hidden": c.sensitive and not owner,
                }
                for c in changes
            ],
        }


def _name(access: Access, code: str) -> str:
    try:
        return access.hierarchy.get(code).name
    except KeyError:
        return code


def actions_by_trust(url: str, access: Access, today: dt.date | None = None) -> dict[str, dict[str, int]]:
    """Open, overdue and done actions per trust in scope (counts only)."""
    day = today or dt.date.today()
    out: dict[str, dict[str, int]] = defaultdict(lambda: {"open": 0, "overdue": 0, "done": 0})
    with transaction(url) as session:
        for trust, status, due in session.execute(
            select(Review.trust_code, ReviewAction.status, ReviewAction.due_on)
            .join(ReviewAction, ReviewAction.review_id == Review.id)
            .where(Review.trust_code.in_(access.trusts_in_scope()))
        ):
            if status == "done":
                out[trust]["done"] += 1
            elif due < day:
                out[trust]["overdue"] += 1
            else:
                out[trust]["open"] += 1
    return dict(out)


assert set(STAGE_COLUMNS) <= {s for s, _, _ in STAGES}
