"""The measures MatNeo computes, declared as data.

Each measure says what it counts (numerator), out of what (denominator), what the unit is,
how its confidence interval is computed, which direction is better, where the definition
comes from and any national target. Numerator and denominator are SQL conditions over one
birth record (one row per baby) and the derived columns of :data:`DERIVED_COLUMNS`; the
numerator condition is always applied *within* the denominator, so a numerator can never
exceed its denominator. ``docs/measures.md`` is generated from this registry.

Where a definition needs a clinical criterion that the national sources leave to local
interpretation (the "right place of birth" for a preterm baby), the criterion is a named,
configurable constant marked "needs local confirmation".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from matneo.reference.codes import AMBITION, ETHNIC_CATEGORIES

Unit = Literal["per_1000", "per_100000", "percent"]
MULTIPLIERS: dict[str, int] = {"per_1000": 1000, "per_100000": 100_000, "percent": 100}
UNIT_LABELS: dict[str, str] = {"per_1000": "per 1,000", "per_100000": "per 100,000", "percent": "%"}


def _ethnic_group_sql() -> str:
    cases = " ".join(f"WHEN '{code}' THEN '{group}'" for code, (_, group) in ETHNIC_CATEGORIES.items())
    return f"CASE ethnic_category {cases} ELSE 'Not stated' END"


DERIVED_COLUMNS: dict[str, str] = {
    "ga_days": "gestation_weeks * 7 + gestation_days",
    "live": "outcome = 'live_birth'",
    "stillbirth_24": "outcome = 'stillbirth' AND gestation_weeks >= 24",
    "birth_24": "(outcome = 'live_birth' OR outcome = 'stillbirth') AND gestation_weeks >= 24",
    "neonatal_death": "outcome = 'live_birth' AND neonatal_death_datetime IS NOT NULL",
    # One row per delivery: the first-born baby carries the mother's maternity.
    "maternity": "birth_order = 1 AND (outcome = 'live_birth' OR outcome = 'stillbirth')",
    "vaginal_birth": "mode_of_delivery NOT IN ('elective_caesarean', 'emergency_caesarean', 'other')",
    "ethnic_group": _ethnic_group_sql(),
    "imd_quintile": "CAST((imd_decile + 1) // 2 AS INTEGER)",
}
"""Columns derived from each birth record before the measures are evaluated.

``maternity``: MBRRACE-UK counts maternities (women giving birth to a live-born baby at any
gestation or a stillbirth at 24+0 weeks or later); a multiple birth is one maternity, so
the first-born row represents it.
"""

# Place of birth for preterm babies: which neonatal unit levels are "appropriate" by
# gestation. BAPM's Framework for Practice (2019) and the MatNeoSIP measure describe
# extremely preterm babies being born in a maternity service on the same site as a NICU;
# the bands below are MatNeo's reading and NEED LOCAL CONFIRMATION before use for assurance.
RIGHT_PLACE_RULES: tuple[tuple[int, int, tuple[str, ...]], ...] = (
    (0, 27 * 7 - 1, ("NICU",)),  # below 27+0 weeks: NICU
    (27 * 7, 32 * 7 - 1, ("NICU", "LNU")),  # 27+0 to 31+6: NICU or LNU
    (32 * 7, 34 * 7 - 1, ("NICU", "LNU", "SCU")),  # 32+0 to 33+6: any neonatal unit
)


def _right_place_sql() -> str:
    cases = " ".join(
        f"WHEN ga_days BETWEEN {low} AND {high} THEN birth_site_level IN ({', '.join(repr(x) for x in levels)})"
        for low, high, levels in RIGHT_PLACE_RULES
    )
    return f"CASE {cases} ELSE FALSE END"


@dataclass(frozen=True)
class Measure:
    """One measure: what is counted, out of what, in what unit, and why."""

    id: str
    title: str
    group: Literal["ambition", "matneosip", "clinical"]
    numerator: str
    denominator: str
    unit: Unit
    direction: Literal["lower_is_better", "higher_is_better"]
    source: str
    description: str
    counts: Literal["babies", "maternities"] = "babies"
    target: float | None = None
    target_source: str | None = None
    default_period: str = "year"
    needs_local_confirmation: str | None = None

    @property
    def multiplier(self) -> int:
        return MULTIPLIERS[self.unit]

    @property
    def ci_method(self) -> str:
        """Wilson score for percentages; Byar's/exact Poisson for rates per 1,000 or 100,000.

        Source: PHE Technical Guide "Confidence intervals" (2018), as implemented in
        PHEindicatormethods: proportions use Wilson; counts of rare events per population
        use Byar's approximation with the exact Poisson interval below 10 events.
        """
        return "wilson" if self.unit == "percent" else "byar_exact_poisson"

    @property
    def ambition(self):  # type: ignore[no-untyped-def]
        return AMBITION.get(self.id)


_ONS = "ONS Births in England and Wales / Child and infant mortality (definitions); DHSC Safer Maternity Care (2015)"
_ONS_STILLBIRTH = (
    "ONS, Births in England and Wales and Child mortality (death cohort) tables: a stillbirth is a baby born after "
    "24 or more weeks completed gestation which did not, at any time, breathe or show signs of life (Births and "
    "Deaths Registration Act 1953 as amended by the Still-Birth (Definition) Act 1992); stillbirth rate = "
    "stillbirths per 1,000 live births and stillbirths, with live births at any gestation (ONS, 'Stillbirth rates "
    "are falling in England and Wales', Characteristics of Birth 1, 2013, https://webarchive.nationalarchives.gov.uk"
    "/20160105215944/http:/www.ons.gov.uk/ons/rel/vsob1/characteristics-of-birth-1--england-and-wales/2013/"
    "sty-cb1-2013.html; Child mortality statistics QMI, https://www.ons.gov.uk/peoplepopulationandcommunity/"
    "birthsdeathsandmarriages/deaths/methodologies/childmortalitystatisticsqmi). The National Maternity Safety "
    "Ambition baseline (5.1 per 1,000, England 2010) is on this ONS definition. MBRRACE-UK instead counts only "
    "births from 24+0 weeks and excludes terminations ('Why do MBRRACE-UK statistics differ from those published "
    "by ONS?', https://timms.le.ac.uk/mbrrace-uk-perinatal-mortality/surveillance/differences.html)"
)
_MBRRACE_PERINATAL = (
    "MBRRACE-UK Perinatal Mortality Surveillance technical manual v1.3, section 1 (deaths reported), "
    "https://timms.le.ac.uk/mbrrace-uk-perinatal-mortality/surveillance/technical-manual.html, and the surveillance "
    "report for births in 2023, section 1.1 (rates for births from 24 completed weeks, terminations excluded), "
    "https://timms.le.ac.uk/mbrrace-uk-perinatal-mortality/surveillance"
)
_MBRRACE = "MBRRACE-UK Saving Lives, Improving Mothers' Care (maternal deaths per 100,000 maternities)"
_MATNEOSIP = "NHS England / Improvement, Maternity and Neonatal Safety Improvement Programme (MatNeoSIP) measures"
#: The programme's national aims (to March 2023) were given to the project without the document that sets
#: them; until it is located they are shown as needing local confirmation.
_MATNEOSIP_AIM = " (national aim to March 2023; source document not located: needs local confirmation)"
_NMPA = "National Maternity and Perinatal Audit (NMPA) clinical measures; NHS Digital CQIMs"

MEASURES: tuple[Measure, ...] = (
    Measure(
        "stillbirth_rate",
        "Stillbirth rate",
        "ambition",
        numerator="stillbirth_24",
        denominator="live OR stillbirth_24",
        unit="per_1000",
        direction="lower_is_better",
        source=_ONS_STILLBIRTH,
        description="Stillbirths (born at 24+0 weeks or later showing no signs of life) per 1,000 total births: "
        "all live births, at any gestation, plus stillbirths. This is the ONS definition, on which the "
        "ambition's 2010 baseline was measured. MBRRACE-UK's stillbirth rate differs: its denominator has only "
        "births from 24+0 weeks.",
    ),
    Measure(
        "neonatal_mortality_24wk",
        "Neonatal mortality (born at 24 weeks or later)",
        "ambition",
        numerator="neonatal_death",
        denominator="live AND gestation_weeks >= 24",
        unit="per_1000",
        direction="lower_is_better",
        source=_ONS + "; ONS moved the ambition to babies born at ≥24 weeks (Child mortality 2019/20). The same "
        "denominator as MBRRACE-UK's neonatal mortality rate (per 1,000 live births from 24 completed weeks): "
        + _MBRRACE_PERINATAL,
        description="Deaths before 28 days of babies born alive at 24+0 weeks or later, per 1,000 live births "
        "at 24+0 weeks or later. Deaths are counted by the baby's date of birth (a birth cohort), as in ONS's "
        "infant mortality (birth cohort) tables; ONS's death cohort tables count by date of death.",
    ),
    Measure(
        "neonatal_mortality_all",
        "Neonatal mortality (all gestations)",
        "ambition",
        numerator="neonatal_death",
        denominator="live",
        unit="per_1000",
        direction="lower_is_better",
        source=_ONS + ". ONS counts neonatal deaths per 1,000 live births with no gestational age limit (Child "
        "mortality statistics QMI, https://www.ons.gov.uk/peoplepopulationandcommunity/birthsdeathsandmarriages/"
        "deaths/methodologies/childmortalitystatisticsqmi; MBRRACE-UK, 'Why do MBRRACE-UK statistics differ from "
        "those published by ONS?', https://timms.le.ac.uk/mbrrace-uk-perinatal-mortality/surveillance/"
        "differences.html)",
        description="Deaths before 28 days of babies born alive at any gestation, per 1,000 live births. Deaths "
        "are counted by the baby's date of birth (ONS birth cohort), not by date of death.",
    ),
    Measure(
        "perinatal_mortality",
        "Perinatal mortality (stillbirths and neonatal deaths)",
        "ambition",
        numerator="stillbirth_24 OR neonatal_death",
        denominator="birth_24",
        unit="per_1000",
        direction="lower_is_better",
        source="MBRRACE-UK extended perinatal mortality rate (stillbirths and neonatal deaths per 1,000 total "
        "births, both from 24 completed weeks): " + _MBRRACE_PERINATAL + ". DHSC Safer Maternity Care Progress "
        "Report (2021) reports stillbirths and neonatal deaths together. Not ONS's perinatal mortality rate "
        "(stillbirths and deaths under 7 days per 1,000 live births and stillbirths)",
        description="Stillbirths at 24+0 weeks or later and neonatal deaths (before 28 days) of babies born at "
        "24+0 weeks or later, per 1,000 total births at 24+0 weeks or later (MBRRACE-UK's extended perinatal "
        "mortality). MBRRACE-UK also leaves out terminations of pregnancy; the birth record has no field for "
        "them, so MatNeo cannot.",
    ),
    Measure(
        "brain_injury_rate",
        "Brain injuries during or soon after birth",
        "ambition",
        numerator="brain_injury",
        denominator="live",
        unit="per_1000",
        direction="lower_is_better",
        source="Imperial College Neonatal Data Analysis Unit case definition (Gale et al., ADC F&N 2017, corrected "
        "series via PQ 202781)",
        description="Babies with a brain injury during or soon after birth (national case definition) per 1,000 "
        "live births.",
    ),
    Measure(
        "maternal_mortality",
        "Maternal mortality",
        "ambition",
        numerator="maternal_death_cause_class IN ('direct', 'indirect') "
        "AND maternal_death_datetime <= birth_datetime + INTERVAL 42 DAY",
        denominator="maternity",
        unit="per_100000",
        direction="lower_is_better",
        counts="maternities",
        default_period="rolling_3y",
        source=_MBRRACE,
        description="Direct and indirect maternal deaths during or within 42 days of the end of pregnancy, per "
        "100,000 maternities, over rolling three-year periods (MBRRACE-UK triennia). Late and coincidental "
        "deaths are excluded.",
    ),
    Measure(
        "preterm_birth_rate",
        "Preterm births",
        "ambition",
        numerator="ga_days BETWEEN 168 AND 258",
        denominator="birth_24",
        unit="percent",
        direction="lower_is_better",
        source="DHSC Safer Maternity Care (Nov 2017 update): preterm births from 8% to 6% by 2025; births between "
        "24 and 36 weeks completed gestation. The update does not state the denominator",
        description="Live births and stillbirths at 24+0 to 36+6 weeks as a percentage of all births at 24+0 "
        "weeks or later.",
        needs_local_confirmation="The denominator: DHSC does not publish how the 8% baseline was measured. MatNeo "
        "counts live births and stillbirths from 24+0 weeks; ONS birth statistics give preterm births as a "
        "percentage of live births only, at any gestation.",
    ),
    Measure(
        "smoke_free_at_delivery",
        "Smoke-free at delivery",
        "matneosip",
        numerator="NOT smoking_at_delivery",
        denominator="maternity AND smoking_at_delivery IS NOT NULL",
        unit="percent",
        direction="higher_is_better",
        counts="maternities",
        target=94.0,
        target_source="MatNeoSIP: smoke-free pregnancies ≥94%" + _MATNEOSIP_AIM,
        source=_MATNEOSIP + "; NHS Digital Smoking at Time of Delivery (SATOD)",
        description="Maternities where the mother was not smoking at delivery, as a percentage of maternities "
        "with smoking status recorded.",
    ),
    Measure(
        "mgso4_under_30wk",
        "Magnesium sulphate before birth (<30 weeks)",
        "matneosip",
        numerator="mgso4_within_24h",
        denominator="live AND ga_days < 210 AND mgso4_within_24h IS NOT NULL",
        unit="percent",
        direction="higher_is_better",
        target=90.0,
        target_source="MatNeoSIP: MgSO4 within 24 h before birth for eligible women <30 weeks ≥90%" + _MATNEOSIP_AIM,
        source=_MATNEOSIP + "; NICE NG25; National Neonatal Audit Programme (NNAP)",
        description="Babies born alive before 30+0 weeks whose mother had magnesium sulphate in the 24 hours before "
        "birth, as a percentage of such babies with the item recorded.",
    ),
    Measure(
        "antenatal_steroids_under_34wk",
        "Full course of antenatal steroids (<34 weeks)",
        "matneosip",
        numerator="antenatal_steroids = 'full_course_within_7d'",
        denominator="live AND ga_days < 238 AND antenatal_steroids IS NOT NULL",
        unit="percent",
        direction="higher_is_better",
        target=90.0,
        target_source="MatNeoSIP: full course of antenatal corticosteroids within one week before birth <34 weeks"
        + _MATNEOSIP_AIM,
        source=_MATNEOSIP + "; NICE NG25",
        description="Babies born alive before 34+0 weeks whose mother had a full course of antenatal "
        "corticosteroids within 7 days before birth, as a percentage of such babies with the item recorded.",
    ),
    Measure(
        "right_place_of_birth_under_34wk",
        "Born in the right place (<34 weeks)",
        "matneosip",
        numerator=_right_place_sql(),
        denominator="live AND ga_days < 238 AND birth_site_level IS NOT NULL",
        unit="percent",
        direction="higher_is_better",
        target=90.0,
        target_source="MatNeoSIP: babies <34 weeks born in an appropriate care setting ≥90%" + _MATNEOSIP_AIM,
        source=_MATNEOSIP + "; BAPM Framework for Practice (2019)",
        description="Babies born alive before 34+0 weeks at a site with the neonatal unit level their gestation "
        "needs, as a percentage of such babies with the place of birth recorded.",
        needs_local_confirmation="The unit level needed for each gestation band (matneo.measures.definitions."
        "RIGHT_PLACE_RULES: <27+0 NICU; 27+0–31+6 NICU or LNU; 32+0–33+6 any neonatal unit).",
    ),
    Measure(
        "continuity_of_carer",
        "Continuity of Carer",
        "matneosip",
        numerator="continuity_of_carer",
        denominator="maternity AND continuity_of_carer IS NOT NULL",
        unit="percent",
        direction="higher_is_better",
        counts="maternities",
        target=35.0,
        target_source="NHS England: 35% of women booked on a Continuity of Carer pathway by March 2021",
        source="NHS England, Implementing a 'Midwifery Continuity of Carer' model (2017)",
        description="Maternities placed on a Continuity of Carer pathway, as a percentage of maternities with "
        "the item recorded.",
    ),
    Measure(
        "continuity_of_carer_black_asian",
        "Continuity of Carer: Black and Asian women",
        "matneosip",
        numerator="continuity_of_carer",
        denominator="maternity AND continuity_of_carer IS NOT NULL AND ethnic_group IN ('Black', 'Asian')",
        unit="percent",
        direction="higher_is_better",
        counts="maternities",
        target=75.0,
        target_source="NHS England: 75% of Black and Asian women on a Continuity of Carer pathway by 2024",
        source="NHS England, Implementing a 'Midwifery Continuity of Carer' model (2017); NHS Long Term Plan",
        description="As Continuity of Carer, for women of Black or Asian ethnic groups.",
    ),
    Measure(
        "continuity_of_carer_most_deprived",
        "Continuity of Carer: most deprived 10%",
        "matneosip",
        numerator="continuity_of_carer",
        denominator="maternity AND continuity_of_carer IS NOT NULL AND imd_decile = 1",
        unit="percent",
        direction="higher_is_better",
        counts="maternities",
        target=35.0,
        target_source="NHS England: 35% of women from the most deprived 10% of areas by March 2021",
        source="NHS England, Implementing a 'Midwifery Continuity of Carer' model (2017)",
        description="As Continuity of Carer, for women living in the most deprived decile (IMD decile 1).",
    ),
    Measure(
        "term_nnu_admission",
        "Term admissions to neonatal units",
        "clinical",
        numerator="nnu_admission",
        denominator="live AND ga_days >= 259 AND nnu_admission IS NOT NULL",
        unit="percent",
        direction="lower_is_better",
        source="NHS England / NHS Improvement Avoiding Term Admissions Into Neonatal units (ATAIN)",
        description="Babies born alive at 37+0 weeks or later admitted to a neonatal unit, as a percentage of "
        "such babies with the item recorded.",
    ),
    Measure(
        "caesarean_rate",
        "Caesarean birth",
        "clinical",
        numerator="mode_of_delivery IN ('elective_caesarean', 'emergency_caesarean')",
        denominator="maternity AND mode_of_delivery IS NOT NULL",
        unit="percent",
        direction="lower_is_better",
        counts="maternities",
        source=_NMPA,
        description="Maternities with a caesarean birth (planned or emergency) as a percentage of maternities "
        "with the mode of birth recorded. A context measure: lower is not always better.",
    ),
    Measure(
        "pph_1500",
        "Postpartum haemorrhage of 1,500 ml or more",
        "clinical",
        numerator="pph_ml >= 1500",
        denominator="maternity AND pph_ml IS NOT NULL",
        unit="percent",
        direction="lower_is_better",
        counts="maternities",
        source=_NMPA,
        description="Maternities with an estimated blood loss of 1,500 ml or more, as a percentage of "
        "maternities with blood loss recorded.",
    ),
    Measure(
        "third_fourth_degree_tear",
        "Third- or fourth-degree tear",
        "clinical",
        numerator="perineal_tear_degree >= 3",
        denominator="maternity AND vaginal_birth AND perineal_tear_degree IS NOT NULL",
        unit="percent",
        direction="lower_is_better",
        counts="maternities",
        source=_NMPA,
        description="Vaginal births with a third- or fourth-degree perineal tear, as a percentage of vaginal "
        "births with the tear degree recorded.",
    ),
    Measure(
        "apgar_below_7_term",
        "Apgar score below 7 at 5 minutes (term)",
        "clinical",
        numerator="apgar_5min < 7",
        denominator="live AND ga_days >= 259 AND apgar_5min IS NOT NULL",
        unit="percent",
        direction="lower_is_better",
        source=_NMPA,
        description="Babies born alive at 37+0 weeks or later with an Apgar score below 7 at 5 minutes, as a "
        "percentage of such babies with the score recorded.",
    ),
)

MEASURES_BY_ID: dict[str, Measure] = {m.id: m for m in MEASURES}


def get_measures(ids: list[str] | None = None) -> list[Measure]:
    """The measures with these ids (all when None); ValueError naming any unknown id."""
    if not ids:
        return list(MEASURES)
    unknown = [i for i in ids if i not in MEASURES_BY_ID]
    if unknown:
        raise ValueError(f"unknown measure {', '.join(unknown)}; known measures: {', '.join(MEASURES_BY_ID)}")
    return [MEASURES_BY_ID[i] for i in ids]
