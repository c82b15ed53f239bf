"""National figures the synthetic generator is calibrated to, one table with a source per number.

The generator does not invent national rates: every year's intercepts are solved so that the
expected national rate equals the value read from this table (see
:func:`matneo.synth.sampling.calibrate_intercept`). Keeping the numbers here, with where each
came from, lets a reviewer check the synthetic data against the published series without
reading the model. The sources named in the table:

* ONS *Births in England and Wales* and *Child and infant mortality in England and Wales*
  (ons.gov.uk), including the ONS blog "Explaining trends in baby loss in England and Wales"
  (20 Feb 2020);
* UK Parliament written answers, at
  ``https://questions-statements.parliament.uk/written-questions/detail/<date asked>/<number>``:
  PQ 202781 (asked 16 Oct 2023, answered 24 Oct 2023: England stillbirths and NDAU brain
  injuries 2010–2022), PQ 84835 (2025-10-23), PQ 65335 (2025-07-07), HL428 (2023-11-20);
* Imperial College NDAU brain-injury reports (corrected series),
  ``https://www.imperial.ac.uk/neonatal-data-analysis-unit/neonatal-data-analysis-unit/reports-brain-injury-surveillance/``;
* MBRRACE-UK *Saving Lives, Improving Mothers' Care* triennial maternal mortality rates (npeu.ox.ac.uk/mbrrace-uk);
* the ambition values attributed to DHSC's "Safer Maternity Care" progress report (2021), a
  document that was not located: those values need local confirmation
  (see :data:`matneo.reference.codes.PROGRESS_REPORT_2021`).

Values between anchor years are linearly interpolated; before the first anchor and after the
last one the end value is held. Anchors marked *illustrative* are plausible values chosen for
realism where no published England figure was available to us; they are not citations.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np


@dataclass(frozen=True)
class Target:
    """One national series: anchor values by year, the unit, and where the anchors come from."""

    name: str
    unit: str
    anchors: Mapping[int, float]
    source: str

    def __post_init__(self) -> None:
        if not self.anchors:
            raise ValueError(f"target {self.name!r} has no anchor years")
        object.__setattr__(self, "anchors", MappingProxyType(dict(sorted(self.anchors.items()))))

    def value(self, year: int) -> float:
        """The series value for ``year``: linear between anchors, held flat outside them."""
        years = np.fromiter(self.anchors.keys(), dtype=float)
        values = np.fromiter(self.anchors.values(), dtype=float)
        return float(np.interp(year, years, values))


TARGETS: Mapping[str, Target] = MappingProxyType(
    {
        t.name: t
        for t in (
            Target(
                "live_births",
                "live births in England per year (scale 1.0)",
                {2010: 687_000, 2017: 646_794, 2022: 577_046, 2023: 570_000},
                "2017 = 646,794 published (ONS Births in England and Wales, via PQ 10767); 2022 = 577,046 "
                "published (ONS, via a secondary page); 2010 ≈ 687k and ≈ 570k from "
                "2023 are approximate (task brief), not citations.",
            ),
            Target(
                "stillbirth_per_1000",
                "stillbirths ≥24+0 wk per 1,000 total births (live + still)",
                {2010: 5.1, 2019: 3.8, 2021: 3.6},
                "5.1 (2010) and 3.8 (2019): ONS Births in England and Wales, via PQ 202781 (24 Oct 2023); "
                "≈3.6 from 2021 approximate (brief; ONS 2022 ≈ 3.5).",
            ),
            Target(
                "neonatal_24_per_1000",
                "deaths <28 days of babies born ≥24+0 wk per 1,000 live births ≥24+0 wk",
                {2010: 2.0, 2019: 1.4, 2021: 1.35},
                "2.0 implied 2010 baseline (2025 target 1.0 = half, PQ 84835); 1.4 (2019) as attributed to the "
                "2021 progress report (needs local confirmation); published: 1.6 (2015, PQ 65335), 1.3 (2020), "
                "1.4 (2021; 2023, PQ 84835); ≈1.35 after 2021 approximate.",
            ),
            Target(
                "neonatal_22_23_per_1000",
                "deaths <28 days of babies born alive at 22+0–23+6 wk per 1,000 live births (all)",
                {2010: 0.8},
                "The gap between the all-gestation and ≥24 wk neonatal rates (2.9 vs ≈2.0 in 2010, "
                "2.8 vs ≈1.4–1.5 in 2017–19; ONS blog, 20 Feb 2020), rounded to ≈0.8 (brief).",
            ),
            Target(
                "live_births_22_23_pct",
                "live births at 22+0–23+6 wk, % of all live births",
                {2010: 0.10, 2017: 0.14, 2018: 0.13},
                "0.13% of E&W live births in 2018 (ONS Child and infant mortality 2018) with the 2014–17 "
                "rise (376 to 564 extremely preterm live births) reported there; 2010 = 0.10% illustrative.",
            ),
            Target(
                "late_fetal_loss_per_1000",
                "late fetal losses (22+0–23+6 wk, born without signs of life) per 1,000 total births",
                {2010: 0.5},
                "Illustrative (MBRRACE-UK reports late fetal losses separately; no published England figure "
                "was found).",
            ),
            Target(
                "preterm_pct",
                "births (live + still) 24+0–36+6 wk, % of births ≥24+0 wk",
                {2010: 7.3, 2017: 8.1, 2019: 7.9},
                "7.3% (2010), 8.1% (2017), 7.9% (2019): as attributed to the 2021 progress report (needs local "
                "confirmation; HL428 gives 'around 8% of all births in 2017'); held at 7.9% after (England "
                "2022 = 7.9%, ONS via the Lords Library briefing on the Preterm Birth Committee report).",
            ),
            Target(
                "brain_injury_per_1000",
                "brain injuries during or soon after birth (NDAU definition) per 1,000 live births",
                {2010: 4.3, 2015: 4.6, 2019: 4.2},
                "4.3 (2010) and 4.2 (2019): Imperial NDAU corrected series via PQ 202781 (24 Oct 2023); "
                "the 2015 mid-decade 4.6 is illustrative within the "
                "published 4.2–4.7 range.",
            ),
            Target(
                "maternal_per_100000",
                "direct + indirect maternal deaths ≤42 days per 100,000 maternities",
                {2010: 10.6, 2014: 8.8, 2015: 9.8, 2020: 11.7, 2021: 13.4, 2022: 12.7, 2023: 12.8},
                "MBRRACE-UK triennial UK rates placed at the triennium's middle year "
                "(MBRRACE-UK reports, via written answers and summaries): 2009–11 ≈ 10.6 implied baseline, 2013–15 8.8 "
                "(secondary, caution), 2014–16 9.8, 2019–21 11.66, 2020–22 13.41, 2021–23 12.7, "
                "2022–24 12.8. UK rates used for England, as DHSC does.",
            ),
            Target(
                "maternal_coincidental_per_100000",
                "coincidental maternal deaths ≤42 days per 100,000 maternities",
                {2010: 1.0},
                "Illustrative; excluded from the maternal mortality measure (MBRRACE-UK definition).",
            ),
            Target(
                "maternal_late_per_100000",
                "maternal deaths 43 days–1 year (any cause class) per 100,000 maternities",
                {2010: 12.0},
                "Illustrative; late deaths are excluded from the measure (MBRRACE-UK definition).",
            ),
            Target(
                "twin_delivery_pct",
                "twin or higher-order deliveries, % of deliveries",
                {2010: 1.5},
                "≈1.5% of maternities are multiple (brief; ONS multiple maternities ≈15 per 1,000).",
            ),
            Target(
                "caesarean_pct",
                "caesarean deliveries, % of deliveries",
                {2010: 25.0, 2024: 40.0},
                "≈25% (2010) rising to ≈40% (2024): brief, in line with NHS Maternity Statistics.",
            ),
            Target(
                "elective_caesarean_pct",
                "elective (pre-labour) caesareans, % of deliveries",
                {2010: 10.0, 2024: 16.0},
                "Illustrative split of the caesarean series (NHS Maternity Statistics order of size).",
            ),
            Target(
                "induction_pct",
                "induced labour, % of deliveries",
                {2010: 22.0, 2019: 33.0, 2024: 32.0},
                "Illustrative, in line with NHS Maternity Statistics (about a third from 2019).",
            ),
            Target(
                "smoking_at_delivery_pct",
                "mothers smoking at delivery, % of deliveries",
                {2010: 11.0, 2024: 8.5},
                "≈11% (2010) falling to ≈8.5% (2024): brief; national ambition ≤6% by 2022 (DHSC, Towards a "
                "Smokefree Generation: A Tobacco Control Plan for England, 2017).",
            ),
            Target(
                "continuity_of_carer_pct",
                "mothers placed on a continuity of carer pathway, % of deliveries",
                {
                    2016: 0.5,
                    2017: 4.0,
                    2018: 12.0,
                    2019: 20.0,
                    2020: 27.0,
                    2021: 30.0,
                    2022: 22.0,
                    2023: 14.0,
                    2024: 10.0,
                },
                "Shape from the brief (≈0 before 2017, 20–35% in 2020–21, then falling after the "
                "2022 pause of NHS England's 35% by March 2021 target); values illustrative.",
            ),
            Target(
                "mgso4_pct",
                "MgSO4 within 24 h before birth, % of births <30+0 wk",
                {2010: 60.0, 2015: 64.0, 2017: 72.0, 2019: 83.0, 2021: 86.0, 2023: 88.0},
                "≈60% rising to ≈88% (brief; NNAP order of size); intermediate years illustrative. "
                "MatNeoSIP aim ≥90% (needs local confirmation).",
            ),
            Target(
                "steroids_full_pct",
                "full course of antenatal steroids within 7 days, % of births <34+0 wk",
                {2010: 40.0, 2024: 60.0},
                "Illustrative; MatNeoSIP aim ≥90% (needs local confirmation).",
            ),
        )
    }
)


def target(name: str, year: int) -> float:
    """The value of national series ``name`` for ``year`` (see :data:`TARGETS`)."""
    return TARGETS[name].value(year)


def target_table(years: list[int] | range) -> list[dict[str, float | int]]:
    """Every series for every year in ``years``: the table reports and tests compare against."""
    return [{"year": y, **{name: t.value(y) for name, t in TARGETS.items()}} for y in years]
