"""The routing rules as versioned data: ruleset ``2026-11``.

Every rule, brain-injury criterion, exclusion and deadline here names, in its ``source``, the
primary document it restates (the documents, with their addresses, are :data:`SOURCES`, listed in
``docs/harm-routing.md``), and carries a confidence tag:

* ``CONFIRMED``: seen in a primary or official source;
* ``SECONDARY``: seen only in a reputable secondary source;
* ``UNCONFIRMED``: not found in the sources read. These are switchable through
  :class:`RoutingOptions` and reported with ``needs_local_confirmation: true``.

No threshold here is invented: where no source gives a number (e.g. an MBRRACE-UK maternal
notification timescale) the deadline has no period and produces no date until a local period is
configured. Where the source says to act but sets no timescale (recording on LFPSE), the deadline is
:data:`AS_SOON_AS_POSSIBLE`: shown as "as soon as possible", never overdue, never notified.

A rule's ``condition`` is a small pure predicate over a validated :class:`HarmReport`. Its
``reads`` lists the fields that may be unknown (``null``) and that the predicate depends on: the
router tries every value of those fields to tell "does not apply" from "pending".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Literal

from matneo.harm.calendar import add_calendar_days, add_calendar_months, add_working_days
from matneo.harm.report import (
    GA_20_0,
    GA_22_0,
    GA_24_0,
    Baby,
    HarmReport,
    any_death,
    early_neonatal_death,
    ga_days,
    in_labour_before_birth,
    intrapartum_stillbirth,
    neonatal_death,
    term,
)

__all__ = [
    "AS_SOON_AS_POSSIBLE",
    "BRAIN_INJURY_CRITERIA",
    "DEADLINES",
    "DEADLINE_NAMES",
    "EXCLUSIONS",
    "ROUTE_IDS",
    "ROUTE_TITLES",
    "RULES",
    "RULESET_VERSION",
    "AsSoonAsPossible",
    "BrainInjuryCriterion",
    "Confidence",
    "Deadline",
    "Exclusion",
    "Period",
    "RoutingOptions",
    "Rule",
    "Timescale",
    "potential_severe_brain_injury",
    "timescale_kind",
]

RULESET_VERSION = "2026-11"

#: Route identifiers, in output order.
ROUTE_IDS = (
    "MNSI",
    "NHSR_EN",
    "MBRRACE_PERINATAL",
    "MBRRACE_MATERNAL",
    "PMRT",
    "CDOP",
    "DUTY_OF_CANDOUR",
    "LFPSE",
    "LOCAL_PSII",
)

ROUTE_TITLES = MappingProxyType(
    {
        "MNSI": "Maternity and Newborn Safety Investigations (MNSI) referral",
        "NHSR_EN": "NHS Resolution Early Notification scheme",
        "MBRRACE_PERINATAL": "MBRRACE-UK perinatal death surveillance",
        "MBRRACE_MATERNAL": "MBRRACE-UK maternal death surveillance",
        "PMRT": "Perinatal Mortality Review Tool review",
        "CDOP": "Child Death Overview Panel notification",
        "DUTY_OF_CANDOUR": "Statutory Duty of Candour (Regulation 20)",
        "LFPSE": "Learn from patient safety events (LFPSE) record",
        "LOCAL_PSII": "Locally-led patient safety incident investigation (PSIRF)",
    }
)


class Confidence(StrEnum):
    """How well a rule's source is established (see the module docstring)."""

    CONFIRMED = "CONFIRMED"
    SECONDARY = "SECONDARY"
    UNCONFIRMED = "UNCONFIRMED"


@dataclass(frozen=True)
class PrimarySource:
    """A document the rules restate: who publishes it, its title and date, and where to read it.

    ``url`` is empty where no stable address was confirmed; the title and publisher still find it.
    """

    publisher: str
    title: str
    date: str
    url: str = ""


#: The documents named in the rules' ``source`` strings (rendered in ``docs/harm-routing.md``).
SOURCES: tuple[PrimarySource, ...] = (
    PrimarySource("MNSI", "What we investigate", "", "https://www.mnsi.org.uk/our-investigations/what-we-investigate/"),
    PrimarySource("MNSI", "Refer a case to us", "2024", "https://www.mnsi.org.uk/for-nhs/refer-a-case-to-us/"),
    PrimarySource(
        "MNSI",
        "Investigation process for NHS",
        "",
        "https://www.mnsi.org.uk/for-nhs/investigation-process-for-nhs/",
    ),
    PrimarySource("MNSI", "Improving support after maternal deaths: is national guidance required?", ""),
    PrimarySource("HSIB (predecessor of MNSI)", "What we investigate; news of 6 Apr 2020 on cooled babies", "2020"),
    PrimarySource("NHS Resolution", "Early notification scheme; Early notification report form", "updated Dec 2023"),
    PrimarySource("NHS Resolution", "Early Notification Scheme: NHS trusts or member organisations (FAQ)", ""),
    PrimarySource("NHS Resolution", "Early Notification Scheme process update", "3 Apr 2024"),
    PrimarySource(
        "NHS England",
        "Submit a Perinatal Event Notification (SPEN): notify national organisations of a qualifying perinatal event",
        "2025",
        "https://nhs-spen-ci.model.nhs.uk/home",
    ),
    PrimarySource(
        "MBRRACE-UK",
        "Perinatal mortality surveillance technical manual, version 1.3, section 1.1",
        "v1.3",
        "https://timms.le.ac.uk/mbrrace-uk-perinatal-mortality/surveillance/technical-manual.html",
    ),
    PrimarySource("MBRRACE-UK (NPEU)", "Frequently asked questions", "", "https://www.npeu.ox.ac.uk/mbrrace-uk/faqs"),
    PrimarySource("PMRT (NPEU)", "PMRT frequently asked questions", "", "https://www.npeu.ox.ac.uk/pmrt/faqs"),
    PrimarySource(
        "PMRT (NPEU)",
        "Safety Action 1 of the CNST Maternity Incentive Scheme: FAQs",
        "year 6, 2024",
        "https://www.npeu.ox.ac.uk/pmrt/faqs/faqsmis",
    ),
    PrimarySource(
        "NHS Resolution", "CNST Maternity Incentive Scheme year 6, technical guidance, Safety Action 1", "2024"
    ),
    PrimarySource(
        "NHS England",
        "Patient Safety Incident Response Framework (PSIRF)",
        "Aug 2022",
        "https://www.england.nhs.uk/patient-safety/patient-safety-insight/incident-response-framework/",
    ),
    PrimarySource(
        "Croydon Health Services NHS Trust",
        "Patient Safety Incident Response Plan, section 5 (PSIRF national requirements)",
        "",
    ),
    PrimarySource(
        "NHS England",
        "Learn from patient safety events (LFPSE) service",
        "2024",
        "https://www.england.nhs.uk/patient-safety/patient-safety-insight/learning-from-patient-safety-events/"
        "learn-from-patient-safety-events-service/",
    ),
    PrimarySource(
        "NHS England",
        "Policy guidance on recording patient safety events and levels of harm",
        "",
    ),
    PrimarySource(
        "UK Parliament",
        "Health and Social Care Act 2008 (Regulated Activities) Regulations 2014 (SI 2014/2936), regulation 20",
        "2014",
        "https://www.legislation.gov.uk/uksi/2014/2936/regulation/20",
    ),
    PrimarySource("CQC", "Regulation 20: Duty of candour (guidance for providers)", ""),
    PrimarySource(
        "HM Government",
        "Child Death Review: Statutory and Operational Guidance (England); Working Together to Safeguard Children",
        "2018",
    ),
    PrimarySource("National Child Mortality Database", "The Cascade integrated system", "", "https://www.ncmd.info/"),
    PrimarySource("GOV.UK", "UK bank holidays (England and Wales)", "", "https://www.gov.uk/bank-holidays"),
)


PeriodUnit = Literal["calendar_days", "working_days", "months"]
_UNIT_WORDS = {"calendar_days": "calendar day", "working_days": "working day", "months": "calendar month"}


@dataclass(frozen=True)
class Period:
    """A deadline length. Working days skip weekends and England and Wales bank holidays (see calendar.py)."""

    amount: int
    unit: PeriodUnit

    def __post_init__(self) -> None:
        if self.unit not in _UNIT_WORDS:
            raise ValueError(f"period unit must be one of {', '.join(_UNIT_WORDS)}, got {self.unit!r}")
        if isinstance(self.amount, bool) or not isinstance(self.amount, int) or self.amount < 0:
            raise ValueError(f"period amount must be a whole number, 0 or more, got {self.amount!r}")

    def after(self, day: dt.date) -> dt.date:
        """The due date: ``amount`` units after ``day`` (``day`` itself is day 0)."""
        if self.unit == "working_days":
            return add_working_days(day, self.amount)
        if self.unit == "months":
            return add_calendar_months(day, self.amount)
        return add_calendar_days(day, self.amount)

    def __str__(self) -> str:
        word = _UNIT_WORDS[self.unit]
        return f"{self.amount} {word}{'' if self.amount == 1 else 's'}"


@dataclass(frozen=True)
class AsSoonAsPossible:
    """The deadline kind for a duty whose source sets no timescale: do it "as soon as possible".

    It has no due date, so it is never overdue and never notified as overdue. Where a trust's own
    policy sets a timescale, :class:`RoutingOptions` replaces it with a :class:`Period`; where a dated
    deadline's source gives no timescale, a trust may set it to this kind instead.
    """

    def __str__(self) -> str:
        return "as soon as possible"


AS_SOON_AS_POSSIBLE = AsSoonAsPossible()
#: How long a deadline runs: a period from its clock, or "as soon as possible" (no date).
Timescale = Period | AsSoonAsPossible
#: What a timescale gives on the page and in the routing output: a date, "as soon as possible", or
#: nothing yet (no timescale found and none configured locally).
TimescaleKind = Literal["date", "as_soon_as_possible", "none"]


def timescale_kind(timescale: Timescale | None) -> TimescaleKind:
    if timescale is None:
        return "none"
    if isinstance(timescale, AsSoonAsPossible):
        return "as_soon_as_possible"
    return "date"


#: Deadline clocks: where each deadline counts from. ``baby.death`` is ``baby.death_date`` for a
#: baby born alive, and ``baby.birth_date`` for a baby born with no signs of life.
CLOCKS = MappingProxyType(
    {
        "incident_known_date": "the date the trust became aware (incident_known_date)",
        "baby.birth_date": "the baby's birth (baby.birth_date)",
        "baby.death": "the baby's death (baby.death_date; baby.birth_date if born with no signs of life)",
        "mother.death_date": "the mother's death (mother.death_date)",
    }
)


@dataclass(frozen=True)
class Deadline:
    """One dated milestone of a route. ``id`` is ``ROUTE.name``; ``clock`` is a key of CLOCKS or another deadline id."""

    id: str
    clock: str
    period: Timescale | None
    text: str
    source: str
    confidence: Confidence
    conflict: str = ""  # set when the sources disagree (shown as needs local confirmation)

    @property
    def name(self) -> str:
        return self.id.split(".", 1)[1]

    @property
    def needs_local_confirmation(self) -> bool:
        return self.confidence is Confidence.UNCONFIRMED or bool(self.conflict)

    @property
    def configurable(self) -> bool:
        """Periods not confirmed by a primary source may be replaced locally (RoutingOptions.deadlines)."""
        return self.confidence is not Confidence.CONFIRMED

    @property
    def label(self) -> str:
        """The deadline's plain-English name (:data:`DEADLINE_NAMES`)."""
        return DEADLINE_NAMES[self.name]

    def rule_text(self, period: Timescale | None) -> str:
        if period is None:
            return "no timescale found; no date until a local period is configured"
        if isinstance(period, AsSoonAsPossible):
            return "as soon as possible: no fixed deadline, so never overdue"
        if self.clock in CLOCKS:
            start = CLOCKS[self.clock]
        else:  # another deadline of the same route, e.g. MNSI.refer
            start = f"the {self.clock.split('.', 1)[1].replace('_', ' ')} deadline ({self.clock})"
        if period.amount == 0:
            return f"the same day as {start}"
        return f"{period} after {start}"


@dataclass(frozen=True)
class BrainInjuryCriterion:
    """One criterion of "potential severe brain injury" (Each Baby Counts; NHS Resolution EN); switchable."""

    id: str
    text: str
    test: Callable[[Baby], bool]
    reads: tuple[str, ...]
    source: str
    confidence: Confidence


BRAIN_INJURY_CRITERIA: tuple[BrainInjuryCriterion, ...] = (
    BrainInjuryCriterion(
        "active_cooling",
        "active therapeutic cooling (passive cooling alone does not count)",
        lambda b: b.therapeutic_cooling == "active",
        ("baby.therapeutic_cooling",),
        "HSIB/MNSI 'What we investigate'; NHS Resolution EN scheme page and EN FAQ",
        Confidence.CONFIRMED,
    ),
    BrainInjuryCriterion(
        "hie_grade_3",
        "grade III hypoxic-ischaemic encephalopathy",
        lambda b: b.hie_grade == 3,
        ("baby.hie_grade",),
        "HSIB/MNSI 'What we investigate'; NHS Resolution EN scheme page (2017–2020 criteria)",
        Confidence.CONFIRMED,
    ),
    BrainInjuryCriterion(
        "tone_coma_seizures",
        "decreased central tone AND comatose AND seizures (all three)",
        lambda b: b.decreased_central_tone is True and b.comatose is True and b.seizures is True,
        ("baby.decreased_central_tone", "baby.comatose", "baby.seizures"),
        "HSIB/MNSI 'What we investigate'; NHS Resolution EN scheme page (2017–2020 criteria)",
        Confidence.CONFIRMED,
    ),
    BrainInjuryCriterion(
        "moderate_severe_encephalopathy",
        "moderate–severe encephalopathy (altered consciousness plus hypotonia, abnormal reflexes, "
        "absent/weak suck or clinical seizures)",
        lambda b: b.moderate_severe_encephalopathy is True,
        ("baby.moderate_severe_encephalopathy",),
        "NHS Resolution 'Early Notification Scheme: NHS trusts' FAQ (definition from 1 Apr 2022)",
        Confidence.CONFIRMED,
    ),
)
_CRITERIA_BY_ID = {c.id: c for c in BRAIN_INJURY_CRITERIA}
_LEGACY_CRITERIA = ("active_cooling", "hie_grade_3", "tone_coma_seizures")


@dataclass(frozen=True)
class Rule:
    """One routing rule: ``route`` applies when ``condition`` holds."""

    id: str
    route: str
    text: str
    condition: Callable[[HarmReport, RoutingOptions], bool]
    reads: tuple[str, ...]
    deadlines: tuple[Deadline, ...]
    source: str
    confidence: Confidence
    switchable: bool = False
    enabled_by_default: bool = True
    note: str = ""

    @property
    def needs_local_confirmation(self) -> bool:
        return self.confidence is Confidence.UNCONFIRMED


@dataclass(frozen=True)
class Exclusion:
    """``route`` is not routed when ``excluded_by`` applies."""

    id: str
    route: str
    excluded_by: str
    text: str
    source: str
    confidence: Confidence


@dataclass(frozen=True)
class RoutingOptions:
    """Local switches. Empty mappings mean the defaults of the rule set.

    * ``rules``: ``{rule id: enabled}`` for switchable rules (those not CONFIRMED);
    * ``brain_injury_criteria``: ``{criterion id: enabled}`` (the sources differ on the set, so each can be switched);
    * ``deadlines``: ``{deadline id: Period, AS_SOON_AS_POSSIBLE or None}`` replacing the timescale of a
      deadline that is not CONFIRMED (``None``: no date until one is configured).
    """

    rules: Mapping[str, bool] = field(default_factory=dict)
    brain_injury_criteria: Mapping[str, bool] = field(default_factory=dict)
    deadlines: Mapping[str, Timescale | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        problems = []
        for rule_id, enabled in self.rules.items():
            rule = _RULES_BY_ID.get(rule_id)
            if rule is None:
                problems.append(f"unknown rule {rule_id!r}")
            elif not rule.switchable:
                problems.append(f"rule {rule_id} is {rule.confidence} and cannot be switched")
            elif not isinstance(enabled, bool):
                problems.append(f"rule {rule_id} must be switched with true or false, got {enabled!r}")
        for criterion_id, enabled in self.brain_injury_criteria.items():
            if criterion_id not in _CRITERIA_BY_ID:
                problems.append(
                    f"unknown brain injury criterion {criterion_id!r} (known: {', '.join(_CRITERIA_BY_ID)})"
                )
            elif not isinstance(enabled, bool):
                problems.append(f"criterion {criterion_id} must be switched with true or false, got {enabled!r}")
        for deadline_id, period in self.deadlines.items():
            deadline = _DEADLINES_BY_ID.get(deadline_id)
            if deadline is None:
                problems.append(f"unknown deadline {deadline_id!r}")
            elif not deadline.configurable:
                problems.append(f"deadline {deadline_id} is CONFIRMED and cannot be changed")
            elif period is not None and not isinstance(period, Period | AsSoonAsPossible):
                problems.append(f"deadline {deadline_id} must be a Period, AS_SOON_AS_POSSIBLE or None, got {period!r}")
        if problems:
            raise ValueError("invalid routing options: " + "; ".join(problems))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RoutingOptions:
        """Build from JSON-style data: ``{"rules": {...}, "brain_injury_criteria": {...},
        "deadlines": {"MBRRACE_MATERNAL.notify": {"amount": 5, "unit": "working_days"},
        "as_soon_as_possible" or null}}``."""
        if not isinstance(data, Mapping):
            raise ValueError("routing options must be an object")
        unknown = set(data) - {"rules", "brain_injury_criteria", "deadlines"}
        if unknown:
            raise ValueError(f"invalid routing options: unknown keys {sorted(unknown)}")
        deadlines: dict[str, Timescale | None] = {}
        for deadline_id, spec in dict(data.get("deadlines") or {}).items():
            if spec is None:
                deadlines[deadline_id] = None
            elif spec == "as_soon_as_possible":
                deadlines[deadline_id] = AS_SOON_AS_POSSIBLE
            elif isinstance(spec, Mapping) and set(spec) == {"amount", "unit"}:
                deadlines[deadline_id] = Period(spec["amount"], spec["unit"])
            else:
                raise ValueError(
                    f"invalid routing options: deadline {deadline_id} must be {{amount, unit}}, "
                    '"as_soon_as_possible" or null'
                )
        return cls(
            rules=dict(data.get("rules") or {}),
            brain_injury_criteria=dict(data.get("brain_injury_criteria") or {}),
            deadlines=deadlines,
        )

    def rule_enabled(self, rule: Rule) -> bool:
        return self.rules.get(rule.id, rule.enabled_by_default)

    def criterion_enabled(self, criterion_id: str) -> bool:
        return self.brain_injury_criteria.get(criterion_id, True)

    def period(self, deadline: Deadline) -> Timescale | None:
        return self.deadlines.get(deadline.id, deadline.period)


def potential_severe_brain_injury(baby: Baby, options: RoutingOptions, criteria: tuple[str, ...]) -> bool:
    """Any of the enabled ``criteria`` holds (the baby must have been born alive)."""
    return baby.signs_of_life_at_birth and any(
        options.criterion_enabled(c) and _CRITERIA_BY_ID[c].test(baby) for c in criteria
    )


_ALL_CRITERIA = tuple(_CRITERIA_BY_ID)
_PSBI_READS = tuple(f for c in BRAIN_INJURY_CRITERIA for f in c.reads)
_LEGACY_READS = tuple(f for c in _LEGACY_CRITERIA for f in _CRITERIA_BY_ID[c].reads)


# --------------------------------------------------------------------------------------
# Deadlines (each with its source; the clock starts at the death, birth or incident)
# --------------------------------------------------------------------------------------

MNSI_DEADLINES = (
    Deadline(
        "MNSI.refer",
        "incident_known_date",
        Period(1, "working_days"),
        "Refer to MNSI through its secure system (HIMS) as soon as the criteria are recognised: same or next "
        "working day. Complete the initial Duty of Candour and ask the family's consent to MNSI contact.",
        "MNSI 'Refer a case to us' (no referral deadline found)",
        Confidence.UNCONFIRMED,
    ),
    Deadline(
        "MNSI.steis",
        "incident_known_date",
        Period(3, "calendar_days"),
        "Report on StEIS within 72 hours (the trust keeps this duty while MNSI investigates; StEIS stays in use "
        "until the next LFPSE release replaces it). Dates cannot show hours, so 72 hours is counted as 3 days.",
        "MNSI 'Refer a case to us' (2024)",
        Confidence.CONFIRMED,
    ),
    Deadline(
        "MNSI.investigation_expected",
        "MNSI.refer",
        Period(6, "months"),
        "MNSI's investigation is expected to take about 6 months (MNSI's timescale, for tracking; MNSI phones "
        "the trust within 1 working day of referral and contacts the family within 5 working days).",
        "Conventus Law on the April 2022 EN changes (6 months); MNSI 'Investigation process for NHS'",
        Confidence.SECONDARY,
    ),
)

NHSR_DEADLINES = (
    Deadline(
        "NHSR_EN.legal_services_informed",
        "baby.birth_date",
        Period(14, "calendar_days"),
        "The clinical team informs the trust's legal services within 14 days.",
        "NHS Resolution 'Early notification report form' page (updated December 2023)",
        Confidence.CONFIRMED,
    ),
    Deadline(
        "NHSR_EN.notify_nhsr",
        "baby.birth_date",
        Period(30, "calendar_days"),
        "Legal services report to NHS Resolution (Claims Reporting Wizard, quoting the MNSI reference) within "
        "30 days of the incident.",
        "NHS Resolution 'Early notification report form' page; NHS Resolution EN process update (3 Apr 2024)",
        Confidence.CONFIRMED,
        conflict="Since 1 Apr 2022 NHS Resolution also says to notify once MNSI has confirmed an investigation; "
        "the sources do not reconcile this with the 30 days, so both are shown.",
    ),
)

MBRRACE_PERINATAL_DEADLINES = (
    Deadline(
        "MBRRACE_PERINATAL.notify",
        "baby.death",
        Period(7, "working_days"),
        "Notify the death to MBRRACE-UK (CNST Maternity Incentive Scheme Safety Action 1(a)).",
        "CNST MIS year 6 technical guidance SA1(a) (numbers not seen in stored text)",
        Confidence.UNCONFIRMED,
    ),
    Deadline(
        "MBRRACE_PERINATAL.surveillance_complete",
        "baby.death",
        Period(1, "months"),
        "Complete the MBRRACE-UK surveillance data.",
        "CNST MIS year 6 technical guidance SA1(a) (numbers not seen in stored text)",
        Confidence.UNCONFIRMED,
    ),
)

MBRRACE_MATERNAL_DEADLINES = (
    Deadline(
        "MBRRACE_MATERNAL.notify",
        "mother.death_date",
        None,
        "Notify the death to MBRRACE-UK promptly.",
        "MBRRACE-UK FAQs (no timescale found)",
        Confidence.UNCONFIRMED,
    ),
)

PMRT_DEADLINES = (
    Deadline(
        "PMRT.review_started",
        "baby.death",
        Period(2, "months"),
        "Tell the parents a review will happen and ask for their questions; start the PMRT review "
        "(MIS SA1(b), (c): at least 95% within 2 months). For MNSI cases, register on PMRT now and complete it "
        "with MNSI after its report.",
        "CNST MIS year 6 technical guidance SA1(b,c) (numbers not seen in stored text)",
        Confidence.UNCONFIRMED,
    ),
    Deadline(
        "PMRT.report_published",
        "baby.death",
        Period(6, "months"),
        "Complete and publish the PMRT review (MIS SA1(c): at least 60% within 6 months).",
        "CNST MIS year 6 technical guidance SA1(c) (numbers not seen in stored text)",
        Confidence.UNCONFIRMED,
    ),
)

CDOP_DEADLINES = (
    Deadline(
        "CDOP.notify",
        "baby.death",
        Period(1, "calendar_days"),
        "Notify the Child Death Overview Panel (for neonatal deaths, notification to MBRRACE-UK cascades to the "
        "CDOP through NCMD's Cascade system). Local procedures say within 24 hours.",
        "Nottinghamshire and Norfolk child death review procedures (national timescale not found)",
        Confidence.UNCONFIRMED,
    ),
)

DOC_DEADLINES = (
    Deadline(
        "DUTY_OF_CANDOUR.notification",
        "incident_known_date",
        Period(10, "working_days"),
        "Notify the person in person as soon as reasonably practicable (true account, enquiries, apology, "
        "support), then in writing; the NHS Standard Contract convention is 10 working days.",
        "CQC 'Regulation 20: Duty of candour'; Medical Protection (10 working days)",
        Confidence.SECONDARY,
    ),
)

LFPSE_DEADLINES = (
    Deadline(
        "LFPSE.record",
        "incident_known_date",
        AS_SOON_AS_POSSIBLE,
        "Record the event on LFPSE through the trust's local risk management system as soon as possible, with "
        "the information known then; the record can be updated as more becomes known. NHS England sets no "
        "deadline, so this is never overdue; set a local timescale if the trust's policy has one.",
        "NHS England 'Policy guidance on recording patient safety events and levels of harm' "
        "(2023, updated 2026; england.nhs.uk/long-read/policy-guidance-on-recording-patient-safety-events-and-"
        "levels-of-harm: 'always better to record ... using the available information', records updated as new "
        "information becomes available; no timescale); NHS England 'Learn from patient safety events (LFPSE) "
        "service' page (no timescale)",
        Confidence.UNCONFIRMED,
    ),
)

PSII_DEADLINES = (
    Deadline(
        "LOCAL_PSII.complete",
        "incident_known_date",
        Period(6, "months"),
        "Complete the PSII (typically 1–3 months, at most 6).",
        "PSIRF (timescale not seen in stored sources)",
        Confidence.UNCONFIRMED,
    ),
)

DEADLINES: tuple[Deadline, ...] = (
    *MNSI_DEADLINES,
    *NHSR_DEADLINES,
    *MBRRACE_PERINATAL_DEADLINES,
    *MBRRACE_MATERNAL_DEADLINES,
    *PMRT_DEADLINES,
    *CDOP_DEADLINES,
    *DOC_DEADLINES,
    *LFPSE_DEADLINES,
    *PSII_DEADLINES,
)
_DEADLINES_BY_ID = {d.id: d for d in DEADLINES}

#: Plain-English names of the deadlines, by the name after the route (shown on pages and in the trail).
DEADLINE_NAMES = MappingProxyType(
    {
        "refer": "Refer to MNSI",
        "steis": "Report on StEIS",
        "investigation_expected": "MNSI investigation expected to finish",
        "legal_services_informed": "Tell the trust's legal services",
        "notify_nhsr": "Notify NHS Resolution",
        "notify": "Notify",
        "surveillance_complete": "Complete the surveillance data",
        "review_started": "Start the review",
        "report_published": "Publish the review",
        "notification": "Notify the person affected",
        "record": "Record on LFPSE",
        "complete": "Complete the investigation",
    }
)
assert {d.name for d in DEADLINES} == set(DEADLINE_NAMES)


# --------------------------------------------------------------------------------------
# Conditions
# --------------------------------------------------------------------------------------


def _mnsi_baby_in_scope(report: HarmReport) -> bool:
    """MNSI "What we investigate" criteria 1, 2 and 4: term, after labour, not due to a congenital condition."""
    baby = report.baby
    return (
        baby is not None
        and term(report)
        and in_labour_before_birth(report)
        and baby.outcome_due_to_congenital_condition is False
    )


def _mnsi_1a_isb(report: HarmReport, options: RoutingOptions) -> bool:
    return _mnsi_baby_in_scope(report) and report.baby is not None and intrapartum_stillbirth(report.baby)


def _mnsi_1a_ennd(report: HarmReport, options: RoutingOptions) -> bool:
    return _mnsi_baby_in_scope(report) and report.baby is not None and early_neonatal_death(report.baby)


def _mnsi_1a_psbi(report: HarmReport, options: RoutingOptions) -> bool:
    return (
        _mnsi_baby_in_scope(report)
        and report.baby is not None
        and potential_severe_brain_injury(report.baby, options, _LEGACY_CRITERIA)
    )


def _mnsi_1a_mse(report: HarmReport, options: RoutingOptions) -> bool:
    return (
        _mnsi_baby_in_scope(report)
        and report.baby is not None
        and potential_severe_brain_injury(report.baby, options, ("moderate_severe_encephalopathy",))
    )


def _maternal_death_within_42_days(report: HarmReport) -> bool:
    """MNSI maternal deaths: died while pregnant or within 42 days of the end of pregnancy (day 42 counts)."""
    mother = report.mother
    return mother.died and (
        mother.death_timing == "during_pregnancy"
        or (mother.days_after_end_of_pregnancy is not None and mother.days_after_end_of_pregnancy <= 42)
    )


def _mnsi_1b(report: HarmReport, options: RoutingOptions) -> bool:
    return _maternal_death_within_42_days(report) and report.mother.cause_classification in ("direct", "indirect")


def _mnsi_1b_suicide(report: HarmReport, options: RoutingOptions) -> bool:
    return _maternal_death_within_42_days(report) and report.mother.cause_classification == "suicide"


def _nhsr_2a(report: HarmReport, options: RoutingOptions) -> bool:
    baby = report.baby
    return (
        baby is not None
        and term(report)
        and in_labour_before_birth(report)
        and potential_severe_brain_injury(baby, options, _ALL_CRITERIA)
        and not early_neonatal_death(baby)
        and baby.mri_evidence_hypoxic_injury is True
    )


def _at_least(report: HarmReport, ga: int, grams: int, *, strictly_more_grams: bool = False) -> bool:
    """Gestation at least ``ga`` days; if unknown, birthweight instead (MBRRACE-UK manual v1.3 §1.1; PMRT FAQs)."""
    known = ga_days(report)
    if known is not None:
        return known >= ga
    weight = report.baby.birthweight_g if report.baby is not None else None
    if weight is None:
        return False
    return weight > grams if strictly_more_grams else weight >= grams


def _no_signs_of_life(report: HarmReport) -> bool:
    return report.baby is not None and not report.baby.signs_of_life_at_birth


def _mbrrace_3a_lfl(report: HarmReport, options: RoutingOptions) -> bool:
    ga = ga_days(report)
    return _no_signs_of_life(report) and ga is not None and GA_22_0 <= ga < GA_24_0


def _mbrrace_3a_sb(report: HarmReport, options: RoutingOptions) -> bool:
    return _no_signs_of_life(report) and _at_least(report, GA_24_0, 400)


def _mbrrace_3a_nnd(report: HarmReport, options: RoutingOptions) -> bool:
    baby = report.baby
    return baby is not None and neonatal_death(baby) and _at_least(report, GA_20_0, 400)


def _mbrrace_3b_md(report: HarmReport, options: RoutingOptions) -> bool:
    return _maternal_death_within_42_days(report)


def _mbrrace_3b_late(report: HarmReport, options: RoutingOptions) -> bool:
    days = report.mother.days_after_end_of_pregnancy
    return report.mother.died and days is not None and 42 < days <= 365


def _pmrt_4a_nsl(report: HarmReport, options: RoutingOptions) -> bool:
    return (
        not report.termination_of_pregnancy
        and _no_signs_of_life(report)
        and _at_least(report, GA_22_0, 500, strictly_more_grams=True)
    )


def _born_alive_and_died(report: HarmReport) -> bool:
    return report.baby is not None and report.baby.signs_of_life_at_birth and report.baby.died


def _pmrt_4a_nnd(report: HarmReport, options: RoutingOptions) -> bool:
    return (
        not report.termination_of_pregnancy
        and report.baby is not None
        and neonatal_death(report.baby)
        and _at_least(report, GA_22_0, 500, strictly_more_grams=True)
    )


def _pmrt_4a_pnnd(report: HarmReport, options: RoutingOptions) -> bool:
    baby = report.baby
    return (
        not report.termination_of_pregnancy
        and baby is not None
        and _born_alive_and_died(report)
        and not neonatal_death(baby)
        and baby.received_neonatal_care is True
        and _at_least(report, GA_22_0, 500, strictly_more_grams=True)
    )


def _cdop_8(report: HarmReport, options: RoutingOptions) -> bool:
    return _born_alive_and_died(report) and not report.termination_of_pregnancy


def _doc_7(report: HarmReport, options: RoutingOptions) -> bool:
    return report.notifiable_safety_incident is True


def _lfpse_6(report: HarmReport, options: RoutingOptions) -> bool:
    return True


def _psirf_5_never_event(report: HarmReport, options: RoutingOptions) -> bool:
    return report.never_event is True


def _psirf_5_lfd(report: HarmReport, options: RoutingOptions) -> bool:
    return any_death(report) and report.death_likely_due_to_problems_in_care is True


_MNSI_1A_READS = ("gestation", "mode_of_birth", "baby.outcome_due_to_congenital_condition")
_MNSI_1A_SOURCE = "MNSI 'What we investigate' (mnsi.org.uk); HSIB 'What we investigate'"

RULES: tuple[Rule, ...] = (
    Rule(
        "MNSI-1a-ISB",
        "MNSI",
        "Intrapartum stillbirth at term: born at 37+0 or later following labour, thought to be alive at the "
        "start of labour and born with no signs of life; not caused by a congenital condition.",
        _mnsi_1a_isb,
        (*_MNSI_1A_READS, "baby.fetal_death_timing"),
        MNSI_DEADLINES,
        _MNSI_1A_SOURCE,
        Confidence.CONFIRMED,
        note="An antepartum stillbirth at term is not MNSI (the baby was not alive at the start of labour).",
    ),
    Rule(
        "MNSI-1a-ENND",
        "MNSI",
        "Early neonatal death at term: born at 37+0 or later following labour and died at 0–6 completed days, "
        "of any cause; not caused by a congenital condition.",
        _mnsi_1a_ennd,
        _MNSI_1A_READS,
        MNSI_DEADLINES,
        _MNSI_1A_SOURCE,
        Confidence.CONFIRMED,
    ),
    Rule(
        "MNSI-1a-PSBI",
        "MNSI",
        "Potential severe brain injury at term: born at 37+0 or later following labour with, in the first 7 "
        "days, active therapeutic cooling, grade III HIE, or decreased central tone AND coma AND seizures; "
        "not caused by a congenital condition.",
        _mnsi_1a_psbi,
        (*_MNSI_1A_READS, *_LEGACY_READS),
        MNSI_DEADLINES,
        _MNSI_1A_SOURCE + "; criteria: the RCOG 'Each Baby Counts' set",
        Confidence.CONFIRMED,
        note="MNSI may decline to investigate (since April 2020 not routinely cooled babies with a normal MRI), "
        "but trusts still refer every case that meets the criteria; the investigation decision is MNSI's.",
    ),
    Rule(
        "MNSI-1a-MSE",
        "MNSI",
        "Potential severe brain injury at term by the revised definition: born at 37+0 or later following "
        "labour with moderate–severe encephalopathy in the first 7 days; not caused by a congenital condition.",
        _mnsi_1a_mse,
        (*_MNSI_1A_READS, "baby.moderate_severe_encephalopathy"),
        MNSI_DEADLINES,
        "NHS Resolution EN definition, used for MNSI by a 2025 secondary source (Williamsons Solicitors 'MNSI')",
        Confidence.SECONDARY,
        switchable=True,
    ),
    Rule(
        "MNSI-1b",
        "MNSI",
        "Maternal death from a direct or indirect cause while pregnant or within 42 days of the end of "
        "pregnancy (day 42 counts); accidental and coincidental deaths are excluded.",
        _mnsi_1b,
        ("mother.cause_classification",),
        MNSI_DEADLINES,
        "MNSI 'Improving support after maternal deaths'; Isonharrison HSIB summary; "
        "Williamsons Solicitors 'MNSI' (2025)",
        Confidence.CONFIRMED,
        note="Day 42 itself counts as 'within 42 days' (MatNeo's interpretation).",
    ),
    Rule(
        "MNSI-1b-SUICIDE",
        "MNSI",
        "Maternal death by suicide while pregnant or within 42 days of the end of pregnancy. UK/ICD-MM "
        "classifies this as a direct death, but the project brief excludes it from MNSI; the exclusion was not "
        "found in MNSI's published criteria.",
        _mnsi_1b_suicide,
        ("mother.cause_classification",),
        MNSI_DEADLINES,
        "project brief (exclusion not found in MNSI/HSIB pages); BMC Pregnancy Childbirth 2016 (ICD-MM)",
        Confidence.UNCONFIRMED,
        switchable=True,
        enabled_by_default=False,
    ),
    Rule(
        "NHSR-2a",
        "NHSR_EN",
        "Term baby (37+0 or later) born following labour with potential severe brain injury in the first 7 days "
        "(any enabled criterion) confirmed as hypoxic injury on MRI; not if born by caesarean before labour, and "
        "not if the baby died at 0–6 completed days.",
        _nhsr_2a,
        ("gestation", "mode_of_birth", *_PSBI_READS, "baby.mri_evidence_hypoxic_injury"),
        NHSR_DEADLINES,
        "NHS Resolution 'Early Notification Scheme: NHS trusts' FAQ; SPEN home page",
        Confidence.CONFIRMED,
        note="While the MRI result is not known the route is pending.",
    ),
    Rule(
        "MBRRACE-3a-LFL",
        "MBRRACE_PERINATAL",
        "Late fetal loss: born at 22+0 to 23+6 with no signs of life (terminations included).",
        _mbrrace_3a_lfl,
        ("gestation",),
        MBRRACE_PERINATAL_DEADLINES,
        "MBRRACE-UK perinatal surveillance technical manual v1.3 §1.1; NPEU 'Perinatal data collection'",
        Confidence.CONFIRMED,
        note="A no-signs-of-life birth at 21+6 is not reportable. The trust where the death occurred reports.",
    ),
    Rule(
        "MBRRACE-3a-SB",
        "MBRRACE_PERINATAL",
        "Stillbirth: born at 24+0 or later with no signs of life, or weighing 400 g or more when gestation is "
        "not known (terminations included).",
        _mbrrace_3a_sb,
        ("baby.birthweight_g",),
        MBRRACE_PERINATAL_DEADLINES,
        "MBRRACE-UK perinatal surveillance technical manual v1.3 §1.1",
        Confidence.CONFIRMED,
    ),
    Rule(
        "MBRRACE-3a-NND",
        "MBRRACE_PERINATAL",
        "Neonatal death: born alive at 20+0 or later (or 400 g or more when gestation is not known) and died "
        "before 28 completed days (terminations included).",
        _mbrrace_3a_nnd,
        ("baby.birthweight_g",),
        MBRRACE_PERINATAL_DEADLINES,
        "MBRRACE-UK perinatal surveillance technical manual v1.3 §1.1",
        Confidence.CONFIRMED,
        note="A live birth at 21+6 that dies within 27 days is reportable. For multiple pregnancies, deaths "
        "confirmed before 20+0 are excluded; the report has no field for that date, so check these by hand.",
    ),
    Rule(
        "MBRRACE-3b-MD",
        "MBRRACE_MATERNAL",
        "Maternal death: died while pregnant or within 42 days of the end of pregnancy, whatever the cause "
        "(suicide, accidental and coincidental deaths included).",
        _mbrrace_3b_md,
        (),
        MBRRACE_MATERNAL_DEADLINES,
        "MBRRACE-UK FAQs (npeu.ox.ac.uk/mbrrace-uk/faqs); NHS GGC and NHS Borders maternal death guidelines",
        Confidence.CONFIRMED,
    ),
    Rule(
        "MBRRACE-3b-LATE",
        "MBRRACE_MATERNAL",
        "Late maternal death: died 43 to 365 days after the end of pregnancy, whatever the cause.",
        _mbrrace_3b_late,
        (),
        MBRRACE_MATERNAL_DEADLINES,
        "MBRRACE-UK FAQs; NHS GGC and NHS Borders maternal death guidelines",
        Confidence.CONFIRMED,
    ),
    Rule(
        "PMRT-4a-NSL",
        "PMRT",
        "Late fetal loss or stillbirth: born at 22+0 or later with no signs of life (over 500 g when gestation "
        "is not known); not a termination of pregnancy.",
        _pmrt_4a_nsl,
        ("baby.birthweight_g",),
        PMRT_DEADLINES,
        "PMRT FAQs (npeu.ox.ac.uk/pmrt/faqs)",
        Confidence.CONFIRMED,
    ),
    Rule(
        "PMRT-4a-NND",
        "PMRT",
        "Neonatal death: born alive at 22+0 or later (over 500 g when gestation is not known) and died before "
        "28 completed days; not a termination of pregnancy.",
        _pmrt_4a_nnd,
        ("baby.birthweight_g",),
        PMRT_DEADLINES,
        "PMRT FAQs (npeu.ox.ac.uk/pmrt/faqs)",
        Confidence.CONFIRMED,
        note="A live birth at 20+0 to 21+6 goes to MBRRACE-UK but not PMRT. The PMRT FAQ wording is ambiguous "
        "for community neonatal deaths without neonatal care; they are included here (MatNeo's reading).",
    ),
    Rule(
        "PMRT-4a-PNND",
        "PMRT",
        "Post-neonatal death after neonatal care: born alive at 22+0 or later (over 500 g when gestation is not "
        "known), died at 28 completed days or later, having received neonatal care; not a termination.",
        _pmrt_4a_pnnd,
        ("baby.birthweight_g", "baby.received_neonatal_care"),
        PMRT_DEADLINES,
        "PMRT FAQs (npeu.ox.ac.uk/pmrt/faqs)",
        Confidence.CONFIRMED,
        note="Babies with brain injury who survive are not for PMRT.",
    ),
    Rule(
        "CDOP-8",
        "CDOP",
        "Child death: a baby born alive (any gestation) who died; not a termination of pregnancy. Stillbirths and "
        "late fetal losses are excluded.",
        _cdop_8,
        (),
        CDOP_DEADLINES,
        "Working Together / Child Death Review statutory guidance as cited by Nottinghamshire and "
        "Norfolk child death review procedures; NCMD 'The Cascade integrated system'",
        Confidence.CONFIRMED,
    ),
    Rule(
        "DOC-7",
        "DUTY_OF_CANDOUR",
        "Notifiable safety incident: in a professional's reasonable opinion the incident appears to have "
        "resulted, or could result, in death, severe or moderate harm, or prolonged psychological harm.",
        _doc_7,
        ("notifiable_safety_incident",),
        DOC_DEADLINES,
        "CQC 'Regulation 20: Duty of candour' (Health and Social Care Act 2008 (Regulated Activities) "
        "Regulations 2014)",
        Confidence.CONFIRMED,
        note="For MNSI referrals the initial Duty of Candour must be completed before MNSI contacts the family.",
    ),
    Rule(
        "LFPSE-6",
        "LFPSE",
        "Every harm report is recorded on LFPSE, including poor outcomes where it is not yet clear whether an "
        "incident contributed.",
        _lfpse_6,
        (),
        LFPSE_DEADLINES,
        "NHS England 'Learn from patient safety events (LFPSE) service' and primary-care LFPSE page",
        Confidence.CONFIRMED,
    ),
    Rule(
        "PSIRF-5-NE",
        "LOCAL_PSII",
        "Never Event: a locally-led patient safety incident investigation (PSII) is required.",
        _psirf_5_never_event,
        ("never_event",),
        PSII_DEADLINES,
        "PSIRF national requirements as reproduced in Croydon Health Services PSIRP §5",
        Confidence.CONFIRMED,
    ),
    Rule(
        "PSIRF-5-LFD",
        "LOCAL_PSII",
        "A death thought more likely than not to be due to problems in care (Learning from Deaths): a "
        "locally-led PSII is required.",
        _psirf_5_lfd,
        ("death_likely_due_to_problems_in_care",),
        PSII_DEADLINES,
        "PSIRF national requirements as reproduced in Croydon Health Services PSIRP §5",
        Confidence.CONFIRMED,
        note="Otherwise the local learning response (PSII, after action review, swarm huddle, MDT review...) is "
        "the trust's choice under its PSIRP.",
    ),
)
_RULES_BY_ID = {r.id: r for r in RULES}

EXCLUSIONS: tuple[Exclusion, ...] = (
    Exclusion(
        "PSIRF-5-MNSI",
        "LOCAL_PSII",
        "MNSI",
        "Incidents meeting MNSI criteria are referred to MNSI for an independent PSII, which replaces the "
        "trust's own investigation: no local PSII.",
        "PSIRF national requirements (Croydon Health Services PSIRP §5); MNSI 'Refer a case to us'",
        Confidence.CONFIRMED,
    ),
)


def rule_by_id(rule_id: str) -> Rule:
    """The rule with this id (KeyError if there is none)."""
    return _RULES_BY_ID[rule_id]


def deadline_by_id(deadline_id: str) -> Deadline:
    """The deadline with this id (KeyError if there is none)."""
    return _DEADLINES_BY_ID[deadline_id]
