"""What a review is made of, as data: stages and their deadlines, panel roles, areas and grades of care,
contributory factors. Each item carries its source and whether it needs local confirmation.

No number or wording here is invented. Where a primary source could not be read (the timescales of
NHS Resolution's Maternity Incentive Scheme Safety Action 1, the PMRT's grade wording and cause-of-death
classification) the item is marked ``needs_local_confirmation`` and can be replaced through
:class:`ReviewOptions`; a grade with no confirmed wording is shown as its letter only.

Sources read (2026):

* NPEU, PMRT FAQs, https://www.npeu.ox.ac.uk/pmrt/faqs: which deaths to review; joint reviews when care
  crossed trusts ("the ideal is that a joint review is carried out by all the units involved");
* NPEU, "Safety Action 1 of the Maternity Incentive Scheme for England, FAQs",
  https://www.npeu.ox.ac.uk/pmrt/faqs/faqsmis: SA1 covers notification (SA1a) and "review started" (SA1c),
  annually from 8 December 2023; the numbers themselves are in NHS Resolution's technical guidance, which
  was not readable here;
* Scottish Government, "Maternity and neonatal (perinatal) adverse event review process: guidance",
  Appendix A "Perinatal mortality review tool" (2023),
  https://www.gov.scot/publications/maternity-neonatal-perinatal-adverse-event-review-process-scotland/pages/7/:
  the review group (chair and vice-chair; obstetrician, midwife, neonatologist and neonatal nurse);
  telling parents about the review and how they can contribute; grading of the care provided.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from matneo.harm.rules import Confidence, Period

__all__ = [
    "ACTION_STATUSES",
    "CARE_AREAS",
    "CONTRIBUTORY_FACTORS",
    "DEADLINES",
    "GRADES",
    "PANEL_ROLES",
    "PARENT_CONTRIBUTE",
    "PARENT_ITEM_KINDS",
    "RELEVANCE",
    "STAGES",
    "STORY_STAGES",
    "CareArea",
    "Grade",
    "ReviewOptions",
    "StageDeadline",
    "areas_for",
    "composition_warnings",
    "stage_deadlines",
]

MIS_FAQ = "NPEU, Safety Action 1 of the Maternity Incentive Scheme for England, FAQs (npeu.ox.ac.uk/pmrt/faqs/faqsmis)"
MIS_GUIDANCE = "NHS Resolution, Maternity Incentive Scheme technical guidance, Safety Action 1 (number not confirmed)"
SCOTLAND_APPENDIX_A = (
    "Scottish Government, Maternity and neonatal (perinatal) adverse event review process: guidance, Appendix A "
    "(2023), gov.scot/publications/maternity-neonatal-perinatal-adverse-event-review-process-scotland/pages/7/"
)
PMRT_FAQS = "NPEU, Perinatal Mortality Review Tool FAQs (npeu.ox.ac.uk/pmrt/faqs)"

#: Stages in order: (id, label, the Review column holding its date; panel meetings are their own rows).
STAGES: tuple[tuple[str, str, str | None], ...] = (
    ("notified", "Death notified", "notified_on"),
    ("started", "Review started", "started_on"),
    ("panel_meeting", "First panel meeting", None),
    ("draft_report", "Draft report written", "draft_report_on"),
    ("shared_with_parents", "Report shared with parents", "shared_with_parents_on"),
    ("closed", "Review closed", "closed_on"),
)
STAGE_LABELS = MappingProxyType({s: label for s, label, _ in STAGES})
STAGE_COLUMNS = MappingProxyType({s: column for s, _, column in STAGES if column})


@dataclass(frozen=True)
class StageDeadline:
    """By when a stage should be reached, counted from the death, with its source.

    ``period`` ``None``: no timescale found in a source; none is shown until one is set locally.
    """

    stage: str
    period: Period | None
    text: str
    source: str
    confidence: Confidence

    @property
    def needs_local_confirmation(self) -> bool:
        return self.confidence is not Confidence.CONFIRMED

    def due(self, death_date: dt.date) -> dt.date | None:
        return None if self.period is None else self.period.after(death_date)


DEADLINES: tuple[StageDeadline, ...] = (
    StageDeadline(
        "notified",
        Period(7, "working_days"),
        "Notify the death to MBRRACE-UK (Maternity Incentive Scheme Safety Action 1(a)).",
        f"{MIS_FAQ}: SA1(a) is notification; {MIS_GUIDANCE}",
        Confidence.UNCONFIRMED,
    ),
    StageDeadline(
        "started",
        Period(2, "months"),
        "Start the review on the PMRT (Safety Action 1(c), 'review started').",
        f"{MIS_FAQ}: SA1(c) is 'review started'; {MIS_GUIDANCE}",
        Confidence.UNCONFIRMED,
    ),
    StageDeadline(
        "panel_meeting", None, "Hold the multidisciplinary panel meeting.", "No timescale found", Confidence.UNCONFIRMED
    ),
    StageDeadline(
        "draft_report",
        Period(6, "months"),
        "Complete the review to at least a draft report (Safety Action 1).",
        MIS_GUIDANCE,
        Confidence.UNCONFIRMED,
    ),
    StageDeadline(
        "shared_with_parents",
        None,
        "Share the report with the parents and meet them to explain it.",
        f"{SCOTLAND_APPENDIX_A}: a report for parents (no timescale)",
        Confidence.UNCONFIRMED,
    ),
    StageDeadline("closed", None, "Close the review.", "No timescale found", Confidence.UNCONFIRMED),
)

#: Panel roles. A member of any role may be external (from another organisation, "fresh eyes").
PANEL_ROLES = MappingProxyType(
    {
        "chair": "Chair",
        "obstetrician": "Obstetrician",
        "midwife": "Midwife",
        "neonatologist": "Neonatologist",
        "neonatal_nurse": "Neonatal nurse",
        "external_member": "External member",
        "bereavement_lead": "Bereavement lead",
        "other": "Other",
    }
)


def composition_warnings(category: str, members: Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
    """What the panel misses that the sources expect; ``members`` are dicts with ``role`` and ``external``.

    * no external member: the PMRT annual reports measure it and it is recommended (Appendix A lists the
      review group; the external member's share is a national measure);
    * a neonatal or post-neonatal death with no neonatologist (Appendix A: neonatologist in the group);
    * no chair (Appendix A: "Chair and Vice-Chair").
    """
    members = list(members)
    roles = {m["role"] for m in members}
    out: list[dict[str, str]] = []
    if not any(m.get("external") or m["role"] == "external_member" for m in members):
        out.append(
            {
                "id": "no_external_member",
                "text": "The panel has no external member from another organisation.",
                "source": SCOTLAND_APPENDIX_A,
            }
        )
    if category in ("neonatal_death", "post_neonatal_death") and "neonatologist" not in roles:
        out.append(
            {
                "id": "no_neonatologist",
                "text": "The baby was born alive but the panel has no neonatologist.",
                "source": SCOTLAND_APPENDIX_A,
            }
        )
    if "chair" not in roles:
        out.append({"id": "no_chair", "text": "The panel has no chair.", "source": SCOTLAND_APPENDIX_A})
    return out


@dataclass(frozen=True)
class CareArea:
    """An area of care the panel grades. ``born_alive_only``: graded only when the baby was born alive."""

    id: str
    label: str
    born_alive_only: bool = False


#: Areas graded (needs local confirmation: the PMRT's own area names were not readable here).
CARE_AREAS: tuple[CareArea, ...] = (
    CareArea("up_to_birth", "Care up to the birth"),
    CareArea("baby_after_birth", "Care of the baby after birth", born_alive_only=True),
    CareArea("mother_after_birth", "Care of the mother after the birth"),
)
CARE_AREA_LABELS = MappingProxyType({a.id: a.label for a in CARE_AREAS})


def areas_for(category: str) -> list[CareArea]:
    """The areas graded for a death of this kind."""
    born_alive = category in ("neonatal_death", "post_neonatal_death")
    return [a for a in CARE_AREAS if born_alive or not a.born_alive_only]


@dataclass(frozen=True)
class Grade:
    """A grade of care: its letter and its wording. ``wording`` ``None``: not confirmed from a primary source."""

    letter: str
    wording: str | None = None

    @property
    def needs_local_confirmation(self) -> bool:
        return self.wording is None


#: Grades A–D. The PMRT documentation's exact wording could not be read from a primary source here, so
#: none is given: set it locally (``ReviewOptions.grade_wording``) from the PMRT documentation.
GRADES: tuple[Grade, ...] = (Grade("A"), Grade("B"), Grade("C"), Grade("D"))

#: Categories of the NPSA Contributory Factors Classification Framework (NPSA, Root cause analysis
#: investigation tools, 2009), which the PMRT uses to code contributory factors (PMRT FAQs). The list
#: is as reproduced in a secondary source; needs local confirmation against the framework.
CONTRIBUTORY_FACTORS = MappingProxyType(
    {
        "patient": "Patient factors",
        "individual": "Individual (staff) factors",
        "task": "Task factors",
        "communication": "Communication factors",
        "team": "Team and social factors",
        "education": "Education and training factors",
        "equipment": "Equipment and resources factors",
        "working_conditions": "Working conditions factors",
        "organisational": "Organisational and strategic factors",
    }
)
RELEVANCE = MappingProxyType(
    {"yes": "Relevant to the outcome", "no": "Not relevant to the outcome", "unclear": "Not known yet"}
)
STORY_STAGES = MappingProxyType(
    {
        "pregnancy": "Care in pregnancy",
        "labour_and_birth": "Labour and birth",
        "after_birth": "Care after the birth (the baby)",
        "bereavement": "Care of the family after the death",
    }
)
PARENT_ITEM_KINDS = MappingProxyType({"question": "Question", "concern": "Concern"})
PARENT_CONTRIBUTE = MappingProxyType({"yes": "Yes", "no": "No", "not_yet_asked": "Not asked yet"})
ACTION_STATUSES = MappingProxyType({"open": "Not started", "in_progress": "In progress", "done": "Done"})


@dataclass(frozen=True)
class ReviewOptions:
    """Local settings: a trust's confirmed timescales and grade wording replace the unconfirmed defaults.

    ``deadlines``: ``{stage: Period | None}``; ``grade_wording``: ``{letter: text}``. A locally set item is
    recorded as confirmed locally (it no longer shows "needs local confirmation").
    """

    deadlines: Mapping[str, Period | None] = field(default_factory=dict)
    grade_wording: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = set(self.deadlines) - set(STAGE_LABELS)
        if unknown:
            raise ValueError(f"unknown stages: {', '.join(sorted(unknown))}")
        letters = set(self.grade_wording) - {g.letter for g in GRADES}
        if letters:
            raise ValueError(f"unknown grades: {', '.join(sorted(letters))}")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReviewOptions:
        """From JSON: ``{"deadlines": {"started": {"amount": 2, "unit": "months"} | null}, "grade_wording": {...}}``."""
        deadlines = {
            stage: None if value is None else Period(value["amount"], value["unit"])
            for stage, value in dict(data.get("deadlines") or {}).items()
        }
        return cls(deadlines, dict(data.get("grade_wording") or {}))


def stage_deadlines(options: ReviewOptions | None = None) -> list[StageDeadline]:
    """The deadlines in force: the defaults, with any local setting in their place."""
    options = options or ReviewOptions()
    out = []
    for rule in DEADLINES:
        if rule.stage in options.deadlines:
            rule = replace(
                rule, period=options.deadlines[rule.stage], source="Set locally", confidence=Confidence.CONFIRMED
            )
        out.append(rule)
    return out


def grades(options: ReviewOptions | None = None) -> list[Grade]:
    options = options or ReviewOptions()
    return [Grade(g.letter, options.grade_wording.get(g.letter, g.wording)) for g in GRADES]
