"""Overdue review stages as notices to the owning trust, beside the harm portal's overdue notices.

:func:`overdue_check` runs with the harm overdue check (hourly while ``matneo serve`` runs, and from
``matneo harm overdue-check``): every open review stage that has a deadline, is not reached and is past
it gets one notice per deadline. Messages name the review number and stage only, never the patient.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from matneo.auth.access import Access
from matneo.auth.users import audit
from matneo.dates import day_text
from matneo.db.models import utcnow
from matneo.db.session import transaction
from matneo.reviews.models import Review, ReviewMeeting, ReviewNotification
from matneo.reviews.queries import stage_rows
from matneo.reviews.rules import ReviewOptions

__all__ = ["mark_read", "notices_for", "overdue_check"]


def overdue_check(url: str, today: dt.date | None = None, options: ReviewOptions | None = None) -> int:
    """Notify each owning trust once per review stage and missed deadline; returns how many were made."""
    day = today or dt.date.today()
    for _attempt in range(3):
        try:
            with transaction(url) as session:
                reviews = session.scalars(select(Review).where(Review.status == "open")).all()
                firsts: dict[int, dt.date] = {}
                for rid, held in session.execute(select(ReviewMeeting.review_id, ReviewMeeting.held_on)):
                    if rid not in firsts or held < firsts[rid]:
                        firsts[rid] = held
                done = set(
                    session.execute(
                        select(ReviewNotification.review_id, ReviewNotification.stage, ReviewNotification.due_on)
                    ).all()
                )
                made = 0
                for review in reviews:
                    for stage in stage_rows(review, firsts.get(review.id), day, options):
                        if stage["status"] != "overdue":
                            continue
                        due = dt.date.fromisoformat(stage["due"])
                        if (review.id, stage["stage"], due) in done:
                            continue
                        session.add(
                            ReviewNotification(
                                org_code=review.trust_code,
                                review_id=review.id,
                                stage=stage["stage"],
                                due_on=due,
                                message=f"Review {review.id}: {stage['label'].lower()} was due by "
                                f"{day_text(due)} and is not done.",
                                created_at=utcnow(),
                            )
                        )
                        made += 1
                if made:
                    audit(session, "system", "review.overdue_check", "review_notifications", "-", created=made)
                return made
        except IntegrityError:  # another check ran at the same moment: look again
            continue
    return 0


def notices_for(url: str, access: Access, limit: int = 50) -> list[dict[str, Any]]:
    """The user's organisation's review notices, unread first."""
    with transaction(url) as session:
        rows = session.scalars(
            select(ReviewNotification)
            .where(ReviewNotification.org_code == access.user.org_code)
            .order_by(ReviewNotification.read_at.is_not(None), ReviewNotification.id.desc())
            .limit(limit)
        ).all()
        return [
            {
                "id": n.id,
                "review_id": n.review_id,
                "stage": n.stage,
                "message": n.message,
                "due_on": n.due_on.isoformat(),
                "created_at": n.created_at.isoformat(timespec="seconds"),
                "read": n.read_at is not None,
            }
            for n in rows
        ]


def mark_read(url: str, access: Access) -> int:
    """Mark the user's organisation's review notices read; returns how many."""
    with transaction(url) as session:
        rows = session.scalars(
            select(ReviewNotification).where(
                ReviewNotification.org_code == access.user.org_code, ReviewNotification.read_at.is_(None)
            )
        ).all()
        now = utcnow()
        for row in rows:
            row.read_at, row.read_by = now, access.user.email
        return len(rows)
