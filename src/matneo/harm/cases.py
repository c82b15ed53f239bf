"""Harm cases: save a draft, submit a report, and work its routes to done.

The actions behind the portal (web pages and ``/api/v1/harm-reports``). Each action is one
database transaction: the change, the case's own trail of changes (:class:`HarmChange`, who,
when, what, before/after) and the app-wide audit event are committed together or not at all,
so a crash mid-save leaves no half-written case.

Who may do what (decided here, documented in ``docs/harm-portal.md``):

* only **trust staff** create and change reports, and only for **their own trust** (the owning
  trust). LMNS, regional and national users, and administrators, may read the cases of the
  trusts in their scope but never submit for a trust or change one (they get 403);
* patient identifiers (NHS number, patient label, the linked birth record) and free text
  (family-contact summaries, notes, reasons, attachment names) are kept in their own columns
  and shown only to the owning trust (see :mod:`matneo.harm.queries`);
* app-wide audit ``details`` hold ids and statuses only, never identifiers or free text.

Amending (:func:`amend`): answers that were not known at submission are recorded later and the
case is routed again, in one transaction with its route changes and trail (``docs/harm-portal.md``,
"Amending a case").

Idempotency: a submission may carry an ``idempotency_key``; (trust, key) is unique in the
database, so a repeat, or a concurrent duplicate that loses the race on the unique
constraint, returns the first report's id instead of creating a second.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from matneo.auth.access import Access, Forbidden
from matneo.auth.users import audit
from matneo.config import Settings
from matneo.db.models import (
    HarmAttachment,
    HarmCandourStep,
    HarmCase,
    HarmChange,
    HarmFamilyContact,
    HarmNotification,
    HarmRoute,
    utcnow,
)
from matneo.db.session import transaction
from matneo.harm.report import (
    ANSWER_LABELS,
    BABY_FIELDS,
    GESTATION_FIELDS,
    MOTHER_FIELDS,
    TOP_FIELDS,
    FieldError,
    HarmReport,
    HarmReportError,
    parse_report,
)
from matneo.harm.routing import route_report
from matneo.harm.rules import ROUTE_IDS, ROUTE_TITLES, RoutingOptions

log = logging.getLogger(__name__)

__all__ = [
    "AMENDABLE_FIELDS",
    "CANDOUR_STEPS",
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
    "mark_notifications_read",
    "overdue_check",
    "record_candour_step",
    "save_draft",
    "submit",
    "update_route",
]

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


@dataclass(frozen=True)
class SubmitResult:
    id: int
    status: str  # draft | submitted
    repeat: bool  # True when an earlier submission with the same idempotency key was returned


@dataclass(frozen=True)
class AmendResult:
    """What an amendment changed: the answers, and the routes it added, ended or re-dated."""

    id: int
    changed: tuple[str, ...] = ()  # dotted field names whose answer changed ("" when nothing did)
    added: tuple[str, ...] = ()  # routes newly required (added as due, or reopened)
    no_longer_applies: tuple[str, ...] = ()  # routes no longer required (due ones set not_applicable)
    deadlines_changed: tuple[str, ...] = ()  # routes still required whose deadlines moved


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


def _change(
    session: Session,
    case_id: int,
    actor: str,
    action: str,
    what: str,
    before: Any = None,
    after: Any = None,
    *,
    sensitive: bool = False,
) -> None:
    """The case trail row for one change, in the caller's transaction."""
    session.add(
        HarmChange(
            report_id=case_id,
            at=utcnow(),
            actor=actor,
            action=action,
            what=what,
            before=None if before is None else json.dumps(before, sort_keys=True, default=str),
            after=None if after is None else json.dumps(after, sort_keys=True, default=str),
            sensitive=sensitive,
        )
    )


# --------------------------------------------------------------------------------------
# Linking to the birth record
# --------------------------------------------------------------------------------------


def link_record(settings: Settings, trust_code: str, report: HarmReport) -> tuple[str | None, str]:
    """The birth record matching (trust, birth date, gestation), if exactly one does.

    Returns ``(record_id, status)`` with status ``linked``, ``none``, ``ambiguous`` (twins, or
    gestation unknown) or ``unavailable`` (no baby, or the records store cannot be read). Read
    before the save transaction: linking never blocks or fails a submission.
    """
    baby = report.baby
    if baby is None:
        return None, "unavailable"
    try:
        from matneo.records.store import RecordStore

        store = RecordStore(settings.records_dir)
        day = baby.birth_date
        files = store.partition_files({(day.year, day.month)})
        if not files:
            return None, "none"
        import duckdb

        with duckdb.connect() as con:
            con.execute(f"CREATE VIEW births AS {store.births_sql({(day.year, day.month)})}")
            sql = "SELECT record_id FROM births WHERE trust_code = ? AND CAST(birth_datetime AS DATE) = ?"
            params: list[Any] = [trust_code, day]
            if report.gestation is not None:
                sql += " AND gestation_weeks = ? AND gestation_days = ?"
                params += [report.gestation.weeks, report.gestation.days]
            rows = con.execute(sql + " LIMIT 2", params).fetchall()
    except Exception:  # the records store is optional here; never log the report's values
        log.warning("harm report linking: the records store could not be read", exc_info=False)
        return None, "unavailable"
    if len(rows) == 1:
        return str(rows[0][0]), "linked"
    return None, "ambiguous" if rows else "none"


# --------------------------------------------------------------------------------------
# Draft and submit
# --------------------------------------------------------------------------------------


def _find_by_key(session: Session, trust: str, key: str) -> HarmCase | None:
    query = (
        select(HarmCase)
        .where(HarmCase.trust_code == trust, HarmCase.idempotency_key == key)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return session.scalars(query).first()


def _own_draft(session: Session, trust: str, draft_id: int) -> HarmCase:
    case = session.scalars(
        select(HarmCase).where(HarmCase.id == draft_id).with_for_update().execution_options(populate_existing=True)
    ).first()
    if case is None or case.trust_code != trust:
        raise CaseNotFound(f"There is no harm report {draft_id} for your trust.")
    return case


def _repeat(url: str, trust: str, key: str) -> SubmitResult:
    """After losing a race on the unique (trust, key): the winner's report."""
    with transaction(url) as session:
        case = session.scalars(
            select(HarmCase).where(HarmCase.trust_code == trust, HarmCase.idempotency_key == key)
        ).first()
        if case is None:  # pragma: no cover - the constraint that failed says it exists
            raise RuntimeError("idempotent submission: the conflicting report could not be read")
        return SubmitResult(case.id, case.status, True)


def save_draft(
    settings: Settings,
    access: Access,
    report: Mapping[str, Any],
    patient: Patient | None = None,
    *,
    draft_id: int | None = None,
    idempotency_key: str | None = None,
) -> SubmitResult:
    """Save an unfinished report as it is (not validated: drafts may be partial). Survives sign-out.

    ``draft_id`` updates that draft of the user's trust; a submitted report cannot go back to draft.
    """
    trust = reporting_trust(access)
    key = _check_key(idempotency_key)
    text = _report_text(report)
    clean, errors = _clean_patient(patient)
    if errors:
        raise CaseError(errors)
    actor = access.user.email
    try:
        with transaction(settings.database_url) as session:
            case = None
            if draft_id is not None:
                case = _own_draft(session, trust, draft_id)
            elif key is not None:
                case = _find_by_key(session, trust, key)
            if case is not None and case.status != "draft":
                return SubmitResult(case.id, case.status, True)
            now = utcnow()
            created = case is None
            if case is None:
                case = HarmCase(trust_code=trust, status="draft", idempotency_key=key, report=text, created_by=actor)
                case.created_at = case.updated_at = now
                session.add(case)
                session.flush()
                before_fields: set[str] = set()
            else:
                before_fields = set(_flat(json.loads(case.report)))
            identifiers_changed = (case.nhs_number, case.patient_label) != (clean.nhs_number, clean.label)
            case.report, case.nhs_number, case.patient_label, case.updated_at = text, clean.nhs_number, clean.label, now
            after_fields = set(_flat(json.loads(text)))
            _change(
                session,
                case.id,
                actor,
                "draft.created" if created else "draft.saved",
                "Draft report",
                None if created else {"fields filled in": len(before_fields)},
                {"fields filled in": len(after_fields), "patient identifiers changed": identifiers_changed},
            )
            audit(session, actor, "harm.draft_saved", "harm_report", str(case.id), trust=trust)
            return SubmitResult(case.id, "draft", False)
    except IntegrityError:
        if key is None:
            raise
        return _repeat(settings.database_url, trust, key)


def _flat(data: Any, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    if isinstance(data, Mapping):
        for k, v in data.items():
            if isinstance(v, Mapping):
                out.update(_flat(v, f"{prefix}{k}."))
            elif v is not None and v != "":
                out[f"{prefix}{k}"] = v
    return out


def validate(
    report: Any, patient: Patient | None, today: dt.date, options: RoutingOptions | None = None
) -> tuple[HarmReport, dict[str, Any], Patient]:
    """Parse and route a report; :class:`HarmReportError` listing every problem (identifiers too)."""
    clean, errors = _clean_patient(patient)
    parsed: HarmReport | None = None
    try:
        parsed = parse_report(report, today)
    except HarmReportError as error:
        errors = error.errors + errors
    if errors:
        raise HarmReportError(errors)
    assert parsed is not None
    return parsed, route_report(parsed, options or RoutingOptions()), clean


def submit(
    settings: Settings,
    access: Access,
    report: Mapping[str, Any],
    patient: Patient | None = None,
    *,
    idempotency_key: str | None = None,
    draft_id: int | None = None,
    today: dt.date | None = None,
    options: RoutingOptions | None = None,
) -> SubmitResult:
    """Validate, route and save a report with its routes, in one transaction.

    Raises :class:`HarmReportError` (every field problem), :class:`CaseError`, :class:`Forbidden`
    or :class:`CaseNotFound` (``draft_id`` not a draft of the user's trust). The same
    (trust, ``idempotency_key``) returns the existing report with ``repeat=True``.
    """
    trust = reporting_trust(access)
    key = _check_key(idempotency_key)
    day = today or dt.date.today()
    _report_text(report)
    parsed, result, clean = validate(report, patient, day, options)
    # Store the awareness date the deadlines were counted from, even when the reporter left it blank
    # (it defaults to the day of submission): re-routing after an amendment must use the same clock.
    text = _report_text({**report, "incident_known_date": parsed.incident_known_date.isoformat()})
    record_id, link_status = link_record(settings, trust, parsed)
    actor = access.user.email
    url = settings.database_url
    try:
        with transaction(url) as session:
            case = None
            if draft_id is not None:
                case = _own_draft(session, trust, draft_id)
                if case.status != "draft":
                    return SubmitResult(case.id, case.status, True)
                if key is not None and case.idempotency_key not in (None, key):
                    key = case.idempotency_key  # the draft's own key wins: it identifies this report
            if case is None and key is not None:
                case = _find_by_key(session, trust, key)
                if case is not None and case.status != "draft":
                    return SubmitResult(case.id, case.status, True)
            now = utcnow()
            if case is None:
                case = HarmCase(trust_code=trust, status="draft", created_by=actor, created_at=now)
                session.add(case)
            case.idempotency_key = case.idempotency_key or key
            case.report, case.routing, case.ruleset = text, json.dumps(result, default=str), result["ruleset"]
            case.status, case.submitted_at, case.updated_at = "submitted", now, now
            case.event_date = _event_date(parsed)
            case.nhs_number, case.patient_label = clean.nhs_number, clean.label
            case.linked_record_id, case.link_status = record_id, link_status
            session.flush()
            _checkpoint("after_report_flushed")
            for entry in result["routes"]:
                dates = [dt.date.fromisoformat(d) for d in entry["deadlines"].values()]
                session.add(
                    HarmRoute(
                        report_id=case.id,
                        route_id=entry["id"],
                        status="due",
                        deadlines=json.dumps(entry["deadlines"]),
                        next_due=min(dates) if dates else None,
                        updated_at=now,
                    )
                )
            session.flush()
            _checkpoint("after_routes_flushed")
            routes = [r["id"] for r in result["routes"]]
            _change(
                session,
                case.id,
                actor,
                "report.submitted",
                "Report",
                {"status": "draft"},
                {
                    "status": "submitted",
                    "routes": routes,
                    "ruleset": result["ruleset"],
                    "birth record link": link_status,
                },
            )
            audit(session, actor, "harm.submitted", "harm_report", str(case.id), trust=trust, routes=routes)
            return SubmitResult(case.id, "submitted", False)
    except IntegrityError:
        if key is None:
            raise
        return _repeat(url, trust, key)


# --------------------------------------------------------------------------------------
# Working a case
# --------------------------------------------------------------------------------------


def _editable_case(session: Session, access: Access, case_id: int) -> HarmCase:
    """The submitted case, locked for update; 404 outside scope, 403 for anyone but the owning trust."""
    case = session.scalars(
        select(HarmCase).where(HarmCase.id == case_id).with_for_update().execution_options(populate_existing=True)
    ).first()
    if (
        case is None
        or not access.in_scope(case.trust_code)
        or (case.status == "draft" and not can_edit(access, case.trust_code))
    ):
        raise CaseNotFound(f"There is no harm report {case_id} in your organisation's scope.")
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


def update_route(
    settings: Settings,
    access: Access,
    case_id: int,
    route_id: str,
    status: str,
    *,
    reference: str | None = None,
    done_on: str | dt.date | None = None,
    reason: str | None = None,
    today: dt.date | None = None,
) -> dict[str, Any]:
    """Mark a route done (reference + date), not applicable (reason), or due again (reopen).

    Returns the route's new state. No change, no trail row.
    """
    day = today or dt.date.today()
    if status not in ROUTE_STATUSES:
        raise CaseError([FieldError("status", f"must be one of: {', '.join(ROUTE_STATUSES)}")])
    new: dict[str, Any]
    if status == "done":
        new = {
            "status": "done",
            "reference": _reference(reference),  # shown beyond the trust: a reference, never free text
            "done_on": _date(done_on, "done_on", day).isoformat(),
            "reason": None,
        }
    elif status == "not_applicable":
        new = {"status": status, "reference": None, "done_on": None, "reason": _text(reason, "reason", required=True)}
    else:
        new = {"status": "due", "reference": None, "done_on": None, "reason": None}
    actor = access.user.email
    with transaction(settings.database_url) as session:
        case = _editable_case(session, access, case_id)
        row = session.scalars(
            select(HarmRoute).where(HarmRoute.report_id == case.id, HarmRoute.route_id == route_id).with_for_update()
        ).first()
        if row is None:
            raise CaseNotFound(f"Harm report {case_id} has no route {route_id!r}.")
        before = _route_state(row)
        if before == new:
            return new
        row.status, row.reference, row.reason = new["status"], new["reference"], new["reason"]
        row.done_on = dt.date.fromisoformat(new["done_on"]) if new["done_on"] else None
        row.updated_by, row.updated_at = actor, utcnow()
        title = ROUTE_TITLES.get(route_id, route_id)
        sensitive = bool(before["reason"] or new["reason"])
        _change(session, case.id, actor, f"route.{status}", title, before, new, sensitive=sensitive)
        audit(session, actor, "harm.route_updated", "harm_report", str(case.id), route=route_id, status=status)
        return new


def add_family_contact(
    settings: Settings,
    access: Access,
    case_id: int,
    *,
    contacted_on: str | dt.date | None,
    by: str,
    method: str,
    summary: str,
    today: dt.date | None = None,
) -> int:
    """Log a contact with the family; returns its id."""
    day = today or dt.date.today()
    when = _date(contacted_on, "contacted_on", day)
    if method not in CONTACT_METHODS:
        raise CaseError([FieldError("method", f"must be one of: {', '.join(CONTACT_METHODS)}")])
    who = _text(by, "by", required=True, limit=254)
    text = _text(summary, "summary", required=True)
    actor = access.user.email
    with transaction(settings.database_url) as session:
        case = _editable_case(session, access, case_id)
        row = HarmFamilyContact(
            report_id=case.id, contacted_on=when, by=who, method=method, summary=text, recorded_by=actor
        )
        session.add(row)
        session.flush()
        after = {"on": when.isoformat(), "by": who, "method": method, "summary": text}
        _change(session, case.id, actor, "family_contact.added", "Family contact", None, after, sensitive=True)
        audit(session, actor, "harm.family_contact", "harm_report", str(case.id), contact=row.id)
        return row.id


def record_candour_step(
    settings: Settings,
    access: Access,
    case_id: int,
    step: str,
    *,
    done_on: str | dt.date | None,
    by: str,
    note: str = "",
    today: dt.date | None = None,
) -> None:
    """Record (or correct) a Duty of Candour step (regulation 20: verbal, written, findings)."""
    day = today or dt.date.today()
    if step not in CANDOUR_STEPS:
        raise CaseError([FieldError("step", f"must be one of: {', '.join(CANDOUR_STEPS)}")])
    when = _date(done_on, "done_on", day)
    who = _text(by, "by", required=True, limit=254)
    text = _text(note, "note", required=False)
    actor = access.user.email
    with transaction(settings.database_url) as session:
        case = _editable_case(session, access, case_id)
        row = session.scalars(
            select(HarmCandourStep).where(HarmCandourStep.report_id == case.id, HarmCandourStep.step == step)
        ).first()
        new = {"done_on": when.isoformat(), "by": who, "note": text}
        before = None if row is None else {"done_on": row.done_on.isoformat(), "by": row.by, "note": row.note}
        if before == new:
            return
        if row is None:
            row = HarmCandourStep(report_id=case.id, step=step)
            session.add(row)
        row.done_on, row.by, row.note, row.recorded_at = when, who, text, utcnow()
        _change(session, case.id, actor, "candour.recorded", CANDOUR_STEPS[step], before, new, sensitive=True)
        audit(session, actor, "harm.candour_step", "harm_report", str(case.id), step=step)


def add_attachment(settings: Settings, access: Access, case_id: int, *, file_name: str, description: str = "") -> int:
    """Record an attachment's metadata (the document stays in the trust's own records system)."""
    name = _text(file_name, "file_name", required=True, limit=255)
    text = _text(description, "description", required=False)
    actor = access.user.email
    with transaction(settings.database_url) as session:
        case = _editable_case(session, access, case_id)
        row = HarmAttachment(report_id=case.id, file_name=name, description=text, added_by=actor, added_at=utcnow())
        session.add(row)
        session.flush()
        after = {"file": name, "description": text}
        _change(session, case.id, actor, "attachment.added", "Attachment", None, after, sensitive=True)
        audit(session, actor, "harm.attachment", "harm_report", str(case.id), attachment=row.id)
        return row.id


# --------------------------------------------------------------------------------------
# Amending a submitted report and re-routing
# --------------------------------------------------------------------------------------

#: The answers an amendment may change, by dotted name. ``baby`` and ``mother`` cannot be
#: replaced whole (whether there is a baby outcome is what the case is about: report that as a
#: new case); ``gestation`` may be given whole (``{"weeks", "days"}`` or ``null``) or by part.
AMENDABLE_FIELDS: tuple[str, ...] = (
    *(name for name in TOP_FIELDS if name not in ("baby", "mother")),
    *(f"gestation.{name}" for name in GESTATION_FIELDS),
    *(f"baby.{name}" for name in BABY_FIELDS),
    *(f"mother.{name}" for name in MOTHER_FIELDS),
)
#: The answers the birth-record link is matched on (with the trust): see :func:`link_record`.
LINK_FIELDS = ("baby.birth_date", "gestation", "gestation.weeks", "gestation.days")
#: Start of the reason a route gets when an amendment ends it; also how such a route is recognised
#: when a later amendment makes it apply again (a reason typed by staff is a human decision, kept).
AMENDED_REASON = "No longer applies after the report was amended"


def _get(data: Mapping[str, Any], path: str) -> Any:
    head, _, tail = path.partition(".")
    value = data.get(head)
    if not tail:
        return value
    return value.get(tail) if isinstance(value, Mapping) else None


def _same(a: Any, b: Any) -> bool:
    """Equal and of the same type (``True == 1`` is not the same answer)."""
    return type(a) is type(b) and a == b


def apply_changes(report: Mapping[str, Any], changes: Any) -> tuple[dict[str, Any], dict[str, tuple[Any, Any]]]:
    """The report with ``changes`` (``{dotted field: new value}``, ``null`` = not known) applied.

    Returns the new report and ``{field: (before, after)}`` for the answers that really changed.
    Raises :class:`CaseError` for names that are not amendable answers; the values themselves are
    checked afterwards by the routing engine, like a submission.
    """
    if not isinstance(changes, Mapping) or not changes:
        raise CaseError([FieldError("changes", 'must name at least one answer to change, e.g. {"never_event": false}')])
    new = json.loads(json.dumps(report, default=str))  # a deep copy of plain JSON values
    errors: list[FieldError] = []
    changed: dict[str, tuple[Any, Any]] = {}
    for name, value in changes.items():
        if not isinstance(name, str) or name not in AMENDABLE_FIELDS:
            errors.append(FieldError(str(name), "is not an answer that can be amended (use the report's dotted names)"))
            continue
        if isinstance(value, (Mapping, list)) and name != "gestation":
            errors.append(FieldError(name, "must be a single value (true, false, a number, text or null)"))
            continue
        if name == "incident_known_date" and value in (None, ""):
            errors.append(FieldError(name, "cannot be cleared: it is the date the deadlines count from"))
            continue
        head, _, tail = name.partition(".")
        before = _get(new, name)
        if tail:
            inner = new.get(head)
            if head == "baby" and not isinstance(inner, Mapping):
                errors.append(FieldError(name, "cannot be set: the report has no baby outcome"))
                continue
            if not isinstance(inner, dict):
                inner = new[head] = {}
            if value is None:
                inner.pop(tail, None)
            else:
                inner[tail] = value
        elif value is None:
            new.pop(name, None)
        else:
            new[name] = value
        if not _same(before, value):
            changed[name] = (before, value)
    if errors:
        raise CaseError(errors)
    return new, changed


def _stored_report(case: HarmCase) -> dict[str, Any]:
    """The case's report with the awareness date pinned (cases submitted before it was always stored
    used the day of submission), so re-routing counts from the same clock as the first routing."""
    data = json.loads(case.report)
    if not data.get("incident_known_date") and case.submitted_at is not None:
        data["incident_known_date"] = case.submitted_at.date().isoformat()
    return data


def _route_row(case_id: int, route_id: str, deadlines: Mapping[str, str], actor: str) -> HarmRoute:
    dates = [dt.date.fromisoformat(d) for d in deadlines.values()]
    return HarmRoute(
        report_id=case_id,
        route_id=route_id,
        status="due",
        deadlines=json.dumps(dict(deadlines)),
        next_due=min(dates) if dates else None,
        updated_by=actor,
        updated_at=utcnow(),
    )


def amend(
    settings: Settings,
    access: Access,
    case_id: int,
    changes: Mapping[str, Any],
    *,
    today: dt.date | None = None,
    options: RoutingOptions | None = None,
) -> AmendResult:
    """Change answers of a submitted report (a pending unknown resolved, a judgement made) and re-route.

    ``changes`` is ``{dotted field name: new value}`` (``null`` = not known). The amended report is
    validated and routed like a submission (:class:`HarmReportError`, nothing saved); deadlines
    are counted from the dates in the report (birth, death, the day the trust became aware), not
    from the amendment, so a route that now applies may be overdue at once, as it should be.
    Re-routing uses the current rule set (the only one the code has) and the case's ``ruleset``
    is updated. In one transaction: the new report and routing, new routes (due), routes no longer
    required (due → not applicable with the reason; done kept as done, noted in the trail), moved
    deadlines, the birth-record link if its fields changed, a trail row per answer and per route
    change, and the app audit event (ids and field names only). No answer changed, nothing written.
    """
    day = today or dt.date.today()
    actor = access.user.email
    with transaction(settings.database_url) as session:
        case = _editable_case(session, access, case_id)
        current = _stored_report(case)
        new_report, changed = apply_changes(current, changes)
        if not changed:
            return AmendResult(case.id)
        text = _report_text(new_report)
        parsed, result = validate(new_report, None, day, options)[:2]
        link: tuple[str | None, str] | None = None
        if any(name in LINK_FIELDS for name in changed):
            link = link_record(settings, case.trust_code, parsed)
        old_routing = json.loads(case.routing) if case.routing else {}
        before_routes = [r["id"] for r in old_routing.get("routes", [])]
        old_ruleset = case.ruleset

        case.report, case.routing, case.ruleset = text, json.dumps(result, default=str), result["ruleset"]
        case.event_date, case.updated_at = _event_date(parsed), utcnow()
        label = "answer" if len(changed) == 1 else "answers"
        because = f"{label} changed: " + ", ".join(ANSWER_LABELS.get(name, name) for name in changed)
        for name, (before, after) in changed.items():
            what = f"Answer: {ANSWER_LABELS.get(name, name)}"
            _change(session, case.id, actor, "answer.changed", what, {name: before}, {name: after})
        session.flush()
        _checkpoint("after_amended_report_flushed")

        rows = {r.route_id: r for r in session.scalars(select(HarmRoute).where(HarmRoute.report_id == case.id))}
        required = {entry["id"]: entry["deadlines"] for entry in result["routes"]}
        added: list[str] = []
        ended: list[str] = []
        moved: list[str] = []
        for route_id in ROUTE_IDS:
            row, title = rows.get(route_id), ROUTE_TITLES.get(route_id, route_id)
            if route_id in required:
                deadlines = required[route_id]
                if row is None:
                    session.add(_route_row(case.id, route_id, deadlines, actor))
                    added.append(route_id)
                    after = {"status": "due", "deadlines": deadlines, "because": because}
                    _change(session, case.id, actor, "route.added", title, None, after)
                    continue
                before = {**_route_state(row), "deadlines": json.loads(row.deadlines)}
                reopen = row.status == "not_applicable" and (row.reason or "").startswith(AMENDED_REASON)
                if reopen:
                    row.status, row.reason = "due", None
                    added.append(route_id)
                if json.loads(row.deadlines) != deadlines:
                    dates = [dt.date.fromisoformat(d) for d in deadlines.values()]
                    row.deadlines, row.next_due = json.dumps(deadlines), min(dates) if dates else None
                    moved.append(route_id)
                if reopen or route_id in moved:
                    row.updated_by, row.updated_at = actor, utcnow()
                    after = {**_route_state(row), "deadlines": deadlines}
                    action = "route.applies_again" if reopen else "route.deadlines_changed"
                    _change(session, case.id, actor, action, title, before, after, sensitive=bool(before["reason"]))
            elif row is not None and route_id in before_routes:
                ended.append(route_id)
                if row.status == "due":
                    before = _route_state(row)
                    row.status = "not_applicable"
                    row.reason = f"{AMENDED_REASON} ({because})."
                    row.updated_by, row.updated_at = actor, utcnow()
                    _change(
                        session,
                        case.id,
                        actor,
                        "route.not_applicable",
                        title,
                        before,
                        _route_state(row),
                        sensitive=True,
                    )
                else:
                    state = _route_state(row)
                    _change(
                        session,
                        case.id,
                        actor,
                        "route.no_longer_applies",
                        title,
                        {"applies": True, "status": row.status},
                        {"applies": False, "status": row.status, "because": because},
                        sensitive=bool(state["reason"]),
                    )
        if link is not None and link != (case.linked_record_id, case.link_status):
            _change(
                session,
                case.id,
                actor,
                "birth_record.relinked",
                "Birth record link",
                {"status": case.link_status, "record": case.linked_record_id},
                {"status": link[1], "record": link[0]},
                sensitive=True,
            )
            case.linked_record_id, case.link_status = link
        after_routes = [r["id"] for r in result["routes"]]
        _change(
            session,
            case.id,
            actor,
            "report.rerouted",
            "Routing after amendment",
            {"routes": before_routes, "ruleset": old_ruleset},
            {"routes": after_routes, "ruleset": result["ruleset"], "pending": [p["field"] for p in result["pending"]]},
        )
        session.flush()
        _checkpoint("after_amended_routes_flushed")
        audit(
            session,
            actor,
            "harm.amended",
            "harm_report",
            str(case.id),
            trust=case.trust_code,
            fields=list(changed),
            added=added,
            no_longer_applies=ended,
        )
        return AmendResult(case.id, tuple(changed), tuple(added), tuple(ended), tuple(moved))


# --------------------------------------------------------------------------------------
# Overdue check and notifications
# --------------------------------------------------------------------------------------


def overdue_check(url: str, today: dt.date | None = None) -> int:
    """Notify each owning trust once per route and deadline that is past and not done.

    Run daily (any number of times: a route gets one notification per missed deadline, enforced
    by a unique key; a route reopened or re-dated that goes overdue again is notified again).
    Messages name the case number and route only, never the patient. Returns how many were made.
    """
    day = today or dt.date.today()
    for _attempt in range(3):
        try:
            with transaction(url) as session:
                due = session.execute(
                    select(HarmRoute.report_id, HarmRoute.route_id, HarmRoute.next_due, HarmCase.trust_code)
                    .join(HarmCase, HarmCase.id == HarmRoute.report_id)
                    .where(HarmCase.status == "submitted", HarmRoute.status == "due", HarmRoute.next_due < day)
                ).all()
                done = set(
                    session.execute(
                        select(HarmNotification.report_id, HarmNotification.route_id, HarmNotification.due_on).where(
                            HarmNotification.kind == "overdue"
                        )
                    ).all()
                )
                made = 0
                for report_id, route_id, next_due, trust in due:
                    if next_due is None or (report_id, route_id, next_due) in done:  # None: never, by the query
                        continue
                    title = ROUTE_TITLES.get(route_id, route_id)
                    session.add(
                        HarmNotification(
                            org_code=trust,
                            report_id=report_id,
                            route_id=route_id,
                            kind="overdue",
                            due_on=next_due,
                            message=f"Harm report {report_id}: {title} was due by {next_due.isoformat()} "
                            "and is not done.",
                            created_at=utcnow(),
                        )
                    )
                    made += 1
                if made:
                    audit(session, "system", "harm.overdue_check", "harm_notifications", "-", created=made)
                return made
        except IntegrityError:  # another check ran at the same moment: look again
            continue
    return 0


def mark_notifications_read(url: str, access: Access, ids: list[int] | None = None) -> int:
    """Mark the user's organisation's notifications read (all, or ``ids``); returns how many."""
    with transaction(url) as session:
        query = select(HarmNotification).where(
            HarmNotification.org_code == access.user.org_code, HarmNotification.read_at.is_(None)
        )
        if ids is not None:
            query = query.where(HarmNotification.id.in_(ids))
        rows = list(session.scalars(query))
        now = utcnow()
        for row in rows:
            row.read_at, row.read_by = now, access.user.email
        return len(rows)


assert set(ROUTE_TITLES) == set(ROUTE_IDS)
