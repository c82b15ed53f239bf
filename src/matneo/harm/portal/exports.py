"""Per-route payloads for the national systems: ready to submit or copy into SPEN, LFPSE or local systems.

There is no live connection. Each payload carries the fields the receiving body asks for, as
described in the bodies' own pages (MNSI "Refer a case to us", NHS Resolution Early Notification,
MBRRACE-UK and PMRT FAQs, PSIRF, LFPSE, CQC regulation 20, child death review guidance: see the
sources in ``docs/harm-routing.md``), plus the case number, deadlines and why the route applies.
The field lists are our reading of those pages, not the bodies' published schemas: they need
local confirmation before live use.

Patient identifiers (NHS number, patient label) are included only for the owning trust's staff;
for anyone else the payload says ``identifiers_withheld: true``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from matneo.auth.access import Access
from matneo.db.models import utcnow
from matneo.harm.portal.common import CaseNotFound
from matneo.harm.portal.queries import case_detail
from matneo.harm.rules import ROUTE_IDS

__all__ = ["DESTINATIONS", "FIELDS", "export_route"]

EXPORT_SCHEMA = "matneo-harm-export/1"

#: Where each route's payload goes (NHS England SPEN home page: SPEN fans out to MNSI, NHSR EN,
#: MBRRACE-UK and CDOP; NHS England LFPSE service page: LFPSE through the trust's risk management system).
DESTINATIONS = {
    "MNSI": "SPEN (Submit a Perinatal Event Notification) → MNSI",
    "NHSR_EN": "SPEN → NHS Resolution Early Notification (claims reporting wizard after MNSI confirms)",
    "MBRRACE_PERINATAL": "SPEN → MBRRACE-UK perinatal surveillance",
    "MBRRACE_MATERNAL": "SPEN → MBRRACE-UK maternal deaths",
    "PMRT": "MBRRACE-UK Perinatal Mortality Review Tool",
    "CDOP": "SPEN → MBRRACE-UK Cascade → Child Death Overview Panel",
    "DUTY_OF_CANDOUR": "Trust record (statutory Duty of Candour, Regulation 20)",
    "LFPSE": "LFPSE via the trust's local risk management system",
    "LOCAL_PSII": "Trust PSIRF plan (locally-led PSII)",
}

_PERINATAL = (
    "gestation",
    "labour",
    "mode_of_birth",
    "multiple_pregnancy",
    "termination_of_pregnancy",
    "baby.birth_date",
    "baby.signs_of_life_at_birth",
    "baby.fetal_death_timing",
    "baby.died",
    "baby.age_at_death_completed_days",
    "baby.death_date",
    "baby.birthweight_g",
    "baby.received_neonatal_care",
    "baby.outcome_due_to_congenital_condition",
)
_BRAIN = (
    "baby.therapeutic_cooling",
    "baby.hie_grade",
    "baby.decreased_central_tone",
    "baby.comatose",
    "baby.seizures",
    "baby.moderate_severe_encephalopathy",
    "baby.mri_evidence_hypoxic_injury",
)
_MOTHER = (
    "mother.died",
    "mother.death_date",
    "mother.death_timing",
    "mother.days_after_end_of_pregnancy",
    "mother.pregnancy_outcome",
    "mother.cause_classification",
)

#: The report fields (names of :mod:`matneo.harm.report`) each body asks for.
FIELDS: dict[str, tuple[str, ...]] = {
    "MNSI": ("incident_known_date", *_PERINATAL, *_BRAIN, *_MOTHER),
    "NHSR_EN": ("incident_known_date", "gestation", "labour", "mode_of_birth", "baby.birth_date", *_BRAIN),
    "MBRRACE_PERINATAL": _PERINATAL,
    "MBRRACE_MATERNAL": ("gestation", "termination_of_pregnancy", *_MOTHER),
    "PMRT": _PERINATAL,
    "CDOP": (
        "gestation",
        "termination_of_pregnancy",
        "baby.birth_date",
        "baby.died",
        "baby.age_at_death_completed_days",
        "baby.death_date",
    ),
    "DUTY_OF_CANDOUR": ("incident_known_date", "notifiable_safety_incident"),
    "LFPSE": (
        "incident_known_date",
        "notifiable_safety_incident",
        "never_event",
        "death_likely_due_to_problems_in_care",
        "baby.died",
        "mother.died",
    ),
    "LOCAL_PSII": ("incident_known_date", "never_event", "death_likely_due_to_problems_in_care"),
}
assert set(FIELDS) == set(ROUTE_IDS) == set(DESTINATIONS)


def _get(report: dict[str, Any], path: str) -> Any:
    value: Any = report
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def export_route(url: str, access: Access, case_id: int, route_id: str, today: dt.date | None = None) -> dict:
    """The payload for one route of one case the user can see (:class:`CaseNotFound` otherwise)."""
    case = case_detail(url, access, case_id, today)
    route = next((r for r in case["routes"] if r["route_id"] == route_id), None)
    if route is None:
        raise CaseNotFound(f"Harm report {case_id} has no route {route_id!r}.")
    report = case["report"]
    references = {r["route_id"]: r["reference"] for r in case["routes"] if r["reference"]}
    payload: dict[str, Any] = {
        "schema": EXPORT_SCHEMA,
        "generated_at": utcnow().isoformat(timespec="seconds") + "Z",
        "route": route_id,
        "title": route["title"],
        "destination": DESTINATIONS[route_id],
        "case_id": case["id"],
        "reporting_organisation": {"code": case["trust_code"], "name": case["trust_name"]},
        "ruleset": case["ruleset"],
        "submitted_at": case["submitted_at"],
        "status": route["status"],
        "reference": route["reference"],
        "deadlines": route["deadlines"],
        "deadline_details": route["deadline_details"],
        "why": route["why"],
        "event": {path: _get(report, path) for path in FIELDS[route_id]},
        "needs_local_confirmation": "Field list from our reading of the body's pages, not its published schema.",
    }
    if route_id in ("NHSR_EN", "PMRT"):
        payload["related_references"] = {k: v for k, v in references.items() if k in ("MNSI", "MBRRACE_PERINATAL")}
    if route_id in ("MNSI", "DUTY_OF_CANDOUR"):
        # MNSI "Refer a case to us": the trust must complete the initial Duty of Candour first.
        payload["duty_of_candour"] = {s["step"]: s["done_on"] for s in case["candour_steps"]}
    if route_id == "PMRT":
        payload["family_contacts"] = len(case["family_contacts"])
    if case["identifiers_hidden"]:
        payload["identifiers_withheld"] = True
    else:
        payload["patient"] = case["patient"]
    return payload
