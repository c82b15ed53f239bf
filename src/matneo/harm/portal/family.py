"""The family: contacts with them, and the Duty of Candour steps (CQC regulation 20)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from matneo.auth.access import Access
from matneo.auth.users import audit
from matneo.config import Settings
from matneo.db.models import HarmCandourStep, HarmFamilyContact, utcnow
from matneo.db.session import transaction
from matneo.harm.portal.common import CANDOUR_STEPS, CONTACT_METHODS, CaseError, _change, _date, _editable_case, _text
from matneo.harm.report import FieldError


def add_family_contact(
    settings: Settings,
    access: Access,
    case_id: int,
    *,
    contacted_on: str | dt.date | None,
    by: str,
    method: str,
    summary: str,
    today: dt.date | None = None,
) -> int:
    """Log a contact with the family; returns its id."""
    day = today or dt.date.today()
    when = _date(contacted_on, "contacted_on", day)
    if method not in CONTACT_METHODS:
        raise CaseError([FieldError("method", f"must be one of: {', '.join(CONTACT_METHODS)}")])
    who = _text(by, "by", required=True, limit=254)
    text = _text(summary, "summary", required=True)
    actor = access.user.email
    with transaction(settings.database_url) as session:
        case = _editable_case(session, access, case_id)
        row = HarmFamilyContact(
            report_id=case.id, contacted_on=when, by=who, method=method, summary=text, recorded_by=actor
        )
        session.add(row)
        session.flush()
        after = {"on": when.isoformat(), "by": who, "method": method, "summary": text}
        _change(session, case.id, actor, "family_contact.added", "Family contact", None, after, sensitive=True)
        audit(session, actor, "harm.family_contact", "harm_report", str(case.id), contact=row.id)
        return row.id


def record_candour_step(
    settings: Settings,
    access: Access,
    case_id: int,
    step: str,
    *,
    done_on: str | dt.date | None,
    by: str,
    note: str = "",
    today: dt.date | None = None,
) -> None:
    """Record (or correct) a Duty of Candour step (regulation 20: verbal, written, findings)."""
    day = today or dt.date.today()
    if step not in CANDOUR_STEPS:
        raise CaseError([FieldError("step", f"must be one of: {', '.join(CANDOUR_STEPS)}")])
    when = _date(done_on, "done_on", day)
    who = _text(by, "by", required=True, limit=254)
    text = _text(note, "note", required=False)
    actor = access.user.email
    with transaction(settings.database_url) as session:
        case = _editable_case(session, access, case_id)
        row = session.scalars(
            select(HarmCandourStep).where(HarmCandourStep.report_id == case.id, HarmCandourStep.step == step)
        ).first()
        new = {"done_on": when.isoformat(), "by": who, "note": text}
        before = None if row is None else {"done_on": row.done_on.isoformat(), "by": row.by, "note": row.note}
        if before == new:
            return
        if row is None:
            row = HarmCandourStep(report_id=case.id, step=step)
            session.add(row)
        row.done_on, row.by, row.note, row.recorded_at = when, who, text, utcnow()
        _change(session, case.id, actor, "candour.recorded", CANDOUR_STEPS[step], before, new, sensitive=True)
        audit(session, actor, "harm.candour_step", "harm_report", str(case.id), step=step)
