"""Trajectories to the National Maternity Safety Ambition: stated targets, the line, status, baselines.

Sources of the stated targets (each test below cites the one it checks):

* the ambition table attributed to DHSC's "Safer Maternity Care" progress report (2021; not
  located, so its unpublished values need local confirmation), held in
  ``matneo.reference.codes.AMBITION``: stillbirth 5.1 → 4.1 → 2.5; maternal 10.6 → 8.5 → 5.3;
  brain injury 4.3 → 3.5 → 2.2; neonatal (≥24 wk) 2025 target 1.0; preterm 8% → 6%.
* ONS blog "Explaining trends in baby loss in England and Wales" (20 Feb 2020) and ONS Child and infant
  mortality 2020 give the 2025 stillbirth target as 2.6 and the all-gestation neonatal
  baseline 2.9 → 1.5; DHSC PQ 84835 (3 Nov 2025) gives 2.5 and 5.3 and 1.0; HL428 (21 Dec 2023) gives the
  brain-injury ambition only as percentages and preterm 8% → 6%.
* UK Parliament written question 202781 (24 Oct 2023): 3,506 stillbirths in England in 2010
  at 5.1 per 1,000 total births; 2,594 brain injuries at 4.3 per 1,000 live births.

Every expected trajectory value is worked by hand in the comment next to it.
"""

from __future__ import annotations

import json
import math
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from matneo.measures.trajectory import (
    DEFAULT_REDUCTIONS,
    Baseline,
    LatestValue,
    Rounding,
    ambition_progress,
    ambition_targets,
    latest_proportion,
    latest_rate,
    national_baseline,
    national_targets,
    organisation_baseline,
    round_value,
    status,
    trajectory,
)
from matneo.reference.codes import AMBITION
from matneo.stats.ci import rate_ci

from .published_targets import (
    ABSOLUTE,
    ALTERNATIVE_PUBLISHED_TARGETS,
    DERIVED,
    DERIVED_FROM_IMPLIED,
    NOT_DERIVABLE,
    STILLBIRTHS_ENGLAND_2010,
    Interval,
    TargetDerivation,
    baseline_from_counts,
    baselines_consistent_with,
    denominators_for_rate,
    derive_published_targets,
    rounding_interval,
    stated_targets,
)


def _derivation(measure_id: str, year: int, stated: float, rounding: Rounding = "half_up") -> TargetDerivation:
    matches = [
        d
        for d in derive_published_targets(rounding)
        if d.measure_id == measure_id and d.year == year and d.stated == stated
    ]
    assert len(matches) == 1, (measure_id, year, stated)
    return matches[0]


# -- the stated targets and whether they come out ------------------------------------------------
def test_reference_data_holds_the_targets_these_tests_check() -> None:
    # The ambition table, via AMBITION; if these move, the derivation tests below must be revisited.
    assert (AMBITION["stillbirth_rate"].baseline_value, AMBITION["stillbirth_rate"].target_2020) == (5.1, 4.1)
    assert AMBITION["stillbirth_rate"].target_2025 == 2.5
    assert (AMBITION["maternal_mortality"].baseline_value, AMBITION["maternal_mortality"].target_2025) == (10.6, 5.3)
    assert (AMBITION["brain_injury_rate"].target_2020, AMBITION["brain_injury_rate"].target_2025) == (3.5, 2.2)
    assert AMBITION["neonatal_mortality_24wk"].target_2025 == 1.0
    assert (AMBITION["neonatal_mortality_all"].baseline_value, AMBITION["neonatal_mortality_all"].target_2025) == (
        2.9,
        1.5,
    )
    assert dict(DEFAULT_REDUCTIONS) == {2020: 0.2, 2025: 0.5}
    assert [(t.measure_id, t.year, t.value) for t in ALTERNATIVE_PUBLISHED_TARGETS] == [("stillbirth_rate", 2025, 2.6)]


@pytest.mark.parametrize(
    ("measure_id", "year", "stated", "derivation", "unrounded", "source"),
    [
        # 5.1 × 0.8 = 4.08 → 4.1. Baseline: ONS via PQ 202781; 4.1: 2021 progress report (found only as "20% by 2020").
        ("stillbirth_rate", 2020, 4.1, DERIVED, 4.08, "2021 progress report; PQ 202781"),
        # 5.1 × 0.5 = 2.55 → 2.6 (half up), as ONS publishes. ONS blog 20 Feb 2020; ONS CMS 2020.
        ("stillbirth_rate", 2025, 2.6, DERIVED, 2.55, "ONS blog 20 Feb 2020; ONS CMS 2020; Nuffield Trust"),
        # 2.9 × 0.5 = 1.45 → 1.5 (half up). ONS blog 20 Feb 2020; Nuffield Trust 2018.
        ("neonatal_mortality_all", 2025, 1.5, DERIVED, 1.45, "ONS blog 20 Feb 2020; Nuffield Trust 2018"),
        # 4.3 × 0.5 = 2.15 → 2.2 (half up and half even). Imperial NDAU via PQ 202781; 2.2: 2021 report.
        ("brain_injury_rate", 2025, 2.2, DERIVED, 2.15, "2021 progress report; PQ 202781"),
        # 2.0 × 0.5 = 1.0. 1.0: ONS CMS 2021, PQ 84835; the 2.0 baseline is implied from it.
        ("neonatal_mortality_24wk", 2025, 1.0, DERIVED_FROM_IMPLIED, 1.0, "ONS CMS 2021; PQ 84835"),
        # 10.6 × 0.8 = 8.48 → 8.5. 10.6 implied by DHSC statements (HL428); 8.5: 2021 progress report.
        ("maternal_mortality", 2020, 8.5, DERIVED_FROM_IMPLIED, 8.48, "2021 progress report; HL428"),
        # 10.6 × 0.5 = 5.3. 5.3: DHSC PQ 84835; HL428.
        ("maternal_mortality", 2025, 5.3, DERIVED_FROM_IMPLIED, 5.3, "PQ 84835; HL428"),
        # Preterm 8% → 6% by 2025 is absolute. HL428; Dorries, WH debate 20 Jul 2021.
        ("preterm_birth_rate", 2025, 6.0, ABSOLUTE, 6.0, "HL428"),
    ],
)
def test_stated_targets_that_come_out_of_the_calculation(
    measure_id: str, year: int, stated: float, derivation: str, unrounded: float, source: str
) -> None:
    result = _derivation(measure_id, year, stated)
    assert result.derivation == derivation, source
    assert result.computed["half_up"] == stated
    assert "half_up" in result.reproduced_by
    assert result.unrounded == pytest.approx(unrounded, abs=1e-12)
    if derivation != ABSOLUTE:
        assert result.required_baseline is not None
        # The (rounded or implied) baseline itself lies among the unrounded baselines that give the target.
        assert result.required_baseline.contains(result.baseline_value)


def test_dhsc_2025_stillbirth_target_is_published_value_not_derivable() -> None:
    # 2.5: DHSC PQ 84835 (Nov 2025). 5.1 × 0.5 = 2.55 → 2.6 under both half up and half even.
    result = _derivation("stillbirth_rate", 2025, 2.5)
    assert result.derivation == "published value, not derivable"
    assert result.derivation == NOT_DERIVABLE
    assert dict(result.computed) == {"half_up": 2.6, "half_even": 2.6}
    assert result.reproduced_by == ()
    # 2.5 needs an unrounded 2010 rate in [2.45, 2.55) / 0.5 ∩ [5.05, 5.15) = [5.05, 5.1).
    assert str(result.required_baseline) == "[5.05, 5.1)"
    assert result.explanation.startswith("5.1 × (1 − 0.5) = 2.55 → 2.6 (half-up), not 2.5; 2.5 needs an unrounded")
    assert "3,506 stillbirths" in result.explanation


def test_2020_brain_injury_target_is_published_value_not_derivable() -> None:
    # 3.5: 2021 progress report (not found published; HL428 gives only "20% by 2020"). 4.3 × 0.8 = 3.44 → 3.4.
    result = _derivation("brain_injury_rate", 2020, 3.5)
    assert result.derivation == "published value, not derivable"
    assert dict(result.computed) == {"half_up": 3.4, "half_even": 3.4}
    # 3.5 needs [3.45, 3.55) / 0.8 = [4.3125, 4.4375), within the published 4.3's [4.25, 4.35): [4.3125, 4.35).
    # (a reading from the rounded values gives "≥ 4.35"; 3.45 / 0.8 = 4.3125 is the exact threshold.)
    assert str(result.required_baseline) == "[4.3125, 4.35)"
    assert "Imperial NDAU denominator is not published" in result.explanation


def test_exactly_two_stated_targets_are_not_derivable() -> None:
    not_derivable = {
        (d.measure_id, d.year, d.stated) for d in derive_published_targets() if d.derivation == NOT_DERIVABLE
    }
    assert not_derivable == {("stillbirth_rate", 2025, 2.5), ("brain_injury_rate", 2020, 3.5)}
    assert len(derive_published_targets()) == len(stated_targets()) == 10


def test_half_even_would_also_lose_the_ons_neonatal_target() -> None:
    # Why half up is the default: 2.9 × 0.5 = 1.45 → 1.4 under half even, but ONS publishes 1.5.
    result = _derivation("neonatal_mortality_all", 2025, 1.5, "half_even")
    assert result.derivation == NOT_DERIVABLE
    assert result.reproduced_by == ("half_up",)
    not_derivable = {
        (d.measure_id, d.year) for d in derive_published_targets("half_even") if d.derivation == NOT_DERIVABLE
    }
    assert ("neonatal_mortality_all", 2025) in not_derivable


def test_binary_floating_point_is_not_the_rounding_rule() -> None:
    # Python's round() sees the float product 2.549999…, which is why "half even gives 2.5" is a float artefact.
    assert round(5.1 * 0.5, 1) == 2.5
    assert round_value(5.1 * 0.5, 1, "half_up") == 2.6
    assert round_value(5.1 * 0.5, 1, "half_even") == 2.6
    assert round(4.3 * 0.5, 1) == 2.1  # float again; exactly 2.15 → 2.2 either way
    assert round_value(4.3 * 0.5) == round_value(Decimal("2.15"), 1, "half_even") == 2.2


def test_implied_baselines_and_targets_are_flagged() -> None:
    neonatal = _derivation("neonatal_mortality_24wk", 2025, 1.0)
    assert neonatal.baseline_implied
    assert "by construction" in neonatal.explanation
    assert _derivation("stillbirth_rate", 2020, 4.1).stated_implied
    assert not _derivation("stillbirth_rate", 2025, 2.6).stated_implied
    assert json.loads(json.dumps(neonatal.to_dict()))["derivation"] == DERIVED_FROM_IMPLIED


# -- which unrounded baselines fit ----------------------------------------------------------------
def test_stated_stillbirth_targets_fit_together_only_below_5_10() -> None:
    # Stated 4.1 (2020) and 2.5 (2025): [4.05, 4.15)/0.8 = [5.0625, 5.1875); [2.45, 2.55)/0.5 = [4.9, 5.1);
    # with [5.05, 5.15) from the published 5.1 → [5.0625, 5.1).
    design = baselines_consistent_with(5.1, {2020: (0.2, 4.1), 2025: (0.5, 2.5)})
    assert design == Interval(Fraction("5.0625"), Fraction("5.1"), True, False)
    # ONS 4.1 and 2.6: [2.55, 2.65)/0.5 = [5.1, 5.3) → [5.1, 5.15).
    assert str(baselines_consistent_with(5.1, {2020: (0.2, 4.1), 2025: (0.5, 2.6)})) == "[5.1, 5.15)"
    # Brain injury 3.5 and 2.2: [4.3125, 4.4375) ∩ [4.3, 4.5) ∩ [4.25, 4.35) = [4.3125, 4.35).
    assert str(baselines_consistent_with(4.3, {2020: (0.2, 3.5), 2025: (0.5, 2.2)})) == "[4.3125, 4.35)"
    # Inconsistent stated values have no baseline: 2.0 by 2025 would need ≥ 3.9 from 5.1.
    assert baselines_consistent_with(5.1, {2025: (0.5, 2.0)}) is None


def test_england_2010_total_births_would_settle_2_5_or_2_6() -> None:
    # 3,506 stillbirths (PQ 202781). Rate in [5.0625, 5.1) ⇔ total births in (3,506,000/5.1, 3,506,000/5.0625]
    # = (687,450.98…, 692,543.20…], i.e. 687,451 to 692,543 births.
    design = baselines_consistent_with(5.1, {2020: (0.2, 4.1), 2025: (0.5, 2.5)})
    assert design is not None
    births = denominators_for_rate(STILLBIRTHS_ENGLAND_2010, design)
    assert births.contains(687_451) and births.contains(692_543)
    assert not births.contains(687_450) and not births.contains(692_544)
    # At the threshold the computed 2025 target flips: 3,506 / 687,451 × 1,000 = 5.0999985… → 2.5499… → 2.5.
    below = baseline_from_counts(STILLBIRTHS_ENGLAND_2010, 687_451)
    above = baseline_from_counts(STILLBIRTHS_ENGLAND_2010, 687_450)
    assert ambition_targets(below)[2025].rounded == 2.5
    assert ambition_targets(above)[2025].rounded == 2.6
    assert ambition_targets(below)[2020].rounded == 4.1


def test_rounding_intervals() -> None:
    assert str(rounding_interval(5.1)) == "[5.05, 5.15)"
    assert str(rounding_interval(5.1, 1, "half_even")) == "(5.05, 5.15)"  # 5.05 → 5.0 and 5.15 → 5.2
    assert str(rounding_interval(2.0, 1, "half_even")) == "[1.95, 2.05]"  # both ties come to 2.0
    assert str(rounding_interval(0.0)) == "[0, 0.05)"
    assert str(rounding_interval(11, 0)) == "[10.5, 11.5)"  # whole numbers: 10.6 rounds to 11
    with pytest.raises(ValueError, match="more than 1 decimal"):
        rounding_interval(5.15)


@given(
    baseline=st.decimals(min_value=Decimal("0.10"), max_value=Decimal("200"), places=3),
    reduction=st.sampled_from([Decimal("0.2"), Decimal("0.5"), Decimal("0.25")]),
    rounding=st.sampled_from(["half_up", "half_even"]),
)
def test_the_true_baseline_is_always_in_its_consistent_interval(
    baseline: Decimal, reduction: Decimal, rounding: str
) -> None:
    target = ambition_targets(baseline, 2010, reductions={2025: reduction}, rounding=rounding)[2025]  # type: ignore[arg-type]
    published = round_value(baseline, 1, rounding)  # type: ignore[arg-type]
    interval = baselines_consistent_with(published, {2025: (reduction, target.rounded)}, 1, rounding)  # type: ignore[arg-type]
    assert interval is not None and interval.contains(baseline)


# -- ambition_targets ---------------------------------------------------------------------------
def test_relative_targets_keep_unrounded_and_rounded() -> None:
    targets = ambition_targets(5.1)
    assert list(targets) == [2020, 2025]
    assert (targets[2020].unrounded, targets[2020].rounded) == (4.08, 4.1)
    assert (targets[2025].unrounded, targets[2025].rounded) == (2.55, 2.6)
    assert targets[2025].reduction == 0.5 and targets[2025].kind == "relative"
    assert ambition_targets(2.9, rounding="half_even")[2025].rounded == 1.4
    assert ambition_targets(2.9)[2025].rounded == 1.5
    assert ambition_targets(10.6, decimals=2)[2020].rounded == 8.48
    assert ambition_targets(Fraction(1020, 200))[2025].unrounded == 2.55  # exact inputs are accepted


def test_preterm_absolute_path_8_to_6() -> None:
    # HL428: preterm births 8% → 6% by 2025; baseline year 2015 as held in AMBITION (2021 progress report).
    targets = national_targets("preterm_birth_rate")
    assert list(targets) == [2025]
    assert (targets[2025].unrounded, targets[2025].rounded, targets[2025].kind) == (6.0, 6.0, "absolute")
    assert targets[2025].reduction is None
    assert national_baseline("preterm_birth_rate").year == 2015
    # Slope (6 − 8) / 10 = −0.2 a year: 2017 7.6, 2020 7.0, 2024 6.2, 2025 6.0, held after.
    expected = trajectory(8.0, 2015, targets, [2015, 2017, 2020, 2024, 2025, 2027])
    np.testing.assert_allclose(expected, [8.0, 7.6, 7.0, 6.2, 6.0, 6.0], rtol=0, atol=1e-12)


def test_ambition_targets_reject_bad_input() -> None:
    with pytest.raises(ValueError, match="not be negative"):
        ambition_targets(-1.0)
    with pytest.raises(ValueError, match="fraction from 0 to 1"):
        ambition_targets(5.1, reductions={2025: 50})
    with pytest.raises(ValueError, match="needs absolute_targets"):
        ambition_targets(8.0, 2015, kind="absolute")
    with pytest.raises(ValueError, match="not reductions"):
        ambition_targets(8.0, 2015, kind="absolute", reductions={2025: 0.25}, absolute_targets={2025: 6.0})
    with pytest.raises(ValueError, match="only to kind='absolute'"):
        ambition_targets(8.0, 2015, absolute_targets={2025: 6.0})
    with pytest.raises(ValueError, match="not after the baseline year"):
        ambition_targets(5.1, 2021)
    with pytest.raises(ValueError, match="rounding must be"):
        ambition_targets(5.1, rounding="bankers")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="finite"):
        ambition_targets(math.nan)
    with pytest.raises(ValueError, match="kind must be"):
        ambition_targets(5.1, kind="percent")  # type: ignore[arg-type]


def test_national_targets_for_every_measure_with_a_baseline() -> None:
    assert national_targets("maternal_mortality")[2025].rounded == 5.3
    assert national_baseline("maternal_mortality").year == 2010  # 2009–11 triennium → its middle year
    assert "implied" in national_baseline("maternal_mortality").reason
    with pytest.raises(ValueError, match="no baseline"):
        national_baseline("perinatal_mortality")
    with pytest.raises(KeyError, match="unknown ambition measure"):
        national_targets("caesarean_rate")


# -- trajectory ---------------------------------------------------------------------------------
def test_stillbirth_trajectory_at_anchor_and_intermediate_years() -> None:
    targets = national_targets("stillbirth_rate")
    years = [2009, 2010, 2015, 2020, 2022, 2023, 2025, 2026]
    expected = trajectory(5.1, 2010, targets, years)
    # 2010–2020: (5.1 − 4.08) / 10 = 0.102 a year → 2015: 5.1 − 5 × 0.102 = 4.59.
    # 2020–2025: (4.08 − 2.55) / 5 = 0.306 a year → 2022: 4.08 − 0.612 = 3.468; 2023: 4.08 − 0.918 = 3.162.
    # 2009 is before the baseline (NaN); 2026 holds the 2025 target.
    assert math.isnan(expected[0])
    np.testing.assert_allclose(expected[1:], [5.1, 4.59, 4.08, 3.468, 3.162, 2.55, 2.55], rtol=0, atol=1e-12)
    # Through the rounded published targets 5.1 → 4.1 → 2.6: 2015 = 5.1 − 5 × 0.1 = 4.6; 2023 = 4.1 − 3 × 0.3 = 3.2.
    rounded = trajectory(5.1, 2010, targets, [2015, 2023], use="rounded")
    np.testing.assert_allclose(rounded, [4.6, 3.2], rtol=0, atol=1e-12)


def test_brain_injury_trajectory_by_hand() -> None:
    targets = national_targets("brain_injury_rate")
    # 4.3 → 3.44 (2020) → 2.15 (2025): 2015 = 4.3 − 5 × 0.086 = 3.87; 2024 = 3.44 − 4 × 0.258 = 2.408.
    np.testing.assert_allclose(trajectory(4.3, 2010, targets, [2015, 2024]), [3.87, 2.408], rtol=0, atol=1e-12)


def test_trajectory_options_and_shapes() -> None:
    targets = {2020: 4.08, 2025: 2.55}
    # A mid-year point: 5.1 − 9.5 × 0.102 = 4.131.
    assert float(trajectory(5.1, 2010, targets, 2019.5)) == pytest.approx(4.131, abs=1e-12)
    assert trajectory(5.1, 2010, targets, 2019.5).shape == ()
    assert math.isnan(trajectory(5.1, 2010, targets, [2026], after_final="nan")[0])
    # A single straight line would miss the interim target: 5.1 − 10 × (5.1 − 2.55)/15 = 3.4 in 2020, not 4.08.
    assert float(trajectory(5.1, 2010, {2025: 2.55}, 2020)) == pytest.approx(3.4, abs=1e-12)
    with pytest.raises(ValueError, match="not after the baseline year"):
        trajectory(5.1, 2010, {2010: 4.0}, [2011])
    with pytest.raises(ValueError, match="at least one target"):
        trajectory(5.1, 2010, {}, [2011])
    with pytest.raises(ValueError, match="finite"):
        trajectory(5.1, 2010, targets, [math.nan])


@given(
    baseline=st.floats(min_value=0.1, max_value=100, allow_nan=False),
    year=st.integers(min_value=2010, max_value=2030),
)
def test_trajectory_passes_through_anchors_and_never_rises(baseline: float, year: int) -> None:
    targets = ambition_targets(baseline)
    anchors = trajectory(baseline, 2010, targets, [2010, 2020, 2025])
    np.testing.assert_allclose(anchors, [baseline, targets[2020].unrounded, targets[2025].unrounded], rtol=1e-12)
    here, after = trajectory(baseline, 2010, targets, [year, year + 1])
    assert after <= here + 1e-12


# -- status -------------------------------------------------------------------------------------
def test_status_boundaries_lower_is_better() -> None:
    e = float(trajectory(5.1, 2010, national_targets("stillbirth_rate"), 2023))  # 3.162
    below, above = np.nextafter(e, -math.inf), np.nextafter(e, math.inf)
    assert status(3.0, 2.8, below, e) == "ahead"  # whole CI below the line
    assert status(3.0, 2.8, e, e) == "on_track"  # upper touches the line
    assert status(3.2, 3.0, 3.4, e) == "on_track"  # straddles
    assert status(3.4, e, 3.6, e) == "on_track"  # lower touches the line
    assert status(3.4, above, 3.6, e) == "off_track"  # whole CI above the line
    assert status(e, e, e, e) == "on_track"  # a zero-width interval on the line


def test_status_boundaries_higher_is_better() -> None:
    e = 90.0
    assert status(95.0, np.nextafter(e, math.inf), 97.0, e, "higher_is_better") == "ahead"
    assert status(95.0, e, 97.0, e, "higher_is_better") == "on_track"
    assert status(85.0, 83.0, e, e, "higher_is_better") == "on_track"
    assert status(85.0, 83.0, np.nextafter(e, -math.inf), e, "higher_is_better") == "off_track"


def test_status_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="does not contain"):
        status(3.0, 3.1, 3.5, 3.2)
    with pytest.raises(ValueError, match="finite"):
        status(3.0, math.nan, 3.5, 3.2)
    with pytest.raises(ValueError, match="direction"):
        status(3.0, 2.9, 3.5, 3.2, "up")  # type: ignore[arg-type]


# -- organisation baselines ---------------------------------------------------------------------
def test_organisation_baseline_prefers_a_full_2010() -> None:
    chosen = organisation_baseline({2011: (5.0, 12), 2010: (4.8, 12)})
    assert (chosen.year, chosen.value, chosen.months_of_data, chosen.reason) == (2010, 4.8, 12, "preferred year")


def test_organisation_baseline_falls_back_to_first_full_year() -> None:
    # 2010 has 9 months (a trust that opened in April): first full year after it is 2011, not the later 2012.
    chosen = organisation_baseline({2010: (4.8, 9), 2012: (4.9, 12), 2011: (5.0, 12)})
    assert (chosen.year, chosen.value) == (2011, 5.0)
    assert chosen.reason.startswith("first full year after 2010")
    # Years before the preferred year are never used; a bare value counts as a full year.
    assert organisation_baseline({2009: (4.0, 12), 2013: 6.0}).year == 2013
    assert organisation_baseline({2015: (7.9, 12)}, preferred_year=2015).reason == "preferred year"


def test_organisation_baseline_errors() -> None:
    with pytest.raises(ValueError, match="no full year"):
        organisation_baseline({2010: (4.8, 11), 2011: (4.9, 6)})
    with pytest.raises(ValueError, match="no full year"):
        organisation_baseline({2009: (4.8, 12)})
    with pytest.raises(ValueError, match="0 to 12"):
        organisation_baseline({2010: (4.8, 13)})
    with pytest.raises(ValueError, match="not be negative"):
        organisation_baseline({2010: (-1.0, 12)})


# -- the progress bundle ------------------------------------------------------------------------
def test_progress_for_an_organisation_with_a_late_baseline() -> None:
    baseline = organisation_baseline({2012: (6.0, 8), 2013: (6.0, 12)})
    # 20 stillbirths in 5,000 births in 2023 = 4.0 per 1,000, CI from rate_ci (Byar, count ≥ 10).
    latest = latest_rate(2023, 20, 5000)
    lower, upper = rate_ci(20, 5000)
    assert (latest.value, latest.lower, latest.upper) == (4.0, lower, upper)
    progress = ambition_progress(baseline, latest, measure_id="stillbirth_rate")
    # Targets from 6.0: 2020 6.0 × 0.8 = 4.8; 2025 6.0 × 0.5 = 3.0.
    assert [(t.year, t.rounded) for t in progress.targets] == [(2020, 4.8), (2025, 3.0)]
    # 2013–2020: 1.2 / 7 a year; 2020–2025: 0.36 a year → 2023 = 4.8 − 3 × 0.36 = 3.72.
    assert progress.expected_at_latest == pytest.approx(3.72, abs=1e-12)
    points = {p.year: p.expected for p in progress.trajectory}
    assert list(points) == list(range(2013, 2026))
    assert points[2016] == pytest.approx(6.0 - 3 * 1.2 / 7, abs=1e-12)
    # CI ≈ 2.44–6.18 contains 3.72.
    assert progress.status == "on_track"
    assert progress.target(2025).unrounded == 3.0
    with pytest.raises(KeyError):
        progress.target(2030)


def test_progress_drops_targets_before_the_baseline_year() -> None:
    progress = ambition_progress(Baseline(2021, 4.0, 12, "first full year after 2010"))
    assert [t.year for t in progress.targets] == [2025]
    # A straight line 4.0 (2021) → 2.0 (2025): 0.5 a year.
    assert [p.expected for p in progress.trajectory] == pytest.approx([4.0, 3.5, 3.0, 2.5, 2.0])
    assert progress.status is None and progress.latest is None
    with pytest.raises(ValueError, match="no target year after"):
        ambition_progress(Baseline(2025, 4.0, 12, "x"))


def test_preterm_progress_is_off_track_when_the_whole_interval_is_above_the_line() -> None:
    baseline = national_baseline("preterm_birth_rate")
    targets = {year: t.unrounded for year, t in national_targets("preterm_birth_rate").items()}
    # 790 of 10,000 births preterm in 2019 = 7.9%, Wilson 95% CI ≈ 7.39–8.44%.
    latest = latest_proportion(2019, 790, 10_000)
    progress = ambition_progress(baseline, latest, kind="absolute", absolute_targets=targets)
    # 2019 on 8 → 6 (2015–2025): 8 − 4 × 0.2 = 7.2, below the lower limit 7.39.
    assert progress.expected_at_latest == pytest.approx(7.2, abs=1e-12)
    assert latest.lower > 7.2
    assert progress.status == "off_track"


def test_progress_to_dict_is_json_ready() -> None:
    progress = ambition_progress(
        national_baseline("stillbirth_rate"),
        LatestValue(2022, 3.9, 3.74, 4.06, 0.95),
        years=[2009, 2010, 2022],
        measure_id="stillbirth_rate",
    )
    data = json.loads(json.dumps(progress.to_dict()))
    assert data["measure_id"] == "stillbirth_rate"
    assert data["baseline"] == {"year": 2010, "value": 5.1, "months_of_data": 12, "reason": "national baseline 2010"}
    assert data["targets"][1] == {
        "year": 2025,
        "unrounded": 2.55,
        "rounded": 2.6,
        "kind": "relative",
        "reduction": 0.5,
        "decimals": 1,
        "rounding": "half_up",
    }
    assert data["trajectory"][0] == {"year": 2009, "expected": None}
    # 2022 expected 3.468 (see above); CI 3.74–4.06 wholly above it.
    assert data["expected_at_latest"] == pytest.approx(3.468, abs=1e-12)
    assert data["status"] == "off_track"
    assert data["latest"]["confidence"] == 0.95
