"""What every portal action shares: who may act, input checks, the case trail, the errors.

Split out of the former ``matneo.harm.cases`` (one module per workflow now, see
:mod:`matneo.harm.portal`); nothing here opens a transaction of its own.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from matneo.auth.access import Access, Forbidden
from matneo.db.models import HarmCase, HarmChange, HarmRoute
from matneo.db.trail import TrailWriter, locked_visible
from matneo.harm.report import FieldError, HarmReport
from matneo.harm.rules import ROUTE_IDS, ROUTE_TITLES

#: Roles that may create and change harm reports (for their own trust only).
EDIT_ROLES = frozenset({"trust_staff"})
ROUTE_STATUSES = ("due", "done", "not_applicable")
#: CQC regulation 20 (Duty of Candour): verbal notification (with apology) as soon as practicable, the written
#: follow-up, and the final letter sharing the findings when the review concludes.
CANDOUR_STEPS = {
    "verbal": "Told the family in person, gave an account and apologised",
    "written": "Written notification sent (account, enquiries, apology)",
    "findings": "Findings of the review or investigation shared",
}
CONTACT_METHODS = {
    "in_person": "In person",
    "phone": "Telephone",
    "video": "Video call",
    "letter": "Letter",
    "email": "E-mail",
}
MAX_REPORT_CHARS = 20_000
MAX_TEXT = 2_000
_KEY = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")


class CaseNotFound(LookupError):
    """No such case for this user: unknown, or outside their scope (the same answer, so ids reveal nothing)."""


class CaseError(ValueError):
    """Input the user can fix. ``errors`` names each field with a plain-English message."""

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = list(errors)
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in self.errors))


@dataclass(frozen=True)
class Patient:
    """The patient identifiers of a report: kept apart from the routing input, owning trust only."""

    nhs_number: str | None = None
    label: str | None = None


def _checkpoint(name: str) -> None:
    """A named point inside a save. Does nothing; crash-safety tests replace it to fail mid-transaction."""


# --------------------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------------------


def reporting_trust(access: Access) -> str:
    """The trust a user reports for; :class:`Forbidden` for anyone but trust staff of a trust."""
    org = access.hierarchy.get(access.user.org_code)
    if access.user.role not in EDIT_ROLES or org.level != "trust":
        raise Forbidden("Only trust staff can create or change harm reports, and only for their own trust.")
    return org.code


def can_edit(access: Access, trust_code: str) -> bool:
    return access.user.role in EDIT_ROLES and access.user.org_code == trust_code


def sees_identifiers(access: Access, trust_code: str) -> bool:
    """Patient identifiers and free text: the owning trust's staff only."""
    return can_edit(access, trust_code)


def check_nhs_number(value: str | None) -> tuple[str | None, FieldError | None]:
    """A 10-digit NHS number with a valid modulus-11 check digit (spaces allowed), or blank."""
    if value is None or not str(value).strip():
        return None, None
    digits = re.sub(r"[\s-]", "", str(value))
    if not re.fullmatch(r"\d{10}", digits):
        return None, FieldError("patient.nhs_number", "must be 10 digits, for example 485 777 3456")
    total = sum(int(d) * (10 - i) for i, d in enumerate(digits[:9]))
    check = 11 - total % 11
    check = 0 if check == 11 else check
    if check == 10 or check != int(digits[9]):
        return None, FieldError("patient.nhs_number", "is not a valid NHS number: check the digits")
    return digits, None


def _clean_patient(patient: Patient | None) -> tuple[Patient, list[FieldError]]:
    patient = patient or Patient()
    nhs, error = check_nhs_number(patient.nhs_number)
    errors = [error] if error else []
    label = (patient.label or "").strip() or None
    if label is not None and len(label) > 200:
        errors.append(FieldError("patient.label", "must be 200 characters or fewer"))
    return Patient(nhs, label), errors


def _check_key(key: str | None) -> str | None:
    if key is None or key == "":
        return None
    if not _KEY.match(key):
        raise CaseError(
            [FieldError("idempotency_key", "must be 1 to 100 letters, digits, dots, dashes, colons or underscores")]
        )
    return key


def _report_text(data: Any) -> str:
    if not isinstance(data, Mapping):
        raise CaseError([FieldError("report", "must be a JSON object")])
    text = json.dumps(data, sort_keys=True, default=str)
    if len(text) > MAX_REPORT_CHARS:
        raise CaseError([FieldError("report", f"is too long (over {MAX_REPORT_CHARS:,} characters)")])
    return text


#: A receiving body's reference (SPEN, LFPSE, PMRT, a local risk system): letters and digits, at
#: least one digit, with ``-``, ``/``, ``.`` or ``_`` between, at most 40 characters. A reference
#: is shown to the LMNS, region and England as well as the trust (it is how they follow a case
#: up with the body), so it must not be free text: no spaces, so no names or sentences.
REFERENCE = re.compile(r"(?=[^0-9]*[0-9])[A-Za-z0-9](?:[A-Za-z0-9/._-]{0,38}[A-Za-z0-9])?")
REFERENCE_MESSAGE = (
    "must be the reference number the body gave, for example MNSI-2026-0042: letters and digits "
    "with - / . or _ between, no spaces, 40 characters or fewer"
)


def is_reference(value: str | None) -> bool:
    """Whether ``value`` is a reference as :data:`REFERENCE` describes, and not an NHS number."""
    if not value or not REFERENCE.fullmatch(value):
        return False
    runs = [*re.findall(r"[0-9]+", value), re.sub(r"[/._-]", "", value)]
    return not any(len(run) == 10 and run.isdigit() and check_nhs_number(run)[1] is None for run in runs)


def _reference(value: str | None) -> str:
    text = _text(value, "reference", required=True, limit=100)
    if not is_reference(text):
        raise CaseError([FieldError("reference", REFERENCE_MESSAGE)])
    return text


def _text(value: str | None, field: str, *, required: bool, limit: int = MAX_TEXT) -> str:
    value = (value or "").strip()
    if required and not value:
        raise CaseError([FieldError(field, "is required")])
    if len(value) > limit:
        raise CaseError([FieldError(field, f"must be {limit:,} characters or fewer")])
    return value


def _date(value: str | dt.date | None, field: str, today: dt.date) -> dt.date:
    if isinstance(value, dt.date):
        day = value
    else:
        try:
            day = dt.date.fromisoformat((value or "").strip())
        except ValueError:
            raise CaseError([FieldError(field, "must be a real date")]) from None
    if day > today:
        raise CaseError([FieldError(field, "cannot be in the future")])
    return day


def _event_date(report: HarmReport) -> dt.date:
    if report.baby is not None:
        return report.baby.birth_date
    return report.mother.death_date or report.incident_known_date


#: What each kind of case-trail row records, as the case page says it.
CHANGE_ACTIONS = {
    "draft.created": "Draft started",
    "draft.saved": "Draft saved",
    "report.submitted": "Report submitted",
    "answer.changed": "Answer changed",
    "report.rerouted": "Report routed again",
    "route.added": "Route added",
    "route.applies_again": "Route applies again",
    "route.deadlines_changed": "Route deadlines changed",
    "route.not_applicable": "Route marked not applicable",
    "route.no_longer_applies": "Route no longer applies",
    "route.done": "Route marked done",
    "route.due": "Route reopened",
    "birth_record.relinked": "Birth record link changed",
    "family_contact.added": "Family contact logged",
    "candour.recorded": "Duty of Candour step recorded",
    "attachment.added": "Attachment added",
}


#: The case trail row for one change, in the caller's transaction.
_change = TrailWriter(HarmChange, "report_id")


def _editable_case(session: Session, access: Access, case_id: int) -> HarmCase:
    """The submitted case, locked for update; 404 outside scope, 403 for anyone but the owning trust."""
    case = locked_visible(
        session,
        HarmCase,
        case_id,
        lambda case: (
            access.in_scope(case.trust_code) and not (case.status == "draft" and not can_edit(access, case.trust_code))
        ),
        CaseNotFound(f"There is no harm report {case_id} in your organisation's scope."),
    )
    if not can_edit(access, case.trust_code):
        raise Forbidden("Only staff of the trust that owns this report can change it.")
    if case.status != "submitted":
        raise CaseError([FieldError("report", "is still a draft: submit it first")])
    return case


def _route_state(row: HarmRoute) -> dict[str, Any]:
    return {
        "status": row.status,
        "reference": row.reference,
        "done_on": row.done_on.isoformat() if row.done_on else None,
        "reason": row.reason,
    }


assert set(ROUTE_TITLES) == set(ROUTE_IDS)


def open_review(session: Session, case: HarmCase, actor: str) -> None:
    """A report routed to PMRT opens its perinatal mortality review in the same transaction (linked both ways)."""
    from matneo.reviews.actions import open_for_harm_report

    open_for_harm_report(session, case, actor)
