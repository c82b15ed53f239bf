"""Administrator page: the users of organisations in the administrator's scope, adding users,
(de)activating them, their sign-in limits (seen and cleared here), and the audit log of those
users' actions.

Sign-in limits (:mod:`matneo.auth.throttle`): an administrator sees the delays on their own
users' e-mail addresses; an administrator for England also sees delays on addresses that
belong to nobody and the limits on client addresses (they are not any one trust's).

Every change goes through :mod:`matneo.auth.users`, which writes it and its audit event in
one transaction. An administrator of a trust manages that trust's users; an administrator at
England level manages everyone.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from matneo.auth.access import ROLE_LABELS, Access
from matneo.auth.throttle import ACCOUNT, ACCOUNT_FREE_FAILURES, ACCOUNT_MAX_DELAY, ADDRESS, ThrottleView
from matneo.auth.users import (
    AUDIT_ACTIONS,
    AUDIT_DETAILS,
    AUDIT_TARGETS,
    ROLES,
    UserView,
    add_user,
    audit_trail,
    clear_sign_in_limit,
    get_user,
    list_users,
    set_active,
    sign_in_limits,
    unlock,
)
from matneo.dates import day_text, month_text
from matneo.harm.portal import CANDOUR_STEPS
from matneo.harm.report import ANSWER_LABELS
from matneo.harm.rules import ROUTE_TITLES
from matneo.measures.definitions import MEASURES_BY_ID
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


ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
SNAKE = re.compile(r"[a-z]+(_[a-z0-9]+)+")


def _detail_value(hierarchy: OrgHierarchy, key: str, value: Any) -> str:
    """One audit detail in words: organisations and routes by name, lists joined, roles by their label."""
    if isinstance(value, list):
        return ", ".join(_detail_value(hierarchy, key, v) for v in value) or "none"
    if isinstance(value, dict):  # a group of values, such as a setting's "before" and "after": each in words
        return (
            ", ".join(
                f"{AUDIT_DETAILS.get(k, k.replace('_', ' ')).lower()} {_detail_value(hierarchy, k, v)}"
                for k, v in value.items()
            )
            or "none"
        )
    if value is None:
        return NOTHING
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value)
    if key in ("org_code", "trust", "trust_code", "trusts", "trusts_outside_scope"):
        return _org_name(hierarchy, text)
    if key in ("routes", "route", "added", "no_longer_applies"):
        return ROUTE_TITLES.get(text, text)
    if key in ("requirement", "requirements"):  # "cnst_mis_y2:SA8" as "MIS year 2 Safety action 8"
        return _requirement_short(text)
    if key == "role":
        return ROLE_LABELS.get(text, text)
    if key == "framework":  # the framework a local requirement is listed under, by its short name
        from matneo.assurance.frameworks import frameworks

        return next((f.short for f in frameworks() if f.id == text), text)
    if key == "fields":
        return ANSWER_LABELS.get(text, text)
    if key == "step":
        return CANDOUR_STEPS.get(text, text)
    if key == "status":
        return STATUS_WORDS.get(text, text.replace("_", " "))
    if text in MEASURES_BY_ID:  # a measure named by its id (QI measures, signals)
        return MEASURES_BY_ID[text].title
    if ISO_DAY.fullmatch(text):  # a date as people read it; a period's month alone
        day = dt.date.fromisoformat(text)
        return month_text(day) if key == "period" else day_text(day)
    if SNAKE.fullmatch(text):  # a field, stage or area named by its key (no label of its own): as words
        return text.replace("_", " ")
    return text


def _requirement_short(key: str) -> str:
    from matneo.assurance.frameworks import LOCAL, frameworks, item

    if key.startswith(f"{LOCAL}:"):  # a trust's or LMNS's own requirement: named by its number
        return f"Local requirement {key.partition(':')[2]}"
    try:
        requirement = item(key)
    except KeyError:
        return "a requirement no longer listed"
    short = next(f.short for f in frameworks() if f.id == requirement.framework)
    return f"{short} {requirement.section}"


def _requirement_words(hierarchy: OrgHierarchy, target_id: str) -> str:
    """ "R0A/cnst_mis_y2:SA8" as "Assurance requirement MIS year 2 Safety action 8 (Manchester …)"."""
    from matneo.assurance.frameworks import LOCAL, frameworks, item

    trust, _, key = target_id.partition("/")
    if key.startswith(f"{LOCAL}:"):
        return f"Local assurance requirement {key.partition(':')[2]} ({_org_name(hierarchy, trust)})"
    try:
        requirement = item(key)
    except KeyError:
        return f"Assurance requirement of {_org_name(hierarchy, trust)}"
    short = next(f.short for f in frameworks() if f.id == requirement.framework)
    return f"Assurance requirement {short} {requirement.section} ({_org_name(hierarchy, trust)})"


def audit_row(event: dict[str, Any], hierarchy: OrgHierarchy, emails: dict[str, str]) -> dict[str, str]:
    """An audit event in words: when (UK time), who, what happened, to what, and the details."""
    action = event["action"]
    kind, target_id = event["target_type"], event["target_id"]
    if target_id in ("", "-"):
        target = NOTHING if kind == "user" else AUDIT_TARGETS.get(kind, NOTHING)
    elif kind == "user":
        target = emails.get(target_id, f"User {target_id}")
    elif kind == "trust":  # a decision about a trust: the trust by name
        target = _org_name(hierarchy, target_id)
    elif kind == "voice":  # the survey by its title
        from matneo.assurance.voice import layouts, theme_layouts

        known = {k: v.title for k, v in layouts().items()} | {k: v.title for k, v in theme_layouts().items()}
        target = f"Survey figures: {known[target_id]}" if target_id in known else "Survey figures"
    elif kind == "assurance":  # "TRUST/framework:item": the trust and the requirement by name
        target = _requirement_words(hierarchy, target_id)
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
    limits: list[ThrottleView]
    free_failures: int = ACCOUNT_FREE_FAILURES
    max_delay_minutes: int = int(ACCOUNT_MAX_DELAY.total_seconds() // 60)

    @property
    def limit_rows(self) -> list[dict[str, Any]]:
        """Each limit in words: what, whose, how many failed and refused, until when."""
        return [
            {
                "kind": limit.kind,
                "subject": limit.subject,
                "what": limit.kind_words,
                "failures": limit.failures,
                "refused": limit.refused,
                "last_failure": when(limit.last_failure_at),
                "until": when(limit.blocked_until),
            }
            for limit in self.limits
        ]

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
            "sign_in_limits": self.limit_rows,
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
        limits=visible_limits(access, sign_in_limits(url), {u.email for u in users}),
    )


def visible_limits(access: Access, limits: list[ThrottleView], emails: set[str]) -> list[ThrottleView]:
    """Limits on the administrator's own users; everything for an administrator for England."""
    if access.sees_everything:
        return limits
    return [limit for limit in limits if limit.kind == ACCOUNT and limit.subject in emails]


def clear_limit(services: Services, access: Access, kind: str, subject: str) -> str:
    """Clear one sign-in limit the administrator can see; the words to confirm it with."""
    access.require_admin()
    url = services.settings.database_url
    emails = {u.email for u in list_users(url) if access.in_scope(u.org_code)}
    allowed = access.sees_everything or (kind == ACCOUNT and subject in emails)
    if kind not in (ACCOUNT, ADDRESS) or not allowed:
        raise NotFound("There is no such sign-in limit in your organisation.")
    clear_sign_in_limit(url, kind, subject, actor=access.user.email)
    return f"cleared the sign-in limit on {subject}"


def create_user(services: Services, access: Access, email: str, role: str, org_code: str, password: str) -> UserView:
    access.require_admin()
    org_code = org_code.strip().upper()
    if not access.in_scope(org_code):
        raise ValueError(f"You can add users only to organisations in your scope; {org_code} is not one.")
    scope = None if access.sees_everything else set(access.scope)
    return add_user(services.settings.database_url, email, role, org_code, password, access.user.email, scope)


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
