"""Amending a submitted report: answers not known at submission are recorded later and the case is routed again.

One transaction with its route changes and trail (``docs/harm-portal.md``, "Amending a case").
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from matneo.auth.access import Access
from matneo.auth.users import audit
from matneo.config import Settings
from matneo.db.models import HarmCase, HarmRoute, utcnow
from matneo.db.session import transaction
from matneo.harm.portal import common, linking
from matneo.harm.portal.common import (
    CaseError,
    _change,
    _editable_case,
    _event_date,
    _report_text,
    _route_state,
    open_review,
)
from matneo.harm.portal.drafts import validate
from matneo.harm.report import ANSWER_LABELS, BABY_FIELDS, GESTATION_FIELDS, MOTHER_FIELDS, TOP_FIELDS, FieldError
from matneo.harm.rules import ROUTE_IDS, ROUTE_TITLES, RoutingOptions


@dataclass(frozen=True)
class AmendResult:
    """What an amendment changed: the answers, and the routes it added, ended or re-dated."""

    id: int
    changed: tuple[str, ...] = ()  # dotted field names whose answer changed ("" when nothing did)
    added: tuple[str, ...] = ()  # routes newly required (added as due, or reopened)
    no_longer_applies: tuple[str, ...] = ()  # routes no longer required (due ones set not_applicable)
    deadlines_changed: tuple[str, ...] = ()  # routes still required whose deadlines moved


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
            link = linking.link_record(settings, case.trust_code, parsed)
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
        common._checkpoint("after_amended_report_flushed")

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
        common._checkpoint("after_amended_routes_flushed")
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
        if "PMRT" in added:
            open_review(session, case, actor)
        return AmendResult(case.id, tuple(changed), tuple(added), tuple(ended), tuple(moved))
