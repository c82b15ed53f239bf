"""Who may see what: organisation scope, by construction.

The access rule (issue 5; docs/adr/0005-organisation-scoped-access.md):

* a user belongs to one organisation; their **scope** is that organisation and everything
  under it (a trust: itself; an LMNS: itself and its trusts; a region: itself, its LMNS and
  trusts; England: everything);
* patient-level data (rejection reports, loads, signal evidence) and unsuppressed small
  numbers are shown only for organisations in scope;
* everything else is shown as suppressed aggregates (:func:`matneo.measures.publish.publishable`).

Pages and API endpoints never query data directly: they ask an :class:`Access` for it, so a
view cannot forget the rule. The class holds no data itself; it filters what the services
return.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from matneo.auth.signin import SignedInUser
from matneo.reference.organisations import OrgHierarchy

#: Roles that may load birth records for the trusts in their scope.
UPLOAD_ROLES = frozenset({"trust_staff", "lmns_lead", "regional_lead", "national_analyst", "administrator"})
#: Roles that may acknowledge signals for the trusts in their scope.
ACKNOWLEDGE_ROLES = frozenset({"trust_staff", "lmns_lead", "regional_lead", "national_analyst"})
ROLE_LABELS = {
    "national_analyst": "National analyst",
    "regional_lead": "Regional quality lead",
    "lmns_lead": "LMNS lead",
    "trust_staff": "Trust staff",
    "administrator": "Administrator",
}


class Forbidden(Exception):
    """The signed-in user may not do or see this; the message says why (shown as HTTP 403)."""


@dataclass(frozen=True)
class Access:
    """A signed-in user's view of the organisation hierarchy."""

    user: SignedInUser
    hierarchy: OrgHierarchy

    @cached_property
    def scope(self) -> frozenset[str]:
        """The user's organisation and every organisation under it."""
        found: set[str] = set()
        stack = [self.user.org_code]
        while stack:
            code = stack.pop()
            found.add(code)
            stack.extend(child.code for child in self.hierarchy.children(code))
        return frozenset(found)

    @property
    def scope_key(self) -> str:
        """Users with the same key see exactly the same data (their organisation's code)."""
        return self.user.org_code

    @property
    def org_name(self) -> str:
        return self.hierarchy.get(self.user.org_code).name

    @property
    def is_admin(self) -> bool:
        return self.user.role == "administrator"

    @property
    def sees_everything(self) -> bool:
        return self.hierarchy.get(self.user.org_code).level == "england"

    def in_scope(self, org_code: str) -> bool:
        return org_code in self.scope

    def trusts_in_scope(self) -> list[str]:
        return [t.code for t in self.hierarchy.trusts_under(self.user.org_code)]

    def require_in_scope(self, org_code: str, what: str) -> None:
        if not self.in_scope(org_code):
            raise Forbidden(f"{what} is available only to {org_code}'s own organisation and those above it")

    def require_admin(self) -> None:
        if not self.is_admin:
            raise Forbidden("only administrators can manage users")

    def require_role(self, roles: frozenset[str], what: str) -> None:
        if self.user.role not in roles:
            raise Forbidden(f"your role ({ROLE_LABELS.get(self.user.role, self.user.role)}) cannot {what}")
