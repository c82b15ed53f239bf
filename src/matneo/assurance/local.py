"""Requirements a trust or an LMNS adds to the national frameworks: add, change, retire, reinstate.

Issue 14 asks that "a trust or LMNS can add local items": a trust's own board may require
something the frameworks do not (a local audit, an action from its own investigation), and an
LMNS may ask all its trusts for the same thing. Each is stored once (``local_requirements``)
and keyed ``local:<id>``; :mod:`matneo.assurance.catalogue` merges it with the packaged items, so
the tracker, evidence, the LMNS matrix and the board pack treat it as any other requirement.

Writes follow the tracker's rule: the organisation is checked on the values that will be stored
(only its own staff, and only a trust or an LMNS, may add or change its list; another
organisation's item is not found), then the row, one history entry per changed field
(``assurance_changes`` under the owning organisation's code) and the audit event are written in
one transaction. An item is never deleted: statuses, evidence and board packs may refer to it,
so it is *retired* (no longer listed, still readable by key) and can be reinstated.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from matneo.assurance.catalogue import local_item
from matneo.assurance.frameworks import Item, frameworks
from matneo.assurance.tracker import FieldProblem
from matneo.auth.users import audit
from matneo.db.models import AssuranceChange, LocalRequirement, Organisation, utcnow
from matneo.db.session import transaction

__all__ = [
    "DEFINITION_FIELDS",
    "FIELDS",
    "HISTORY_NAMES",
    "LEVELS",
    "add",
    "change",
    "clean",
    "kept_by",
    "reinstate",
    "retire",
]

#: Who keeps local requirements: a trust for itself, an LMNS for every trust in it.
LEVELS = ("trust", "lmns")
FIELDS = ("title", "description", "framework", "source", "due")
#: How each field is named in the history (``assurance_changes``), apart from the trust's own status
#: fields it shares that table with (a trust's own due date is "due"; the requirement's is "default_due").
HISTORY_NAMES = {"title": "title", "description": "description", "framework": "listed_under", "source": "source",
                 "due": "default_due"}  # fmt: skip
DEFINITION_FIELDS = frozenset({"added", "retired", *HISTORY_NAMES.values()})
MAX_TITLE = 300
MAX_TEXT = 2000


def _text(values: Mapping[str, Any], name: str, limit: int = MAX_TEXT) -> str | None:
    text = " ".join(str(values.get(name) or "").split()) if name == "title" else str(values.get(name) or "").strip()
    if len(text) > limit:
        raise FieldProblem(name, f"Keep this to {limit} characters or fewer.")
    return text or None


def clean(values: Mapping[str, Any]) -> dict[str, Any]:
    """The requirement's fields to store, checked; :class:`FieldProblem` naming the first that cannot be."""
    title = _text(values, "title", MAX_TITLE)
    if not title:
        raise FieldProblem("title", "Enter the requirement.")
    framework = str(values.get("framework") or "").strip() or None
    if framework is not None and framework not in {fw.id for fw in frameworks()}:
        raise FieldProblem("framework", "Choose a framework from the list, or Local requirements.")
    due: dt.date | None = None
    raw = str(values.get("due") or "").strip()
    if raw:
        try:
            due = dt.date.fromisoformat(raw)
        except ValueError:
            raise FieldProblem("due", "Enter a real date, for example 2026-03-31.") from None
    return {"title": title, "description": _text(values, "description"), "framework": framework,
            "source": _text(values, "source"), "due": due}  # fmt: skip


def _keeper(session: Any, org: str, actor_org: str) -> None:
    if actor_org != org:
        raise PermissionError("Only the organisation's own staff can change its local requirements.")
    found = session.get(Organisation, org)
    if found is None or found.level not in LEVELS:
        raise PermissionError("Local requirements are kept by a trust or an LMNS.")


def _row(session: Any, org: str, local_id: int) -> LocalRequirement:
    row = session.get(LocalRequirement, local_id)
    if row is None or row.org_code != org:
        raise LookupError(f"There is no local requirement {local_id} of this organisation.")
    return row


def _trail(session: Any, org: str, key: str, actor: str, name: str, before: Any, after: Any) -> None:
    session.add(AssuranceChange(trust_code=org, item_key=key, actor=actor, field=name,
                                before=None if before is None else str(before),
                                after=None if after is None else str(after)))  # fmt: skip


def kept_by(url: str, org: str) -> list[Item]:
    """Every requirement ``org`` added, retired ones too, oldest first (for the page that keeps them)."""
    with transaction(url) as session:
        rows = session.scalars(
            select(LocalRequirement).where(LocalRequirement.org_code == org).order_by(LocalRequirement.id)
        )
        return [local_item(r) for r in rows]


def add(url: str, org: str, values: Mapping[str, Any], *, actor: str, actor_org: str) -> Item:
    """Add a requirement to ``org``'s list (its own staff, a trust or LMNS); the new item."""
    cleaned = clean(values)
    with transaction(url) as session:
        _keeper(session, org, actor_org)
        row = LocalRequirement(org_code=org, created_by=actor, created_at=utcnow(), **cleaned)
        session.add(row)
        session.flush()
        added = local_item(row)
        _trail(session, org, added.key, actor, "added", None, cleaned["title"])
        under = cleaned["framework"]
        audit(session, actor, "assurance.local_added", "assurance", f"{org}/{added.key}", framework=under)
        return added


def change(url: str, org: str, local_id: int, values: Mapping[str, Any], *, actor: str, actor_org: str) -> Item:
    """Change a requirement of ``org``'s list; a change that changes nothing writes nothing."""
    cleaned = clean(values)
    with transaction(url) as session:
        _keeper(session, org, actor_org)
        row = _row(session, org, local_id)
        if row.retired_at is not None:
            raise FieldProblem("title", "This requirement is retired: reinstate it before changing it.")
        key = local_item(row).key
        changed = [name for name in FIELDS if getattr(row, name) != cleaned[name]]
        for name in changed:
            _trail(session, org, key, actor, HISTORY_NAMES[name], getattr(row, name), cleaned[name])
            setattr(row, name, cleaned[name])
        if changed:
            audit(session, actor, "assurance.local_changed", "assurance", f"{org}/{key}", fields=changed)
        session.flush()
        return local_item(row)


def retire(url: str, org: str, local_id: int, reason: str, *, actor: str, actor_org: str) -> Item:
    """Stop listing a requirement (kept with its statuses, evidence and history); a reason is required."""
    why = " ".join(str(reason or "").split())
    if not why:
        raise FieldProblem("reason", "Say why the requirement is retired.")
    if len(why) > MAX_TEXT:
        raise FieldProblem("reason", f"Keep this to {MAX_TEXT} characters or fewer.")
    with transaction(url) as session:
        _keeper(session, org, actor_org)
        row = _row(session, org, local_id)
        key = local_item(row).key
        if row.retired_at is not None:
            return local_item(row)
        row.retired_at, row.retired_by, row.retired_reason = utcnow(), actor, why
        _trail(session, org, key, actor, "retired", None, why)
        audit(session, actor, "assurance.local_retired", "assurance", f"{org}/{key}", reason=why)
        session.flush()
        return local_item(row)


def reinstate(url: str, org: str, local_id: int, *, actor: str, actor_org: str) -> Item:
    """List a retired requirement again, with everything recorded against it."""
    with transaction(url) as session:
        _keeper(session, org, actor_org)
        row = _row(session, org, local_id)
        key = local_item(row).key
        if row.retired_at is None:
            return local_item(row)
        _trail(session, org, key, actor, "retired", row.retired_reason, None)
        row.retired_at, row.retired_by, row.retired_reason = None, None, None
        audit(session, actor, "assurance.local_reinstated", "assurance", f"{org}/{key}")
        session.flush()
        return local_item(row)
