"""Administrator page: the users of organisations in the administrator's scope, adding users,
unlocking and (de)activating them, and the audit log of those users' actions.

Every change goes through :mod:`matneo.auth.users`, which writes it and its audit event in
one transaction. An administrator of a trust manages that trust's users; an administrator at
England level manages everyone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from matneo.auth.access import ROLE_LABELS, Access
from matneo.auth.users import ROLES, UserView, add_user, audit_trail, get_user, list_users, set_active, unlock
from matneo.web.services import NotFound, Services


@dataclass
class AdminPage:
    title: str
    scope_name: str
    users: list[UserView]
    audit: list[dict[str, Any]]
    roles: list[tuple[str, str]]
    organisations: list[tuple[str, str]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "scope": self.scope_name,
            "users": [u.__dict__ for u in self.users],
            "audit": self.audit,
        }


def build(services: Services, access: Access) -> AdminPage:
    access.require_admin()
    url = services.settings.database_url
    users = [u for u in list_users(url) if access.in_scope(u.org_code)]
    emails = {u.email for u in users}
    events = audit_trail(url, limit=500)
    if not access.sees_everything:
        events = [e for e in events if e["actor"] in emails]
    orgs = sorted(
        (
            (code, f"{org.name} ({code})")
            for code, org in services.hierarchy.organisations.items()
            if code in access.scope
        ),
        key=lambda pair: pair[1],
    )
    return AdminPage(
        title="Users and audit log",
        scope_name=access.org_name,
        users=users,
        audit=events[:100],
        roles=[(r, ROLE_LABELS[r]) for r in ROLES],
        organisations=orgs,
    )


def create_user(services: Services, access: Access, email: str, role: str, org_code: str, password: str) -> UserView:
    access.require_admin()
    org_code = org_code.strip().upper()
    if not access.in_scope(org_code):
        raise ValueError(f"You can add users only to organisations in your scope; {org_code!r} is not one.")
    return add_user(services.settings.database_url, email, role, org_code, password, actor=access.user.email)


def change_user(services: Services, access: Access, user_id: int, action: str) -> UserView:
    """``action`` is unlock, deactivate or activate; only for users in the administrator's scope."""
    access.require_admin()
    url = services.settings.database_url
    user = get_user(url, user_id)
    if user is None or not access.in_scope(user.org_code):
        raise NotFound(f"There is no user {user_id} in your organisation.")
    if user.id == access.user.user_id and action == "deactivate":
        raise ValueError("You cannot deactivate your own account.")
    if action == "unlock":
        unlock(url, user_id, access.user.email)
    elif action in ("activate", "deactivate"):
        set_active(url, user_id, action == "activate", access.user.email)
    else:
        raise NotFound(f"Unknown action {action!r}.")
    return get_user(url, user_id)  # type: ignore[return-value]
