"""Who may see and change QI work (decided here; ``docs/qi.md``, "Who sees what").

* A **collaborative** is visible to users whose scope holds the organisation running it, or
  any of its member trusts (a member trust's staff, their LMNS and region), and to national
  users.
* A **project** is visible to users whose scope holds its trust, and to everyone who can see
  one of its collaboratives: that is how improvement work is shared across trusts. Projects
  hold no patient-level data; MatNeo measures of another trust are shown through the existing
  suppression (:meth:`matneo.measures.results.ResultCache.view`).
* A project is **changed** by trust staff of its trust and by LMNS and regional leads whose
  scope holds the trust. Administrators manage accounts, not improvement work.
* A collaborative (members, waves, library) is **managed** by LMNS, regional and national
  leads whose scope holds the organisation running it; any member trust's staff may add a
  change idea to its library (shared learning).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from matneo.auth.access import Access, Forbidden
from matneo.db.models import QiCollaborative, QiMember, QiProject, QiProjectCollaborative

PROJECT_EDIT_ROLES = frozenset({"trust_staff", "lmns_lead", "regional_lead"})
COLLABORATIVE_ROLES = frozenset({"lmns_lead", "regional_lead", "national_analyst"})


class QiNotFound(LookupError):
    """No such collaborative or project for this user (unknown and out-of-sight answer the same)."""


def visible_collaborative_ids(session: Session, access: Access) -> set[int]:
    """Ids of the collaboratives this user can see."""
    if access.sees_everything:
        return set(session.scalars(select(QiCollaborative.id)))
    scope = list(access.scope)
    run = set(session.scalars(select(QiCollaborative.id).where(QiCollaborative.org_code.in_(scope))))
    member = set(session.scalars(select(QiMember.collaborative_id).where(QiMember.trust_code.in_(scope))))
    return run | member


def visible_project_ids(session: Session, access: Access) -> set[int]:
    """Ids of the projects this user can see: in scope, or in a collaborative they can see."""
    if access.sees_everything:
        return set(session.scalars(select(QiProject.id)))
    own = set(session.scalars(select(QiProject.id).where(QiProject.trust_code.in_(list(access.scope)))))
    collaboratives = visible_collaborative_ids(session, access)
    shared: set[int] = set()
    if collaboratives:
        shared = set(
            session.scalars(
                select(QiProjectCollaborative.project_id).where(
                    QiProjectCollaborative.collaborative_id.in_(list(collaboratives))
                )
            )
        )
    return own | shared


def project_for(session: Session, access: Access, project_id: int) -> QiProject:
    """The project if this user can see it, else :class:`QiNotFound`."""
    project = session.get(QiProject, project_id)
    if project is None or project_id not in visible_project_ids(session, access):
        raise QiNotFound(f"There is no improvement project {project_id} that you can see.")
    return project


def can_edit_project(access: Access, project: QiProject) -> bool:
    return access.user.role in PROJECT_EDIT_ROLES and access.in_scope(project.trust_code)


def require_edit(access: Access, project: QiProject) -> None:
    if not can_edit_project(access, project):
        raise Forbidden(
            "only the project's trust staff, and LMNS and regional leads over its trust, can change this project"
        )


def editable_project(session: Session, access: Access, project_id: int) -> QiProject:
    """The project if this user may change it: :class:`QiNotFound` when they cannot see it, else 403.

    Seeing comes first, so an id outside the user's view answers "not found" whether or not it exists.
    """
    project = project_for(session, access, project_id)
    require_edit(access, project)
    return project


def collaborative_for(session: Session, access: Access, collaborative_id: int) -> QiCollaborative:
    found = session.get(QiCollaborative, collaborative_id)
    if found is None or collaborative_id not in visible_collaborative_ids(session, access):
        raise QiNotFound(f"There is no collaborative {collaborative_id} that you can see.")
    return found


def can_manage_collaborative(access: Access, collaborative: QiCollaborative) -> bool:
    return access.user.role in COLLABORATIVE_ROLES and access.in_scope(collaborative.org_code)


def require_manage(access: Access, collaborative: QiCollaborative) -> None:
    if not can_manage_collaborative(access, collaborative):
        raise Forbidden("only LMNS, regional and national leads over the organisation running it can manage it")


def member_trusts(session: Session, collaborative_id: int) -> list[str]:
    return list(session.scalars(select(QiMember.trust_code).where(QiMember.collaborative_id == collaborative_id)))


def any_in_scope(access: Access, codes: Iterable[str]) -> bool:
    return any(access.in_scope(code) for code in codes)
