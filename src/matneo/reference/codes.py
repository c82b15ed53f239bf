"""Code lists, bands and national reference figures, held as data with their sources.

Measures, the synthetic generator and reports all group babies by the same bands and compare
against the same published figures; keeping them here, once, with the source of every value,
means a boundary (is 24+0 weeks in or out?) or a target is defined in exactly one place and
can be checked against its citation.

Band boundaries are inclusive integers (days of gestation, grams), so no floating-point
comparison can move a baby across a boundary. Each scalar function has a vectorised twin for
numpy arrays that tests hold to the same answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

# -- ethnicity --------------------------------------------------------------------------------
ETHNIC_GROUPS = ("White", "Black", "Asian", "Mixed", "Other", "Not stated")

ETHNIC_CATEGORIES: dict[str, tuple[str, str]] = {
    "A": ("White - British", "White"),
    "B": ("White - Irish", "White"),
    "C": ("White - Any other White background", "White"),
    "D": ("Mixed - White and Black Caribbean", "Mixed"),
    "E": ("Mixed - White and Black African", "Mixed"),
    "F": ("Mixed - White and Asian", "Mixed"),
    "G": ("Mixed - Any other mixed background", "Mixed"),
    "H": ("Asian or Asian British - Indian", "Asian"),
    "J": ("Asian or Asian British - Pakistani", "Asian"),
    "K": ("Asian or Asian British - Bangladeshi", "Asian"),
    "L": ("Asian or Asian British - Any other Asian background", "Asian"),
    "M": ("Black or Black British - Caribbean", "Black"),
    "N": ("Black or Black British - African", "Black"),
    "P": ("Black or Black British - Any other Black background", "Black"),
    "R": ("Other Ethnic Groups - Chinese", "Other"),
    "S": ("Other Ethnic Groups - Any other ethnic group", "Other"),
    "Z": ("Not stated", "Not stated"),
    "99": ("Not known", "Not stated"),
}
"""NHS Data Dictionary ETHNIC CATEGORY (2001 Census categories): code -> (description, group).

Source: NHS Data Dictionary, data element ETHNIC CATEGORY (national codes A–S, Z "Not
stated"); "99" ("Not known") is the additional value MSDS submissions carry. Groups follow
the Data Dictionary headings, with Chinese (R) under "Other" as in the 2001 classification,
and "Not known" reported with "Not stated" because neither tells us anything about the woman.
MBRRACE-UK and NHS England inequality reporting use the same five broad groups.
"""


def ethnic_group(code: str) -> str:
    """The broad group (one of ETHNIC_GROUPS) of an ETHNIC CATEGORY code; KeyError if unknown.

    Unknown codes are an error rather than "Not stated" so that a mis-coded extract is noticed
    instead of silently shrinking the denominator of every ethnic group.
    """
    key = code.strip().upper()
    try:
        return ETHNIC_CATEGORIES[key][1]
    except KeyError:
        expected = ", ".join(ETHNIC_CATEGORIES)
        raise KeyError(f"unknown ETHNIC CATEGORY code {code!r}: expected one of {expected}") from None


# -- deprivation ------------------------------------------------------------------------------
def imd_quintile(decile: int) -> int:
    """IMD quintile (1 = most deprived 20%) of an IMD decile (1 = most deprived 10%).

    Source: English Indices of Deprivation 2019 (MHCLG), which rank LSOAs and publish deciles
    with 1 as the most deprived; quintiles pair deciles 1–2, 3–4, 5–6, 7–8, 9–10. Continuity
    of Carer targets refer to the most deprived decile, inequality reports to quintiles.
    """
    if isinstance(decile, bool) or not isinstance(decile, int | np.integer) or not 1 <= decile <= 10:
        raise ValueError(f"IMD decile must be an integer from 1 to 10, got {decile!r}")
    return (int(decile) + 1) // 2


def imd_quintile_array(deciles: np.ndarray) -> np.ndarray:
    """Vectorised :func:`imd_quintile` for an integer array; ValueError if any value is outside 1–10.

    Remove missing deciles before calling: a null has no quintile.
    """
    values = np.asarray(deciles)
    if values.dtype.kind not in "iu":
        raise ValueError(f"IMD deciles must be an integer array, got dtype {values.dtype}")
    if values.size and (values.min() < 1 or values.max() > 10):
        raise ValueError("IMD deciles must all be from 1 to 10")
    return ((values + 1) // 2).astype(np.int8)


# -- bands ------------------------------------------------------------------------------------
class Band(NamedTuple):
    """A labelled inclusive integer range; ``max_inclusive`` is None for an open top band."""

    label: str
    min_inclusive: int
    max_inclusive: int | None

    def contains(self, value: int) -> bool:
        """Whether ``value`` falls in this band."""
        return value >= self.min_inclusive and (self.max_inclusive is None or value <= self.max_inclusive)


def _days(weeks: int, days: int) -> int:
    return weeks * 7 + days


GESTATION_BANDS: tuple[Band, ...] = (
    Band("<22+0", 0, _days(21, 6)),
    Band("22+0–23+6", _days(22, 0), _days(23, 6)),
    Band("24+0–27+6", _days(24, 0), _days(27, 6)),
    Band("28+0–31+6", _days(28, 0), _days(31, 6)),
    Band("32+0–36+6", _days(32, 0), _days(36, 6)),
    Band("37+0–41+6", _days(37, 0), _days(41, 6)),
    Band("42+0+", _days(42, 0), None),
)
"""Gestation bands over total days (weeks × 7 + days), in order.

Source: WHO preterm birth categories (WHO fact sheet "Preterm birth", 2023; WHO ICD-10
definitions): extremely preterm < 28 weeks, very preterm 28 to < 32 weeks, moderate to late
preterm 32 to < 37 weeks, term 37 to < 42 weeks, post-term ≥ 42 weeks. The extremely
preterm group is split at 24+0 because that is the stillbirth threshold in England
(Stillbirth (Definition) Act 1992) and the start of the ambition's neonatal mortality
measure, and "<22+0" is kept apart because births that early are usually outside
neonatal-survival statistics.
"""

_GESTATION_LOWER = np.array([band.min_inclusive for band in GESTATION_BANDS])


def total_gestation_days(weeks: int, days: int) -> int:
    """Completed weeks and days (``24+3`` is weeks=24, days=3) as total days; ValueError if invalid."""
    if isinstance(weeks, bool) or isinstance(days, bool):
        raise ValueError("gestation weeks and days must be integers, not booleans")
    if not isinstance(weeks, int | np.integer) or not isinstance(days, int | np.integer):
        raise ValueError(f"gestation must be whole weeks and days, got {weeks!r}+{days!r}")
    if weeks < 0 or not 0 <= days <= 6:
        raise ValueError(f"gestation {weeks}+{days} is not valid: weeks must be ≥ 0 and days 0–6")
    return _days(int(weeks), int(days))


def gestation_band(weeks: int, days: int) -> str:
    """The label of the GESTATION_BANDS band for a gestation of ``weeks``+``days``."""
    return GESTATION_BANDS[_band_index(total_gestation_days(weeks, days), _GESTATION_LOWER)].label


def gestation_band_index(total_days: np.ndarray) -> np.ndarray:
    """Vectorised band lookup: index into GESTATION_BANDS for each total-days value.

    ValueError if any value is negative; callers convert weeks+days with ``weeks * 7 + days``.
    """
    return _band_indices(total_days, _GESTATION_LOWER, "gestation total days")


BIRTH_WEIGHT_BANDS: tuple[Band, ...] = (
    Band("<500", 0, 499),
    Band("500–999", 500, 999),
    Band("1000–1499", 1000, 1499),
    Band("1500–2499", 1500, 2499),
    Band("2500–3999", 2500, 3999),
    Band("4000+", 4000, None),
)
"""Birth-weight bands in grams, in order.

Source: WHO/ICD-10 definitions used by ONS (Birth characteristics in England and Wales):
low birth weight < 2,500 g, very low < 1,500 g, extremely low < 1,000 g; < 500 g is kept apart
as it is at the edge of viability, and ≥ 4,000 g marks macrosomia.
"""

_WEIGHT_LOWER = np.array([band.min_inclusive for band in BIRTH_WEIGHT_BANDS])


def birth_weight_band(grams: int) -> str:
    """The label of the BIRTH_WEIGHT_BANDS band for a birth weight in whole grams."""
    if isinstance(grams, bool) or not isinstance(grams, int | np.integer) or grams < 0:
        raise ValueError(f"birth weight must be a non-negative whole number of grams, got {grams!r}")
    return BIRTH_WEIGHT_BANDS[_band_index(int(grams), _WEIGHT_LOWER)].label


def birth_weight_band_index(grams: np.ndarray) -> np.ndarray:
    """Vectorised band lookup: index into BIRTH_WEIGHT_BANDS for each weight in grams."""
    return _band_indices(grams, _WEIGHT_LOWER, "birth weight grams")


def _band_index(value: int, lower_bounds: np.ndarray) -> int:
    return int(np.searchsorted(lower_bounds, value, side="right")) - 1


def _band_indices(values: np.ndarray, lower_bounds: np.ndarray, what: str) -> np.ndarray:
    array = np.asarray(values)
    if array.dtype.kind not in "iu":
        raise ValueError(f"{what} must be an integer array, got dtype {array.dtype}")
    if array.size and array.min() < 0:
        raise ValueError(f"{what} must not be negative")
    return (np.searchsorted(lower_bounds, array, side="right") - 1).astype(np.int8)


# -- the National Maternity Safety Ambition -----------------------------------------------------
@dataclass(frozen=True)
class AmbitionMeasure:
    """One measure of the National Maternity Safety Ambition, as published.

    ``implied_fields`` names the values that were *not* found stated in a published source
    and are implied (by arithmetic on published figures or by the design brief); ``note``
    says how. Consumers drawing a target line should show implied values differently.
    ``reduction_2020``/``reduction_2025`` are the ambition as announced: fractional
    reductions from the baseline.
    """

    measure_id: str
    title: str
    definition: str
    unit: str
    multiplier: int
    baseline_value: float | None
    baseline_period: str | None
    target_2020: float | None
    target_2025: float | None
    reduction_2020: float | None
    reduction_2025: float | None
    source: str
    note: str = ""
    implied_fields: tuple[str, ...] = ()


#: Primary sources for the ambition and the national figures, cited by the ``source`` strings below.
#: UK Parliament written answers live at questions-statements.parliament.uk (date asked / number).
PQ_202781 = (
    "UK Parliament written question 202781, answered 24 Oct 2023 "
    "(https://questions-statements.parliament.uk/written-questions/detail/2023-10-16/202781)"
)
PQ_84835 = (
    "UK Parliament written question 84835, answered 3 Nov 2025 "
    "(https://questions-statements.parliament.uk/written-questions/detail/2025-10-23/84835)"
)
HL428 = (
    "House of Lords written question HL428, answered 21 Dec 2023 "
    "(https://questions-statements.parliament.uk/written-questions/detail/2023-11-20/HL428)"
)
ONS_BLOG_2020 = "ONS blog 'Explaining trends in baby loss in England and Wales' (G. Quayle, 20 Feb 2020)"
NUFFIELD_2018 = (
    "Nuffield Trust, 'Are the government's targets for reducing stillbirths and neonatal deaths achievable?' "
    "(6 Nov 2018, https://www.nuffieldtrust.org.uk/news-item/are-the-government-s-targets-for-reducing-stillbirths-and-"
    "neonatal-deaths-achievable)"
)
#: The interim (2020) values and some 2025 values of the ambition table were given to the project as from a
#: DHSC "Safer Maternity Care" progress report (2021); that document was not located, so they are marked.
PROGRESS_REPORT_2021 = (
    "value as attributed to DHSC 'Safer Maternity Care' progress report (2021), which was not located: "
    "needs local confirmation"
)

_AMBITION_SOURCE = (
    "DHSC, Safer Maternity Care (Nov 2015: halve by 2030, 20% by 2020; brought forward to 2025 in Nov 2017, "
    "'Safer Maternity Care: The National Maternity Safety Strategy – Progress and Next Steps'); interim values: "
    + PROGRESS_REPORT_2021
)

AMBITION: dict[str, AmbitionMeasure] = {
    m.measure_id: m
    for m in (
        AmbitionMeasure(
            measure_id="stillbirth_rate",
            title="Stillbirth rate",
            definition="Stillbirths at ≥24+0 weeks per 1,000 total births (live births + stillbirths)",
            unit="per 1,000 total births",
            multiplier=1000,
            baseline_value=5.1,
            baseline_period="2010",
            target_2020=4.1,
            target_2025=2.5,
            reduction_2020=0.2,
            reduction_2025=0.5,
            source=(
                "Baseline: ONS Births in England and Wales, via " + PQ_202781 + ". "
                "2025 target 2.5: DHSC, " + PQ_84835 + ". " + _AMBITION_SOURCE
            ),
            note=(
                "2020 value 4.1 not found published as a target: the interim ambition was published only as a "
                "20% reduction (5.1 × 0.8 = 4.08); 4.1 is also the achieved England 2017 rate (PQ 203260). "
                "ONS (blog 2020, CMS 2020) and the Nuffield Trust give the 2025 target as 2.6; both 2.5 and 2.6 "
                "are half of an unrounded 2010 rate."
            ),
            implied_fields=("target_2020",),
        ),
        AmbitionMeasure(
            measure_id="neonatal_mortality_24wk",
            title="Neonatal mortality rate (born at ≥24 weeks)",
            definition="Deaths under 28 days of babies born at ≥24+0 weeks per 1,000 live births at ≥24+0 weeks",
            unit="per 1,000 live births",
            multiplier=1000,
            baseline_value=2.0,
            baseline_period="2010",
            target_2020=None,
            target_2025=1.0,
            reduction_2020=0.2,
            reduction_2025=0.5,
            source="2025 target 1.0: ONS Child and infant mortality 2021; DHSC, " + PQ_84835 + ". " + _AMBITION_SOURCE,
            note=(
                "The 2010 baseline was not found stated as a number; ≈2.0 is implied because the published 2025 "
                "target of 1.0 is a 50% reduction. The 2020 interim target was published only as a 20% reduction "
                "(no value). ONS and DHSC moved the ambition to this ≥24-week measure around 2019/20."
            ),
            implied_fields=("baseline_value",),
        ),
        AmbitionMeasure(
            measure_id="neonatal_mortality_all",
            title="Neonatal mortality rate (all gestations)",
            definition="Deaths under 28 days per 1,000 live births, all gestations",
            unit="per 1,000 live births",
            multiplier=1000,
            baseline_value=2.9,
            baseline_period="2010",
            target_2020=None,
            target_2025=1.5,
            reduction_2020=0.2,
            reduction_2025=0.5,
            source=f"Baseline and 2025 target: {ONS_BLOG_2020}; {NUFFIELD_2018}. " + _AMBITION_SOURCE,
            note=(
                "The original basis of the ambition, replaced by the ≥24-week measure because registrations of live "
                "births under 24 weeks rose (pushing this rate up while the ≥24-week rate fell). The 2020 interim "
                "target was published only as a 20% reduction."
            ),
        ),
        AmbitionMeasure(
            measure_id="perinatal_mortality",
            title="Perinatal mortality (stillbirths and neonatal deaths, ≥24 weeks)",
            definition="Stillbirths plus neonatal deaths of babies born at ≥24+0 weeks per 1,000 total births",
            unit="per 1,000 total births",
            multiplier=1000,
            baseline_value=None,
            baseline_period=None,
            target_2020=None,
            target_2025=None,
            reduction_2020=None,
            reduction_2025=0.5,
            source="50% reduction by 2025 and the '18% lower by 2019' trajectory: " + PROGRESS_REPORT_2021,
            note=(
                "No baseline or target value was found. An '18% lower by 2019' trajectory and a 50% reduction by "
                "2025 are attributed to the 2021 progress report; both are not verified in a published source. "
                "MBRRACE-UK perinatal rates are UK-wide, ≥24 weeks with terminations excluded, so are not the same "
                "series as ONS rates."
            ),
            implied_fields=("reduction_2025",),
        ),
        AmbitionMeasure(
            measure_id="brain_injury_rate",
            title="Brain injuries during or soon after birth",
            definition=(
                "Babies with a brain injury during or soon after birth (Imperial NDAU case definition) per 1,000 "
                "live births"
            ),
            unit="per 1,000 live births",
            multiplier=1000,
            baseline_value=4.3,
            baseline_period="2010",
            target_2020=3.5,
            target_2025=2.2,
            reduction_2020=0.2,
            reduction_2025=0.5,
            source="Baseline: Imperial College NDAU corrected series, via " + PQ_202781 + ". " + _AMBITION_SOURCE,
            note=(
                "Target values not found published: the ambition is stated only as a 20% reduction by 2020 and a "
                "50% reduction by 2025 (HL428). 4.3 × 0.8 = 3.44 and 4.3 × 0.5 = 2.15, so 3.5 and 2.2 follow only "
                "from an unrounded baseline of about 4.35 or more, or from rounding half up. NNRD coverage was "
                "incomplete in 2010–11."
            ),
            implied_fields=("target_2020", "target_2025"),
        ),
        AmbitionMeasure(
            measure_id="maternal_mortality",
            title="Maternal mortality rate",
            definition=(
                "Direct and indirect maternal deaths during pregnancy or up to 42 days after, per 100,000 maternities "
                "(UK, rolling triennium)"
            ),
            unit="per 100,000 maternities",
            multiplier=100_000,
            baseline_value=10.6,
            baseline_period="2009–11",
            target_2020=8.5,
            target_2025=5.3,
            reduction_2020=0.2,
            reduction_2025=0.5,
            source=f"2025 target 5.3: DHSC, {PQ_84835}; {HL428}. Series: MBRRACE-UK (UK rate). " + _AMBITION_SOURCE,
            note=(
                "A UK rate: no England-only rate is published. The 2009–11 baseline was not found as a number; "
                "≈10.6 is implied by DHSC statements (11.56 for 2019–21 is 'a 9% increase from the 2009–2011 "
                "baseline', HL428; 12.8 for 2022–24 is '20% higher than 2009–11'). The 2020 interim target was "
                "published only as a 20% reduction; 8.5 ≈ 10.6 × 0.8."
            ),
            implied_fields=("baseline_value", "target_2020"),
        ),
        AmbitionMeasure(
            measure_id="preterm_birth_rate",
            title="Preterm birth rate",
            definition="Live births and stillbirths at 24+0 to 36+6 weeks as a percentage of all births",
            unit="%",
            multiplier=100,
            baseline_value=8.0,
            baseline_period="2015",
            target_2020=None,
            target_2025=6.0,
            reduction_2020=None,
            reduction_2025=None,
            source=(
                HL428 + "; DHSC response to the Lords Preterm Birth Committee (14 Jan 2025); Dorries, Westminster "
                "Hall debate (20 Jul 2021). Baseline year 2015: " + PROGRESS_REPORT_2021
            ),
            note=(
                "Added to the ambition in Nov 2017 as 8% → 6% by 2025, with no interim target. The baseline year is "
                "loosely defined: the ambition table gives 2015, HL428 describes 'around 8% of all births in 2017'. "
                "ONS reports a different series (live births under 37 weeks as % of live births, England and Wales)."
            ),
        ),
    )
}
"""The National Maternity Safety Ambition by measure id; see :class:`AmbitionMeasure`."""


# -- published national figures -----------------------------------------------------------------
@dataclass(frozen=True)
class NationalFigure:
    """One published England figure the synthetic data is calibrated to and the measures checked against."""

    measure_id: str
    period: str
    value: float
    unit: str
    source: str
    note: str = ""
    geography: str = "England"


NATIONAL_FIGURES: tuple[NationalFigure, ...] = (
    NationalFigure("stillbirth_rate", "2010", 5.1, "per 1,000 total births", "ONS, via " + PQ_202781),
    NationalFigure("stillbirth_rate", "2019", 3.8, "per 1,000 total births", "ONS, via " + PQ_202781),
    NationalFigure(
        "neonatal_mortality_24wk",
        "2010",
        2.0,
        "per 1,000 live births",
        "Implied by the ambition (2025 target 1.0 = 50% reduction; ONS Child and infant mortality 2021, "
        + PQ_84835
        + ")",
        note="Not found stated as a published figure; implied.",
    ),
    NationalFigure(
        "neonatal_mortality_24wk",
        "2019",
        1.4,
        "per 1,000 live births",
        PROGRESS_REPORT_2021,
        note=(
            "Not among the published ≥24-week figures found (2015 1.6, PQ 65335; 2020 1.3 and 2021 1.4, "
            "ONS Child and infant mortality)."
        ),
    ),
    NationalFigure(
        "preterm_birth_rate",
        "2010",
        7.3,
        "%",
        "Tommy's, quoting ONS gestation-specific infant mortality files",
        note="England and Wales, live births, a different series from the ambition's England % of all births.",
        geography="England and Wales",
    ),
    NationalFigure(
        "preterm_birth_rate",
        "2017",
        8.1,
        "%",
        PROGRESS_REPORT_2021 + "; " + HL428 + " gives 'around 8% of all births in 2017'",
        note="The one-decimal value was not verified; HL428 states only 'around 8%'.",
    ),
    NationalFigure(
        "preterm_birth_rate",
        "2019",
        7.9,
        "%",
        PROGRESS_REPORT_2021,
        note="Not verified for England 2019; ONS/DHSC give 7.9% for England 2022 and 7.7% for 2021.",
    ),
    NationalFigure(
        "brain_injury_rate",
        "2010",
        4.3,
        "per 1,000 live births",
        "Imperial College NDAU corrected series, via " + PQ_202781,
        note="NNRD coverage incomplete in 2010–11.",
    ),
    NationalFigure(
        "brain_injury_rate",
        "2019",
        4.2,
        "per 1,000 live births",
        "Imperial College NDAU corrected series, via " + PQ_202781,
    ),
    NationalFigure("live_births", "2017", 646_794, "live births", "ONS Births in England and Wales, via PQ 10767"),
)
"""Published England figures. The full series are in the sources named: ONS *Births in England and Wales* and
*Child and infant mortality in England and Wales* (ons.gov.uk), the Imperial College NDAU brain-injury reports
(https://www.imperial.ac.uk/neonatal-data-analysis-unit/neonatal-data-analysis-unit/reports-brain-injury-surveillance/)
and the written answers above."""


def national_figure(measure_id: str, period: str) -> NationalFigure:
    """The published figure for a measure and period; KeyError listing what is held if there is none."""
    for figure in NATIONAL_FIGURES:
        if figure.measure_id == measure_id and figure.period == period:
            return figure
    held = ", ".join(f"{f.measure_id} {f.period}" for f in NATIONAL_FIGURES)
    raise KeyError(f"no national figure for {measure_id!r} in {period!r}; held: {held}")
