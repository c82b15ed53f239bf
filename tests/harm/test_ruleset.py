"""The rule set as data: ids, sources, confidence, switches, and the fields each rule explores."""

from __future__ import annotations

import dataclasses
import json

import pytest

from matneo.harm import (
    BRAIN_INJURY_CRITERIA,
    DEADLINES,
    ROUTE_IDS,
    RULES,
    RULESET_VERSION,
    Confidence,
    Period,
    RoutingOptions,
    parse_report,
)
from matneo.harm.routing import UNKNOWN_VALUES
from matneo.harm.rules import EXCLUSIONS, SOURCES

from .reports import TODAY, died_at, live_baby, maternal_death, report, routed, rules_for, stillborn


def test_rule_records_are_complete() -> None:
    assert RULESET_VERSION == "2026-11"
    assert ROUTE_IDS == (
        "MNSI", "NHSR_EN", "MBRRACE_PERINATAL", "MBRRACE_MATERNAL", "PMRT", "CDOP", "DUTY_OF_CANDOUR", "LFPSE",
        "LOCAL_PSII",
    )  # fmt: skip
    assert len({r.id for r in RULES}) == len(RULES)
    assert {r.route for r in RULES} == set(ROUTE_IDS)
    for rule in RULES:
        assert _names_a_primary_document(rule.source), rule.id
        assert isinstance(rule.confidence, Confidence)
        assert set(rule.reads) <= set(UNKNOWN_VALUES), rule.id
        assert rule.deadlines, rule.id
        # UNCONFIRMED rules must be configurable.
        if rule.confidence is Confidence.UNCONFIRMED:
            assert rule.switchable and rule.needs_local_confirmation, rule.id
    for deadline in DEADLINES:
        assert _names_a_primary_document(deadline.source) and deadline.id.split(".")[0] in ROUTE_IDS
        if deadline.confidence is Confidence.UNCONFIRMED:
            assert deadline.configurable and deadline.needs_local_confirmation
    assert [c.id for c in BRAIN_INJURY_CRITERIA] == [
        "active_cooling", "hie_grade_3", "tone_coma_seizures", "moderate_severe_encephalopathy",
    ]  # fmt: skip
    assert all(_names_a_primary_document(c.source) for c in BRAIN_INJURY_CRITERIA)
    assert all(_names_a_primary_document(e.source) for e in EXCLUSIONS)


#: The bodies whose documents the rules restate (each is a publisher in :data:`SOURCES`).
_BODIES = ("MNSI", "HSIB", "NHS Resolution", "MBRRACE-UK", "PMRT", "PSIRF", "LFPSE", "CQC", "Child Death", "CNST")


def _names_a_primary_document(source: str) -> bool:
    """A source names the document it restates, not a working note outside the repository."""
    return not source.lower().startswith("note") and any(body.lower() in source.lower() for body in _BODIES)


def test_every_primary_source_says_who_publishes_it_and_what_it_is() -> None:
    for source in SOURCES:
        assert source.publisher and source.title, source
        assert not source.url or source.url.startswith("https://"), source
    publishers = " ".join(s.publisher + " " + s.title for s in SOURCES)
    assert all(body in publishers for body in _BODIES)


BASES = [
    report(),
    report(died_at(3)),
    report(died_at(40)),
    report(live_baby(therapeutic_cooling="active", mri_evidence_hypoxic_injury=True)),
    report(stillborn("intrapartum")),
    report(stillborn(), weeks=23),
    report(baby=None, mother=maternal_death(10)),
    report(died_at(2), weeks=None),
]


@pytest.mark.parametrize("data", BASES)
def test_rules_depend_only_on_the_unknowable_fields_they_declare(data: dict) -> None:
    """A rule must list in ``reads`` every field that may be unknown and that changes its outcome,
    or an unknown value would silently count as "no". Gestation is exempt for the rules that use
    birthweight as its stand-in (MBRRACE-UK, PMRT)."""
    parsed = parse_report(data, TODAY)
    options = RoutingOptions()
    for rule in RULES:
        expected = rule.condition(parsed, options)
        for name, values in UNKNOWN_VALUES.items():
            if name in rule.reads or (name == "gestation" and "baby.birthweight_g" in rule.reads):
                continue
            if name.startswith("baby.") and parsed.baby is None:
                continue
            for value, _ in values:
                changed = parsed.with_value(name, value)
                assert rule.condition(changed, options) == expected, (rule.id, name, value)


def test_brain_injury_criteria_are_switchable() -> None:
    """§0: the sources differ on the criteria, so each is switchable."""
    cooled = report(live_baby(therapeutic_cooling="active", mri_evidence_hypoxic_injury=True))
    off = RoutingOptions(brain_injury_criteria={"active_cooling": False})
    assert rules_for(cooled, "MNSI", options=off) == []
    assert rules_for(cooled, "NHSR_EN", options=off) == []
    mse = report(live_baby(moderate_severe_encephalopathy=True, mri_evidence_hypoxic_injury=True))
    assert rules_for(mse, "NHSR_EN") == ["NHSR-2a"]
    no_mse = RoutingOptions(brain_injury_criteria={"moderate_severe_encephalopathy": False})
    assert rules_for(mse, "NHSR_EN", options=no_mse) == []
    assert rules_for(mse, "MNSI", options=no_mse) == []


def test_switching_off_a_secondary_rule_is_reported() -> None:
    mse = report(live_baby(moderate_severe_encephalopathy=True))
    result = routed(mse, options=RoutingOptions(rules={"MNSI-1a-MSE": False}))
    assert "MNSI" not in [r["id"] for r in result["routes"]]
    assert [(n["rule"], n["confidence"]) for n in result["not_routed"]] == [("MNSI-1a-MSE", "SECONDARY")]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"rules": {"MNSI-9": True}}, "unknown rule 'MNSI-9'"),
        ({"rules": {"MNSI-1b": False}}, "rule MNSI-1b is CONFIRMED and cannot be switched"),
        ({"rules": {"MNSI-1b-SUICIDE": "yes"}}, "true or false"),
        ({"brain_injury_criteria": {"apgar": False}}, "unknown brain injury criterion 'apgar'"),
        ({"deadlines": {"NHSR_EN.notify_nhsr": None}}, "is CONFIRMED and cannot be changed"),
        ({"deadlines": {"PMRT.nope": None}}, "unknown deadline"),
        ({"deadlines": {"LFPSE.record": {"amount": 1, "unit": "weeks"}}}, "period unit must be one of"),
        ({"deadlines": {"LFPSE.record": {"amount": -1, "unit": "calendar_days"}}}, "0 or more"),
        ({"colour": "red"}, "unknown keys"),
    ],
)
def test_bad_options_are_rejected(options: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RoutingOptions.from_dict(options)


def test_options_from_dict() -> None:
    options = RoutingOptions.from_dict(
        {"rules": {"MNSI-1b-SUICIDE": True}, "deadlines": {"CDOP.notify": {"amount": 2, "unit": "working_days"}}}
    )
    assert options.rules == {"MNSI-1b-SUICIDE": True}
    assert options.deadlines == {"CDOP.notify": Period(2, "working_days")}
    assert str(Period(1, "months")) == "1 calendar month" and str(Period(7, "working_days")) == "7 working days"


def test_output_is_plain_json_with_the_documented_shape() -> None:
    result = routed(report(died_at(3), notifiable_safety_incident=True, never_event=None))
    assert json.loads(json.dumps(result)) == result
    assert list(result) == ["ruleset", "routes", "pending", "not_routed"]
    for entry in result["routes"]:
        assert list(entry) == ["id", "reasons", "deadlines", "deadline_details"]
        for reason in entry["reasons"]:
            assert list(reason) == ["rule", "text", "source", "confidence", "needs_local_confirmation"]
    assert routed(report(died_at(3))) == routed(report(died_at(3)))


def test_with_value_does_not_touch_the_original() -> None:
    parsed = parse_report(report(), TODAY)
    changed = parsed.with_value("baby.hie_grade", 3)
    assert parsed.baby is not None and changed.baby is not None
    assert (parsed.baby.hie_grade, changed.baby.hie_grade) == (0, 3)
    assert dataclasses.replace(changed, baby=parsed.baby) == parsed
