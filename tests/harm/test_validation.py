"""Bad input is rejected with every problem named, never routed partially (fields: docs/harm-routing.md)."""

from __future__ import annotations

import datetime as dt

import pytest

from matneo.harm import HarmReportError

from .reports import TODAY, died_at, live_baby, maternal_death, report, routed, stillborn


def problems(data: object, today: dt.date = TODAY) -> list[tuple[str, str]]:
    with pytest.raises(HarmReportError) as caught:
        routed(data, today=today)  # type: ignore[arg-type]
    assert isinstance(caught.value, ValueError)
    return [(e.field, e.message) for e in caught.value.errors]


def without(data: dict, path: str) -> dict:
    *parents, key = path.split(".")
    inner = data
    for parent in parents:
        inner = inner[parent]
    del inner[key]
    return data


@pytest.mark.parametrize(
    ("case", "data", "field", "fragment"),
    [
        ("weeks too high", report(weeks=46), "gestation.weeks", "from 0 to 45"),
        ("weeks negative", report(weeks=-1), "gestation.weeks", "from 0 to 45"),
        ("days 7", report(days=7), "gestation.days", "from 0 to 6"),
        ("weeks as text", report(gestation={"weeks": "39", "days": 0}), "gestation.weeks", "got '39'"),
        ("weeks as bool", report(gestation={"weeks": True, "days": 0}), "gestation.weeks", "whole number"),
        ("weeks missing", report(gestation={"days": 0}), "gestation.weeks", "is required"),
        ("labour enum", report(labour="early"), "labour", "must be one of"),
        ("mode enum", report(mode_of_birth="ventouse"), "mode_of_birth", "must be one of"),
        ("bool as text", report(termination_of_pregnancy="no"), "termination_of_pregnancy", "true or false"),
        ("termination missing", without(report(), "termination_of_pregnancy"), "termination_of_pregnancy", "required"),
        ("labour missing with baby", without(report(), "labour"), "labour", "required when the report has a baby"),
        ("mother missing", without(report(), "mother"), "mother", "is required"),
        ("baby key missing", without(report(), "baby"), "baby", "is required"),
        ("typo", {**report(), "gestaton": {"weeks": 39, "days": 0}}, "gestaton", "not a field"),
        ("nested typo", report(live_baby(cooling="active")), "baby.cooling", "not a field"),
        ("birth date missing", report(without(live_baby(), "birth_date")), "baby.birth_date", "is required"),
        ("bad date", report(live_baby(birth_date="2026-13-01")), "baby.birth_date", "ISO date"),
        ("UK date format", report(live_baby(birth_date="02/03/2026")), "baby.birth_date", "ISO date"),
        ("future date", report(live_baby(birth_date="2027-07-01")), "baby.birth_date", "in the future"),
        ("before the calendar", report(live_baby(birth_date="2014-12-31")), "baby.birth_date", "outside the deadline"),
        ("signs of life missing", report(without(live_baby(), "signs_of_life_at_birth")),
         "baby.signs_of_life_at_birth", "is required"),
        # death before birth
        ("death before birth", report(live_baby(died=True, age_at_death_completed_days=0, death_date="2026-03-01")),
         "baby.death_date", "before baby.birth_date"),
        ("age and dates disagree", report(live_baby(died=True, age_at_death_completed_days=2, death_date="2026-03-10")),
         "baby.age_at_death_completed_days", "8 calendar days after"),
        ("age missing", report(without(died_at(3), "age_at_death_completed_days")),
         "baby.age_at_death_completed_days", "is required for a baby who was born alive and died"),
        ("death date missing", report(without(died_at(3), "death_date")), "baby.death_date", "is required"),
        ("age negative", report(live_baby(died=True, age_at_death_completed_days=-1, death_date="2026-03-02")),
         "baby.age_at_death_completed_days", "0 or more"),
        ("age but alive", report(live_baby(age_at_death_completed_days=3)), "baby.age_at_death_completed_days",
         "must be empty when baby.died is false"),
        # stillbirth contradictions
        ("age at death on a stillbirth", report(stillborn(age_at_death_completed_days=0)),
         "baby.age_at_death_completed_days", "no age at death"),
        ("death date on a stillbirth", report(stillborn(death_date="2026-03-02")), "baby.death_date", "must be empty"),
        ("stillbirth not died", report(stillborn(died=False)), "baby.died", "cannot be false"),
        ("cooling a stillbirth", report(stillborn(therapeutic_cooling="active")), "baby.therapeutic_cooling",
         "no signs of life"),
        ("timing on a live birth", report(live_baby(fetal_death_timing="antepartum")), "baby.fetal_death_timing",
         "must be empty"),
        ("intrapartum without labour", report(stillborn("intrapartum"), labour="none"), "baby.fetal_death_timing",
         "labour is none"),
        ("hie grade 4", report(live_baby(hie_grade=4)), "baby.hie_grade", "from 0 to 3"),
        ("birthweight 0", report(live_baby(birthweight_g=0)), "baby.birthweight_g", "from 1 to 9999"),
        # mothers
        ("days after, death in pregnancy",
         report(baby=None, mother=maternal_death(None, days_after_end_of_pregnancy=3)),
         "mother.days_after_end_of_pregnancy", "must be empty when the mother died during pregnancy"),
        ("days after missing", report(baby=None, mother=maternal_death(3, days_after_end_of_pregnancy=None)),
         "mother.days_after_end_of_pregnancy", "is required"),
        ("death timing missing", report(baby=None, mother=maternal_death(3, death_timing=None)),
         "mother.death_timing", "is required when mother.died is true"),
        ("mother death date missing", report(baby=None, mother=maternal_death(3, death_date=None)),
         "mother.death_date", "is required"),
        ("cause enum", report(baby=None, mother=maternal_death(3, "natural")), "mother.cause_classification",
         "must be one of"),
        ("cause when alive", report(mother={"died": False, "cause_classification": "direct"}),
         "mother.cause_classification", "must be empty when mother.died is false"),
        ("ongoing but after end", report(baby=None, mother=maternal_death(3, pregnancy_outcome="ongoing")),
         "mother.pregnancy_outcome", "ongoing"),
        ("termination outcome vs flag", report(baby=None, mother=maternal_death(3, pregnancy_outcome="termination")),
         "mother.pregnancy_outcome", "termination_of_pregnancy is false"),
        ("days vs birth date", report(mother=maternal_death(5, death="2026-03-10", pregnancy_outcome="birth")),
         "mother.days_after_end_of_pregnancy", "8 days after baby.birth_date"),
        ("LfD with no death", report(death_likely_due_to_problems_in_care=True),
         "death_likely_due_to_problems_in_care", "nobody in the report died"),
    ],
)  # fmt: skip
def test_bad_reports_name_the_field_and_the_problem(case: str, data: dict, field: str, fragment: str) -> None:
    found = problems(data)
    assert any(f == field and fragment in message for f, message in found), (case, found)


def test_all_problems_are_collected() -> None:
    data = report(live_baby(birth_date="2026-13-01", hie_grade=7), weeks=50, days=9, labour="early")
    with pytest.raises(HarmReportError) as caught:
        routed(data)
    fields = [e.field for e in caught.value.errors]
    assert fields == ["gestation.weeks", "gestation.days", "labour", "baby.birth_date", "baby.hie_grade"]
    assert caught.value.field == "gestation.weeks"
    assert str(caught.value).startswith("harm report cannot be routed (5 problems):\n- gestation.weeks: must be")


@pytest.mark.parametrize("data", [[], "report", None, 3])
def test_a_report_must_be_an_object(data: object) -> None:
    assert problems(data) == [("report", f"must be a JSON object, got {type(data).__name__}")]


def test_missing_incident_known_date_defaults_to_the_routing_date() -> None:
    data = report(notifiable_safety_incident=True)
    del data["incident_known_date"]
    result = routed(data, today=dt.date(2026, 3, 4))
    candour = next(r for r in result["routes"] if r["id"] == "DUTY_OF_CANDOUR")
    assert candour["deadlines"] == {"notification": "2026-03-18"}  # 10 working days from Wed 4 Mar 2026


def test_completed_days_may_be_one_less_than_the_date_difference() -> None:
    """Born 23:00, died 01:00 next day: 0 completed days, next calendar day."""
    data = report(live_baby(died=True, age_at_death_completed_days=0, death_date="2026-03-03"))
    assert "CDOP" in [r["id"] for r in routed(data)["routes"]]


def test_unknown_fetal_death_timing_is_accepted_as_unknown() -> None:
    assert routed(report(stillborn("unknown"), weeks=30))["routes"]
