"""Route a harm report: which national and local bodies it goes to, by when, and what is still unknown.

:func:`route` validates the report (:mod:`matneo.harm.report`), applies the rule set
(:mod:`matneo.harm.rules`, each rule citing its source) and dates the
deadlines (:mod:`matneo.harm.calendar`).

Unknown values. A field left ``null`` is never taken as "no". For each rule the router tries
every value of the rule's unknown fields (gestation and birthweight by the bands between the
rules' thresholds): a rule that holds whatever the unknown values are applies; one that holds for
some values only is *pending*, and every unknown field that can tip it is listed under
``pending`` with what it would change. Resolving an unknown only ever adds routes, with one
exception by design: while gestation is unknown, MBRRACE-UK and PMRT eligibility is decided by
birthweight (MBRRACE-UK, PMRT), and a gestation entered later takes its place.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from matneo.harm.calendar import CalendarRangeError
from matneo.harm.report import (
    CAUSE_CLASSIFICATION,
    COOLING,
    MODE_OF_BIRTH,
    FieldError,
    Gestation,
    HarmReport,
    HarmReportError,
    any_death,
    parse_report,
)
from matneo.harm.rules import (
    EXCLUSIONS,
    ROUTE_IDS,
    ROUTE_TITLES,
    RULES,
    RULESET_VERSION,
    Deadline,
    Period,
    RoutingOptions,
    Rule,
    Timescale,
    timescale_kind,
)

__all__ = ["FIELD_LABELS", "UNKNOWN_VALUES", "route", "route_report", "unknown_fields"]

_BOOL = ((True, "yes"), (False, "no"))


def _words(values: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    return tuple((v, v.replace("_", " ")) for v in values)


#: The values tried for each field that may be unknown, with how each is described. Gestation and
#: birthweight are tried once per band between the rules' thresholds (20+0, 22+0, 24+0, 37+0;
#: MBRRACE-UK 400 g; PMRT over 500 g), which covers every outcome the rules can give.
UNKNOWN_VALUES: Mapping[str, tuple[tuple[Any, str], ...]] = {
    "gestation": (
        (Gestation(19, 6), "under 20+0"),
        (Gestation(20, 0), "20+0 to 21+6"),
        (Gestation(22, 0), "22+0 to 23+6"),
        (Gestation(24, 0), "24+0 to 36+6"),
        (Gestation(37, 0), "37+0 or more"),
    ),
    "mode_of_birth": _words(MODE_OF_BIRTH),
    "notifiable_safety_incident": _BOOL,
    "never_event": _BOOL,
    "death_likely_due_to_problems_in_care": _BOOL,
    "baby.fetal_death_timing": (("antepartum", "died before labour"), ("intrapartum", "alive at the start of labour")),
    "baby.received_neonatal_care": _BOOL,
    "baby.birthweight_g": ((399, "under 400 g"), (400, "400 g to 500 g"), (501, "over 500 g")),
    "baby.therapeutic_cooling": tuple((c, f"{c} cooling" if c != "none" else "no cooling") for c in COOLING),
    "baby.hie_grade": tuple((g, f"grade {g}") for g in range(4)),
    "baby.decreased_central_tone": _BOOL,
    "baby.comatose": _BOOL,
    "baby.seizures": _BOOL,
    "baby.moderate_severe_encephalopathy": _BOOL,
    "baby.mri_evidence_hypoxic_injury": _BOOL,
    "baby.outcome_due_to_congenital_condition": _BOOL,
    "mother.cause_classification": _words(CAUSE_CLASSIFICATION),
}

#: Plain-English names of the fields that may be unknown (used in ``pending``).
FIELD_LABELS: Mapping[str, str] = {
    "gestation": "Gestation at birth",
    "mode_of_birth": "Mode of birth",
    "notifiable_safety_incident": "Whether this is a notifiable safety incident (Duty of Candour judgement)",
    "never_event": "Whether this is a Never Event",
    "death_likely_due_to_problems_in_care": "Whether the death was more likely than not due to problems in care "
    "(Learning from Deaths judgement)",
    "baby.fetal_death_timing": "Whether the baby died before labour (antepartum) or was alive at the start of "
    "labour (intrapartum)",
    "baby.received_neonatal_care": "Whether the baby received neonatal care",
    "baby.birthweight_g": "Birthweight (used because gestation is not known)",
    "baby.therapeutic_cooling": "Therapeutic cooling",
    "baby.hie_grade": "HIE grade",
    "baby.decreased_central_tone": "Decreased central tone in the first 7 days",
    "baby.comatose": "Coma in the first 7 days",
    "baby.seizures": "Seizures in the first 7 days",
    "baby.moderate_severe_encephalopathy": "Moderate–severe encephalopathy in the first 7 days",
    "baby.mri_evidence_hypoxic_injury": "MRI evidence of hypoxic brain injury",
    "baby.outcome_due_to_congenital_condition": "Whether the outcome was caused by a congenital condition or health "
    "issue present before or at birth",
    "mother.cause_classification": "Cause of the mother's death (direct, indirect, suicide, accidental, coincidental)",
}

_LIVE_BIRTH_UNKNOWNS = (
    "baby.received_neonatal_care",
    "baby.therapeutic_cooling",
    "baby.hie_grade",
    "baby.decreased_central_tone",
    "baby.comatose",
    "baby.seizures",
    "baby.moderate_severe_encephalopathy",
    "baby.mri_evidence_hypoxic_injury",
)


def unknown_fields(report: HarmReport) -> tuple[str, ...]:
    """The fields that apply to this report but are not known yet, in :data:`UNKNOWN_VALUES` order."""
    baby, mother = report.baby, report.mother
    values: dict[str, Any] = {
        "notifiable_safety_incident": report.notifiable_safety_incident,
        "never_event": report.never_event,
    }
    if any_death(report):
        values["death_likely_due_to_problems_in_care"] = report.death_likely_due_to_problems_in_care
    if baby is not None:
        values["gestation"] = report.gestation
        values["mode_of_birth"] = report.mode_of_birth
        values["baby.outcome_due_to_congenital_condition"] = baby.outcome_due_to_congenital_condition
        if report.gestation is None:
            # Birthweight is used only when gestation is unknown (MBRRACE-UK, PMRT).
            values["baby.birthweight_g"] = baby.birthweight_g
        if baby.signs_of_life_at_birth:
            values.update({name: getattr(baby, name.split(".")[1]) for name in _LIVE_BIRTH_UNKNOWNS})
        else:
            values["baby.fetal_death_timing"] = baby.fetal_death_timing
    if mother.died:
        values["mother.cause_classification"] = mother.cause_classification
    return tuple(name for name in UNKNOWN_VALUES if name in values and values[name] is None)


# --------------------------------------------------------------------------------------
# Evaluating rules over the unknown values
# --------------------------------------------------------------------------------------

State = Literal["yes", "no", "maybe"]


@dataclass
class _Status:
    """Whether a rule (or route) applies; for ``maybe``, the unknown fields that can tip it.

    ``tipping`` maps each such field to the labels of the values that on their own make it apply
    (empty when it also depends on other unknown fields).
    """

    state: State
    tipping: dict[str, list[str]] = field(default_factory=dict)


def _evaluate(rule: Rule, report: HarmReport, options: RoutingOptions, unknown: tuple[str, ...]) -> _Status:
    fields = [name for name in rule.reads if name in unknown]
    if not fields:
        return _Status("yes" if rule.condition(report, options) else "no")
    outcomes: dict[tuple[int, ...], bool] = {}

    def explore(current: HarmReport, depth: int, picked: tuple[int, ...]) -> None:
        if depth == len(fields):
            outcomes[picked] = rule.condition(current, options)
            return
        name = fields[depth]
        for index, (value, _) in enumerate(UNKNOWN_VALUES[name]):
            explore(current.with_value(name, value), depth + 1, (*picked, index))

    explore(report, 0, ())
    if all(outcomes.values()):
        return _Status("yes")
    if not any(outcomes.values()):
        return _Status("no")
    status = _Status("maybe")
    for position, name in enumerate(fields):
        if _tips(outcomes, position):
            domain = UNKNOWN_VALUES[name]
            status.tipping[name] = [
                label
                for index, (_, label) in enumerate(domain)
                if all(result for picked, result in outcomes.items() if picked[position] == index)
            ]
    return status


def _tips(outcomes: Mapping[tuple[int, ...], bool], position: int) -> bool:
    """True if changing only the field at ``position`` changes the outcome for some values of the others."""
    seen: dict[tuple[int, ...], bool] = {}
    for picked, result in outcomes.items():
        rest = picked[:position] + picked[position + 1 :]
        if rest in seen and seen[rest] != result:
            return True
        seen.setdefault(rest, result)
    return False


def _combine(statuses: Iterable[_Status]) -> _Status:
    """A route applies if any of its rules does; it is pending if none does and some may."""
    statuses = list(statuses)
    if any(s.state == "yes" for s in statuses):
        return _Status("yes")
    combined = _Status("no")
    for status in statuses:
        if status.state == "maybe":
            combined.state = "maybe"
            for name, labels in status.tipping.items():
                merged = combined.tipping.setdefault(name, [])
                merged.extend(label for label in labels if label not in merged)
    return combined


# --------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------


def route(report: Mapping[str, Any], options: RoutingOptions | None = None, today: dt.date | None = None) -> dict:
    """Route one harm report.

    ``report`` uses the field names of :mod:`matneo.harm.report` (see
    ``docs/harm-routing.md``). ``today`` (default: the system date) is the default
    ``incident_known_date`` and the latest date a report may contain.

    Returns ``{"ruleset", "routes", "pending", "not_routed"}``; raises :class:`HarmReportError`
    (a ``ValueError`` listing every problem) for a report that cannot be routed.
    """
    day = today if today is not None else dt.date.today()
    return route_report(parse_report(report, day), options or RoutingOptions())


def route_report(report: HarmReport, options: RoutingOptions) -> dict:
    """Route an already validated report (see :func:`route`)."""
    unknown = unknown_fields(report)
    enabled = [rule for rule in RULES if options.rule_enabled(rule)]
    rule_status = {rule.id: _evaluate(rule, report, options, unknown) for rule in enabled}
    route_status = {rid: _combine(rule_status[r.id] for r in enabled if r.route == rid) for rid in ROUTE_IDS}
    # The rules a route would have from its own criteria, before exclusions, for the not_routed notes.
    own_status = dict(route_status)
    excluded_because: dict[str, list[str]] = {}
    for exclusion in EXCLUSIONS:
        route_status[exclusion.route] = _apply_exclusion(
            route_status[exclusion.route], route_status[exclusion.excluded_by], exclusion.excluded_by
        )
        if route_status[exclusion.excluded_by].state == "maybe":
            excluded_because.setdefault(exclusion.route, []).append(exclusion.excluded_by)

    routes = [
        _route_entry(rid, [r for r in enabled if r.route == rid and rule_status[r.id].state == "yes"], report, options)
        for rid in ROUTE_IDS
        if route_status[rid].state == "yes"
    ]
    return {
        "ruleset": RULESET_VERSION,
        "routes": routes,
        "pending": _pending(unknown, route_status, excluded_because),
        "not_routed": _not_routed(report, options, unknown, own_status, route_status),
    }


def _apply_exclusion(status: _Status, excluder: _Status, excluder_id: str) -> _Status:
    """PSIRF: an MNSI case gets no local PSII; pending while the excluding route is pending."""
    if status.state == "no" or excluder.state == "no":
        return status
    if excluder.state == "yes":
        return _Status("no")
    # Both possible: the route is pending on its own unknowns and on the excluding route's.
    tipping: dict[str, list[str]] = {name: [] for name in excluder.tipping}
    tipping.update({name: [] for name in status.tipping})
    return _Status("maybe", tipping)


def _reason(rule: Rule) -> dict:
    return {
        "rule": rule.id,
        "text": rule.text,
        "source": rule.source,
        "confidence": str(rule.confidence),
        "needs_local_confirmation": rule.needs_local_confirmation,
    }


def _route_entry(route_id: str, fired: list[Rule], report: HarmReport, options: RoutingOptions) -> dict:
    deadlines: list[Deadline] = []
    for rule in fired:
        deadlines.extend(d for d in rule.deadlines if d not in deadlines)
    dates: dict[str, dt.date | None] = {}
    details = []
    for deadline in deadlines:
        period = options.period(deadline)
        due = _due_date(deadline, period, report, dates)
        dates[deadline.id] = due
        details.append(
            {
                "name": deadline.name,
                "label": deadline.label,
                "kind": timescale_kind(period),
                "due": due.isoformat() if due else None,
                "rule": deadline.rule_text(period),
                "text": deadline.text + (f" {deadline.conflict}" if deadline.conflict else ""),
                "source": deadline.source,
                "confidence": str(deadline.confidence),
                "needs_local_confirmation": deadline.needs_local_confirmation,
            }
        )
    return {
        "id": route_id,
        "reasons": [_reason(rule) for rule in fired],
        "deadlines": {d["name"]: d["due"] for d in details if d["due"] is not None},
        "deadline_details": details,
    }


def _clock(report: HarmReport, clock: str, earlier: Mapping[str, dt.date | None]) -> tuple[str, dt.date | None]:
    """The field a deadline counts from and its date (the clock starts at the death, birth or incident)."""
    baby, mother = report.baby, report.mother
    if clock == "incident_known_date":
        return clock, report.incident_known_date
    if clock == "baby.birth_date":
        return clock, baby.birth_date if baby else None
    if clock == "baby.death":
        if baby is None:
            return "baby.birth_date", None
        if baby.signs_of_life_at_birth:
            return "baby.death_date", baby.death_date
        return "baby.birth_date", baby.birth_date
    if clock == "mother.death_date":
        return clock, mother.death_date
    return clock, earlier.get(clock)


def _due_date(
    deadline: Deadline, period: Timescale | None, report: HarmReport, earlier: Mapping[str, dt.date | None]
) -> dt.date | None:
    """The due date; none for "as soon as possible", for no timescale, or while the clock's date is unknown."""
    field_name, start = _clock(report, deadline.clock, earlier)
    if not isinstance(period, Period) or start is None:
        return None
    try:
        return period.after(start)
    except CalendarRangeError as exc:
        raise HarmReportError([FieldError(field_name, f"deadline {deadline.id} cannot be dated: {exc}")]) from None


def _pending(
    unknown: tuple[str, ...], route_status: Mapping[str, _Status], excluded_because: Mapping[str, list[str]]
) -> list[dict]:
    items = []
    for name in unknown:
        routes = [rid for rid in ROUTE_IDS if route_status[rid].state == "maybe" and name in route_status[rid].tipping]
        if not routes:
            continue
        sentences = []
        together = []
        excluded = []
        for rid in routes:
            labels = route_status[rid].tipping[name]
            if labels:
                sentences.append(f"if {' or '.join(labels)}, {ROUTE_TITLES[rid]} applies")
            elif rid in excluded_because:
                excluders = " or ".join(ROUTE_TITLES[e] for e in excluded_because[rid])
                excluded.append(f"it could add {ROUTE_TITLES[rid]} (only if {excluders} does not apply)")
            else:
                together.append(ROUTE_TITLES[rid])
        if together:
            sentences.append(f"together with the other unknown answers it could add {' or '.join(together)}")
        sentences.extend(excluded)
        why = f"{FIELD_LABELS[name]} is not known: " + "; ".join(sentences) + "."
        items.append({"field": name, "why": why, "routes": routes})
    return items


def _not_routed(
    report: HarmReport,
    options: RoutingOptions,
    unknown: tuple[str, ...],
    own_status: Mapping[str, _Status],
    route_status: Mapping[str, _Status],
) -> list[dict]:
    """Rules that hold but are switched off, and routes dropped by an exclusion: shown, never silent."""
    notes = []
    for rule in RULES:
        if options.rule_enabled(rule) or route_status[rule.route].state == "yes":
            continue
        if _evaluate(rule, report, options, unknown).state == "yes":
            notes.append(
                {
                    "route": rule.route,
                    "rule": rule.id,
                    "why": f"Switched off in the routing options. {rule.text}",
                    "source": rule.source,
                    "confidence": str(rule.confidence),
                    "needs_local_confirmation": rule.needs_local_confirmation,
                }
            )
    for exclusion in EXCLUSIONS:
        if own_status[exclusion.route].state == "yes" and route_status[exclusion.route].state == "no":
            notes.append(
                {
                    "route": exclusion.route,
                    "rule": exclusion.id,
                    "why": f"Excluded because {ROUTE_TITLES[exclusion.excluded_by]} applies. {exclusion.text}",
                    "source": exclusion.source,
                    "confidence": str(exclusion.confidence),
                    "needs_local_confirmation": exclusion.confidence == "UNCONFIRMED",
                }
            )
    return notes
