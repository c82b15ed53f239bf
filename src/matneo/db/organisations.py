"""Keep the app store's organisations table in step with the reference hierarchy.

Users and (later) harm reports point at organisations by code, so the table must hold
every code the reference data knows. Organisations that leave the reference (a merger, a
replaced extract) are marked inactive rather than deleted, so history still resolves.
"""

from __future__ import annotations

from sqlalchemy import select

from matneo.db.models import Organisation
from matneo.db.session import transaction
from matneo.reference.organisations import OrgHierarchy


def sync_organisations(url: str, hierarchy: OrgHierarchy) -> int:
    """Insert or update every organisation; deactivate the rest. Returns how many changed."""
    changed = 0
    with transaction(url) as session:
        existing = {org.code: org for org in session.scalars(select(Organisation))}
        for org in hierarchy.organisations.values():
            row = existing.pop(org.code, None)
            values = {"name": org.name, "level": org.level, "parent_code": org.parent_code, "active": True}
            if row is None:
                session.add(Organisation(code=org.code, **values))
                changed += 1
            elif any(getattr(row, key) != value for key, value in values.items()):
                for key, value in values.items():
                    setattr(row, key, value)
                changed += 1
        for row in existing.values():
            if row.active:
                row.active = False
                changed += 1
    return changed
