"""Each trust's position on every assurance requirement: status, owner, due date, sign-off, history.

Writes go through :func:`update`, which checks the values that will be stored (a known
requirement, a known status, a reason for "not applicable", a named role for a sign-off, a trust
the user belongs to), then writes the row, one history entry per changed field and the audit
event in one transaction. Reads return plain views with their RAG (:func:`matneo.assurance.rag.rag`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from matneo.assurance.catalogue import Catalogue, catalogue
from matneo.assurance.frameworks import Item
from matneo.assurance.rag import STATUSES, Rag, rag
from matneo.auth.users import audit
from matneo.db.models import AssuranceChange, AssuranceStatus
from matneo.db.session import transaction

__all__ = ["SIGN_OFF_ROLES", "FieldProblem", "StatusView", "history", "requirement_of", "statuses", "update"]

#: Roles that sign requirements off, as the frameworks name them (e.g. MIS's board-level safety
#: champion and director of midwifery). Which role must sign which requirement needs local
#: confirmation against the year's guidance; the page offers these and records the one chosen.
SIGN_OFF_ROLES = (
    "Board-level safety champion",
    "Director of midwifery",
    "Clinical director for obstetrics",
    "Clinical director for neonatology",
    "Chief executive",
)
FIELDS = ("status", "owner", "due", "reason", "comment", "signed_off_by", "signed_off_role", "signed_off_on")
MAX_TEXT = 2000


class FieldProblem(ValueError):
    """A value that cannot be stored; ``field`` names the form field, the message says why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class StatusView:
    trust_code: str
    item: Item
    status: str
    owner: str | None
    due: dt.date | None
    reason: str | None
    comment: str | None
    signed_off_by: str | None
    signed_off_role: str | None
    signed_off_on: dt.date | None
    updated_by: str | None
    updated_at: dt.datetime | None
    rag: Rag

    @property
    def status_label(self) -> str:
        return STATUSES[self.status]


def _view(trust: str, requirement: Item, row: AssuranceStatus | None, today: dt.date) -> StatusView:
    """The view of one status; a local requirement's own due date stands until the trust records one."""
    if row is None:
        return StatusView(trust, requirement, "not_started", None, requirement.due, None, None, None, None, None,
                          None, None, rag("not_started", requirement.due, False, today))  # fmt: skip
    due = row.due or requirement.due
    return StatusView(
        trust,
        requirement,
        row.status,
        row.owner,
        due,
        row.reason,
        row.comment,
        row.signed_off_by,
        row.signed_off_role,
        row.signed_off_on,
        row.updated_by,
        row.updated_at,
        rag(row.status, due, row.signed_off_on is not None, today),
    )


def statuses(
    url: str, trusts: Collection[str], today: dt.date, requirements: Catalogue | None = None
) -> dict[tuple[str, str], StatusView]:
    """Every (trust, requirement key) → its status, "not started" where nothing is recorded: every
    listed requirement the trust works to, packaged or local (``requirements``: the catalogue of
    ``trusts``, if the caller has it already)."""
    known = requirements or catalogue(url, trusts)
    with transaction(url) as session:
        rows = {
            (r.trust_code, r.item_key): r
            for r in session.scalars(select(AssuranceStatus).where(AssuranceStatus.trust_code.in_(list(trusts))))
        }
        return {
            (trust, i.key): _view(trust, i, rows.get((trust, i.key)), today)
            for trust in trusts
            for i in known.items()
            if known.applies(trust, i)
        }


def _text(values: Mapping[str, Any], name: str) -> str | None:
    value = values.get(name)
    if value is None:
        return None
    text = str(value).strip()
    if len(text) > MAX_TEXT:
        raise FieldProblem(name, f"Keep this to {MAX_TEXT} characters or fewer.")
    return text or None


def _date(values: Mapping[str, Any], name: str) -> dt.date | None:
    value = values.get(name)
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise FieldProblem(name, "Enter a real date, for example 2026-03-31.") from None


def clean(values: Mapping[str, Any], today: dt.date) -> dict[str, Any]:
    """The values to store, checked; :class:`FieldProblem` for the first that cannot be."""
    status = str(values.get("status") or "not_started")
    if status not in STATUSES:
        raise FieldProblem("status", "Choose a status from the list.")
    cleaned: dict[str, Any] = {
        "status": status,
        "owner": _text(values, "owner"),
        "due": _date(values, "due"),
        "reason": _text(values, "reason"),
        "comment": _text(values, "comment"),
        "signed_off_role": _text(values, "signed_off_role"),
        "signed_off_on": _date(values, "signed_off_on"),
    }
    if status == "not_applicable" and not cleaned["reason"]:
        raise FieldProblem("reason", "Say why this requirement does not apply.")
    if cleaned["signed_off_on"] is not None:
        if status != "met":
            raise FieldProblem("signed_off_on", "Only a requirement that is met can be signed off.")
        if cleaned["signed_off_role"] not in SIGN_OFF_ROLES:
            raise FieldProblem("signed_off_role", "Choose the role of the person signing it off.")
        if cleaned["signed_off_on"] > today:
            raise FieldProblem("signed_off_on", "A sign-off date cannot be in the future.")
    elif cleaned["signed_off_role"] is not None:
        raise FieldProblem("signed_off_on", "Enter the date it was signed off.")
    return cleaned


def update(
    url: str, trust: str, key: str, values: Mapping[str, Any], *, actor: str, actor_org: str, today: dt.date
) -> StatusView:
    """Record a trust's position on one requirement (only the trust's own staff may).

    Raises PermissionError for anyone outside the trust, KeyError for an unknown requirement and
    :class:`FieldProblem` for a value that cannot be stored. Nothing is written unless all is well;
    a change that changes nothing writes nothing.
    """
    if actor_org != trust:
        raise PermissionError("Only the trust's own staff can change its assurance.")
    requirement = requirement_of(url, trust, key)
    if requirement.retired:
        raise FieldProblem("status", "This requirement has been retired: its record is kept but can no longer change.")
    cleaned = clean(values, today)
    with transaction(url) as session:
        row = session.scalars(
            select(AssuranceStatus).where(AssuranceStatus.trust_code == trust, AssuranceStatus.item_key == key)
        ).first()
        before = {f: (getattr(row, f) if row is not None else None) for f in FIELDS}
        if row is None:
            before["status"] = "not_started"
        cleaned["signed_off_by"] = actor if cleaned["signed_off_on"] is not None else None
        if cleaned["signed_off_on"] is not None and before["signed_off_on"] == cleaned["signed_off_on"]:
            cleaned["signed_off_by"] = before["signed_off_by"]  # an unchanged sign-off keeps its signer
        changed = {f: (before[f], cleaned[f]) for f in FIELDS if before[f] != cleaned[f]}
        if not changed:
            return _view(trust, requirement, row, today)
        if row is None:
            row = AssuranceStatus(trust_code=trust, item_key=key, updated_by=actor)
            session.add(row)
        for name, (_, after) in changed.items():
            setattr(row, name, after)
            session.add(
                AssuranceChange(
                    trust_code=trust,
                    item_key=key,
                    actor=actor,
                    field=name,
                    before=None if before[name] is None else str(before[name]),
                    after=None if after is None else str(after),
                )
            )
        row.updated_by = actor
        row.updated_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        audit(session, actor, "assurance.update", "assurance", f"{trust}/{key}", fields=sorted(changed))
        session.flush()
        return _view(trust, requirement, row, today)


def requirement_of(url: str, trust: str, key: str) -> Item:
    """The requirement ``key`` as ``trust`` works to it; KeyError for an unknown key, or another
    area's local requirement (one trust never learns of another's)."""
    known = catalogue(url, [trust])
    requirement = known.item(key)
    if not known.applies(trust, requirement):
        raise KeyError(f"no assurance requirement {key!r}")
    return requirement


def history(url: str, trust: str, key: str, owner: str | None = None) -> list[dict[str, Any]]:
    """The requirement's changes, newest first: when, who, which field, from what, to what
    (``owner``: also the changes to a local requirement's definition by the organisation that keeps it)."""
    with transaction(url) as session:
        rows = session.scalars(
            select(AssuranceChange)
            .where(AssuranceChange.trust_code.in_([trust, owner or trust]), AssuranceChange.item_key == key)
            .order_by(AssuranceChange.id.desc())
        )
        return [{"at": r.at, "actor": r.actor, "field": r.field, "before": r.before, "after": r.after} for r in rows]
