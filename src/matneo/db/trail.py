"""What every per-record change trail shares: the trail row and the lock taken before a change.

Harm reports (:class:`~matneo.db.models.HarmChange`) and perinatal mortality reviews
(:class:`~matneo.reviews.models.ReviewChange`) each keep a trail of their own: who changed what,
when, with the values before and after. The rows have the same shape in different tables, so one
writer serves both; it keeps the before/after JSON identical (sorted keys, dates as text) so a
trail reads the same whichever workflow wrote it, and so two equal values compare equal as text.

Nothing here opens a transaction: the row is added to the caller's, so the change and its trail
commit together or not at all.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from matneo.db.models import utcnow

__all__ = ["TrailWriter", "locked", "locked_visible", "trail_json"]

T = TypeVar("T")


class _TrailRow(Protocol):
    """A trail table's constructor: the record's id column is named by the caller."""

    def __call__(self, **values: Any) -> Any: ...


def trail_json(value: Any) -> str | None:
    """A before/after value as stored: ``None`` stays ``None``; otherwise JSON with sorted keys.

    Sorted keys make the text stable, so an unchanged value never shows as a change; ``str`` for
    anything JSON cannot hold (dates) writes them as ISO text, as the trail pages read them.
    """
    return None if value is None else json.dumps(value, sort_keys=True, default=str)


@dataclass(frozen=True)
class TrailWriter:
    """Writes rows of one trail table, ``model``, whose record id column ``key`` names (the harm
    report's ``report_id``, the review's ``review_id``), in the caller's transaction."""

    model: _TrailRow
    key: str

    def __call__(
        self,
        session: Session,
        record_id: int,
        actor: str,
        action: str,
        what: str,
        before: Any = None,
        after: Any = None,
        *,
        sensitive: bool = False,
    ) -> None:
        session.add(
            self.model(
                **{self.key: record_id},
                at=utcnow(),
                actor=actor,
                action=action,
                what=what,
                before=trail_json(before),
                after=trail_json(after),
                sensitive=sensitive,
            )
        )


def locked(session: Session, model: type[T], record_id: int) -> T | None:
    """The row with this id, locked for update and read fresh (``None`` when there is none).

    The lock comes before any scope or status check, so two changes to one record wait for each
    other and each checks the state the other left (``populate_existing`` drops any copy the
    session already held). SQLite ignores ``FOR UPDATE``; its writes are serialised anyway.
    """
    column = model.id  # type: ignore[attr-defined]
    return session.scalars(
        select(model).where(column == record_id).with_for_update().execution_options(populate_existing=True)
    ).first()


def locked_visible(
    session: Session, model: type[T], record_id: int, visible: Callable[[T], bool], missing: Exception
) -> T:
    """The row locked as :func:`locked`, or ``missing`` raised when there is none or ``visible`` says no.

    One answer for "no such row" and "not yours to see", so an id tells a stranger nothing; the
    caller then checks what only a visible row may be refused for (may this user change it, is it
    still open), in that order.
    """
    row = locked(session, model, record_id)
    if row is None or not visible(row):
        raise missing
    return row
