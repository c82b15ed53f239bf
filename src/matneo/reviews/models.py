"""Tables of perinatal mortality reviews (migration 0010).

Kept beside the reviews domain rather than in :mod:`matneo.db.models` so the review package owns
its schema; they share the one ``Base`` so Alembic and the app store see them together.

Patient-level content (the linked birth record, names of people, free text) lives in columns the
queries leave out for anyone but the owning (and joint) trusts; see :mod:`matneo.reviews.queries`.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from matneo.db.models import Base, utcnow

__all__ = [
    "Review",
    "ReviewAction",
    "ReviewChange",
    "ReviewGrade",
    "ReviewIssue",
    "ReviewMeeting",
    "ReviewMember",
    "ReviewNotification",
    "ReviewParentItem",
]


def _review_fk() -> Mapped[int]:
    return mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"), index=True)


class Review(Base):
    """One perinatal mortality review: the death it is about, its stage dates, parents, MNSI and findings.

    ``status`` is open | closed. Stage dates are the day each stage was reached; deadlines are
    derived from the rules (:mod:`matneo.reviews.rules`), never stored. ``record_id`` (the birth
    record) and ``harm_report_id`` link the review to the death; the harm report links back by
    this column. ``joint_trusts`` is a JSON list of the other trusts taking part in a joint review.
    """

    __tablename__ = "reviews"
    __table_args__ = (
        UniqueConstraint("trust_code", "record_id", name="uq_reviews_trust_record"),
        UniqueConstraint("harm_report_id", name="uq_reviews_harm_report"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    trust_code: Mapped[str] = mapped_column(ForeignKey("organisations.code"), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True, default="open")
    category: Mapped[str] = mapped_column(String(32))
    record_id: Mapped[str | None] = mapped_column(String(64))  # identifier-like: owning trusts only
    harm_report_id: Mapped[int | None] = mapped_column(Integer)
    birth_date: Mapped[dt.date | None] = mapped_column(Date)
    death_date: Mapped[dt.date] = mapped_column(Date, index=True)
    gestation_weeks: Mapped[int | None] = mapped_column(Integer)
    gestation_days: Mapped[int | None] = mapped_column(Integer)
    joint_trusts: Mapped[str] = mapped_column(Text, default="[]")
    notified_on: Mapped[dt.date | None] = mapped_column(Date)
    started_on: Mapped[dt.date | None] = mapped_column(Date)
    draft_report_on: Mapped[dt.date | None] = mapped_column(Date)
    shared_with_parents_on: Mapped[dt.date | None] = mapped_column(Date)
    closed_on: Mapped[dt.date | None] = mapped_column(Date)
    parents_told_on: Mapped[dt.date | None] = mapped_column(Date)
    parents_told_by: Mapped[str | None] = mapped_column(String(254))
    key_contact: Mapped[str | None] = mapped_column(String(254))
    parents_contribute: Mapped[str | None] = mapped_column(String(16))  # yes | no | not_yet_asked
    mnsi_investigation: Mapped[bool] = mapped_column(Boolean, default=False)
    mnsi_report_on: Mapped[dt.date | None] = mapped_column(Date)
    mnsi_findings: Mapped[str | None] = mapped_column(Text)
    cause_of_death: Mapped[str | None] = mapped_column(Text)
    story: Mapped[str] = mapped_column(Text, default="{}")  # JSON {stage of care: text}
    created_by: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class ReviewMember(Base):
    """A panel member by role; ``external`` for a member from outside the trust(s) under review."""

    __tablename__ = "review_members"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    review_id: Mapped[int] = _review_fk()
    role: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(254))
    external: Mapped[bool] = mapped_column(Boolean, default=False)


class ReviewMeeting(Base):
    """A panel meeting and who attended (JSON list of member ids)."""

    __tablename__ = "review_meetings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    review_id: Mapped[int] = _review_fk()
    held_on: Mapped[dt.date] = mapped_column(Date)
    attendees: Mapped[str] = mapped_column(Text, default="[]")


class ReviewParentItem(Base):
    """A question or concern of the parents, and the answer the report gives it."""

    __tablename__ = "review_parent_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    review_id: Mapped[int] = _review_fk()
    kind: Mapped[str] = mapped_column(String(16))  # question | concern
    text: Mapped[str] = mapped_column(Text)
    answer: Mapped[str | None] = mapped_column(Text)


class ReviewIssue(Base):
    """An issue with care: where in the care, whether relevant to the outcome, its contributory factors."""

    __tablename__ = "review_issues"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    review_id: Mapped[int] = _review_fk()
    area: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(Text)
    relevant: Mapped[str] = mapped_column(String(16))  # yes | no | unclear
    factors: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of factor category ids


class ReviewGrade(Base):
    """The grade of care (A–D) the panel gave one area of care."""

    __tablename__ = "review_grades"
    __table_args__ = (UniqueConstraint("review_id", "area", name="uq_review_grades_area"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    review_id: Mapped[int] = _review_fk()
    area: Mapped[str] = mapped_column(String(32))
    grade: Mapped[str] = mapped_column(String(1))


class ReviewAction(Base):
    """A SMART action from the review: what, who owns it, by when, where it stands, the evidence."""

    __tablename__ = "review_actions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    review_id: Mapped[int] = _review_fk()
    description: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(254))
    due_on: Mapped[dt.date] = mapped_column(Date, index=True)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | in_progress | done
    evidence: Mapped[str | None] = mapped_column(Text)
    done_on: Mapped[dt.date | None] = mapped_column(Date)


class ReviewChange(Base):
    """The review's own trail: who changed what, when, before and after; written in the change's transaction.

    No foreign key (as :class:`~matneo.db.models.AuditEvent`): the trail outlives what it describes.
    ``sensitive`` rows (free text, names) show their values to the owning and joint trusts only.
    """

    __tablename__ = "review_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    review_id: Mapped[int] = mapped_column(Integer, index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(64))
    what: Mapped[str] = mapped_column(String(200))
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False)


class ReviewNotification(Base):
    """A notice to the owning trust that a stage of a review is past its deadline.

    Unique per (review, stage, deadline) so the hourly check can run any number of times, and a stage
    whose deadline moves (a local timescale set) is notified again. ``message`` never holds identifiers.
    """

    __tablename__ = "review_notifications"
    __table_args__ = (UniqueConstraint("review_id", "stage", "due_on", name="uq_review_notifications_deadline"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_code: Mapped[str] = mapped_column(String(16), index=True)
    review_id: Mapped[int] = _review_fk()
    stage: Mapped[str] = mapped_column(String(32))
    due_on: Mapped[dt.date] = mapped_column(Date)
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    read_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    read_by: Mapped[str | None] = mapped_column(String(254))
    emailed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)  # migration 0018
