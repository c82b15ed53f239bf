"""Unknown values: routes that depend on them are pending, with what each unknown would change."""

from __future__ import annotations

import itertools
import time

import pytest

from matneo.harm import ROUTE_IDS
from matneo.harm.routing import UNKNOWN_VALUES
from matneo.harm.rules import ROUTE_TITLES

from .reports import died_at, live_baby, maternal_death, report, routed, stillborn

MNSI_TITLE = ROUTE_TITLES["MNSI"]
MBRRACE_TITLE = ROUTE_TITLES["MBRRACE_PERINATAL"]
PMRT_TITLE = ROUTE_TITLES["PMRT"]
NHSR_TITLE = ROUTE_TITLES["NHSR_EN"]


def pending(data: dict) -> dict[str, dict]:
    return {item["field"]: item for item in routed(data)["pending"]}


def test_a_complete_report_has_nothing_pending() -> None:
    assert routed(report(died_at(3)))["pending"] == []


def test_mri_not_known_holds_nhsr_pending() -> None:
    """§2a: "If mri_evidence_hypoxic_injury is null, hold the route as pending"."""
    data = report(live_baby(therapeutic_cooling="active", mri_evidence_hypoxic_injury=None))
    result = routed(data)
    assert "NHSR_EN" not in [r["id"] for r in result["routes"]]
    assert "MNSI" in [r["id"] for r in result["routes"]]  # MNSI referral does not wait for the MRI (§1a notes)
    assert result["pending"] == [
        {
            "field": "baby.mri_evidence_hypoxic_injury",
            "why": f"MRI evidence of hypoxic brain injury is not known: if yes, {NHSR_TITLE} applies.",
            "routes": ["NHSR_EN"],
        }
    ]


def test_fetal_death_timing_unknown_at_term_after_labour() -> None:
    """§1a: only an intrapartum stillbirth (alive at the start of labour) is MNSI."""
    items = pending(report(stillborn(None)))
    assert items["baby.fetal_death_timing"]["routes"] == ["MNSI"]
    assert f"if alive at the start of labour, {MNSI_TITLE} applies" in items["baby.fetal_death_timing"]["why"]
    # Preterm, it would change nothing.
    assert pending(report(stillborn(None), weeks=30)) == {}


def test_cause_of_maternal_death_unknown() -> None:
    """§1b: direct or indirect within 42 days → MNSI; MBRRACE-UK takes every cause (§3b)."""
    result = routed(report(baby=None, mother=maternal_death(10, None)))
    assert [r["id"] for r in result["routes"]] == ["MBRRACE_MATERNAL", "LFPSE"]
    (item,) = result["pending"]
    assert item["field"] == "mother.cause_classification"
    assert item["why"].endswith(f"if direct or indirect, {MNSI_TITLE} applies.")
    assert pending(report(baby=None, mother=maternal_death(43, None))) == {}


def test_gestation_unknown_explores_the_thresholds() -> None:
    items = pending(report(died_at(3, birthweight_g=3000), weeks=None))
    assert f"if 37+0 or more, {MNSI_TITLE} applies" in items["gestation"]["why"]
    # MBRRACE/PMRT use the birthweight when gestation is unknown, so they are decided.
    assert [r["id"] for r in routed(report(died_at(3, birthweight_g=3000), weeks=None))["routes"]] == [
        "MBRRACE_PERINATAL",
        "PMRT",
        "CDOP",
        "LFPSE",
    ]


def test_birthweight_unknown_when_gestation_unknown() -> None:
    items = pending(report(stillborn(birthweight_g=None), weeks=None))
    assert items["baby.birthweight_g"]["routes"] == ["MBRRACE_PERINATAL", "PMRT"]
    assert f"if 400 g to 500 g or over 500 g, {MBRRACE_TITLE} applies" in items["baby.birthweight_g"]["why"]
    assert f"if over 500 g, {PMRT_TITLE} applies" in items["baby.birthweight_g"]["why"]


def test_each_brain_injury_criterion_can_be_pending() -> None:
    """§0: tone AND coma AND seizures are all needed, so with two known the third decides."""
    items = pending(report(live_baby(decreased_central_tone=True, comatose=True, seizures=None)))
    assert list(items) == ["baby.seizures"]
    assert f"if yes, {MNSI_TITLE} applies" in items["baby.seizures"]["why"]
    cooling = pending(report(live_baby(therapeutic_cooling=None)))["baby.therapeutic_cooling"]
    assert f"if active cooling, {MNSI_TITLE} applies" in cooling["why"]


def test_neonatal_care_unknown_for_a_post_neonatal_death() -> None:
    """§4a: post-neonatal deaths are for PMRT only after neonatal care."""
    items = pending(report(died_at(40, received_neonatal_care=None)))
    assert items["baby.received_neonatal_care"]["routes"] == ["PMRT"]
    assert pending(report(died_at(3, received_neonatal_care=None))) == {}


def test_judgements_not_yet_made() -> None:
    items = pending(report(notifiable_safety_incident=None, never_event=None))
    assert items["notifiable_safety_incident"]["routes"] == ["DUTY_OF_CANDOUR"]
    assert items["never_event"]["routes"] == ["LOCAL_PSII"]


def test_local_psii_waits_for_mnsi() -> None:
    """§5: a never event goes to a local PSII only if MNSI does not apply."""
    items = pending(report(stillborn(None), never_event=True))
    assert items["baby.fetal_death_timing"]["routes"] == ["MNSI", "LOCAL_PSII"]
    assert f"only if {MNSI_TITLE} does not apply" in items["baby.fetal_death_timing"]["why"]


SCENARIOS = [
    report(live_baby(therapeutic_cooling=None, hie_grade=None, mri_evidence_hypoxic_injury=None), never_event=None),
    report(stillborn(None, outcome_due_to_congenital_condition=None), weeks=None, mode_of_birth=None),
    report(died_at(30, received_neonatal_care=None), weeks=None, notifiable_safety_incident=None),
    report(baby=None, mother=maternal_death(10, None), death_likely_due_to_problems_in_care=None),
]


@pytest.mark.parametrize("data", SCENARIOS)
def test_resolving_unknowns_only_adds_routes_and_pending_names_the_ones_that_matter(data: dict) -> None:
    """Check the router against brute force: fill the unknowns every way and compare route sets."""
    base = routed(data)
    base_routes = {r["id"] for r in base["routes"]}
    unknown = [item["field"] for item in base["pending"]]
    for field in unknown:
        outcomes = set()
        for value, _ in UNKNOWN_VALUES[field]:
            filled = set_field(data, field, value)
            routes = {r["id"] for r in routed(filled)["routes"]}
            if field != "gestation":
                # A known gestation replaces the birthweight stand-in (§0), so it may also remove
                # MBRRACE/PMRT decided by weight; every other unknown can only add routes.
                assert base_routes <= routes, field
            outcomes.add(frozenset(routes))
        # Every pending field changes the routes for some filling of the others; at least check that
        # its own values together with the others' are not all the same when the others are varied.
        assert len(outcomes) > 1 or _changes_with_others(data, field, unknown)


def _changes_with_others(data: dict, field: str, unknown: list[str]) -> bool:
    others = [f for f in unknown if f != field]
    for combo in itertools.product(*(UNKNOWN_VALUES[f] for f in others)):
        filled = data
        for other, (value, _) in zip(others, combo, strict=True):
            filled = set_field(filled, other, value)
        outcomes = {
            frozenset(r["id"] for r in routed(set_field(filled, field, v))["routes"]) for v, _ in UNKNOWN_VALUES[field]
        }
        if len(outcomes) > 1:
            return True
    return False


def set_field(data: dict, field: str, value: object) -> dict:
    import copy

    filled = copy.deepcopy(data)
    if field == "gestation":
        filled["gestation"] = {"weeks": value.weeks, "days": value.days}  # type: ignore[attr-defined]
        return filled
    head, _, tail = field.partition(".")
    if tail:
        filled[head][tail] = value
    else:
        filled[head] = value
    return filled


def test_routes_come_out_in_the_documented_order() -> None:
    result = routed(report(died_at(3), notifiable_safety_incident=True))
    ids = [r["id"] for r in result["routes"]]
    assert ids == sorted(ids, key=ROUTE_IDS.index)


def test_everything_unknown_is_still_fast() -> None:
    data = report(
        {"birth_date": "2026-03-02", "signs_of_life_at_birth": True, "died": False},
        weeks=None,
        mode_of_birth=None,
        notifiable_safety_incident=None,
        never_event=None,
    )
    start = time.perf_counter()
    result = routed(data)
    assert time.perf_counter() - start < 1.0
    assert [r["id"] for r in result["routes"]] == ["LFPSE"]
    assert {item["field"] for item in result["pending"]} >= {"gestation", "baby.therapeutic_cooling"}


def test_light_fetus_of_unknown_gestation_may_be_a_late_fetal_loss() -> None:
    """§3a: late fetal loss 22+0–23+6 has no birthweight stand-in; under 400 g with no gestation stays pending."""
    items = pending(report(stillborn(birthweight_g=350), weeks=None))
    assert f"if 22+0 to 23+6, {MBRRACE_TITLE} applies" in items["gestation"]["why"]
