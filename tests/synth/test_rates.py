"""National rates of a generated year match the calibration targets within sampling error.

The generator solves each year's intercepts so that the *expected* national rate equals the
target, so the realised rate differs from it only by sampling. Each check allows 4 standard
errors of a binomial (or Poisson, for the rare maternal deaths) proportion at the realised
denominator: a correct generator fails one check with probability ~6 in 100,000.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from matneo.synth import generate_year, target

from .checks import AS_OF, deliveries, rate_with_se

TOLERANCE_SE = 4.0


def national_rates(df: pd.DataFrame) -> dict[str, tuple[float, float]]:
    """(rate, standard error) of each calibrated national measure, by its published definition."""
    ga = df.gestation_weeks.to_numpy()
    live = (df.outcome == "live_birth").to_numpy()
    sb = (df.outcome == "stillbirth").to_numpy()
    nnd = df.neonatal_death_datetime.notna().to_numpy()
    viable = ga >= 24
    total = live | sb
    mothers = deliveries(df)
    lag = mothers.maternal_death_datetime - mothers.birth_datetime
    maternal = (lag <= pd.Timedelta(days=42)) & mothers.maternal_death_cause_class.isin(["direct", "indirect"])
    n_maternal = int(maternal.sum())
    return {
        "stillbirth_per_1000": rate_with_se(sb.sum(), total.sum(), 1000),
        "neonatal_24_per_1000": rate_with_se((nnd & viable).sum(), (live & viable).sum(), 1000),
        "preterm_pct": rate_with_se((total & viable & (ga < 37)).sum(), (total & viable).sum(), 100),
        "brain_injury_per_1000": rate_with_se(df.brain_injury.fillna(False).astype(bool).sum(), live.sum(), 1000),
        "maternal_per_100000": (1e5 * n_maternal / len(mothers), 1e5 * np.sqrt(max(n_maternal, 1)) / len(mothers)),
        "late_fetal_loss_per_1000": rate_with_se((df.outcome == "late_fetal_loss").sum(), total.sum(), 1000),
        "neonatal_all_per_1000": rate_with_se(nnd.sum(), live.sum(), 1000),
    }


def expected(name: str, year: int) -> float:
    if name == "neonatal_all_per_1000":
        # ≥24 wk deaths are calibrated per live birth ≥24 wk, 22–23 wk deaths per live birth.
        return target("neonatal_24_per_1000", year) + target("neonatal_22_23_per_1000", year)
    return target(name, year)


MEASURES = (
    "stillbirth_per_1000",
    "neonatal_24_per_1000",
    "preterm_pct",
    "brain_injury_per_1000",
    "maternal_per_100000",
    "late_fetal_loss_per_1000",
    "neonatal_all_per_1000",
)


@pytest.mark.parametrize("name", MEASURES)
def test_national_rate_2019_matches_target(national_2019_df: pd.DataFrame, name: str) -> None:
    rate, se = national_rates(national_2019_df)[name]
    want = expected(name, 2019)
    message = f"{name}: {rate:.3f} vs target {want:.3f} (SE {se:.3f})"
    assert abs(rate - want) <= TOLERANCE_SE * se + 0.002 * want, message


def test_2010_rates_match_their_targets_and_are_higher_than_2019(hierarchy, national_2019_df: pd.DataFrame) -> None:
    df = generate_year(2010, scale=0.5, seed=7, hierarchy=hierarchy, as_of=AS_OF).to_pandas()
    rates_2010, rates_2019 = national_rates(df), national_rates(national_2019_df)
    for name in ("stillbirth_per_1000", "neonatal_24_per_1000", "preterm_pct"):
        rate, se = rates_2010[name]
        assert abs(rate - expected(name, 2010)) <= TOLERANCE_SE * se, name
    assert rates_2010["stillbirth_per_1000"][0] > rates_2019["stillbirth_per_1000"][0] + 0.8
    assert rates_2010["neonatal_24_per_1000"][0] > rates_2019["neonatal_24_per_1000"][0] + 0.3
    live_2010 = (df.outcome == "live_birth").sum() * 2  # scale 0.5
    assert abs(live_2010 - target("live_births", 2010)) < 0.01 * target("live_births", 2010)


def test_live_births_and_secondary_shares_are_plausible(national_2019_df: pd.DataFrame) -> None:
    df = national_2019_df
    live = df.outcome == "live_birth"
    assert abs(live.sum() - target("live_births", 2019)) < 0.01 * target("live_births", 2019)
    mothers = deliveries(df)
    caesarean = mothers.mode_of_delivery.str.endswith("caesarean").mean() * 100
    assert abs(caesarean - target("caesarean_pct", 2019)) < 1.0
    assert abs(100 * (mothers.onset_of_labour == "induced").mean() - target("induction_pct", 2019)) < 1.0
    assert abs(100 * mothers.smoking_at_delivery.mean() - target("smoking_at_delivery_pct", 2019)) < 0.5
    assert abs(100 * mothers.continuity_of_carer.mean() - target("continuity_of_carer_pct", 2019)) < 0.5
    assert abs(100 * mothers.mgso4_within_24h.dropna().mean() - target("mgso4_pct", 2019)) < 3.0
    under_24 = 100 * (live & (df.gestation_weeks < 24)).sum() / live.sum()
    assert 0.1 <= under_24 <= 0.15
    assert 2.0 < 100 * (mothers.pph_ml >= 1500).mean() < 4.0
    vaginal = ~mothers.mode_of_delivery.str.endswith("caesarean")
    assert 2.0 < 100 * (mothers.perineal_tear_degree[vaginal] >= 3).mean() < 4.0
    not_stated = df.ethnic_category.isin(["Z", "99"]).mean()
    assert 0.02 < not_stated < 0.04
    booking = df.booking_gestation_weeks.dropna()
    assert booking.between(8, 13).mean() > 0.75
