"""Code lists, bands and national figures: lookups, boundaries and vectorised/scalar agreement."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest

from matneo.records.schema import ETHNIC_CATEGORY_CODES
from matneo.reference.codes import (
    AMBITION,
    BIRTH_WEIGHT_BANDS,
    ETHNIC_CATEGORIES,
    ETHNIC_GROUPS,
    GESTATION_BANDS,
    NATIONAL_FIGURES,
    AmbitionMeasure,
    birth_weight_band,
    birth_weight_band_index,
    ethnic_group,
    gestation_band,
    gestation_band_index,
    imd_quintile,
    imd_quintile_array,
    national_figure,
    total_gestation_days,
)


# -- ethnicity --------------------------------------------------------------------------------
def test_ethnic_categories_are_the_data_dictionary_codes() -> None:
    assert set(ETHNIC_CATEGORIES) == set(ETHNIC_CATEGORY_CODES)
    assert ETHNIC_CATEGORIES["A"] == ("White - British", "White")
    assert ETHNIC_CATEGORIES["H"] == ("Asian or Asian British - Indian", "Asian")
    assert ETHNIC_CATEGORIES["N"] == ("Black or Black British - African", "Black")
    assert ETHNIC_CATEGORIES["R"] == ("Other Ethnic Groups - Chinese", "Other")
    assert {group for _, group in ETHNIC_CATEGORIES.values()} == set(ETHNIC_GROUPS)


@pytest.mark.parametrize(
    ("code", "group"),
    [("A", "White"), ("c", "White"), (" D ", "Mixed"), ("G", "Mixed"), ("L", "Asian"), ("M", "Black"),
     ("P", "Black"), ("S", "Other"), ("Z", "Not stated"), ("99", "Not stated")],
)  # fmt: skip
def test_ethnic_group(code: str, group: str) -> None:
    assert ethnic_group(code) == group


@pytest.mark.parametrize("code", ["X", "", "I", "O", "100"])
def test_unknown_ethnic_code_is_an_error_not_not_stated(code: str) -> None:
    with pytest.raises(KeyError, match="unknown ETHNIC CATEGORY"):
        ethnic_group(code)


# -- deprivation ------------------------------------------------------------------------------
def test_imd_quintiles_pair_the_deciles() -> None:
    assert [imd_quintile(d) for d in range(1, 11)] == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    deciles = np.arange(1, 11)
    assert imd_quintile_array(deciles).tolist() == [imd_quintile(int(d)) for d in deciles]
    assert imd_quintile_array(np.array([], dtype=np.int64)).size == 0


@pytest.mark.parametrize("bad", [0, 11, -1, True, 2.0, "3"])
def test_imd_quintile_rejects_non_deciles(bad: object) -> None:
    with pytest.raises(ValueError, match="IMD decile"):
        imd_quintile(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [np.array([1, 11]), np.array([0, 5]), np.array([1.0, 2.0])])
def test_imd_quintile_array_rejects_non_deciles(bad: np.ndarray) -> None:
    with pytest.raises(ValueError, match="IMD decile"):
        imd_quintile_array(bad)


# -- gestation --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("weeks", "days", "label"),
    [(0, 0, "<22+0"), (21, 6, "<22+0"), (22, 0, "22+0–23+6"), (23, 6, "22+0–23+6"), (24, 0, "24+0–27+6"),
     (27, 6, "24+0–27+6"), (28, 0, "28+0–31+6"), (31, 6, "28+0–31+6"), (32, 0, "32+0–36+6"), (36, 6, "32+0–36+6"),
     (37, 0, "37+0–41+6"), (41, 6, "37+0–41+6"), (42, 0, "42+0+"), (45, 3, "42+0+")],
)  # fmt: skip
def test_gestation_band_boundaries(weeks: int, days: int, label: str) -> None:
    assert gestation_band(weeks, days) == label


@pytest.mark.parametrize(("weeks", "days"), [(24, 7), (24, -1), (-1, 0), (True, 0), (24.0, 0)])
def test_gestation_rejects_impossible_values(weeks: int, days: int) -> None:
    with pytest.raises(ValueError, match="gestation"):
        gestation_band(weeks, days)


def test_gestation_bands_are_contiguous_and_cover_everything() -> None:
    assert_contiguous(GESTATION_BANDS)
    assert total_gestation_days(24, 0) == 168


def test_gestation_band_index_agrees_with_the_scalar_function() -> None:
    weeks, days = np.divmod(np.arange(0, 46 * 7), 7)
    indices = gestation_band_index(weeks * 7 + days)
    assert indices.shape == weeks.shape
    for w, d, i in zip(weeks.tolist(), days.tolist(), indices.tolist(), strict=True):
        assert GESTATION_BANDS[i].label == gestation_band(w, d)
        assert GESTATION_BANDS[i].contains(w * 7 + d)


@pytest.mark.parametrize("bad", [np.array([-1, 200]), np.array([168.0])])
def test_gestation_band_index_rejects_bad_input(bad: np.ndarray) -> None:
    with pytest.raises(ValueError, match="gestation"):
        gestation_band_index(bad)


# -- birth weight -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("grams", "label"),
    [(0, "<500"), (499, "<500"), (500, "500–999"), (999, "500–999"), (1000, "1000–1499"), (1499, "1000–1499"),
     (1500, "1500–2499"), (2499, "1500–2499"), (2500, "2500–3999"), (3999, "2500–3999"), (4000, "4000+"),
     (6500, "4000+")],
)  # fmt: skip
def test_birth_weight_band_boundaries(grams: int, label: str) -> None:
    assert birth_weight_band(grams) == label


@pytest.mark.parametrize("bad", [-1, 2500.5, True])
def test_birth_weight_rejects_impossible_values(bad: object) -> None:
    with pytest.raises(ValueError, match="birth weight"):
        birth_weight_band(bad)  # type: ignore[arg-type]


def test_birth_weight_bands_are_contiguous() -> None:
    assert_contiguous(BIRTH_WEIGHT_BANDS)


def test_birth_weight_band_index_agrees_with_the_scalar_function() -> None:
    grams = np.arange(0, 7000, dtype=np.int32)
    indices = birth_weight_band_index(grams)
    assert [BIRTH_WEIGHT_BANDS[i].label for i in indices.tolist()] == [birth_weight_band(g) for g in grams.tolist()]
    with pytest.raises(ValueError, match="birth weight"):
        birth_weight_band_index(np.array([-5]))


def assert_contiguous(bands: tuple) -> None:
    assert bands[0].min_inclusive == 0 and bands[-1].max_inclusive is None
    for lower, upper in itertools.pairwise(bands):
        assert upper.min_inclusive == lower.max_inclusive + 1, (lower, upper)


# -- the ambition -----------------------------------------------------------------------------
def test_ambition_has_the_design_measures() -> None:
    assert list(AMBITION) == [
        "stillbirth_rate",
        "neonatal_mortality_24wk",
        "neonatal_mortality_all",
        "perinatal_mortality",
        "brain_injury_rate",
        "maternal_mortality",
        "preterm_birth_rate",
    ]
    assert all(key == measure.measure_id for key, measure in AMBITION.items())


@pytest.mark.parametrize(
    ("measure_id", "baseline", "period", "target_2020", "target_2025"),
    [
        ("stillbirth_rate", 5.1, "2010", 4.1, 2.5),
        ("neonatal_mortality_24wk", 2.0, "2010", None, 1.0),
        ("neonatal_mortality_all", 2.9, "2010", None, 1.5),
        ("brain_injury_rate", 4.3, "2010", 3.5, 2.2),
        ("maternal_mortality", 10.6, "2009–11", 8.5, 5.3),
        ("preterm_birth_rate", 8.0, "2015", None, 6.0),
    ],
)
def test_ambition_values_match_the_design_table(
    measure_id: str, baseline: float, period: str, target_2020: float | None, target_2025: float
) -> None:
    measure = AMBITION[measure_id]
    assert (measure.baseline_value, measure.baseline_period) == (baseline, period)
    assert (measure.target_2020, measure.target_2025) == (target_2020, target_2025)


def test_implied_values_are_flagged_and_explained() -> None:
    fields = {f.name for f in dataclasses.fields(AmbitionMeasure)}
    for measure in AMBITION.values():
        assert measure.source, measure.measure_id
        assert set(measure.implied_fields) <= fields
        if measure.implied_fields:
            assert "not found" in measure.note or "not verified" in measure.note, measure.measure_id
    assert "target_2020" in AMBITION["stillbirth_rate"].implied_fields
    assert "baseline_value" in AMBITION["neonatal_mortality_24wk"].implied_fields
    assert "baseline_value" in AMBITION["maternal_mortality"].implied_fields
    for measure_id in ("stillbirth_rate", "neonatal_mortality_24wk", "maternal_mortality", "brain_injury_rate"):
        assert "20% reduction" in AMBITION[measure_id].note


def test_targets_are_the_announced_reductions_up_to_rounding() -> None:
    for measure in AMBITION.values():
        for target, reduction in (
            (measure.target_2020, measure.reduction_2020),
            (measure.target_2025, measure.reduction_2025),
        ):
            if target is not None and reduction is not None and measure.baseline_value is not None:
                assert abs(measure.baseline_value * (1 - reduction) - target) <= 0.061, measure.measure_id


def test_ambition_is_immutable() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        AMBITION["stillbirth_rate"].target_2025 = 2.6  # type: ignore[misc]


# -- national figures -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("measure_id", "period", "value"),
    [("stillbirth_rate", "2010", 5.1), ("stillbirth_rate", "2019", 3.8), ("neonatal_mortality_24wk", "2010", 2.0),
     ("neonatal_mortality_24wk", "2019", 1.4), ("preterm_birth_rate", "2010", 7.3), ("preterm_birth_rate", "2017", 8.1),
     ("preterm_birth_rate", "2019", 7.9), ("brain_injury_rate", "2010", 4.3), ("brain_injury_rate", "2019", 4.2),
     ("live_births", "2017", 646_794)],
)  # fmt: skip
def test_national_figures(measure_id: str, period: str, value: float) -> None:
    figure = national_figure(measure_id, period)
    assert figure.value == value and figure.source


def test_national_figures_are_unique_and_name_known_measures() -> None:
    keys = [(f.measure_id, f.period) for f in NATIONAL_FIGURES]
    assert len(keys) == len(set(keys))
    assert {f.measure_id for f in NATIONAL_FIGURES} <= set(AMBITION) | {"live_births"}
    with pytest.raises(KeyError, match="stillbirth_rate 2010"):
        national_figure("stillbirth_rate", "1990")
