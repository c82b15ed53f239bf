"""Harm reports in the web app: the report form, the case page, the queue, and their actions.

The form asks only what the routing needs (the routing fields, in plain English) plus two
patient identifiers kept apart from the routing input. Form values are flat (``baby.birth_date``);
:func:`form_to_report` builds the nested report the routing engine reads, and the same
conversion serves the no-JavaScript "Check routes" button and the live preview
(``POST /api/v1/harm-route`` with ``{"form": {...}}``). The actions live in
:mod:`matneo.harm.portal` and the scoped reads in :mod:`matneo.harm.portal.queries`; this module only
adapts them to pages (``CaseNotFound`` → 404, field errors → the form).
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from matneo.auth.access import Access
from matneo.harm import portal
from matneo.harm.portal import (
    CANDOUR_STEPS,
    CHANGE_ACTIONS,
    CONTACT_METHODS,
    CaseError,
    CaseNotFound,
    Patient,
    SubmitResult,
    queries,
)
from matneo.harm.portal.exports import export_route
from matneo.harm.report import (
    ANSWER_LABELS,
    CAUSE_CLASSIFICATION,
    COOLING,
    DEATH_TIMING,
    FETAL_DEATH_TIMING,
    LABOUR,
    MODE_OF_BIRTH,
    PREGNANCY_OUTCOME,
    FieldError,
    HarmReportError,
)
from matneo.harm.routing import FIELD_LABELS
from matneo.harm.rules import DEADLINE_NAMES, ROUTE_TITLES
from matneo.web.display import NOTHING, day, when
from matneo.web.services import NotFound, Services


@contextmanager
def found() -> Iterator[None]:
    """A case the user may not see is simply not there (404), whatever the reason."""
    try:
        yield
    except CaseNotFound as error:
        raise NotFound(str(error)) from None


#: Choices whose own name would not read as an answer.
CHOICE_LABELS = {"none": "No", "unknown": "Not known"}


def _labels(values: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    return tuple((v, CHOICE_LABELS.get(v, v.replace("_", " ").capitalize())) for v in values)


@dataclass(frozen=True)
class FormField:
    """One question of the report form. ``name`` is the report's dotted field name."""

    name: str
    label: str
    kind: str  # date | int | bool | choice | text
    section: str
    choices: tuple[tuple[str, str], ...] = ()
    hint: str = ""

    @property
    def id(self) -> str:
        return "f-" + self.name.replace(".", "-").replace("_", "-")


SECTIONS = {
    "event": "The event",
    "baby": "The baby",
    "mother": "The mother",
    "judgement": "Clinical judgements",
    "patient": "Patient identifiers (seen only by your trust)",
}
_YES_NO = (("yes", "Yes"), ("no", "No"))
FORM_FIELDS: tuple[FormField, ...] = (
    FormField("incident_known_date", "Date the trust became aware", "date", "event", hint="Leave blank for today."),
    FormField("termination_of_pregnancy", "Did the pregnancy end by a termination?", "bool", "event"),
    FormField("multiple_pregnancy", "Multiple pregnancy (twins or more)?", "bool", "event"),
    FormField("gestation.weeks", "Gestation: completed weeks", "int", "event", hint="Leave blank if not known."),
    FormField("gestation.days", "Gestation: extra days (0 to 6)", "int", "event", hint="0 if left blank."),
    FormField("labour", "Labour", "choice", "event", _labels(LABOUR)),
    FormField("mode_of_birth", "Mode of birth", "choice", "event", _labels(MODE_OF_BIRTH)),
    FormField("has_baby", "Is there a baby outcome to report?", "bool", "baby", hint="No for a maternal death only."),
    FormField("baby.birth_date", "Date of birth", "date", "baby"),
    FormField("baby.signs_of_life_at_birth", "Did the baby show signs of life at birth?", "bool", "baby"),
    FormField(
        "baby.fetal_death_timing",
        "If stillborn: when did the baby die?",
        "choice",
        "baby",
        _labels(FETAL_DEATH_TIMING),
        "Antepartum: before labour. Intrapartum: alive at the start of labour.",
    ),
    FormField("baby.died", "Did the baby die?", "bool", "baby"),
    FormField("baby.age_at_death_completed_days", "Age at death in completed days", "int", "baby", hint="0 = day 1."),
    FormField("baby.death_date", "Date of the baby's death", "date", "baby"),
    FormField("baby.birthweight_g", "Birthweight in grams", "int", "baby"),
    FormField("baby.received_neonatal_care", "Did the baby receive neonatal care?", "bool", "baby"),
    FormField("baby.therapeutic_cooling", "Therapeutic cooling", "choice", "baby", _labels(COOLING)),
    FormField("baby.hie_grade", "HIE grade (0 to 3)", "int", "baby"),
    FormField("baby.decreased_central_tone", "Decreased central tone in the first 7 days?", "bool", "baby"),
    FormField("baby.comatose", "Coma in the first 7 days?", "bool", "baby"),
    FormField("baby.seizures", "Seizures in the first 7 days?", "bool", "baby"),
    FormField(
        "baby.moderate_severe_encephalopathy", "Moderate–severe encephalopathy in the first 7 days?", "bool", "baby"
    ),
    FormField("baby.mri_evidence_hypoxic_injury", "MRI evidence of hypoxic brain injury?", "bool", "baby"),
    FormField(
        "baby.outcome_due_to_congenital_condition", "Was the outcome caused by a congenital condition?", "bool", "baby"
    ),
    FormField("mother.died", "Did the mother die?", "bool", "mother"),
    FormField("mother.death_date", "Date of the mother's death", "date", "mother"),
    FormField("mother.death_timing", "When did she die?", "choice", "mother", _labels(DEATH_TIMING)),
    FormField("mother.days_after_end_of_pregnancy", "Days after the end of pregnancy", "int", "mother"),
    FormField("mother.pregnancy_outcome", "Pregnancy outcome", "choice", "mother", _labels(PREGNANCY_OUTCOME)),
    FormField("mother.cause_classification", "Cause of death", "choice", "mother", _labels(CAUSE_CLASSIFICATION)),
    FormField(
        "notifiable_safety_incident",
        "Is this a notifiable safety incident (Duty of Candour)?",
        "bool",
        "judgement",
        hint="Moderate or severe harm, death, or prolonged psychological harm that appears caused by care.",
    ),
    FormField("never_event", "Is this a Never Event?", "bool", "judgement"),
    FormField(
        "death_likely_due_to_problems_in_care",
        "Was a death more likely than not due to problems in care?",
        "bool",
        "judgement",
    ),
    FormField("patient.nhs_number", "NHS number", "text", "patient", hint="10 digits."),
    FormField(
        "patient.label", "Patient label", "text", "patient", hint="For example the mother's name or hospital number."
    ),
)
FIELDS_BY_NAME = {f.name: f for f in FORM_FIELDS}
#: Where the routing engine's whole-object errors are shown on the form.
ERROR_TARGETS = {"baby": "has_baby", "gestation": "gestation.weeks", "mother": "mother.died", "report": "has_baby"}


def _set(data: dict[str, Any], path: str, value: Any) -> None:
    head, _, tail = path.partition(".")
    if tail:
        inner = data.get(head)
        if not isinstance(inner, dict):
            inner = data[head] = {}
        inner[tail] = value
    else:
        data[head] = value


def _form_value(spec: FormField, raw: str) -> Any:
    """A typed value from a form answer; text that does not parse is passed on for the engine to explain."""
    if spec.kind == "bool":
        return {"yes": True, "no": False}.get(raw, raw)
    if spec.kind == "int":
        try:
            return int(raw)
        except ValueError:
            return raw
    return raw


def form_to_changes(form: Mapping[str, Any]) -> dict[str, Any]:
    """The ``{dotted field: value}`` amendment from the case page's "Still unknown" form.

    Blank answers are left out: the page records answers, it does not clear them (the API can,
    with ``null``). Gestation weeks without days count as +0, as on the report form.
    """
    changes: dict[str, Any] = {}
    for spec in FORM_FIELDS:
        raw = str(form.get(spec.name) or "").strip()
        if raw and spec.section != "patient" and spec.name != "has_baby":
            changes[spec.name] = _form_value(spec, raw)
    if "gestation.weeks" in changes:
        changes.setdefault("gestation.days", 0)
    return changes


def form_to_report(form: Mapping[str, Any]) -> tuple[dict[str, Any], Patient]:
    """The nested routing report and the patient identifiers from flat form values.

    Blank answers are left out (unknown). Numbers that do not parse are passed on as text, so the
    routing engine's message says what is wrong with them.
    """
    data: dict[str, Any] = {"mother": {}}
    for spec in FORM_FIELDS:
        raw = str(form.get(spec.name) or "").strip()
        if not raw or spec.section == "patient" or spec.name == "has_baby":
            continue
        _set(data, spec.name, _form_value(spec, raw))
    has_baby = str(form.get("has_baby") or "").strip()
    if has_baby == "no":
        data["baby"] = None
    elif has_baby == "yes" or "baby" in data:
        data.setdefault("baby", {})
    if isinstance(data.get("gestation"), dict):
        data["gestation"].setdefault("days", 0)
    patient = Patient(
        str(form.get("patient.nhs_number") or "").strip() or None, str(form.get("patient.label") or "").strip() or None
    )
    return data, patient


def report_to_form(report: Mapping[str, Any], patient: Mapping[str, Any] | None = None) -> dict[str, str]:
    """Flat form values for a saved report (to continue a draft)."""
    values: dict[str, str] = {}

    def put(name: str, value: Any) -> None:
        if value is None:
            return
        values[name] = {True: "yes", False: "no"}.get(value, str(value)) if isinstance(value, bool) else str(value)

    for key, value in report.items():
        if isinstance(value, Mapping):
            for inner, v in value.items():
                put(f"{key}.{inner}", v)
        else:
            put(key, value)
    if "baby" in report:
        values["has_baby"] = "no" if report["baby"] is None else "yes"
    for key, value in (patient or {}).items():
        put(f"patient.{key}", value)
    return values


def _field_name(error: FieldError) -> str:
    name = ERROR_TARGETS.get(error.field, error.field)
    if name == "idempotency_key":
        return "has_baby"
    if name not in FIELDS_BY_NAME:
        head = name.split(".")[0]
        name = ERROR_TARGETS.get(head, head if head in FIELDS_BY_NAME else "has_baby")
    return name


def _label_of(error: FieldError) -> str:
    spec = FIELDS_BY_NAME.get(error.field)
    return spec.label if spec else ANSWER_LABELS.get(error.field, "The report")


@dataclass
class ReportForm:
    """The report form page: values, field errors, the routing preview, and the draft it edits."""

    title: str
    values: dict[str, str]
    idempotency_key: str
    draft_id: int | None = None
    errors: list[dict[str, str]] = field(default_factory=list)
    preview: dict[str, Any] | None = None
    saved: bool = False

    @property
    def fields(self) -> tuple[FormField, ...]:
        return FORM_FIELDS

    @property
    def sections(self) -> dict[str, str]:
        return SECTIONS

    @property
    def field_errors(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for e in self.errors:
            out.setdefault(e["target"], e["message"])
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "draft_id": self.draft_id,
            "errors": self.errors,
            "preview": self.preview,
            "idempotency_key": self.idempotency_key,
        }


def _errors(errors: list[FieldError]) -> list[dict[str, str]]:
    return [
        {
            "field": e.field,
            "target": _field_name(e),
            "id": FIELDS_BY_NAME[_field_name(e)].id,
            "message": f"{_label_of(e)}: {e.message}",
        }
        for e in errors
    ]


def new_form(services: Services, access: Access, draft_id: int | None = None, saved: bool = False) -> ReportForm:
    """A blank form, or a draft of the user's trust to carry on with."""
    portal.reporting_trust(access)
    if draft_id is None:
        return ReportForm("Report a harm event", {}, secrets.token_urlsafe(16))
    with found():
        draft = queries.report_for_edit(services.settings.database_url, access, draft_id)
    values = report_to_form(draft["report"], draft["patient"])
    key = draft["idempotency_key"] or secrets.token_urlsafe(16)
    return ReportForm(f"Draft harm report {draft_id}", values, key, draft_id, saved=saved)


def _draft_id(form: Mapping[str, Any]) -> int | None:
    raw = str(form.get("draft_id") or "").strip()
    return int(raw) if raw.isdigit() else None


def preview(form_or_report: Mapping[str, Any], *, is_form: bool, today: dt.date | None = None) -> dict[str, Any]:
    """Routes and deadlines for a partial or complete report, without saving: the live preview.

    Always answers: ``valid`` false with ``errors`` while the report is incomplete.
    """
    if is_form:
        report, patient = form_to_report(form_or_report)
    else:
        report, patient = dict(form_or_report), None
    try:
        _, result, _ = portal.validate(report, patient, today or dt.date.today())
    except HarmReportError as error:
        return {"valid": False, "errors": _errors(error.errors), "routes": [], "pending": []}
    routes = [
        {
            "id": r["id"],
            "title": ROUTE_TITLES.get(r["id"], r["id"]),
            "deadlines": [
                {
                    **deadline_words(d),
                    "due": d["due"],
                    "rule": d["rule"],
                    "needs_local_confirmation": d["needs_local_confirmation"],
                }
                for d in r["deadline_details"]
            ],
            "why": [reason["text"] for reason in r["reasons"]],
        }
        for r in result["routes"]
    ]
    return {
        "valid": True,
        "errors": [],
        "ruleset": result["ruleset"],
        "routes": routes,
        "pending": result["pending"],
        "not_routed": result["not_routed"],
    }


def check_form(services: Services, access: Access, form: Mapping[str, Any]) -> ReportForm:
    """ "Check routes" without JavaScript: the same form, with the routes and deadlines or what is missing."""
    portal.reporting_trust(access)
    result = preview(form, is_form=True)
    values = {k: str(v) for k, v in form.items() if k in FIELDS_BY_NAME}
    page = ReportForm("Report a harm event", values, str(form.get("idempotency_key") or secrets.token_urlsafe(16)))
    page.draft_id = _draft_id(form)
    page.errors = result["errors"]
    page.preview = result if result["valid"] else None
    return page


class FormInvalid(Exception):
    """The form must be shown again with its errors (HTTP 400)."""

    def __init__(self, page: ReportForm) -> None:
        self.page = page


def save_form(services: Services, access: Access, form: Mapping[str, Any], action: str) -> SubmitResult:
    """Save the form as a draft or submit it; :class:`FormInvalid` with the page to show again."""
    report, patient = form_to_report(form)
    key = str(form.get("idempotency_key") or "").strip() or None
    try:
        with found():
            if action == "draft":
                return portal.save_draft(
                    services.settings, access, report, patient, draft_id=_draft_id(form), idempotency_key=key
                )
            return portal.submit(
                services.settings, access, report, patient, idempotency_key=key, draft_id=_draft_id(form)
            )
    except (HarmReportError, CaseError) as error:
        page = check_form(services, access, form)
        page.errors = _errors(error.errors)
        page.preview = None
        raise FormInvalid(page) from None


def submit_json(services: Services, access: Access, body: Mapping[str, Any]) -> SubmitResult:
    """``POST /api/v1/harm-reports``: ``{"report", "patient", "idempotency_key", "draft", "draft_id"}``."""
    patient_raw = body.get("patient") or {}
    patient = Patient(patient_raw.get("nhs_number"), patient_raw.get("label"))
    report = body.get("report")
    key, draft_id = body.get("idempotency_key"), body.get("draft_id")
    with found():
        if body.get("draft"):
            return portal.save_draft(
                services.settings, access, report or {}, patient, draft_id=draft_id, idempotency_key=key
            )
        return portal.submit(services.settings, access, report, patient, idempotency_key=key, draft_id=draft_id)  # type: ignore[arg-type]


def field_errors(error: HarmReportError | CaseError) -> dict[str, Any]:
    """The JSON body for a report the API cannot accept: every field and what is wrong with it."""
    count = len(error.errors)
    return {
        "detail": f"The report has {count} problem{'s' if count != 1 else ''}: "
        + "; ".join(f"{e.field} {e.message}" for e in error.errors),
        "errors": [{"field": e.field, "message": e.message} for e in error.errors],
    }


# -- words for people: deadlines, statuses, answers and the case trail -------------------------
#: Every status a case, route or birth-record link can have, as the pages say it.
STATUS_WORDS = {
    **queries.STATUS_LABELS,
    "draft": "Draft",
    "submitted": "Submitted",
    "linked": "Linked",
    "none": "No matching birth record",
    "ambiguous": "More than one possible birth record",
    "unavailable": "Not linked",
}
#: The keys of the case trail's before/after values (see :mod:`matneo.harm.portal`), as the trail shows them.
TRAIL_KEYS = {
    "status": "Status",
    "routes": "Routes",
    "ruleset": "Rule set",
    "birth record link": "Birth record",
    "pending": "Answers still unknown",
    "deadlines": "Deadlines",
    "because": "Because",
    "applies": "Applies",
    "reference": "Reference",
    "done_on": "Done on",
    "reason": "Reason",
    "on": "Date",
    "by": "By",
    "method": "How",
    "summary": "Summary",
    "note": "Note",
    "file": "Document",
    "description": "Description",
    "record": "Birth record ID",
    "fields filled in": "Answers filled in",
    "patient identifiers changed": "Patient identifiers changed",
}
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


#: The case page's own inputs (route status, contacts, candour steps, attachments), as their labels say.
CASE_INPUTS = {
    "status": "New status",
    "reference": "Reference number",
    "done_on": "Date done",
    "reason": "Reason",
    "contacted_on": "Date of the contact",
    "by": "By",
    "method": "How",
    "summary": "Summary",
    "step": "Step",
    "note": "Note",
    "file_name": "Document name",
    "description": "Description",
    "answer": "Answer",
    "changes": "Answer",
}


def problem_words(error: CaseError) -> str:
    """What is wrong with a change on the case page, each problem under its input's or answer's name."""
    return "; ".join(
        f"{CASE_INPUTS.get(e.field) or ANSWER_LABELS.get(e.field, 'The change')}: {e.message}" for e in error.errors
    )


def deadline_words(detail: Mapping[str, Any]) -> dict[str, str]:
    """A deadline's name and when it is due, in words: a date, "as soon as possible", or no date yet."""
    name = str(detail.get("name") or "")
    kind = detail.get("kind") or ("date" if detail.get("due") else "none")
    if kind == "date":
        due = day(detail.get("due"))
    elif kind == "as_soon_as_possible":
        due = "as soon as possible (no fixed deadline)"
    else:
        due = "no date: no timescale is set"
    return {"name": name, "label": DEADLINE_NAMES.get(name, name.replace("_", " ").capitalize()), "due_text": due}


def answer_words(value: Any) -> str:
    """One answer of a report as shown on the page: yes/no, "not known", a date, gestation as 39+2."""
    if value is None:
        return "not known"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Mapping) and {"weeks", "days"} >= set(value):
        return f"{value.get('weeks', NOTHING)}+{value.get('days', 0)}"
    if isinstance(value, str):
        return day(value) if _ISO_DAY.match(value) else value.replace("_", " ")
    return str(value)


def _trail_value(key: str, value: Any) -> str:
    if key == "status":
        return STATUS_WORDS.get(str(value), str(value))
    if key == "routes":
        return ", ".join(ROUTE_TITLES.get(r, r) for r in value) if value else "none"
    if key == "pending":
        return ", ".join(FIELD_LABELS.get(f, ANSWER_LABELS.get(f, f)) for f in value) if value else "none"
    if key == "deadlines":
        shown = [deadline_words({"name": name, "due": due}) for name, due in (value or {}).items()]
        return ", ".join(f"{d['label']} {d['due_text']}" for d in shown) or "no dates"
    if key == "birth record link":
        return STATUS_WORDS.get(str(value), str(value))
    if key == "method":
        return CONTACT_METHODS.get(str(value), str(value))
    return answer_words(value)


def trail_words(values: Mapping[str, Any] | None) -> str:
    """A trail row's before or after values as "Status: Done; Reference: M1" (answers by their names)."""
    if not values:
        return NOTHING
    parts = []
    order = list(TRAIL_KEYS)
    for key, value in sorted(values.items(), key=lambda item: order.index(item[0]) if item[0] in order else -1):
        if key in TRAIL_KEYS:
            if value is not None:
                parts.append(f"{TRAIL_KEYS[key]}: {_trail_value(key, value)}")
        else:  # an answer of the report, by its dotted name
            parts.append(f"{ANSWER_LABELS.get(key, key)}: {answer_words(value)}")
    return "; ".join(parts) or NOTHING


def trail_row(change: Mapping[str, Any]) -> dict[str, Any]:
    """One row of the case's audit trail in words."""
    action = change["action"]
    what = change["what"]
    if action == "answer.changed" and change.get("after"):
        what = ", ".join(ANSWER_LABELS.get(k, k) for k in change["after"])
    sentence = CHANGE_ACTIONS.get(action, action.replace(".", " ").replace("_", " ").capitalize())
    hidden = change["values_hidden"]
    return {
        "action": action,
        "at": when(change["at"]),
        "actor": change["actor"],
        # Which route, answer or candour step; the other rows' own names only repeat the sentence.
        "what": f"{sentence}: {what}" if action.split(".")[0] in ("route", "answer", "candour") else sentence,
        "before": None if hidden else trail_words(change["before"]),
        "after": None if hidden else trail_words(change["after"]),
    }


def route_card(route: Mapping[str, Any]) -> dict[str, Any]:
    """A route of the case page in words: its deadlines (dated or "as soon as possible") and status."""
    details = route.get("deadline_details") or [{"name": n, "due": d} for n, d in route["deadlines"].items()]
    return {
        **route,
        "deadline_lines": [deadline_words(d) for d in details],
        "done_on_text": day(route["done_on"]),
    }


# -- case page and queue ----------------------------------------------------------------------
#: The form inputs that answer each pending unknown (gestation is asked as weeks and days).
PENDING_INPUTS = {"gestation": ("gestation.weeks", "gestation.days")}


def pending_questions(pending: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The case's pending unknowns as questions for the "Still unknown" forms: the engine's
    explanation plus the report form's question for each input (radios, select or number)."""
    questions = []
    for item in pending:
        names = PENDING_INPUTS.get(item["field"], (item["field"],))
        inputs = []
        for name in names:
            spec = FIELDS_BY_NAME.get(name)
            if spec is None:  # pragma: no cover - every pending field is a form question
                continue
            choices = tuple(c for c in spec.choices if c[0] != "unknown")  # "unknown" is what it already is
            inputs.append({"name": name, "label": spec.label, "kind": spec.kind, "choices": choices, "id": spec.id})
        slug = item["field"].replace(".", "-").replace("_", "-")
        title = FIELD_LABELS.get(item["field"], item["field"])
        questions.append({**item, "slug": slug, "title": title, "inputs": inputs})
    return questions


@dataclass
class CasePage:
    title: str
    case: dict[str, Any]
    yes_no: tuple[tuple[str, str], ...] = _YES_NO
    route_statuses: tuple[tuple[str, str], ...] = (
        ("done", "Done"),
        ("not_applicable", "Not applicable"),
        ("due", "Due (reopen)"),
    )
    contact_methods: dict[str, str] = field(default_factory=lambda: dict(CONTACT_METHODS))
    candour_steps: dict[str, str] = field(default_factory=lambda: dict(CANDOUR_STEPS))
    today: str = field(default_factory=lambda: dt.date.today().isoformat())

    def to_dict(self) -> dict[str, Any]:
        return self.case

    @property
    def questions(self) -> list[dict[str, Any]]:
        return pending_questions(self.case.get("pending") or [])

    @property
    def routes(self) -> list[dict[str, Any]]:
        return [route_card(r) for r in self.case["routes"]]

    @property
    def trail(self) -> list[dict[str, Any]]:
        return [trail_row(c) for c in self.case["changes"]]

    @property
    def link_words(self) -> str:
        return STATUS_WORDS.get(self.case["birth_record"]["status"] or "", NOTHING)

    @property
    def status_words(self) -> str:
        status = STATUS_WORDS.get(self.case["status"], self.case["status"])
        if self.case["submitted_at"]:
            return f"{status} on {when(self.case['submitted_at'])} by {self.case['created_by']}"
        return status


def case_page(services: Services, access: Access, case_id: int) -> CasePage:
    with found():
        case = queries.case_detail(services.settings.database_url, access, case_id)
    return CasePage(f"Harm report {case_id}", case)


@dataclass
class QueuePage:
    title: str
    scope_name: str
    queue: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"scope": self.scope_name, **self.queue}

    @property
    def notifications(self) -> list[dict[str, Any]]:
        """Each notification as a sentence (the stored message only for old ones without their deadline)."""
        return [
            {
                **n,
                "text": f"Harm report {n['case_id']}: {n['route_title']} was due by {day(n['due_on'])} and is not done."
                if n["due_on"]
                else n["message"],
                "created_text": when(n["created_at"]),
            }
            for n in self.queue["notifications"]
        ]

    @property
    def open_cases(self) -> list[dict[str, Any]]:
        return [
            {
                **c,
                "routes_text": ", ".join(ROUTE_TITLES.get(r, r) for r in c["open_routes"]),
                "next_due_text": day(c["next_due"]) if c["next_due"] else "No fixed date",
            }
            for c in self.queue["open_cases"]
        ]


def queue_page(services: Services, access: Access) -> QueuePage:
    return QueuePage("Harm reports", access.org_name, queries.queue(services.settings.database_url, access))


def amend(services: Services, access: Access, case_id: int, changes: Mapping[str, Any]) -> portal.AmendResult:
    """Amend a submitted report's answers and re-route it; field errors as :class:`CaseError`
    (the case page and the API show both kinds of problem the same way)."""
    try:
        with found():
            return portal.amend(services.settings, access, case_id, changes)
    except HarmReportError as error:
        raise CaseError(error.errors) from None


def change_case(services: Services, access: Access, case_id: int, action: str, values: Mapping[str, Any]) -> None:
    """One change from the case page or the API: route status, family contact, candour step, attachment,
    or an answer to a pending question (``amend``, flat form values)."""
    settings = services.settings
    if action == "amend":
        try:
            amend(services, access, case_id, form_to_changes(values))
        except CaseError as error:
            if [e.field for e in error.errors] == ["changes"]:  # checked after access, so 403/404 come first
                raise CaseError([FieldError("answer", "choose or enter an answer before saving")]) from None
            raise
        return
    with found():
        if action == "route":
            portal.update_route(
                settings,
                access,
                case_id,
                str(values.get("route_id") or ""),
                str(values.get("status") or ""),
                reference=values.get("reference"),
                done_on=values.get("done_on"),
                reason=values.get("reason"),
            )
        elif action == "contact":
            portal.add_family_contact(
                settings,
                access,
                case_id,
                contacted_on=values.get("contacted_on"),
                by=str(values.get("by") or ""),
                method=str(values.get("method") or ""),
                summary=str(values.get("summary") or ""),
            )
        elif action == "candour":
            portal.record_candour_step(
                settings,
                access,
                case_id,
                str(values.get("step") or ""),
                done_on=values.get("done_on"),
                by=str(values.get("by") or ""),
                note=str(values.get("note") or ""),
            )
        elif action == "attachment":
            portal.add_attachment(
                settings,
                access,
                case_id,
                file_name=str(values.get("file_name") or ""),
                description=str(values.get("description") or ""),
            )
        else:
            raise NotFound(f"Unknown change {action!r}.")


#: The export as people open it: every value in words (the API's ``/export`` answer).
EXPORT_SCHEMA = "matneo-harm-export/2"


def export(services: Services, access: Access, case_id: int, route_id: str) -> dict[str, Any]:
    """One route's payload to copy into SPEN, LFPSE or a local system, in words: dates as "3 Mar 2026",
    deadlines and answers by their names, routes by their titles (the keys stay fixed for programs)."""
    with found():
        payload = export_route(services.settings.database_url, access, case_id, route_id)
    details = payload.pop("deadline_details") or [{"name": n, "due": d} for n, d in payload["deadlines"].items()]
    words = {
        **payload,
        "schema": EXPORT_SCHEMA,
        "generated_at": when(payload["generated_at"]),
        "submitted_at": when(payload["submitted_at"]),
        "status": STATUS_WORDS.get(payload["status"], payload["status"]),
        "deadlines": {d["label"]: d["due_text"] for d in map(deadline_words, details)},
        "event": {ANSWER_LABELS.get(k, k): answer_words(v) for k, v in payload["event"].items()},
    }
    if "duty_of_candour" in payload:
        words["duty_of_candour"] = {
            CANDOUR_STEPS.get(step, step): day(on) if on else "not yet"
            for step, on in payload["duty_of_candour"].items()
        }
    if "related_references" in payload:
        words["related_references"] = {ROUTE_TITLES.get(k, k): v for k, v in payload["related_references"].items()}
    return words


def read_notifications(services: Services, access: Access) -> int:
    return portal.mark_notifications_read(services.settings.database_url, access)


def overdue_check(services: Services, access: Access) -> int:
    """Run the daily overdue check now (administrators; normally a scheduled job)."""
    access.require_admin()
    return portal.overdue_check(services.settings.database_url)
