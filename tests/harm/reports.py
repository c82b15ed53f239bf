"""Report builders for the harm routing tests: a complete, uneventful report, then overrides."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from matneo.harm import route

#: Routing date for the tests: late enough for every event date used, inside the 2015–2030 calendar.
TODAY = dt.date(2027, 6, 30)
BIRTH = "2026-03-02"  # a Monday


def live_baby(**overrides: Any) -> dict:
    """A baby born alive, well, every brain-injury finding known and negative."""
    baby = {
        "birth_date": BIRTH,
        "signs_of_life_at_birth": True,
        "died": False,
        "received_neonatal_care": False,
        "birthweight_g": 3400,
        "therapeutic_cooling": "none",
        "hie_grade": 0,
        "decreased_central_tone": False,
        "comatose": False,
        "seizures": False,
        "moderate_severe_encephalopathy": False,
        "mri_evidence_hypoxic_injury": False,
        "outcome_due_to_congenital_condition": False,
    }
    baby.update(overrides)
    return baby


def died_at(age: int, birth: str = BIRTH, **overrides: Any) -> dict:
    """A baby born alive who died at ``age`` completed days (death dated birth + age)."""
    death = dt.date.fromisoformat(birth) + dt.timedelta(days=age)
    return live_baby(
        birth_date=birth, died=True, age_at_death_completed_days=age, death_date=death.isoformat(), **overrides
    )


def stillborn(timing: str | None = "antepartum", birth: str = BIRTH, **overrides: Any) -> dict:
    """A baby born with no signs of life."""
    baby = {
        "birth_date": birth,
        "signs_of_life_at_birth": False,
        "fetal_death_timing": timing,
        "birthweight_g": 3000,
        "outcome_due_to_congenital_condition": False,
    }
    baby.update(overrides)
    return baby


_LIVE: Any = object()


def report(
    baby: dict | None = _LIVE, weeks: int | None = 39, days: int = 0, mother: dict | None = None, **overrides: Any
) -> dict:
    """A complete report (a well term baby by default; ``baby=None`` for none); every judgement "no"."""
    data = {
        "incident_known_date": BIRTH,
        "gestation": None if weeks is None else {"weeks": weeks, "days": days},
        "labour": "spontaneous",
        "mode_of_birth": "vaginal",
        "termination_of_pregnancy": False,
        "multiple_pregnancy": False,
        "notifiable_safety_incident": False,
        "never_event": False,
        "death_likely_due_to_problems_in_care": False,
        "baby": live_baby() if baby is _LIVE else baby,
        "mother": {"died": False} if mother is None else mother,
    }
    data.update(overrides)
    return copy.deepcopy(data)


def maternal_death(
    days_after: int | None, cause: str | None = "direct", death: str = "2026-03-10", **overrides: Any
) -> dict:
    """A mother who died ``days_after`` days after the end of pregnancy (None: during pregnancy)."""
    mother = {
        "died": True,
        "death_date": death,
        "death_timing": "during_pregnancy" if days_after is None else "after_end_of_pregnancy",
        "days_after_end_of_pregnancy": days_after,
        "pregnancy_outcome": "ongoing" if days_after is None else "miscarriage",
        "cause_classification": cause,
    }
    mother.update(overrides)
    return mother


def routed(data: dict, today: dt.date = TODAY, **kwargs: Any) -> dict:
    return route(data, today=today, **kwargs)


def route_ids(data: dict, **kwargs: Any) -> list[str]:
    return [r["id"] for r in routed(data, **kwargs)["routes"]]


def rules_for(data: dict, route_id: str, **kwargs: Any) -> list[str]:
    """The ids of the rules that sent the report to ``route_id`` ([] if it was not routed there)."""
    for entry in routed(data, **kwargs)["routes"]:
        if entry["id"] == route_id:
            return [reason["rule"] for reason in entry["reasons"]]
    return []
