"""User administration: each change and its audit event written in one transaction."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from matneo.addresses import check_address
from matneo.auth.passwords import hash_password
from matneo.db.models import AuditEvent, Organisation, User, utcnow
from matneo.db.session import transaction

ROLES: dict[str, str] = {
    "national_analyst": "england",
    "regional_lead": "region",
    "lmns_lead": "lmns",
    "trust_staff": "trust",
    "administrator": "",
}
"""Role → the organisation level its holder must belong to (administrators: any level)."""


@dataclass(frozen=True)
class UserView:
    id: int
    email: str
    role: str
    org_code: str
    active: bool


#: Every audit action, as the audit log page says it (a test checks each ``audit(...)`` call has one).
AUDIT_ACTIONS: dict[str, str] = {
    "sign_in": "Signed in",
    "sign_in.failed": "Sign-in failed",
    "sign_out": "Signed out",
    "user.add": "Added a user",
    "user.activate": "Reactivated a user",
    "user.deactivate": "Deactivated a user",
    "user.unlock": "Cleared a user's sign-in delay",
    "sign_in.limit_cleared": "Cleared a sign-in limit",
    "records.upload": "Uploaded a file of birth records",
    "records.upload_failed": "A file of birth records could not be loaded",
    "records.upload_refused": "Refused a file with records of trusts outside the user's organisation",
    "records.load": "Loaded birth records",
    "records.load_reverted": "Reverted a load of birth records",
    "records.load_refused": "Refused a load with records of trusts outside the user's organisation",
    "signal.acknowledge": "Acknowledged a signal",
    "harm.draft_saved": "Saved a draft harm report",
    "harm.submitted": "Submitted a harm report",
    "harm.amended": "Amended a harm report and routed it again",
    "harm.route_updated": "Updated a route of a harm report",
    "harm.family_contact": "Logged a contact with the family",
    "harm.candour_step": "Recorded a Duty of Candour step",
    "harm.attachment": "Added an attachment to a harm report",
    "harm.overdue_check": "Checked harm reports for missed deadlines",
    "harm.notifications_emailed": "E-mailed harm notifications",
    "board_pack.archive": "Produced and archived a board pack",
    "qi.collaborative_created": "Set up an improvement collaborative",
    "qi.wave_added": "Added a wave to a collaborative",
    "qi.member_added": "Added a member trust to a collaborative",
    "qi.project_created": "Started an improvement project",
    "qi.project_updated": "Updated an improvement project",
    "qi.team_member_added": "Added a member to a project team",
    "qi.driver_added": "Added a driver to a driver diagram",
    "qi.driver_removed": "Removed a driver from a driver diagram",
    "qi.change_idea_added": "Added a change idea",
    "qi.change_idea_linked": "Linked a change idea to a project",
    "qi.measure_added": "Added a measure to a project",
    "qi.measure_updated": "Changed a project measure's settings",
    "qi.value_added": "Entered a value of a custom measure",
    "qi.value_deleted": "Deleted a value of a custom measure",
    "qi.values_imported": "Imported values of a custom measure",
    "qi.annotation_added": "Added a note to a project's chart",
    "qi.progress_set": "Set a project's progress score",
    "qi.project_joined": "Added an improvement project to a collaborative",
    "qi.review_action_linked": "Linked an improvement project to a review action",
    "qi.review_action_unlinked": "Unlinked an improvement project from a review action",
    "assurance.update": "Updated an assurance requirement",
    "assurance.wording": "Recorded the trust's wording for an assurance requirement",
    "assurance.evidence_added": "Added assurance evidence",
    "assurance.evidence_mapped": "Mapped evidence to an assurance requirement",
    "assurance.evidence_unmapped": "Took evidence off an assurance requirement",
    "assurance.evidence_downloaded": "Downloaded an assurance evidence file",
    "assurance.evidence_removed": "Removed an assurance evidence item",
    "assurance.local_added": "Added a local assurance requirement",
    "assurance.local_changed": "Changed a local assurance requirement",
    "assurance.local_retired": "Retired a local assurance requirement",
    "assurance.local_reinstated": "Reinstated a local assurance requirement",
    "voice.imported": "Imported family and staff survey figures",
    "voice.themes_imported": "Imported Maternity and Neonatal Voices Partnership feedback themes",
    "triangulation.decide": "Recorded a decision about a trust",
    "review.opened": "Opened a perinatal mortality review",
    "review.stages": "Changed the stage dates of a review",
    "review.closed": "Closed a review",
    "review.member": "Added a review panel member",
    "review.meeting": "Recorded a review panel meeting",
    "review.parents": "Recorded the parents' involvement in a review",
    "review.parent_item": "Added the parents' question or concern to a review",
    "review.parent_answer": "Answered the parents' question or concern",
    "review.issue": "Added an issue with care to a review",
    "review.grade": "Graded care in a review",
    "review.findings": "Changed the findings of a review",
    "review.action": "Added an action to a review",
    "review.action_changed": "Updated an action of a review",
    "review.overdue_check": "Checked reviews for missed deadlines",
    "review.report": "Downloaded a report of a review",
    "review.notices_emailed": "E-mailed review notices",
}
#: What an audit event is about (its ``target_type``), as the audit log page names it.
AUDIT_TARGETS: dict[str, str] = {
    "user": "User",
    "account": "E-mail address",
    "address": "Client address",
    "harm_report": "Harm report",
    "harm_notifications": "Harm notifications",
    "upload": "File",
    "load": "Load of birth records",
    "signal": "Signal",
    "board_pack": "Board pack",
    "qi_collaborative": "Improvement collaborative",
    "qi_project": "Improvement project",
    "qi_measure": "Project measure",
    "qi_change_idea": "Change idea",
    "qi_pdsa": "PDSA cycle",
    "assurance": "Assurance requirement",
    "evidence": "Assurance evidence",
    "voice": "Survey figures",
    "trust": "Trust",
    "review": "Perinatal mortality review",
    "review_notifications": "Review notices",
}
#: The keys of audit ``details``, as the audit log page names them.
AUDIT_DETAILS: dict[str, str] = {
    "reason": "Why",
    "role": "Role",
    "org_code": "Organisation",
    "trust": "Trust",
    "trust_code": "Trust",
    "routes": "Routes",
    "route": "Route",
    "status": "Status",
    "step": "Step",
    "contact": "Contact record",
    "attachment": "Attachment record",
    "fields": "Answers changed",
    "added": "Routes added",
    "no_longer_applies": "Routes no longer required",
    "created": "Notifications made",
    "sent": "E-mails sent",
    "refused": "E-mails refused by the mail relay",
    "invalid_addresses": "Stored addresses that are not valid (not e-mailed)",
    "problem": "Problem",
    "trusts_outside_scope": "Trusts outside the user's organisation",
    "load_id": "Load number",
    "rows_loaded": "Rows loaded",
    "rows_rejected": "Rows rejected",
    "file": "File",
    "mode": "Mode",
    "reverts_load": "Load reverted",
    "moved_records": "Records moved from another month",
    "months": "Trust-months changed",
    "month": "Month",
    "html_sha256": "Content hash (SHA-256)",
    "decision": "Decision",
    "review_on": "Review date",
    "rows_with_other_codes": "Rows with other codes",
    "rows_added": "Rows added",
    "rows_replaced": "Rows replaced",
    "rows_removed": "Rows removed",
    "category": "Kind of death",
    "harm_report": "Harm report",
    "stages": "Stages",
    "external": "External member",
    "meeting": "Meeting record",
    "item": "Parents' item record",
    "kind": "Kind",
    "issue": "Issue record",
    "area": "Area of care",
    "relevant": "Relevant to the outcome",
    "grade": "Grade",
    "mnsi": "Under MNSI investigation",
    "joint_trusts": "Trusts taking part",
    "action_id": "Action record",
    "review": "Review record",
    "collaborative": "Collaborative record",
    "report": "Report",
    "format": "Format",
    "requirement": "Requirement",
    "trusts": "Trusts",
    "requirements": "Requirements",
    "sha256": "Content hash (SHA-256)",
    "cleared": "Back to the packaged wording",
    "title": "Title",
    "framework": "Listed under",
    "periods": "Periods",
}


def audit(session: Any, actor: str, action: str, target_type: str, target_id: str, **details: Any) -> None:
    """Add an audit event to ``session`` (committed with the change it describes)."""
    session.add(
        AuditEvent(
            actor=actor,
            action=action,
            target_type=target_type,
            target_id=target_id,
            details=json.dumps(details, sort_keys=True, default=str),
        )
    )


def add_user(
    url: str,
    email: str,
    role: str,
    org_code: str,
    password: str,
    actor: str,
    scope: set[str] | None = None,
) -> UserView:
    """Create a user; ValueError naming the problem (role, organisation, duplicate, weak password).

    ``scope``: the organisations the adding administrator manages (None: all). An address
    already in use outside it gets a message that names no organisation or role, so adding
    users cannot be used to learn who has an account elsewhere.
    """
    email = check_address(email)  # syntax, and no CR/LF to inject headers into notification e-mails
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    password_hash = hash_password(password, email)
    with transaction(url) as session:
        org = session.get(Organisation, org_code)
        if org is None or not org.active:
            raise ValueError(f"no active organisation with code {org_code!r}")
        if ROLES[role] and org.level != ROLES[role]:
            raise ValueError(
                f"{role.replace('_', ' ').capitalize()} users must belong to an organisation at {ROLES[role]} "
                f"level; {org.name} is at {org.level} level"
            )
        existing = session.scalars(select(User).where(User.email == email)).first()
        if existing is not None:
            if scope is not None and existing.org_code not in scope:
                raise ValueError(
                    f"MatNeo cannot add {email} here. Ask a national MatNeo administrator to check this e-mail address."
                )
            raise ValueError(f"a user with e-mail {email} already exists")
        user = User(email=email, role=role, org_code=org_code, password_hash=password_hash)
        session.add(user)
        session.flush()
        audit(session, actor, "user.add", "user", str(user.id), role=role, org_code=org_code)
        return UserView(user.id, user.email, user.role, user.org_code, user.active)


def list_users(url: str) -> list[UserView]:
    with transaction(url) as session:
        return [
            UserView(u.id, u.email, u.role, u.org_code, u.active)
            for u in session.scalars(select(User).order_by(User.org_code, User.email))
        ]


def audit_trail(
    url: str, limit: int = 100, *, actors: Collection[str] | None = None, before: int | None = None
) -> list[dict[str, Any]]:
    """The newest audit events first, ``limit`` at a time.

    ``actors`` restricts to events by those users (an organisation's administrator sees its own
    users' events) and ``before`` pages back past an event id; both are applied in the query, so an
    organisation's older events are reachable however busy the rest of the country is.
    """
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if actors is not None:
        query = query.where(AuditEvent.actor.in_(list(actors)))
    if before is not None:
        query = query.where(AuditEvent.id < before)
    with transaction(url) as session:
        events = session.scalars(query)
        return [
            {
                "id": e.id,
                "at": e.at.isoformat(timespec="seconds"),  # UTC
                "actor": e.actor,
                "action": e.action,
                "target": f"{e.target_type}:{e.target_id}",
                "target_type": e.target_type,
                "target_id": e.target_id,
                "details": json.loads(e.details),
            }
            for e in events
        ]


def get_user(url: str, user_id: int) -> UserView | None:
    with transaction(url) as session:
        u = session.get(User, user_id)
        return None if u is None else UserView(u.id, u.email, u.role, u.org_code, u.active)


def set_active(url: str, user_id: int, active: bool, actor: str) -> None:
    """Activate or deactivate a user; deactivation ends their sessions in the same transaction."""
    from matneo.auth.signin import end_sessions

    with transaction(url) as session:
        user = session.get(User, user_id)
        if user is None:
            raise ValueError(f"no user with id {user_id}")
        if user.active == active:
            return
        user.active = active
        if not active:
            end_sessions(session, user.id)
        audit(session, actor, "user.activate" if active else "user.deactivate", "user", str(user.id))


def unlock(url: str, user_id: int, actor: str) -> None:
    """Clear the sign-in delay of a user's e-mail address (audited)."""
    from matneo.auth import throttle

    with transaction(url) as session:
        user = session.get(User, user_id)
        if user is None:
            raise ValueError(f"no user with id {user_id}")
        throttle.clear(session, throttle.ACCOUNT, user.email)
        audit(session, actor, "user.unlock", "user", str(user.id))


def sign_in_limits(url: str, now: dt.datetime | None = None) -> list[Any]:
    """Sign-in delays and address limits that still count (:class:`matneo.auth.throttle.ThrottleView`)."""
    from matneo.auth import throttle

    with transaction(url) as session:
        return throttle.current(session, now or utcnow())


def clear_sign_in_limit(url: str, kind: str, subject: str, actor: str) -> bool:
    """Clear the delay of an e-mail address or the limit of a client address (audited)."""
    from matneo.auth import throttle

    if kind not in throttle.KIND_WORDS:
        raise ValueError(f"unknown kind of sign-in limit {kind!r}")
    with transaction(url) as session:
        found = throttle.clear(session, kind, subject)
        audit(session, actor, "sign_in.limit_cleared", kind, subject[:64])
        return found
