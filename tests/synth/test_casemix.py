"""Trusts differ the way English trusts do: in size, in case mix and between regions."""

from __future__ import annotations

import pandas as pd

from matneo.synth import target
from matneo.synth.casemix import BLACK_CODES, build_trust_table


def test_trust_sizes_at_scale_1_are_between_2k_and_10k(national_2019_df: pd.DataFrame, hierarchy) -> None:
    live = national_2019_df[national_2019_df.outcome == "live_birth"]
    per_trust = live.trust_code.value_counts()
    assert len(per_trust) == len(hierarchy.trusts())
    assert per_trust.min() >= 2000 and per_trust.max() <= 10_000
    assert per_trust.max() / per_trust.min() > 2.5, "sizes vary"


def test_trust_sizes_stay_in_range_every_year() -> None:
    """Shares are fixed per seed; the smallest and largest stay in range from the peak (2010) to now."""
    from matneo.reference.organisations import load_hierarchy

    for seed in (7, 1, 2024):
        share = build_trust_table(load_hierarchy(), seed).share
        assert share.min() * target("live_births", 2025) > 2100
        assert share.max() * target("live_births", 2010) < 9800


def test_sites_of_a_trust_share_its_births(national_2019_df: pd.DataFrame, hierarchy) -> None:
    multi_site = [t.code for t in hierarchy.trusts() if len(hierarchy.sites_of(t.code)) > 1]
    births = national_2019_df[national_2019_df.trust_code.isin(multi_site)]
    sites_used = births.groupby("trust_code").site_code.nunique()
    assert (sites_used > 1).all()


def test_very_preterm_babies_are_mostly_born_with_a_nicu_or_lnu(national_2019_df: pd.DataFrame) -> None:
    df = national_2019_df
    very_preterm = df[df.gestation_weeks.between(24, 27)]
    assert very_preterm.birth_site_level.isin(["NICU", "LNU"]).mean() > 0.8
    assert df.birth_site_level.value_counts(normalize=True).get("none", 0) < 0.02


def test_london_and_the_north_east_differ_in_case_mix(national_2019_df: pd.DataFrame) -> None:
    df = national_2019_df
    mothers = df.drop_duplicates("mother_id")
    london = mothers[mothers.region_code == "Y56"]
    north_east = mothers[mothers.region_code == "Y63"]

    def share(frame: pd.DataFrame, codes) -> float:
        return frame.ethnic_category.isin(codes).mean()

    black, asian, white = BLACK_CODES, {"H", "J", "K", "L"}, {"A", "B", "C"}
    assert share(london, black) > 3 * share(north_east, black)
    assert share(london, asian) > 1.3 * share(north_east, asian)
    assert share(north_east, white) > 0.75 > 0.55 > share(london, white)
    assert london.maternal_age.mean() > north_east.maternal_age.mean() + 1.5


def test_some_trusts_are_mostly_deprived_and_some_affluent(national_2019_df: pd.DataFrame) -> None:
    mothers = national_2019_df.drop_duplicates("mother_id")
    most_deprived = (mothers.imd_decile <= 2).groupby(mothers.trust_code).mean()
    assert most_deprived.max() > 0.4
    assert most_deprived.min() < 0.1
    smoking = mothers.smoking_at_delivery
    assert smoking[mothers.imd_decile <= 2].mean() > 2 * smoking[mothers.imd_decile >= 9].mean()


def test_outcomes_follow_the_inequality_gradients(national_2019_df: pd.DataFrame) -> None:
    df = national_2019_df
    total = df[df.outcome != "late_fetal_loss"]
    stillborn = total.outcome == "stillbirth"
    black = total.ethnic_category.isin(BLACK_CODES)
    white = total.ethnic_category == "A"
    assert stillborn[black].mean() > 1.5 * stillborn[white].mean()
    assert stillborn[total.imd_decile == 1].mean() > 1.3 * stillborn[total.imd_decile == 10].mean()


def test_regional_mixes_line_up_with_the_schema_codes() -> None:
    from matneo.synth import casemix

    assert casemix.ETHNIC_CODES[: len(casemix._STATED)] == casemix._STATED
    assert casemix.ETHNIC_CODES[len(casemix._STATED) :] == casemix.NOT_STATED_CODES
    assert all(len(mix) == len(casemix._STATED) for mix in casemix.REGION_ETHNIC_MIX.values())
