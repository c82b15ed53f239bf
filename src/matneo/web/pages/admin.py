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
from matneo.auth.users import (
    AUDIT_ACTIONS,
    AUDIT_DETAILS,
    AUDIT_TARGETS,
    ROLES,
    UserView,
    add_user,
    audit_trail,
    get_user,
    list_users,
    set_active,
    unlock,
)
from matneo.harm.portal import CANDOUR_STEPS
from matneo.harm.report import ANSWER_LABELS
from matneo.harm.rules import ROUTE_TITLES
from matneo.reference.organisations import OrgHierarchy
from matneo.web.display import NOTHING, when
from matneo.web.pages.harm import STATUS_WORDS
from matneo.web.services import NotFound, Services

#: Who did it, when it was not a person.
SYSTEM_ACTORS = {"system": "MatNeo (automatic)", "(blank)": "(no e-mail given)"}


def _org_name(hierarchy: OrgHierarchy, code: str) -> str:
    try:
        return hierarchy.get(code).name
    except KeyError:
        return code


def _detail_value(hierarchy: OrgHierarchy, key: str, value: Any) -> str:
    """One audit detail in words: organisations and routes by name, lists joined, roles by their label."""
    if isinstance(value, list):
        return ", ".join(_detail_value(hierarchy, key, v) for v in value) or "none"
    if value is None:
        return NOTHING
    text = str(value)
    if key in ("org_code", "trust", "trust_code", "trusts_outside_scope"):
        return _org_name(hierarchy, text)
    if key in ("routes", "route", "added", "no_longer_applies"):
        return ROUTE_TITLES.get(text, text)
    if key == "role":
        return ROLE_LABELS.get(text, text)
    if key == "fields":
        return ANSWER_LABELS.get(text, text)
    if key == "step":
        return CANDOUR_STEPS.get(text, text)
    if key == "status":
        return STATUS_WORDS.get(text, text.replace("_", " "))
    return text


def audit_row(event: dict[str, Any], hierarchy: OrgHierarchy, emails: dict[str, str]) -> dict[str, str]:
    """An audit event in words: when (UK time), who, what happened, to what, and the details."""
    action = event["action"]
    kind, target_id = event["target_type"], event["target_id"]
    if target_id in ("", "-"):
        target = NOTHING if kind == "user" else AUDIT_TARGETS.get(kind, NOTHING)
    elif kind == "user":
        target = emails.get(target_id, f"User {target_id}")
    else:
        target = f"{AUDIT_TARGETS.get(kind, kind.replace('_', ' ').capitalize())} {target_id}"
    details = "; ".join(
        f"{AUDIT_DETAILS.get(key, key.replace('_', ' ').capitalize())}: {_detail_value(hierarchy, key, value)}"
        for key, value in event["details"].items()
    )
    return {
        "at": when(event["at"]),
        "actor": SYSTEM_ACTORS.get(event["actor"], event["actor"]),
        "what": AUDIT_ACTIONS.get(action, action.replace(".", ": ").replace("_", " ").capitalize()),
        "target": target,
        "details": details or NOTHING,
    }


@dataclass
class AdminPage:
    title: str
    scope_name: str
    users: list[UserView]
    audit: list[dict[str, Any]]
    older: int | None  # the event id to page back from, when there are older events
    roles: list[tuple[str, str]]
    organisations: list[tuple[str, str]]
    hierarchy: OrgHierarchy

    @property
    def user_rows(self) -> list[dict[str, Any]]:
        return [{**u.__dict__, "org_name": _org_name(self.hierarchy, u.org_code)} for u in self.users]

    @property
    def audit_rows(self) -> list[dict[str, str]]:
        emails = {str(u.id): u.email for u in self.users}
        return [audit_row(e, self.hierarchy, emails) for e in self.audit]

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "scope": self.scope_name,
            "users": [u.__dict__ for u in self.users],
            "audit": self.audit,
            "older": self.older,
        }


AUDIT_PAGE = 100


def build(services: Services, access: Access, before: int | None = None) -> AdminPage:
    """The users in scope and their audit events, newest first, a page at a time (``before`` pages back)."""
    access.require_admin()
    url = services.settings.database_url
    users = [u for u in list_users(url) if access.in_scope(u.org_code)]
    actors = None if access.sees_everything else {u.email for u in users}
    events = audit_trail(url, limit=AUDIT_PAGE + 1, actors=actors, before=before)
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
        audit=events[:AUDIT_PAGE],
        older=events[AUDIT_PAGE - 1]["id"] if len(events) > AUDIT_PAGE else None,
        roles=[(r, ROLE_LABELS[r]) for r in ROLES],
        organisations=orgs,
        hierarchy=services.hierarchy,
    )


def create_user(services: Services, access: Access, email: str, role: str, org_code: str, password: str) -> UserView:
    access.require_admin()
    org_code = org_code.strip().upper()
    if not access.in_scope(org_code):
        raise ValueError(f"You can add users only to organisations in your scope; {org_code} is not one.")
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
