"""A trust's own wording for a packaged requirement whose wording needs local confirmation.

Why: issue 14 asks that anything not confirmed in a primary source be marked "needs local
confirmation" *and be editable*. The packaged titles of such items deliberately name their subject
only (``data/frameworks.json``); a trust that holds the year's guidance records the wording it
works to, and its pages show that wording with the packaged one still visible beside it, so a
reader can always tell the trust's text from MatNeo's. Only items flagged
``needs_local_confirmation`` can be reworded: a confirmed item carries its source's own words.

Writes follow the tracker's rule (:func:`matneo.assurance.tracker.update`): only the trust's own
staff, values checked as stored, the row, a history entry (``assurance_changes``, field
``wording``) and the audit event in one transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from sqlalchemy import select

from matneo.assurance.frameworks import item
from matneo.assurance.tracker import FieldProblem
from matneo.auth.users import audit
from matneo.db.models import AssuranceChange, AssuranceWording
from matneo.db.session import transaction

__all__ = ["MAX_WORDING", "NOTE", "record", "wordings"]

MAX_WORDING = 1000
#: Shown wherever a trust's wording replaces the packaged one.
NOTE = "wording recorded by the trust; packaged wording needs local confirmation"


def wordings(url: str, trusts: Collection[str]) -> dict[tuple[str, str], str]:
    """(trust, requirement key) → the trust's recorded wording, for the trusts asked about."""
    with transaction(url) as session:
        rows = session.scalars(select(AssuranceWording).where(AssuranceWording.trust_code.in_(list(trusts))))
        return {(r.trust_code, r.item_key): r.title for r in rows}


def record(url: str, trust: str, key: str, wording: str, *, actor: str, actor_org: str) -> str | None:
    """Store the trust's wording for one requirement (empty clears it); the wording now held.

    PermissionError for anyone outside the trust, KeyError for an unknown requirement and
    :class:`FieldProblem` (field ``wording``) for a confirmed requirement or text too long.
    A change that changes nothing writes nothing.
    """
    if actor_org != trust:
        raise PermissionError("Only the trust's own staff can change its assurance.")
    if key.startswith("local:"):
        raise FieldProblem("wording", "A local requirement's wording is changed on the local requirements page.")
    requirement = item(key)
    if not requirement.needs_local_confirmation:
        raise FieldProblem("wording", "This requirement's wording is confirmed from its source and cannot be changed.")
    text = " ".join(str(wording).split()) or None
    if text is not None and len(text) > MAX_WORDING:
        raise FieldProblem("wording", f"Keep the wording to {MAX_WORDING} characters or fewer.")
    with transaction(url) as session:
        row = session.scalars(
            select(AssuranceWording).where(AssuranceWording.trust_code == trust, AssuranceWording.item_key == key)
        ).first()
        before = row.title if row is not None else None
        if before == text:
            return text
        if text is None:
            session.delete(row)
        elif row is None:
            session.add(AssuranceWording(trust_code=trust, item_key=key, title=text, recorded_by=actor))
        else:
            row.title = text
            row.recorded_by = actor
            row.recorded_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        session.add(
            AssuranceChange(trust_code=trust, item_key=key, actor=actor, field="wording", before=before, after=text)
        )
        audit(session, actor, "assurance.wording", "assurance", f"{trust}/{key}", cleared=text is None)
        return text
