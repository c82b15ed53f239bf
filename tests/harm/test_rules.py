"""Every routing rule on both sides of every boundary.

Each table row cites its section (the § numbers of the rule ids, listed under "Rules" in
``docs/harm-routing.md``) and the primary document the rule restates.
"""

from __future__ import annotations

import pytest

from matneo.harm import RoutingOptions

from .reports import BIRTH, died_at, live_baby, maternal_death, report, routed, rules_for, stillborn

COOLED = {"therapeutic_cooling": "active"}


# --------------------------------------------------------------------------------------
# MNSI babies: §1a (MNSI "What we investigate"; HSIB "What we investigate")
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "data", "expected"),
    [
        # §0/§1a criterion 1, term = ga >= 259: 36+6 is preterm, 37+0 is term.
        ("ENND 36+6", report(died_at(0), weeks=36, days=6), []),
        ("ENND 37+0", report(died_at(0), weeks=37, days=0), ["MNSI-1a-ENND"]),
        ("cooled 36+6", report(live_baby(**COOLED), weeks=36, days=6), []),
        ("cooled 37+0", report(live_baby(**COOLED), weeks=37, days=0), ["MNSI-1a-PSBI"]),
        # §0/§9 early neonatal death is 0–6 completed days; day 6 is the last day of the first week.
        ("died day 6", report(died_at(6)), ["MNSI-1a-ENND"]),
        ("died day 7", report(died_at(7)), []),
        # §1a outcome "intrapartum stillbirth": alive at the start of labour; antepartum is not MNSI.
        ("intrapartum stillbirth", report(stillborn("intrapartum")), ["MNSI-1a-ISB"]),
        ("antepartum stillbirth", report(stillborn("antepartum")), []),
        ("intrapartum stillbirth 36+6", report(stillborn("intrapartum"), weeks=36, days=6), []),
        # §1a criterion 2: MNSI's definition of labour covers all of these...
        ("induced", report(died_at(1), labour="induced"), ["MNSI-1a-ENND"]),
        ("PROM", report(died_at(1), labour="prelabour_rupture_of_membranes"), ["MNSI-1a-ENND"]),
        ("labour call", report(died_at(1), labour="self_reported_labour_call"), ["MNSI-1a-ENND"]),
        ("emergency CS in labour", report(died_at(1), mode_of_birth="emergency_caesarean"), ["MNSI-1a-ENND"]),
        # ...but not a caesarean before contractions or membrane rupture, nor no labour at all.
        ("elective CS before labour", report(died_at(1), mode_of_birth="elective_caesarean_before_labour"), []),
        ("CS before labour", report(live_baby(**COOLED), mode_of_birth="caesarean_before_labour"), []),
        ("no labour", report(died_at(1), labour="none", mode_of_birth="caesarean_before_labour"), []),
        # §1a criterion 4 (CONFIRMED): not caused by a congenital condition present before or at birth.
        ("congenital ENND", report(died_at(1, outcome_due_to_congenital_condition=True)), []),
        ("congenital ISB", report(stillborn("intrapartum", outcome_due_to_congenital_condition=True)), []),
        # §0 potential severe brain injury: passive cooling alone does not count.
        ("passive cooling", report(live_baby(therapeutic_cooling="passive")), []),
        ("HIE grade 2", report(live_baby(hie_grade=2)), []),
        ("HIE grade 3", report(live_baby(hie_grade=3)), ["MNSI-1a-PSBI"]),
        # §0: decreased central tone AND comatose AND seizures, all three needed.
        ("tone+coma", report(live_baby(decreased_central_tone=True, comatose=True)), []),
        ("tone+seizures", report(live_baby(decreased_central_tone=True, seizures=True)), []),
        (
            "tone+coma+seizures",
            report(live_baby(decreased_central_tone=True, comatose=True, seizures=True)),
            ["MNSI-1a-PSBI"],
        ),
        # §0: moderate–severe encephalopathy, the revised NHSR definition (SECONDARY for MNSI).
        ("mod-severe encephalopathy", report(live_baby(moderate_severe_encephalopathy=True)), ["MNSI-1a-MSE"]),
        ("well baby", report(), []),
        ("several outcomes", report(died_at(2, hie_grade=3)), ["MNSI-1a-ENND", "MNSI-1a-PSBI"]),
    ],
)
def test_mnsi_babies(case: str, data: dict, expected: list[str]) -> None:
    assert rules_for(data, "MNSI") == expected, case


def test_mnsi_mse_reason_is_secondary_and_legacy_criteria_confirmed() -> None:
    """§0: the fourth criterion comes from NHSR's definition; a 2025 secondary source uses it for MNSI."""
    result = routed(report(live_baby(moderate_severe_encephalopathy=True)))
    (reason,) = result["routes"][0]["reasons"]
    assert (reason["confidence"], reason["needs_local_confirmation"]) == ("SECONDARY", False)
    (reason,) = routed(report(live_baby(**COOLED)))["routes"][0]["reasons"]
    assert reason["confidence"] == "CONFIRMED"


# --------------------------------------------------------------------------------------
# MNSI mothers: §1b (MNSI "Improving support after maternal deaths"; HSIB summary)
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "mother", "expected"),
    [
        ("during pregnancy, direct", maternal_death(None, "direct"), ["MNSI-1b"]),
        ("day 0, indirect", maternal_death(0, "indirect"), ["MNSI-1b"]),
        # §1b: day 42 itself counts as "within 42 days" (MatNeo's interpretation).
        ("day 42", maternal_death(42), ["MNSI-1b"]),
        ("day 43", maternal_death(43), []),
        # §1b: accidental and coincidental/incidental causes excluded (CONFIRMED).
        ("accidental", maternal_death(5, "accidental"), []),
        ("coincidental", maternal_death(5, "coincidental"), []),
        # §1b: suicide excluded by default (UNCONFIRMED, config flag, default exclude per the brief).
        ("suicide", maternal_death(5, "suicide"), []),
    ],
)
def test_mnsi_mothers(case: str, mother: dict, expected: list[str]) -> None:
    assert rules_for(report(baby=None, mother=mother), "MNSI") == expected, case


def test_maternal_suicide_exclusion_is_shown_and_switchable() -> None:
    """§1b: suicide exclusion UNCONFIRMED: make it a config flag (default exclude) and surface it."""
    data = report(baby=None, mother=maternal_death(10, "suicide"))
    result = routed(data)
    assert "MNSI" not in [r["id"] for r in result["routes"]]
    (note,) = result["not_routed"]
    assert (note["rule"], note["route"], note["needs_local_confirmation"]) == ("MNSI-1b-SUICIDE", "MNSI", True)

    switched_on = routed(data, options=RoutingOptions(rules={"MNSI-1b-SUICIDE": True}))
    (reason,) = switched_on["routes"][0]["reasons"]
    assert (reason["rule"], reason["confidence"], reason["needs_local_confirmation"]) == (
        "MNSI-1b-SUICIDE",
        "UNCONFIRMED",
        True,
    )
    assert switched_on["not_routed"] == []
    # Day 43 is outside the 42 days even when suicide is switched on.
    late = report(baby=None, mother=maternal_death(43, "suicide"))
    assert rules_for(late, "MNSI", options=RoutingOptions(rules={"MNSI-1b-SUICIDE": True})) == []


# --------------------------------------------------------------------------------------
# NHS Resolution EN: §2a (NHSR "Early Notification Scheme: NHS trusts" FAQ; SPEN)
# --------------------------------------------------------------------------------------

MRI = {"mri_evidence_hypoxic_injury": True}


@pytest.mark.parametrize(
    ("case", "data", "expected"),
    [
        ("cooled, MRI positive", report(live_baby(**COOLED, **MRI)), ["NHSR-2a"]),
        ("cooled, MRI negative", report(live_baby(**COOLED)), []),
        ("MSE, MRI positive", report(live_baby(moderate_severe_encephalopathy=True, **MRI)), ["NHSR-2a"]),
        ("HIE 3, MRI positive", report(live_baby(hie_grade=3, **MRI)), ["NHSR-2a"]),
        ("no brain injury, MRI positive", report(live_baby(**MRI)), []),
        ("passive cooling, MRI positive", report(live_baby(therapeutic_cooling="passive", **MRI)), []),
        # term boundary
        ("36+6", report(live_baby(**COOLED, **MRI), weeks=36, days=6), []),
        ("37+0", report(live_baby(**COOLED, **MRI), weeks=37, days=0), ["NHSR-2a"]),
        # excluded: elective caesarean (born before labour); no labour at all
        (
            "elective CS",
            report(live_baby(**COOLED, **MRI), mode_of_birth="elective_caesarean_before_labour"),
            [],
        ),
        ("no labour", report(live_baby(**COOLED, **MRI), labour="none", mode_of_birth="caesarean_before_labour"), []),
        # excluded: died in the first week (0–6 days); day 7 is in.
        ("died day 6", report(died_at(6, **COOLED, **MRI)), []),
        ("died day 7", report(died_at(7, **COOLED, **MRI)), ["NHSR-2a"]),
    ],
)
def test_nhsr_early_notification(case: str, data: dict, expected: list[str]) -> None:
    assert rules_for(data, "NHSR_EN") == expected, case


# --------------------------------------------------------------------------------------
# MBRRACE-UK perinatal: §3a (MBRRACE-UK perinatal technical manual v1.3 §1.1)
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "data", "expected"),
    [
        # "A no-signs-of-life birth at 21+6 is not reportable."
        ("no signs of life 21+6", report(stillborn(), weeks=21, days=6), []),
        ("late fetal loss 22+0", report(stillborn(), weeks=22, days=0), ["MBRRACE-3a-LFL"]),
        ("late fetal loss 23+6", report(stillborn(), weeks=23, days=6), ["MBRRACE-3a-LFL"]),
        ("stillbirth 24+0", report(stillborn(), weeks=24, days=0), ["MBRRACE-3a-SB"]),
        # Live births count from 20+0: "A live birth at 21+6 that dies within 27 days is."
        ("live 19+6 died", report(died_at(0), weeks=19, days=6), []),
        ("live 20+0 died", report(died_at(0), weeks=20, days=0), ["MBRRACE-3a-NND"]),
        ("live 21+6 died", report(died_at(0), weeks=21, days=6), ["MBRRACE-3a-NND"]),
        # Neonatal death: before 28 completed days (age <= 27).
        ("died day 27", report(died_at(27)), ["MBRRACE-3a-NND"]),
        ("died day 28", report(died_at(28)), []),
        ("survived", report(), []),
        # ≥400 g when gestation is not known.
        ("no gestation, 399 g", report(stillborn(birthweight_g=399), weeks=None), []),
        ("no gestation, 400 g", report(stillborn(birthweight_g=400), weeks=None), ["MBRRACE-3a-SB"]),
        ("no gestation, live 400 g", report(died_at(3, birthweight_g=400), weeks=None), ["MBRRACE-3a-NND"]),
        # Terminations resulting in a loss, stillbirth or neonatal death are also notified.
        ("termination stillbirth", report(stillborn(), weeks=24, termination_of_pregnancy=True), ["MBRRACE-3a-SB"]),
        ("termination NND", report(died_at(0), weeks=23, termination_of_pregnancy=True), ["MBRRACE-3a-NND"]),
    ],
)
def test_mbrrace_perinatal(case: str, data: dict, expected: list[str]) -> None:
    assert rules_for(data, "MBRRACE_PERINATAL") == expected, case


# --------------------------------------------------------------------------------------
# MBRRACE-UK maternal: §3b (MBRRACE-UK FAQs; NHS GGC / Borders guidelines)
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "mother", "expected"),
    [
        ("during pregnancy", maternal_death(None), ["MBRRACE-3b-MD"]),
        ("day 42", maternal_death(42), ["MBRRACE-3b-MD"]),
        ("day 43", maternal_death(43), ["MBRRACE-3b-LATE"]),
        ("day 365", maternal_death(365, death="2027-03-01"), ["MBRRACE-3b-LATE"]),
        ("day 366", maternal_death(366, death="2027-03-01"), []),
        # "regardless of ... the cause/circumstances (suicide, accident and coincidental deaths included)"
        ("suicide", maternal_death(5, "suicide"), ["MBRRACE-3b-MD"]),
        ("accidental", maternal_death(5, "accidental"), ["MBRRACE-3b-MD"]),
        ("coincidental", maternal_death(100, "coincidental"), ["MBRRACE-3b-LATE"]),
        ("cause unknown", maternal_death(5, None), ["MBRRACE-3b-MD"]),
        ("alive", {"died": False}, []),
    ],
)
def test_mbrrace_maternal(case: str, mother: dict, expected: list[str]) -> None:
    assert rules_for(report(baby=None, mother=mother), "MBRRACE_MATERNAL") == expected, case


# --------------------------------------------------------------------------------------
# PMRT: §4a (PMRT FAQs, npeu.ox.ac.uk/pmrt/faqs)
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "data", "expected"),
    [
        ("no signs of life 21+6", report(stillborn(), weeks=21, days=6), []),
        ("late fetal loss 22+0", report(stillborn(), weeks=22, days=0), ["PMRT-4a-NSL"]),
        ("stillbirth 24+0", report(stillborn(), weeks=24, days=0), ["PMRT-4a-NSL"]),
        # "a live birth at 20+0–21+6 goes to MBRRACE but not PMRT"
        ("live 21+6 died", report(died_at(0), weeks=21, days=6), []),
        ("live 22+0 died", report(died_at(0), weeks=22, days=0), ["PMRT-4a-NND"]),
        ("died day 27", report(died_at(27)), ["PMRT-4a-NND"]),
        # post-neonatal deaths only after neonatal care
        ("died day 28, no neonatal care", report(died_at(28)), []),
        ("died day 28 after neonatal care", report(died_at(28, received_neonatal_care=True)), ["PMRT-4a-PNND"]),
        # not for PMRT: termination at any gestation; babies with brain injury who survive
        ("termination stillbirth", report(stillborn(), weeks=30, termination_of_pregnancy=True), []),
        ("termination NND", report(died_at(0), weeks=23, termination_of_pregnancy=True), []),
        ("survived brain injury", report(live_baby(**COOLED, **MRI)), []),
        # over 500 g when gestation is not known
        ("no gestation, 500 g", report(stillborn(birthweight_g=500), weeks=None), []),
        ("no gestation, 501 g", report(stillborn(birthweight_g=501), weeks=None), ["PMRT-4a-NSL"]),
    ],
)
def test_pmrt(case: str, data: dict, expected: list[str]) -> None:
    assert rules_for(data, "PMRT") == expected, case


# --------------------------------------------------------------------------------------
# CDOP: §8 (child death review procedures citing Working Together / CDR guidance)
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "data", "expected"),
    [
        ("live 19+6 died (any gestation)", report(died_at(0), weeks=19, days=6), ["CDOP-8"]),
        ("died day 400", report(died_at(400, birth="2025-01-06")), ["CDOP-8"]),
        ("stillbirth excluded", report(stillborn()), []),
        ("late fetal loss excluded", report(stillborn(), weeks=22), []),
        ("termination excluded", report(died_at(0), weeks=22, termination_of_pregnancy=True), []),
        ("survived", report(), []),
    ],
)
def test_cdop(case: str, data: dict, expected: list[str]) -> None:
    assert rules_for(data, "CDOP") == expected, case


# --------------------------------------------------------------------------------------
# Duty of Candour §7 (CQC Regulation 20), LFPSE §6 (NHSE LFPSE), local PSII §5 (PSIRF via Croydon PSIRP)
# --------------------------------------------------------------------------------------


def test_duty_of_candour_follows_the_notifiable_safety_incident_judgement() -> None:
    assert rules_for(report(notifiable_safety_incident=True), "DUTY_OF_CANDOUR") == ["DOC-7"]
    assert rules_for(report(notifiable_safety_incident=False), "DUTY_OF_CANDOUR") == []


@pytest.mark.parametrize("data", [report(), report(died_at(3)), report(baby=None, mother=maternal_death(3))])
def test_every_report_gets_an_lfpse_record(data: dict) -> None:
    assert rules_for(data, "LFPSE") == ["LFPSE-6"]


@pytest.mark.parametrize(
    ("case", "data", "expected"),
    [
        ("never event", report(never_event=True), ["PSIRF-5-NE"]),
        ("LfD death", report(died_at(10), death_likely_due_to_problems_in_care=True), ["PSIRF-5-LFD"]),
        ("LfD maternal death", report(baby=None, mother=maternal_death(50), death_likely_due_to_problems_in_care=True),
         ["PSIRF-5-LFD"]),
        ("neither", report(died_at(10)), []),
        # §5: MNSI criteria met → refer to MNSI for an independent PSII, no local PSII.
        ("never event, MNSI case", report(died_at(2), never_event=True), []),
    ],
)  # fmt: skip
def test_local_psii(case: str, data: dict, expected: list[str]) -> None:
    assert rules_for(data, "LOCAL_PSII") == expected, case


def test_local_psii_excluded_by_mnsi_is_reported() -> None:
    """§5: "if MNSI fires, then not LOCAL_PSII" (PSIRF national requirements), shown in not_routed."""
    result = routed(report(died_at(2), never_event=True))
    assert [n["rule"] for n in result["not_routed"]] == ["PSIRF-5-MNSI"]
    assert "MNSI" in [r["id"] for r in result["routes"]]


# --------------------------------------------------------------------------------------
# Whole-report scenarios
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "data", "routes"),
    [
        (
            "term intrapartum stillbirth",
            report(stillborn("intrapartum"), notifiable_safety_incident=True),
            ["MNSI", "MBRRACE_PERINATAL", "PMRT", "DUTY_OF_CANDOUR", "LFPSE"],
        ),
        (
            "term early neonatal death",
            report(died_at(3)),
            ["MNSI", "MBRRACE_PERINATAL", "PMRT", "CDOP", "LFPSE"],
        ),
        (
            "preterm 30+0 neonatal death",
            report(died_at(10), weeks=30),
            ["MBRRACE_PERINATAL", "PMRT", "CDOP", "LFPSE"],
        ),
        (
            "congenital term neonatal death",
            report(died_at(3, outcome_due_to_congenital_condition=True)),
            ["MBRRACE_PERINATAL", "PMRT", "CDOP", "LFPSE"],
        ),
        ("termination 20+0, no signs of life", report(stillborn(), weeks=20, termination_of_pregnancy=True), ["LFPSE"]),
        (
            "maternal suicide day 30",
            report(baby=None, mother=maternal_death(30, "suicide")),
            ["MBRRACE_MATERNAL", "LFPSE"],
        ),
        (
            "maternal direct death at 30 weeks, baby stillborn",
            report(stillborn(), weeks=30, mother=maternal_death(None, death=BIRTH)),
            ["MNSI", "MBRRACE_PERINATAL", "MBRRACE_MATERNAL", "PMRT", "LFPSE"],
        ),
    ],
)
def test_scenarios(case: str, data: dict, routes: list[str]) -> None:
    assert [r["id"] for r in routed(data)["routes"]] == routes, case
