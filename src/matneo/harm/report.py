"""The harm report: validation of the input dict, the typed report, and the derived values.

The fields are MatNeo's input model for routing, documented field by field in
``docs/harm-routing.md`` ("Input"); the derived values restate the bodies' definitions (term,
intrapartum stillbirth, early and late neonatal death: MNSI, MBRRACE-UK). Nested objects ``gestation``, ``baby``
and ``mother`` hold the dotted fields (``gestation.weeks`` is ``report["gestation"]["weeks"]``).
Dates are ISO strings ``YYYY-MM-DD``. The date fields, and why they exist:

* ``incident_known_date``: the day the trust became aware of the event (optional; defaults to
  the routing date). Clock for MNSI referral and StEIS (MNSI), Duty of Candour, LFPSE
  and a local PSII (PSIRF).
* ``baby.birth_date``: clock for NHS Resolution EN (counted from the birth or incident) and, for
  a baby born with no signs of life, for MBRRACE-UK and PMRT (the death is dated by the birth).
* ``baby.death_date`` (a baby born alive who died) and ``mother.death_date``: clocks for
  MBRRACE-UK, PMRT and CDOP.
* ``never_event`` and ``death_likely_due_to_problems_in_care``: the two PSIRF national triggers
  for a locally-led PSII (PSIRF, as reproduced in Croydon Health Services PSIRP §5).

Unknown is ``null``. Fields whose value may legitimately not be known yet (the ``/null`` types
in ``docs/harm-routing.md``, clinical judgements and classifications) may be ``null`` or absent; routing then lists
them under ``pending`` when they would change the routes. Facts without which routing cannot
start (whether the baby showed signs of life, whether anyone died, dates) are required, and a
missing or contradictory value raises :class:`HarmReportError` listing every problem found.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from matneo.harm.calendar import COVERED_FROM, COVERED_TO

__all__ = [
    "CAUSE_CLASSIFICATION",
    "COOLING",
    "DEATH_TIMING",
    "FETAL_DEATH_TIMING",
    "LABOUR",
    "MODE_OF_BIRTH",
    "PREGNANCY_OUTCOME",
    "Baby",
    "FieldError",
    "Gestation",
    "HarmReport",
    "HarmReportError",
    "Mother",
    "any_death",
    "early_neonatal_death",
    "ga_days",
    "in_labour_before_birth",
    "intrapartum_stillbirth",
    "neonatal_death",
    "parse_report",
    "term",
]

LABOUR = ("spontaneous", "induced", "prelabour_rupture_of_membranes", "self_reported_labour_call", "none")
MODE_OF_BIRTH = ("vaginal", "emergency_caesarean", "elective_caesarean_before_labour", "caesarean_before_labour")
FETAL_DEATH_TIMING = ("antepartum", "intrapartum", "unknown")
COOLING = ("active", "passive", "none")
DEATH_TIMING = ("during_pregnancy", "after_end_of_pregnancy")
PREGNANCY_OUTCOME = ("birth", "ectopic", "miscarriage", "termination", "ongoing")
CAUSE_CLASSIFICATION = ("direct", "indirect", "suicide", "accidental", "coincidental")

#: Data-entry plausibility bound for gestation weeks (the issue's "0–45ish"); not a routing threshold.
MAX_GESTATION_WEEKS = 45
#: Data-entry plausibility bound for birthweight in grams; not a routing threshold.
MAX_BIRTHWEIGHT_G = 9999

#: Gestation thresholds in days. 20+0 = 140, 22+0 = 154, 24+0 = 168, 37+0 = 259.
GA_20_0, GA_22_0, GA_24_0, GA_37_0 = 140, 154, 168, 259

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

TOP_FIELDS = (
    "incident_known_date",
    "gestation",
    "labour",
    "mode_of_birth",
    "termination_of_pregnancy",
    "multiple_pregnancy",
    "notifiable_safety_incident",
    "never_event",
    "death_likely_due_to_problems_in_care",
    "baby",
    "mother",
)
GESTATION_FIELDS = ("weeks", "days")
BABY_FIELDS = (
    "birth_date",
    "signs_of_life_at_birth",
    "fetal_death_timing",
    "died",
    "age_at_death_completed_days",
    "death_date",
    "received_neonatal_care",
    "birthweight_g",
    "therapeutic_cooling",
    "hie_grade",
    "decreased_central_tone",
    "comatose",
    "seizures",
    "moderate_severe_encephalopathy",
    "mri_evidence_hypoxic_injury",
    "outcome_due_to_congenital_condition",
)
MOTHER_FIELDS = (
    "died",
    "death_date",
    "death_timing",
    "days_after_end_of_pregnancy",
    "pregnancy_outcome",
    "cause_classification",
)
#: Plain-English names of every answer, by dotted field name (pages, the case trail and messages
#: name answers with these, never with the field names).
ANSWER_LABELS: dict[str, str] = {
    "report": "The report",
    "incident_known_date": "Date the trust became aware",
    "gestation": "Gestation at birth",
    "gestation.weeks": "Gestation in completed weeks",
    "gestation.days": "Gestation extra days",
    "labour": "Labour",
    "mode_of_birth": "Mode of birth",
    "termination_of_pregnancy": "Termination of pregnancy",
    "multiple_pregnancy": "Multiple pregnancy",
    "notifiable_safety_incident": "Notifiable safety incident (Duty of Candour)",
    "never_event": "Never Event",
    "death_likely_due_to_problems_in_care": "Death more likely than not due to problems in care",
    "baby": "The baby",
    "baby.birth_date": "Baby's date of birth",
    "baby.signs_of_life_at_birth": "Signs of life at birth",
    "baby.fetal_death_timing": "When the stillborn baby died",
    "baby.died": "Baby died",
    "baby.age_at_death_completed_days": "Baby's age at death in completed days",
    "baby.death_date": "Date of the baby's death",
    "baby.received_neonatal_care": "Neonatal care",
    "baby.birthweight_g": "Birthweight in grams",
    "baby.therapeutic_cooling": "Therapeutic cooling",
    "baby.hie_grade": "HIE grade",
    "baby.decreased_central_tone": "Decreased central tone in the first 7 days",
    "baby.comatose": "Coma in the first 7 days",
    "baby.seizures": "Seizures in the first 7 days",
    "baby.moderate_severe_encephalopathy": "Moderate–severe encephalopathy in the first 7 days",
    "baby.mri_evidence_hypoxic_injury": "MRI evidence of hypoxic brain injury",
    "baby.outcome_due_to_congenital_condition": "Outcome caused by a congenital condition",
    "mother": "The mother",
    "mother.died": "Mother died",
    "mother.death_date": "Date of the mother's death",
    "mother.death_timing": "When the mother died",
    "mother.days_after_end_of_pregnancy": "Days after the end of pregnancy",
    "mother.pregnancy_outcome": "Pregnancy outcome",
    "mother.cause_classification": "Cause of the mother's death",
}
assert set(ANSWER_LABELS) == {
    "report",
    *TOP_FIELDS,
    *(f"gestation.{f}" for f in GESTATION_FIELDS),
    *(f"baby.{f}" for f in BABY_FIELDS),
    *(f"mother.{f}" for f in MOTHER_FIELDS),
}
#: Baby fields that only make sense for a baby born alive; for a baby born with no signs of life
#: they must be absent, null, false or "none".
LIVE_BIRTH_ONLY = (
    "received_neonatal_care",
    "therapeutic_cooling",
    "hie_grade",
    "decreased_central_tone",
    "comatose",
    "seizures",
    "moderate_severe_encephalopathy",
    "mri_evidence_hypoxic_injury",
)


@dataclass(frozen=True)
class FieldError:
    """One problem with one field of a report (``field`` is the dotted name)."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class HarmReportError(ValueError):
    """The report cannot be routed. ``errors`` lists every problem; ``field`` is the first one's field."""

    def __init__(self, errors: list[FieldError]) -> None:
        if not errors:
            raise ValueError("HarmReportError needs at least one FieldError")
        self.errors = list(errors)
        self.field = self.errors[0].field
        lines = "\n".join(f"- {e}" for e in self.errors)
        count = "1 problem" if len(self.errors) == 1 else f"{len(self.errors)} problems"
        super().__init__(f"harm report cannot be routed ({count}):\n{lines}")


@dataclass(frozen=True)
class Gestation:
    """Completed weeks + days (``ga = weeks*7 + days``)."""

    weeks: int
    days: int

    @property
    def ga_days(self) -> int:
        return self.weeks * 7 + self.days

    def __str__(self) -> str:
        return f"{self.weeks}+{self.days}"


@dataclass(frozen=True)
class Baby:
    """The baby's routing fields plus ``birth_date``/``death_date``. ``None`` means not known."""

    birth_date: dt.date
    signs_of_life_at_birth: bool
    died: bool
    fetal_death_timing: str | None  # "antepartum" | "intrapartum" | None (the input's "unknown" is None)
    age_at_death_completed_days: int | None
    death_date: dt.date | None
    received_neonatal_care: bool | None
    birthweight_g: int | None
    therapeutic_cooling: str | None
    hie_grade: int | None
    decreased_central_tone: bool | None
    comatose: bool | None
    seizures: bool | None
    moderate_severe_encephalopathy: bool | None
    mri_evidence_hypoxic_injury: bool | None
    outcome_due_to_congenital_condition: bool | None


@dataclass(frozen=True)
class Mother:
    """The mother's routing fields plus ``death_date``. ``None`` means not known or not applicable."""

    died: bool
    death_date: dt.date | None
    death_timing: str | None
    days_after_end_of_pregnancy: int | None
    pregnancy_outcome: str | None
    cause_classification: str | None


@dataclass(frozen=True)
class HarmReport:
    """A validated report. Build it with :func:`parse_report`."""

    incident_known_date: dt.date
    gestation: Gestation | None
    labour: str | None
    mode_of_birth: str | None
    termination_of_pregnancy: bool
    multiple_pregnancy: bool | None
    notifiable_safety_incident: bool | None
    never_event: bool | None
    death_likely_due_to_problems_in_care: bool | None
    baby: Baby | None
    mother: Mother

    def with_value(self, path: str, value: Any) -> HarmReport:
        """A copy with one dotted field replaced (used to explore what unknown values would change).

        A shallow copy with the field set directly, not :func:`dataclasses.replace`: the router
        makes tens of thousands of these for a report with many unknowns, and ``replace`` (which
        re-runs ``__init__`` with every field) took most of the routing time. No class here has
        a ``__post_init__`` or derived field, so the copies are the same as ``replace`` would give.
        """
        head, _, tail = path.partition(".")
        if tail:
            value = _copy_with(getattr(self, head), tail, value)
        return _copy_with(self, head, value)


def _copy_with(instance: Any, name: str, value: Any) -> Any:
    """A shallow copy of a (frozen, non-slotted) dataclass instance with one attribute changed."""
    clone = object.__new__(type(instance))
    clone.__dict__.update(instance.__dict__)
    clone.__dict__[name] = value
    return clone


# --------------------------------------------------------------------------------------
# Derived values
# --------------------------------------------------------------------------------------


def ga_days(report: HarmReport) -> int | None:
    """Gestation in days, or ``None`` if not known."""
    return None if report.gestation is None else report.gestation.ga_days


def term(report: HarmReport) -> bool:
    """``term = ga >= 259`` (37+0 or more; 36+6 is preterm). False if gestation is unknown."""
    ga = ga_days(report)
    return ga is not None and ga >= GA_37_0


def in_labour_before_birth(report: HarmReport) -> bool:
    """``labour != none and mode_of_birth not in {elective_caesarean_before_labour,
    caesarean_before_labour}``. An unknown labour or mode of birth gives False (the router explores it)."""
    if report.labour is None or report.labour == "none":
        return False
    return report.mode_of_birth not in (None, "elective_caesarean_before_labour", "caesarean_before_labour")


def intrapartum_stillbirth(baby: Baby) -> bool:
    """No signs of life at birth and ``fetal_death_timing == intrapartum``."""
    return not baby.signs_of_life_at_birth and baby.fetal_death_timing == "intrapartum"


def _age(baby: Baby) -> int | None:
    return baby.age_at_death_completed_days if baby.signs_of_life_at_birth and baby.died else None


def early_neonatal_death(baby: Baby) -> bool:
    """Early neonatal death: born alive and died at 0–6 completed days (day 6 is the last day of the first week)."""
    age = _age(baby)
    return age is not None and age <= 6


def neonatal_death(baby: Baby) -> bool:
    """Neonatal death: born alive and died before 28 completed days (``age <= 27``)."""
    age = _age(baby)
    return age is not None and age <= 27


def any_death(report: HarmReport) -> bool:
    """Somebody in the report died: the mother, or the baby (including a baby born with no signs of life)."""
    return report.mother.died or (report.baby is not None and report.baby.died)


# --------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------

_MISSING = object()


class _Reader:
    """Reads typed values out of the raw dicts, collecting every problem instead of stopping at the first."""

    def __init__(self, today: dt.date) -> None:
        self.today = today
        self.errors: list[FieldError] = []

    def error(self, field: str, message: str) -> None:
        self.errors.append(FieldError(field, message))

    def unknown_keys(self, data: Mapping[str, Any], allowed: tuple[str, ...], prefix: str) -> None:
        for key in data:
            if key not in allowed:
                name = f"{prefix}{key}" if isinstance(key, str) else repr(key)
                self.error(name, f"is not a field of the harm report (expected one of: {', '.join(allowed)})")

    def raw(self, data: Mapping[str, Any], path: str) -> Any:
        value = data.get(path.rsplit(".", 1)[-1], _MISSING)
        return None if value is _MISSING else value

    def boolean(self, data: Mapping[str, Any], path: str, *, required: bool, why: str = "") -> bool | None:
        value = self.raw(data, path)
        if value is None:
            if required:
                self.error(path, f"is required{why} (true or false)")
            return None
        if not isinstance(value, bool):
            self.error(path, f"must be true or false, got {value!r}")
            return None
        return value

    def integer(
        self, data: Mapping[str, Any], path: str, lo: int, hi: int | None, *, required: bool, why: str = ""
    ) -> int | None:
        value = self.raw(data, path)
        expected = f"a whole number from {lo} to {hi}" if hi is not None else f"a whole number, {lo} or more"
        if value is None:
            if required:
                self.error(path, f"is required{why} ({expected})")
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < lo or (hi is not None and value > hi):
            self.error(path, f"must be {expected}, got {value!r}")
            return None
        return value

    def choice(
        self, data: Mapping[str, Any], path: str, choices: tuple[str, ...], *, required: bool, why: str = ""
    ) -> str | None:
        value = self.raw(data, path)
        if value is None:
            if required:
                self.error(path, f"is required{why} (one of: {', '.join(choices)})")
            return None
        if not isinstance(value, str) or value not in choices:
            self.error(path, f"must be one of: {', '.join(choices)}; got {value!r}")
            return None
        return value

    def date(self, data: Mapping[str, Any], path: str, *, required: bool, why: str = "") -> dt.date | None:
        value = self.raw(data, path)
        if value is None:
            if required:
                self.error(path, f"is required{why} (an ISO date, YYYY-MM-DD)")
            return None
        day: dt.date | None = None
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            day = value
        elif isinstance(value, str) and _ISO_DATE.match(value):
            try:
                day = dt.date.fromisoformat(value)
            except ValueError:
                day = None
        if day is None:
            self.error(path, f"must be an ISO date YYYY-MM-DD, got {value!r}")
            return None
        if day > self.today:
            self.error(path, f"{day.isoformat()} is in the future (today is {self.today.isoformat()})")
            return None
        if not COVERED_FROM <= day <= COVERED_TO:
            self.error(
                path,
                f"{day.isoformat()} is outside the deadline calendar "
                f"({COVERED_FROM.isoformat()} to {COVERED_TO.isoformat()})",
            )
            return None
        return day

    def obj(self, data: Mapping[str, Any], path: str, *, required: bool) -> Mapping[str, Any] | None:
        if path not in data:
            if required:
                self.error(path, "is required (an object)")
            return None
        value = data[path]
        if value is None:
            if required:
                self.error(path, "is required (an object)")
            return None
        if not isinstance(value, Mapping):
            self.error(path, f"must be an object, got {type(value).__name__}")
            return None
        return value

    def must_be_empty(self, data: Mapping[str, Any], path: str, because: str, allowed: tuple[Any, ...] = ()) -> None:
        """Error if a field that does not apply was given a value (other than ``allowed`` "negative" values)."""
        value = self.raw(data, path)
        if value is None or any(value is a or (not isinstance(a, bool) and value == a) for a in allowed):
            return
        self.error(path, f"must be empty {because}, got {value!r}")


def parse_report(data: Any, today: dt.date) -> HarmReport:
    """Validate a report dict (field names of ``docs/harm-routing.md``) and return the typed :class:`HarmReport`.

    Raises :class:`HarmReportError` listing every problem found; never returns a partial report.
    ``today`` is the routing date: the default ``incident_known_date`` and the latest allowed date.
    """
    r = _Reader(today)
    if not isinstance(data, Mapping):
        raise HarmReportError([FieldError("report", f"must be a JSON object, got {type(data).__name__}")])
    r.unknown_keys(data, TOP_FIELDS, "")

    known = r.date(data, "incident_known_date", required=False)
    gestation = _parse_gestation(r, data)
    termination = r.boolean(data, "termination_of_pregnancy", required=True)
    labour = r.choice(data, "labour", LABOUR, required=False)
    mode = r.choice(data, "mode_of_birth", MODE_OF_BIRTH, required=False)
    multiple = r.boolean(data, "multiple_pregnancy", required=False)
    notifiable = r.boolean(data, "notifiable_safety_incident", required=False)
    never_event = r.boolean(data, "never_event", required=False)
    lfd = r.boolean(data, "death_likely_due_to_problems_in_care", required=False)

    if "baby" not in data:
        r.error("baby", "is required: an object, or null when the report has no baby outcome (e.g. a maternal death)")
    baby_raw = r.obj(data, "baby", required=False)
    mother_raw = r.obj(data, "mother", required=True)
    if baby_raw is not None and labour is None and data.get("labour") is None:
        r.error("labour", f"is required when the report has a baby (one of: {', '.join(LABOUR)})")

    baby = _parse_baby(r, baby_raw, labour) if baby_raw is not None else None
    mother = _parse_mother(r, mother_raw, termination) if mother_raw is not None else None
    if baby is not None and mother is not None:
        _check_mother_against_baby(r, mother, baby, multiple)
    if lfd and mother is not None and not mother.died and (baby is None or not baby.died):
        r.error("death_likely_due_to_problems_in_care", "is true but nobody in the report died")

    if r.errors:
        raise HarmReportError(r.errors)
    assert termination is not None and mother is not None  # guaranteed when there are no errors
    return HarmReport(
        incident_known_date=known or today,
        gestation=gestation,
        labour=labour,
        mode_of_birth=mode,
        termination_of_pregnancy=termination,
        multiple_pregnancy=multiple,
        notifiable_safety_incident=notifiable,
        never_event=never_event,
        death_likely_due_to_problems_in_care=lfd,
        baby=baby,
        mother=mother,
    )


def _parse_gestation(r: _Reader, data: Mapping[str, Any]) -> Gestation | None:
    raw = r.obj(data, "gestation", required=False)
    if raw is None:
        return None
    r.unknown_keys(raw, GESTATION_FIELDS, "gestation.")
    weeks = r.integer(raw, "gestation.weeks", 0, MAX_GESTATION_WEEKS, required=True)
    days = r.integer(raw, "gestation.days", 0, 6, required=True)
    if weeks is None or days is None:
        return None
    return Gestation(weeks, days)


def _parse_baby(r: _Reader, raw: Mapping[str, Any], labour: str | None) -> Baby | None:
    r.unknown_keys(raw, BABY_FIELDS, "baby.")
    birth_date = r.date(raw, "baby.birth_date", required=True)
    alive = r.boolean(raw, "baby.signs_of_life_at_birth", required=True)
    timing = r.choice(raw, "baby.fetal_death_timing", FETAL_DEATH_TIMING, required=False)
    weight = r.integer(raw, "baby.birthweight_g", 1, MAX_BIRTHWEIGHT_G, required=False)
    congenital = r.boolean(raw, "baby.outcome_due_to_congenital_condition", required=False)
    live_only = {
        "received_neonatal_care": r.boolean(raw, "baby.received_neonatal_care", required=False),
        "therapeutic_cooling": r.choice(raw, "baby.therapeutic_cooling", COOLING, required=False),
        "hie_grade": r.integer(raw, "baby.hie_grade", 0, 3, required=False),
        "decreased_central_tone": r.boolean(raw, "baby.decreased_central_tone", required=False),
        "comatose": r.boolean(raw, "baby.comatose", required=False),
        "seizures": r.boolean(raw, "baby.seizures", required=False),
        "moderate_severe_encephalopathy": r.boolean(raw, "baby.moderate_severe_encephalopathy", required=False),
        "mri_evidence_hypoxic_injury": r.boolean(raw, "baby.mri_evidence_hypoxic_injury", required=False),
    }
    if alive is None:
        return None

    died: bool | None
    age: int | None = None
    death_date: dt.date | None = None
    if not alive:
        # signs_of_life_at_birth false means a late fetal loss or stillbirth, so the baby died.
        stated = r.boolean(raw, "baby.died", required=False)
        if stated is False:
            r.error("baby.died", "cannot be false for a baby born with no signs of life")
        died = True
        because = "for a baby born with no signs of life (stillbirth or late fetal loss)"
        r.must_be_empty(raw, "baby.age_at_death_completed_days", because + "; it has no age at death")
        r.must_be_empty(raw, "baby.death_date", because + "; deadlines run from baby.birth_date")
        for name in LIVE_BIRTH_ONLY:
            r.must_be_empty(raw, f"baby.{name}", because, allowed=(False, "none"))
        if timing == "intrapartum" and labour == "none":
            r.error(
                "baby.fetal_death_timing",
                "is intrapartum (alive at the start of labour) but labour is none",
            )
    else:
        r.must_be_empty(raw, "baby.fetal_death_timing", "for a baby born with signs of life (it is for stillbirths)")
        died = r.boolean(raw, "baby.died", required=True)
        if died:
            why = " for a baby who was born alive and died"
            age = r.integer(raw, "baby.age_at_death_completed_days", 0, None, required=True, why=why)
            death_date = r.date(raw, "baby.death_date", required=True, why=why)
            _check_age_against_dates(r, birth_date, death_date, age)
        elif died is False:
            r.must_be_empty(raw, "baby.age_at_death_completed_days", "when baby.died is false")
            r.must_be_empty(raw, "baby.death_date", "when baby.died is false")

    if birth_date is None or died is None:
        return None
    return Baby(
        birth_date=birth_date,
        signs_of_life_at_birth=alive,
        died=died,
        fetal_death_timing=None if (not alive and timing == "unknown") or alive else timing,
        age_at_death_completed_days=age,
        death_date=death_date,
        birthweight_g=weight,
        outcome_due_to_congenital_condition=congenital,
        **(live_only if alive else dict.fromkeys(live_only)),
    )


def _check_age_against_dates(r: _Reader, birth: dt.date | None, death: dt.date | None, age: int | None) -> None:
    """Death on or after birth, and the age in completed days consistent with the two dates.

    A baby born at 23:00 who dies at 01:00 is 0 completed days old but died the next calendar day,
    so the date difference may be the age or the age + 1.
    """
    if birth is None or death is None:
        return
    gap = (death - birth).days
    if gap < 0:
        r.error("baby.death_date", f"{death.isoformat()} is before baby.birth_date {birth.isoformat()}")
    elif age is not None and gap not in (age, age + 1):
        r.error(
            "baby.age_at_death_completed_days",
            f"is {age} but baby.death_date is {gap} calendar days after baby.birth_date "
            f"(completed days must be {gap - 1 if gap else 0} or {gap})",
        )


def _parse_mother(r: _Reader, raw: Mapping[str, Any], termination: bool | None) -> Mother | None:
    r.unknown_keys(raw, MOTHER_FIELDS, "mother.")
    died = r.boolean(raw, "mother.died", required=True)
    outcome = r.choice(raw, "mother.pregnancy_outcome", PREGNANCY_OUTCOME, required=False)
    if outcome == "termination" and termination is False:
        r.error("mother.pregnancy_outcome", "is termination but termination_of_pregnancy is false")
    if died is None:
        return None
    if not died:
        for name in ("death_date", "death_timing", "days_after_end_of_pregnancy", "cause_classification"):
            r.must_be_empty(raw, f"mother.{name}", "when mother.died is false")
        return Mother(False, None, None, None, outcome, None)

    why = " when mother.died is true"
    death_date = r.date(raw, "mother.death_date", required=True, why=why)
    timing = r.choice(raw, "mother.death_timing", DEATH_TIMING, required=True, why=why)
    cause = r.choice(raw, "mother.cause_classification", CAUSE_CLASSIFICATION, required=False)
    days: int | None = None
    if timing == "during_pregnancy":
        r.must_be_empty(raw, "mother.days_after_end_of_pregnancy", "when the mother died during pregnancy")
    elif timing == "after_end_of_pregnancy":
        days = r.integer(
            raw, "mother.days_after_end_of_pregnancy", 0, None, required=True, why=" when the death was after the end"
        )
        if outcome == "ongoing":
            r.error("mother.pregnancy_outcome", "is ongoing but mother.death_timing is after_end_of_pregnancy")
    if death_date is None or timing is None:
        return None
    return Mother(True, death_date, timing, days, outcome, cause)


def _check_mother_against_baby(r: _Reader, mother: Mother, baby: Baby, multiple: bool | None) -> None:
    """For a singleton birth the pregnancy ended on the baby's birth date (days_after_end_of_pregnancy)."""
    if (
        mother.died
        and mother.pregnancy_outcome == "birth"
        and multiple is not True
        and mother.death_timing == "after_end_of_pregnancy"
        and mother.death_date is not None
        and mother.days_after_end_of_pregnancy is not None
    ):
        gap = (mother.death_date - baby.birth_date).days
        if gap != mother.days_after_end_of_pregnancy:
            r.error(
                "mother.days_after_end_of_pregnancy",
                f"is {mother.days_after_end_of_pregnancy} but mother.death_date is {gap} days after baby.birth_date",
            )
