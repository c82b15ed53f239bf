"""The reviews section of the monthly board pack: counts at the month's end, no patient details.

For the trusts of the pack's organisation: deaths in the birth records that need a review and have none
(:func:`matneo.reviews.due.due_for_trusts`, deaths up to the month's end), reviews open then, open reviews
past each stage's deadline (the deadlines of :mod:`matneo.reviews.rules`, which need local confirmation),
the grades of care per area (reviews of deaths up to the month's end) and the review actions (open, overdue,
done). Stage dates recorded after the month's end count as not reached then, so a pack made later for an
earlier month shows that month as it stood.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

from sqlalchemy import select

from matneo.board.pack import ReviewsSummary
from matneo.config import Settings
from matneo.db.session import transaction
from matneo.reviews.due import due_for_trusts
from matneo.reviews.models import Review, ReviewAction, ReviewGrade, ReviewMeeting
from matneo.reviews.queries import stage_rows
from matneo.reviews.rules import CARE_AREAS, GRADES, STAGE_COLUMNS, STAGES

__all__ = ["pack_reviews"]


def pack_reviews(settings: Settings, trusts: list[str], month_end: dt.date) -> ReviewsSummary:
    """The reviews at ``trusts`` as they stood at ``month_end``."""
    waiting = [d for d in due_for_trusts(settings, trusts, month_end) if d["death_date"] <= month_end.isoformat()]
    overdue: Counter[str] = Counter()
    grades: dict[str, Counter[str]] = {a.id: Counter() for a in CARE_AREAS}
    open_count = 0
    with transaction(settings.database_url) as session:
        reviews = session.scalars(
            select(Review).where(Review.trust_code.in_(trusts), Review.death_date <= month_end)
        ).all()
        ids = [r.id for r in reviews]
        firsts: dict[int, dt.date] = {}
        for rid, held in session.execute(
            select(ReviewMeeting.review_id, ReviewMeeting.held_on).where(ReviewMeeting.review_id.in_(ids))
        ):
            if held <= month_end and (rid not in firsts or held < firsts[rid]):
                firsts[rid] = held
        for review in reviews:
            if review.closed_on is not None and review.closed_on <= month_end:
                continue
            open_count += 1
            session.expunge(review)  # judged as at the month's end: later stage dates count as not reached
            review.status = "open"
            for column in STAGE_COLUMNS.values():
                reached = getattr(review, column)
                if reached is not None and reached > month_end:
                    setattr(review, column, None)
            for stage in stage_rows(review, firsts.get(review.id), month_end + dt.timedelta(days=1)):
                if stage["status"] == "overdue":
                    overdue[stage["stage"]] += 1
        for area, grade in session.execute(
            select(ReviewGrade.area, ReviewGrade.grade).where(ReviewGrade.review_id.in_(ids))
        ):
            if area in grades:
                grades[area][grade] += 1
        acts = session.execute(
            select(ReviewAction.status, ReviewAction.due_on, ReviewAction.done_on).where(
                ReviewAction.review_id.in_(ids)
            )
        ).all()
    done = sum(1 for status, _, on in acts if status == "done" and (on is None or on <= month_end))
    late = sum(
        1 for status, due, on in acts if not (status == "done" and (on is None or on <= month_end)) and due <= month_end
    )
    labels = {stage: label for stage, label, _ in STAGES}
    return ReviewsSummary(
        waiting=len(waiting),
        open=open_count,
        overdue_by_stage=[(labels[s], overdue[s]) for s, _, _ in STAGES if overdue[s]],
        grades=[(a.label, [grades[a.id][g.letter] for g in GRADES]) for a in CARE_AREAS],
        grade_letters=[g.letter for g in GRADES],
        actions_open=len(acts) - done - late,
        actions_overdue=late,
        actions_done=done,
    )
