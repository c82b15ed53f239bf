"""Tables of the QI workspace's second part (migration 0019): progress score history and links
from projects to perinatal mortality review actions.

Kept here rather than in :mod:`matneo.db.models` because the link table refers to
``review_actions``, which :mod:`matneo.reviews.models` owns: importing it here makes sure the
foreign key resolves whenever these tables are used.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from matneo.db.models import Base, utcnow
from matneo.reviews import models as _review_models  # noqa: F401  (review_actions joins the metadata)

__all__ = ["QiProgressChange", "QiReviewActionLink"]


class QiProgressChange(Base):
    """One setting of a project's progress score: the score (None: cleared), who set it and when.

    The project row keeps only the latest score; this history is what the MatNeoSIP
    stage-per-quarter grid reads (the score a project held at the end of each quarter). It is
    written in the same transaction as the score and its audit event.
    """

    __tablename__ = "qi_progress_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("qi_projects.id", ondelete="CASCADE"), index=True)
    score: Mapped[float | None] = mapped_column()
    set_by: Mapped[str] = mapped_column(String(254))
    set_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class QiReviewActionLink(Base):
    """A project linked to an action from a perinatal mortality review of the same trust."""

    __tablename__ = "qi_review_action_links"

    project_id: Mapped[int] = mapped_column(ForeignKey("qi_projects.id", ondelete="CASCADE"), primary_key=True)
    action_id: Mapped[int] = mapped_column(
        ForeignKey("review_actions.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_by: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
