"""Overdue routes: one in-app notification per missed deadline, and marking notifications read."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from matneo.auth.access import Access
from matneo.auth.users import audit
from matneo.dates import day_text
from matneo.db.models import HarmCase, HarmNotification, HarmRoute, utcnow
from matneo.db.session import transaction
from matneo.harm.rules import ROUTE_TITLES


def overdue_check(url: str, today: dt.date | None = None) -> int:
    """Notify each owning trust once per route and deadline that is past and not done.

    Run daily (any number of times: a route gets one notification per missed deadline, enforced
    by a unique key; a route reopened or re-dated that goes overdue again is notified again).
    Messages name the case number and route only, never the patient. Returns how many were made.
    """
    day = today or dt.date.today()
    for _attempt in range(3):
        try:
            with transaction(url) as session:
                due = session.execute(
                    select(HarmRoute.report_id, HarmRoute.route_id, HarmRoute.next_due, HarmCase.trust_code)
                    .join(HarmCase, HarmCase.id == HarmRoute.report_id)
                    .where(HarmCase.status == "submitted", HarmRoute.status == "due", HarmRoute.next_due < day)
                ).all()
                done = set(
                    session.execute(
                        select(HarmNotification.report_id, HarmNotification.route_id, HarmNotification.due_on).where(
                            HarmNotification.kind == "overdue"
                        )
                    ).all()
                )
                made = 0
                for report_id, route_id, next_due, trust in due:
                    if next_due is None or (report_id, route_id, next_due) in done:  # None: never, by the query
                        continue
                    title = ROUTE_TITLES.get(route_id, route_id)
                    session.add(
                        HarmNotification(
                            org_code=trust,
                            report_id=report_id,
                            route_id=route_id,
                            kind="overdue",
                            due_on=next_due,
                            message=f"Harm report {report_id}: {title} was due by {day_text(next_due)} "
                            "and is not done.",
                            created_at=utcnow(),
                        )
                    )
                    made += 1
                if made:
                    audit(session, "system", "harm.overdue_check", "harm_notifications", "-", created=made)
                return made
        except IntegrityError:  # another check ran at the same moment: look again
            continue
    return 0


def mark_notifications_read(url: str, access: Access, ids: list[int] | None = None) -> int:
    """Mark the user's organisation's notifications read (all, or ``ids``); returns how many."""
    with transaction(url) as session:
        query = select(HarmNotification).where(
            HarmNotification.org_code == access.user.org_code, HarmNotification.read_at.is_(None)
        )
        if ids is not None:
            query = query.where(HarmNotification.id.in_(ids))
        rows = list(session.scalars(query))
        now = utcnow()
        for row in rows:
            row.read_at, row.read_by = now, access.user.email
        return len(rows)
