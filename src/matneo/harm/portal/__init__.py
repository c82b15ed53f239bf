"""The harm portal: save a draft, submit a report, and work its routes to done (the stateful half of harm).

:mod:`matneo.harm` is the pure routing engine (rules, report validation, routing, the calendar):
no database, importable anywhere. This package is the portal built on it, behind the web pages
and ``/api/v1/harm-reports``, one module per workflow:

* :mod:`~matneo.harm.portal.drafts`: save a draft, validate, submit (idempotent);
* :mod:`~matneo.harm.portal.route_status`: mark a route done, not applicable, or due again;
* :mod:`~matneo.harm.portal.family`: family contacts and the Duty of Candour steps;
* :mod:`~matneo.harm.portal.attachments`: attachment metadata;
* :mod:`~matneo.harm.portal.amending`: amend a submitted report and route it again;
* :mod:`~matneo.harm.portal.overdue`: overdue notifications, marking them read;
* :mod:`~matneo.harm.portal.common` (who may act, input checks, the case trail, the errors) and
  :mod:`~matneo.harm.portal.linking` (the birth-record link), which they share;
* :mod:`~matneo.harm.portal.queries` (scoped reads), :mod:`~matneo.harm.portal.exports`
  (per-route payloads) and :mod:`~matneo.harm.portal.mail` (e-mailing notifications).

This module is the actions' import surface (``from matneo.harm import portal``;
``portal.submit(...)``). Each action is one database transaction: the change, the case's own
trail of changes (:class:`~matneo.db.models.HarmChange`: who, when, what, before/after) and the
app-wide audit event are committed together or not at all, so a crash mid-save leaves no
half-written case.

Who may do what (decided here, documented in ``docs/harm-portal.md``):

* only **trust staff** create and change reports, and only for **their own trust** (the owning
  trust). LMNS, regional and national users, and administrators, may read the cases of the
  trusts in their scope but never submit for a trust or change one (they get 403);
* patient identifiers (NHS number, patient label, the linked birth record) and free text
  (family-contact summaries, notes, reasons, attachment names) are kept in their own columns
  and shown only to the owning trust (see :mod:`matneo.harm.portal.queries`);
* app-wide audit ``details`` hold ids and statuses only, never identifiers or free text.

Why split: the actions were one module of a thousand lines; the layout is recorded in
``docs/adr/0009-harm-split.md``.
"""

from matneo.harm.portal.amending import AMENDABLE_FIELDS, AmendResult, amend, apply_changes
from matneo.harm.portal.attachments import add_attachment
from matneo.harm.portal.common import (
    CANDOUR_STEPS,
    CHANGE_ACTIONS,
    CONTACT_METHODS,
    EDIT_ROLES,
    ROUTE_STATUSES,
    CaseError,
    CaseNotFound,
    Patient,
    can_edit,
    is_reference,
    reporting_trust,
    sees_identifiers,
)
from matneo.harm.portal.drafts import SubmitResult, save_draft, submit, validate
from matneo.harm.portal.family import add_family_contact, record_candour_step
from matneo.harm.portal.overdue import mark_notifications_read, overdue_check
from matneo.harm.portal.route_status import update_route

__all__ = [
    "AMENDABLE_FIELDS",
    "CANDOUR_STEPS",
    "CHANGE_ACTIONS",
    "CONTACT_METHODS",
    "EDIT_ROLES",
    "ROUTE_STATUSES",
    "AmendResult",
    "CaseError",
    "CaseNotFound",
    "Patient",
    "SubmitResult",
    "add_attachment",
    "add_family_contact",
    "amend",
    "apply_changes",
    "can_edit",
    "is_reference",
    "mark_notifications_read",
    "overdue_check",
    "record_candour_step",
    "reporting_trust",
    "save_draft",
    "sees_identifiers",
    "submit",
    "update_route",
    "validate",
]
