"""Working a route: done (with the body's reference and date), not applicable (with a reason), or due again."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from matneo.auth.access import Access
from matneo.auth.users import audit
from matneo.config import Settings
from matneo.db.models import HarmRoute, utcnow
from matneo.db.session import transaction
from matneo.harm.portal.common import (
    ROUTE_STATUSES,
    CaseError,
    CaseNotFound,
    _change,
    _date,
    _editable_case,
    _reference,
    _route_state,
    _text,
)
from matneo.harm.report import FieldError
from matneo.harm.rules import ROUTE_TITLES


def update_route(
    settings: Settings,
    access: Access,
    case_id: int,
    route_id: str,
    status: str,
    *,
    reference: str | None = None,
    done_on: str | dt.date | None = None,
    reason: str | None = None,
    today: dt.date | None = None,
) -> dict[str, Any]:
    """Mark a route done (reference + date), not applicable (reason), or due again (reopen).

    Returns the route's new state. No change, no trail row.
    """
    day = today or dt.date.today()
    if status not in ROUTE_STATUSES:
        raise CaseError([FieldError("status", f"must be one of: {', '.join(ROUTE_STATUSES)}")])
    new: dict[str, Any]
    if status == "done":
        new = {
            "status": "done",
            "reference": _reference(reference),  # shown beyond the trust: a reference, never free text
            "done_on": _date(done_on, "done_on", day).isoformat(),
            "reason": None,
        }
    elif status == "not_applicable":
        new = {"status": status, "reference": None, "done_on": None, "reason": _text(reason, "reason", required=True)}
    else:
        new = {"status": "due", "reference": None, "done_on": None, "reason": None}
    actor = access.user.email
    with transaction(settings.database_url) as session:
        case = _editable_case(session, access, case_id)
        row = session.scalars(
            select(HarmRoute).where(HarmRoute.report_id == case.id, HarmRoute.route_id == route_id).with_for_update()
        ).first()
        if row is None:
            raise CaseNotFound(f"Harm report {case_id} has no route {route_id!r}.")
        before = _route_state(row)
        if before == new:
            return new
        row.status, row.reference, row.reason = new["status"], new["reference"], new["reason"]
        row.done_on = dt.date.fromisoformat(new["done_on"]) if new["done_on"] else None
        row.updated_by, row.updated_at = actor, utcnow()
        title = ROUTE_TITLES.get(route_id, route_id)
        sensitive = bool(before["reason"] or new["reason"])
        _change(session, case.id, actor, f"route.{status}", title, before, new, sensitive=sensitive)
        audit(session, actor, "harm.route_updated", "harm_report", str(case.id), route=route_id, status=status)
        return new
