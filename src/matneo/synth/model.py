"""The clinical shape of the synthetic population: growth curve and relative risks.

These numbers fix *relative* risks only; each year's absolute level comes from calibrating
an intercept to :mod:`matneo.synth.targets`. They are chosen so that the familiar patterns
of English maternity data appear (most stillbirths and neonatal deaths are preterm, small
babies for their gestation do worse, Black and Asian mothers and deprived areas have higher
mortality, brain injury is split between very preterm babies and term babies with HIE) and
are approximate, not fitted to patient data. Sources for the inequality odds ratios:
MBRRACE-UK perinatal and maternal surveillance reports (order of size), as summarised in the
task brief: Black ≈2×, Asian ≈1.5×, most vs least deprived decile ≈1.7×.
"""

from __future__ import annotations

import numpy as np

MIN_WEEK, MAX_WEEK = 20, 44

# Median birth weight (g) at exact completed weeks, sexes combined, singleton (UK-WHO /
# NICE-style growth curve order of size); interpolated on days in between.
_WEIGHT_WEEKS = np.array([20, 22, 24, 26, 28, 30, 32, 34, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45])
_WEIGHT_MEDIAN = np.array(
    [330, 500, 650, 880, 1150, 1500, 1900, 2400, 2900, 3100, 3300, 3450, 3550, 3650, 3700, 3720, 3740, 3750]
)
WEIGHT_LOG_SD = 0.12  # ~12% SD around the median, so z = log(weight / median) / 0.12


def median_weight(gestation_days: np.ndarray) -> np.ndarray:
    """Median birth weight in grams for gestation given in days (weeks × 7 + days)."""
    return np.interp(gestation_days / 7.0, _WEIGHT_WEEKS, _WEIGHT_MEDIAN)


def _by_week(values: dict[int, float]) -> np.ndarray:
    """Expand {week: log-odds} into a lookup array indexed by completed week 0..MAX_WEEK."""
    out = np.zeros(MAX_WEEK + 1)
    for week, value in values.items():
        out[week] = value
    return out


# fmt: off
# Log-odds by completed week relative to 39 weeks (delivery gestation for stillbirths, so
# preterm weeks carry the antepartum deaths delivered then). Roughly: stillbirth rate per
# 1,000 total births ~150 at 24–27 wk, ~30 at 28–31, ~8 at 32–36 vs ~1.5 at term.
STILLBIRTH_WEEK = _by_week({
    24: 5.4, 25: 5.2, 26: 5.0, 27: 4.8, 28: 4.0, 29: 3.7, 30: 3.4, 31: 3.1, 32: 2.8, 33: 2.6,
    34: 2.3, 35: 2.0, 36: 1.7, 37: 0.3, 38: 0.0, 39: 0.0, 40: 0.05, 41: 0.2, 42: 0.5, 43: 0.8, 44: 1.0,
})
# Neonatal death among live births: ~25% at 24 wk falling to ~0.04% at term; 22–23 wk
# (own intercept) are the highest of all.
NEONATAL_WEEK = _by_week({
    22: 0.9, 23: 0.0,  # relative to each other only: 22–23 wk have their own intercept
    24: 6.6, 25: 6.0, 26: 5.4, 27: 4.9, 28: 4.3, 29: 3.9, 30: 3.4, 31: 3.0, 32: 2.6, 33: 2.2,
    34: 1.7, 35: 1.3, 36: 0.9, 37: 0.4, 38: 0.1, 39: 0.0, 40: 0.0, 41: 0.05, 42: 0.2, 43: 0.4, 44: 0.5,
})
# Brain injury (NDAU definition) among live births: IVH/PVL in very preterm babies, HIE,
# seizures and stroke at term; about a third of cases are preterm.
BRAIN_INJURY_WEEK = _by_week({
    22: 4.5, 23: 4.3, 24: 4.0, 25: 3.8, 26: 3.5, 27: 3.2, 28: 2.8, 29: 2.5, 30: 2.1, 31: 1.8,
    32: 1.3, 33: 1.0, 34: 0.7, 35: 0.4, 36: 0.2, 37: 0.1, 38: 0.0, 39: 0.0, 40: 0.0, 41: 0.1,
    42: 0.3, 43: 0.4, 44: 0.5,
})
# Shape of the preterm distribution (24+0–36+6) by completed week: ~5% <28, ~11% 28–31,
# ~84% 32–36 wk, as in ONS gestation-specific births.
PRETERM_WEEK_WEIGHTS = {
    24: 0.6, 25: 0.7, 26: 0.8, 27: 1.0, 28: 1.1, 29: 1.3, 30: 1.7, 31: 2.2,
    32: 3.0, 33: 4.3, 34: 8.5, 35: 12.5, 36: 19.0,
}

# fmt: on

LN = np.log
# Odds ratios (as log-odds) shared by the mortality models.
BLACK_LOG_OR = LN(2.0)
ASIAN_LOG_OR = LN(1.5)
DEPRIVATION_LOG_OR_PER_DECILE = LN(1.7) / 9  # decile 1 vs 10 ≈ 1.7×
SGA_LOG_OR_PER_SD = 0.45  # stillbirth, per SD of weight below the gestational median
AGE_UNDER_20_LOG_OR = LN(1.3)
AGE_35_39_LOG_OR = LN(1.15)
AGE_40_PLUS_LOG_OR = LN(1.6)
TWIN_STILLBIRTH_LOG_OR = LN(2.0)
TRIPLET_STILLBIRTH_LOG_OR = LN(3.0)
MULTIPLE_NEONATAL_LOG_OR = LN(1.3)
SMOKING_STILLBIRTH_LOG_OR = LN(1.3)
# Maternal death (MBRRACE-UK order of size): Black ≈3×, Asian ≈1.7×, deprived ≈2×.
MATERNAL_BLACK_LOG_OR = LN(3.0)
MATERNAL_ASIAN_LOG_OR = LN(1.7)
MATERNAL_DEPRIVATION_LOG_OR_PER_DECILE = LN(2.0) / 9
MATERNAL_AGE_40_PLUS_LOG_OR = LN(2.0)
MATERNAL_CAESAREAN_LOG_OR = LN(1.6)

# fmt: off
# Vaginal modes by parity (nulliparous, multiparous), over MODES_OF_DELIVERY indices
# spontaneous_vertex, spontaneous_other_cephalic, forceps, ventouse, breech,
# breech_extraction, (elective, emergency caesarean: never here), other.
VAGINAL_MODE_PROBS = np.array([
    [0.690, 0.010, 0.120, 0.160, 0.015, 0.002, 0.0, 0.0, 0.003],
    [0.905, 0.012, 0.025, 0.040, 0.012, 0.002, 0.0, 0.0, 0.004],
])
# Perineal tear degree 0–4 for (spontaneous, instrumental) × (nulliparous, multiparous):
# 3rd/4th degree ≈3% of vaginal births overall, higher after forceps and in first births.
TEAR_PROBS = np.array([
    [0.10, 0.28, 0.585, 0.032, 0.003],
    [0.30, 0.35, 0.335, 0.014, 0.001],
    [0.05, 0.12, 0.720, 0.100, 0.010],
    [0.12, 0.20, 0.630, 0.045, 0.005],
])
# fmt: on
SEX_PROBS = np.array([0.5125, 0.4865, 0.0002, 0.0008])  # male, female, indeterminate, not known
STILLBIRTH_TIMING_PROBS = np.array([0.85, 0.08, 0.07])  # antepartum, intrapartum, unknown
HIE_GRADE_PROBS = np.array([0.25, 0.55, 0.20])  # among brain-injured babies ≥35 wk with HIE
HIE_SHARE_OF_TERM_BRAIN_INJURY = 0.55
COOLING_BY_HIE_GRADE = np.array([1.0, 0.92, 0.85])  # grade 1 counts as injury only if cooled
MILD_HIE_UNCOOLED_RATE = 0.001  # grade-1 HIE, not cooled, not a brain injury by definition
