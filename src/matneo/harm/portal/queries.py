"""Reading harm cases, scoped by construction.

Every query starts from the user's :class:`~matneo.auth.access.Access`:

* a case outside the user's scope, or another trust's draft, does not exist for them
  (:class:`~matneo.harm.portal.CaseNotFound`, shown as 404, so case numbers reveal nothing);
* patient identifiers (NHS number, patient label, linked birth record) and free text (family
  contact summaries, Duty of Candour notes, not-applicable reasons, attachment names, the values
  of sensitive trail rows) are read only for the owning trust's staff; everyone else gets
  ``None`` and ``identifiers_hidden: true``;
* the per-trust summary for LMNS, regional and national users is counts only.

"Overdue" is derived, never stored: a route that is still due after its earliest deadline.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from matneo.auth.access import Access
from matneo.db.models import (
    HarmAttachment,
    HarmCandourStep,
    HarmCase,
    HarmChange,
    HarmFamilyContact,
    HarmNotification,
    HarmRoute,
)
from matneo.db.session import transaction
from matneo.harm.portal.common import (
    CANDOUR_STEPS,
    CONTACT_METHODS,
    CaseNotFound,
    can_edit,
    is_reference,
    sees_identifiers,
)
from matneo.harm.rules import ROUTE_IDS, ROUTE_TITLES

__all__ = ["case_detail", "display_status", "load_case", "queue"]

STATUS_LABELS = {"due": "Due", "overdue": "Overdue", "done": "Done", "not_applicable": "Not applicable"}
QUEUE_LIMIT = 200


def display_status(row: HarmRoute, today: dt.date) -> str:
    """due | overdue | done | not_applicable."""
    if row.status == "due" and row.next_due is not None and row.next_due < today:
        return "overdue"
    return row.status


def load_case(session: Session, access: Access, case_id: int) -> HarmCase:
    """The case if the user may see it at all; :class:`CaseNotFound` otherwise."""
    case = session.get(HarmCase, case_id)
    if case is None or not access.in_scope(case.trust_code):
        raise CaseNotFound(f"There is no harm report {case_id} in your organisation's scope.")
    if case.status == "draft" and not can_edit(access, case.trust_code):
        raise CaseNotFound(f"There is no harm report {case_id} in your organisation's scope.")
    return case


def _iso(value: dt.date | dt.datetime | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="seconds")
    return value.isoformat()


def _trust_name(access: Access, code: str) -> str:
    try:
        return access.hierarchy.get(code).name
    except KeyError:
        return code


def _reference(value: str | None, owner: bool) -> str | None:
    """A route's reference; for anyone but the owning trust, only if it is reference-shaped.

    References are checked on input (:func:`matneo.harm.portal.is_reference`); one stored before
    that check may be free text, which is the owning trust's only, like other free text.
    """
    return value if owner or is_reference(value) else None


def _change_values(text: str | None, owner: bool, sensitive: bool) -> dict[str, Any] | None:
    if not text or (sensitive and not owner):
        return None
    values = json.loads(text)
    if isinstance(values, dict) and "reference" in values:
        values["reference"] = _reference(values["reference"], owner)
    return values


def _route_dict(
    row: HarmRoute, today: dt.date, owner: bool, reasons: dict[str, list[dict]], details: dict[str, list[dict]]
) -> dict[str, Any]:
    shown = display_status(row, today)
    return {
        "route_id": row.route_id,
        "title": ROUTE_TITLES.get(row.route_id, row.route_id),
        "status": row.status,
        "display_status": shown,
        "status_label": STATUS_LABELS[shown],
        "deadlines": json.loads(row.deadlines),
        "next_due": _iso(row.next_due),
        "reference": _reference(row.reference, owner),
        "done_on": _iso(row.done_on),
        "reason": row.reason if owner else None,
        "updated_by": row.updated_by,
        "updated_at": _iso(row.updated_at),
        "why": [r["text"] for r in reasons.get(row.route_id, [])],
        # Every deadline with its kind (dated, "as soon as possible", or none yet), when the routing has it.
        "deadline_details": [
            {key: d.get(key) for key in ("name", "label", "kind", "due")} for d in details.get(row.route_id, [])
        ],
    }


def case_detail(url: str, access: Access, case_id: int, today: dt.date | None = None) -> dict[str, Any]:
    """Everything the case page shows, with identifiers and free text for the owning trust only."""
    day = today or dt.date.today()
    with transaction(url) as session:
        case = load_case(session, access, case_id)
        owner = sees_identifiers(access, case.trust_code)
        routing = json.loads(case.routing) if case.routing else {}
        reasons = {r["id"]: r["reasons"] for r in routing.get("routes", [])}
        details = {r["id"]: r.get("deadline_details", []) for r in routing.get("routes", [])}
        order = {rid: i for i, rid in enumerate(ROUTE_IDS)}
        routes = sorted(
            session.scalars(select(HarmRoute).where(HarmRoute.report_id == case.id)),
            key=lambda r: order.get(r.route_id, 99),
        )
        contacts = session.scalars(
            select(HarmFamilyContact)
            .where(HarmFamilyContact.report_id == case.id)
            .order_by(HarmFamilyContact.contacted_on, HarmFamilyContact.id)
        ).all()
        steps = {
            s.step: s for s in session.scalars(select(HarmCandourStep).where(HarmCandourStep.report_id == case.id))
        }
        attachments = session.scalars(
            select(HarmAttachment).where(HarmAttachment.report_id == case.id).order_by(HarmAttachment.id)
        ).all()
        changes = session.scalars(
            select(HarmChange).where(HarmChange.report_id == case.id).order_by(HarmChange.id)
        ).all()
        route_ids = {r.route_id for r in routes}
        from matneo.reviews.models import Review

        review_id = session.scalars(select(Review.id).where(Review.harm_report_id == case.id)).first()
        return {
            "review_id": review_id,  # the perinatal mortality review this report opened (PMRT route)
            "id": case.id,
            "trust_code": case.trust_code,
            "trust_name": _trust_name(access, case.trust_code),
            "status": case.status,
            "ruleset": case.ruleset,
            "created_by": case.created_by,
            "created_at": _iso(case.created_at),
            "updated_at": _iso(case.updated_at),
            "submitted_at": _iso(case.submitted_at),
            "event_date": _iso(case.event_date),
            "can_edit": can_edit(access, case.trust_code),
            "identifiers_hidden": not owner,
            "patient": {"nhs_number": case.nhs_number, "label": case.patient_label} if owner else None,
            "birth_record": {
                "status": case.link_status,
                "record_id": case.linked_record_id if owner else None,
            },
            "report": json.loads(case.report),
            "pending": routing.get("pending", []),
            "not_routed": routing.get("not_routed", []),
            "routes": [_route_dict(r, day, owner, reasons, details) for r in routes],
            "family_contacts": [
                {
                    "on": _iso(c.contacted_on),
                    "method": c.method,
                    "method_label": CONTACT_METHODS.get(c.method, c.method),
                    "by": c.by if owner else None,
                    "summary": c.summary if owner else None,
                    "recorded_by": c.recorded_by,
                }
                for c in contacts
            ],
            "candour_applies": "DUTY_OF_CANDOUR" in route_ids,
            "candour_steps": [
                {
                    "step": step,
                    "label": label,
                    "done_on": _iso(steps[step].done_on) if step in steps else None,
                    "by": steps[step].by if step in steps and owner else None,
                    "note": steps[step].note if step in steps and owner else None,
                }
                for step, label in CANDOUR_STEPS.items()
            ],
            "attachments": [
                {
                    "id": a.id,
                    "file_name": a.file_name if owner else None,
                    "description": a.description if owner else None,
                    "added_by": a.added_by,
                    "added_at": _iso(a.added_at),
                }
                for a in attachments
            ],
            "changes": [
                {
                    "at": _iso(c.at),
                    "actor": c.actor,
                    "action": c.action,
                    "what": c.what,
                    "before": _change_values(c.before, owner, c.sensitive),
                    "after": _change_values(c.after, owner, c.sensitive),
                    "values_hidden": c.sensitive and not owner,
                }
                for c in changes
            ],
        }


def report_for_edit(url: str, access: Access, case_id: int) -> dict[str, Any]:
    """A draft of the user's own trust, with its identifiers, to continue filling in."""
    with transaction(url) as session:
        case = load_case(session, access, case_id)
        if case.status != "draft" or not can_edit(access, case.trust_code):
            raise CaseNotFound(f"There is no draft harm report {case_id} for your trust.")
        return {
            "id": case.id,
            "report": json.loads(case.report),
            "patient": {"nhs_number": case.nhs_number, "label": case.patient_label},
            "idempotency_key": case.idempotency_key,
        }


def queue(url: str, access: Access, today: dt.date | None = None) -> dict[str, Any]:
    """The work queue: own trust's open cases by next deadline, overdue routes, drafts, notifications;
    per-trust counts and timeliness for every trust in scope (no identifiers, no free text)."""
    day = today or dt.date.today()
    own = access.user.org_code if access.hierarchy.get(access.user.org_code).level == "trust" else None
    trusts = [own] if own else access.trusts_in_scope()
    with transaction(url) as session:
        rows = session.execute(
            select(HarmCase.id, HarmCase.trust_code, HarmCase.submitted_at, HarmCase.event_date, HarmRoute)
            .join(HarmRoute, HarmRoute.report_id == HarmCase.id)
            .where(HarmCase.status == "submitted", HarmCase.trust_code.in_(trusts))
        ).all()
        cases: dict[int, dict[str, Any]] = {}
        overdue: list[dict[str, Any]] = []
        summary: dict[str, dict[str, Any]] = defaultdict(
            lambda: {
                "cases": set(),
                "open_cases": set(),
                "due": 0,
                "overdue": 0,
                "done": 0,
                "done_on_time": 0,
                "not_applicable": 0,
            }
        )
        for case_id, trust, submitted_at, event_date, route in rows:
            shown = display_status(route, day)
            entry = summary[trust]
            entry["cases"].add(case_id)
            if shown in ("due", "overdue"):
                entry["open_cases"].add(case_id)
                entry[shown] += 1
            elif shown == "done":
                entry["done"] += 1
                if route.next_due is None or (route.done_on is not None and route.done_on <= route.next_due):
                    entry["done_on_time"] += 1
            else:
                entry["not_applicable"] += 1
            if shown == "overdue" and route.next_due is not None:  # overdue implies a due date
                overdue.append(
                    {
                        "case_id": case_id,
                        "trust_code": trust,
                        "trust_name": _trust_name(access, trust),
                        "route_id": route.route_id,
                        "title": ROUTE_TITLES.get(route.route_id, route.route_id),
                        "due": _iso(route.next_due),
                        "days_overdue": (day - route.next_due).days,
                    }
                )
            if own and shown in ("due", "overdue"):
                item = cases.setdefault(
                    case_id,
                    {
                        "case_id": case_id,
                        "trust_code": trust,
                        "submitted_at": _iso(submitted_at),
                        "event_date": _iso(event_date),
                        "open_routes": [],
                        "next_due": None,
                        "overdue": False,
                    },
                )
                item["open_routes"].append(route.route_id)
                item["overdue"] = item["overdue"] or shown == "overdue"
                due = _iso(route.next_due)
                if due and (item["next_due"] is None or due < item["next_due"]):
                    item["next_due"] = due
        open_cases = sorted(cases.values(), key=lambda c: (c["next_due"] is None, c["next_due"] or "", c["case_id"]))
        for item in open_cases:
            item["open_routes"].sort(key=lambda rid: ROUTE_IDS.index(rid) if rid in ROUTE_IDS else 99)
        overdue.sort(key=lambda o: (o["due"], o["case_id"]))
        drafts: list[dict[str, Any]] = []
        notifications: list[dict[str, Any]] = []
        if own and can_edit(access, own):
            drafts = [
                {"case_id": c.id, "created_by": c.created_by, "updated_at": _iso(c.updated_at)}
                for c in session.scalars(
                    select(HarmCase)
                    .where(HarmCase.trust_code == own, HarmCase.status == "draft")
                    .order_by(HarmCase.updated_at.desc())
                    .limit(QUEUE_LIMIT)
                )
            ]
        if own:
            notifications = [
                {
                    "id": n.id,
                    "case_id": n.report_id,
                    "route_id": n.route_id,
                    "route_title": ROUTE_TITLES.get(n.route_id, n.route_id),
                    "due_on": _iso(n.due_on),
                    "message": n.message,
                    "created_at": _iso(n.created_at),
                    "read": n.read_at is not None,
                }
                for n in session.scalars(
                    select(HarmNotification)
                    .where(HarmNotification.org_code == own)
                    .order_by(HarmNotification.read_at.is_not(None), HarmNotification.id.desc())
                    .limit(50)
                )
            ]
    per_trust = []
    for trust in sorted(summary):
        entry = summary[trust]
        closed = entry["done"]
        per_trust.append(
            {
                "trust_code": trust,
                "trust_name": _trust_name(access, trust),
                "cases": len(entry["cases"]),
                "open_cases": len(entry["open_cases"]),
                "routes_due": entry["due"],
                "routes_overdue": entry["overdue"],
                "routes_done": closed,
                "routes_done_on_time": entry["done_on_time"],
                "routes_not_applicable": entry["not_applicable"],
                "on_time_percent": round(100 * entry["done_on_time"] / closed, 1) if closed else None,
            }
        )
    return {
        "today": day.isoformat(),
        "trust_code": own,
        "can_report": bool(own and can_edit(access, own)),
        "open_cases": open_cases[:QUEUE_LIMIT],
        "overdue": overdue[:QUEUE_LIMIT],
        "drafts": drafts,
        "notifications": notifications,
        "per_trust": per_trust,
    }
