"""Saving a draft and submitting a report: validated, routed and stored with its routes in one transaction.

Idempotency: a submission may carry an ``idempotency_key``; (trust, key) is unique in the
database, so a repeat, or a concurrent duplicate that loses the race on the unique
constraint, returns the first report's id instead of creating a second.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from matneo.auth.access import Access
from matneo.auth.users import audit
from matneo.config import Settings
from matneo.db.models import HarmCase, HarmRoute, utcnow
from matneo.db.session import transaction
from matneo.db.trail import locked_visible
from matneo.harm.portal import common, linking
from matneo.harm.portal.common import (
    CaseError,
    CaseNotFound,
    Patient,
    _change,
    _check_key,
    _clean_patient,
    _event_date,
    _report_text,
    open_review,
    reporting_trust,
)
from matneo.harm.report import HarmReport, HarmReportError, parse_report
from matneo.harm.routing import route_report
from matneo.harm.rules import RoutingOptions


@dataclass(frozen=True)
class SubmitResult:
    id: int
    status: str  # draft | submitted
    repeat: bool  # True when an earlier submission with the same idempotency key was returned


def _find_by_key(session: Session, trust: str, key: str) -> HarmCase | None:
    query = (
        select(HarmCase)
        .where(HarmCase.trust_code == trust, HarmCase.idempotency_key == key)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return session.scalars(query).first()


def _own_draft(session: Session, trust: str, draft_id: int) -> HarmCase:
    return locked_visible(
        session,
        HarmCase,
        draft_id,
        lambda case: case.trust_code == trust,
        CaseNotFound(f"There is no harm report {draft_id} for your trust."),
    )


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
    record_id, link_status = linking.link_record(settings, trust, parsed)
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
            common._checkpoint("after_report_flushed")
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
            common._checkpoint("after_routes_flushed")
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
            if "PMRT" in routes:
                open_review(session, case, actor)
            return SubmitResult(case.id, "submitted", False)
    except IntegrityError:
        if key is None:
            raise
        return _repeat(url, trust, key)
