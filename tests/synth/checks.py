"""Vectorised checks that a generated table obeys every rule the loader enforces, and more.

Written independently of ``matneo.records.validation`` (which the loader runs in DuckDB) so
that a change on either side is caught by the other; ``test_loader.py`` also runs the real
loader over generated files.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from matneo.records.schema import FIELDS, REQUIRED_FIELDS

DAY = pd.Timedelta(days=1)
AS_OF = dt.date(2026, 1, 1)  # fixed extract date so results do not depend on the day the tests run


def assert_valid(df: pd.DataFrame, hierarchy, now: dt.datetime | None = None) -> None:
    """Assert the loader's rules (see the task contract) on every row of ``df``."""
    now = now or dt.datetime.now()
    for name in REQUIRED_FIELDS:
        assert df[name].notna().all(), f"{name} has missing values"
    for f in FIELDS:
        values = df[f.name].dropna()
        if f.minimum is not None:
            assert values.between(f.minimum, f.maximum).all(), f"{f.name} outside {f.minimum}–{f.maximum}"
        if f.codes:
            bad = set(values.unique()) - set(f.codes)
            assert not bad, f"{f.name} has codes outside the schema: {bad}"

    ga = df.gestation_weeks.astype(int) * 7 + df.gestation_days.astype(int)
    assert ga.between(140, 314).all()
    live = df.outcome == "live_birth"
    sb = df.outcome == "stillbirth"
    lfl = df.outcome == "late_fetal_loss"
    assert (ga[sb] >= 168).all(), "stillbirth below 24+0"
    assert ga[lfl].between(154, 167).all(), "late fetal loss outside 22+0–23+6"
    assert (df.stillbirth_timing.notna() == sb).all(), "stillbirth_timing present iff stillbirth"

    nnd = df.neonatal_death_datetime
    assert not (nnd.notna() & ~live).any(), "neonatal death for a non-live birth"
    lag = (nnd - df.birth_datetime)[nnd.notna()]
    assert (lag > pd.Timedelta(0)).all(), "neonatal death not after birth"
    assert (lag < 28 * DAY).all(), "neonatal death 28 days or more after birth"

    for name in ("brain_injury", "therapeutic_cooling", "nnu_admission", "hie_grade", "apgar_5min"):
        assert df.loc[~live, name].isna().all(), f"{name} recorded for a non-live birth"
    for name in ("brain_injury", "therapeutic_cooling", "nnu_admission", "apgar_5min"):
        assert df.loc[live, name].notna().all(), f"{name} missing for a live birth"
    assert df.loc[df.therapeutic_cooling.fillna(False).astype(bool), "hie_grade"].notna().all(), "cooling without HIE"

    assert (df.birth_order <= df.plurality).all()
    day = df.birth_datetime.dt.floor("D")
    per_delivery = (
        df.assign(day=day)
        .groupby(["trust_code", "mother_id", "day"], sort=False)
        .agg(
            n=("record_id", "size"),
            n_plurality=("plurality", "nunique"),
            plurality=("plurality", "max"),
            n_order=("birth_order", "nunique"),
        )
    )
    assert (per_delivery.n_plurality == 1).all(), "babies of one mother on one day with different plurality"
    assert (per_delivery.n <= per_delivery.plurality).all(), "more babies than plurality"
    assert (per_delivery.n_order == per_delivery.n).all(), "repeated birth_order"

    booked = df.booking_gestation_weeks.notna()
    assert (df.booking_gestation_weeks[booked] <= df.gestation_weeks[booked]).all()

    mdt, mclass = df.maternal_death_datetime, df.maternal_death_cause_class
    assert (mclass.notna() <= mdt.notna()).all(), "maternal death cause class without a date"
    dead = mdt.notna()
    assert (mdt[dead].dt.floor("D") >= day[dead]).all(), "maternal death before the birth date"
    assert (mdt[dead] <= df.birth_datetime[dead] + 365 * DAY).all(), "maternal death more than 365 days after"

    sites = {s.code: s for t in hierarchy.trusts() for s in hierarchy.sites_of(t.code)}
    site_trust = df.site_code.map({c: s.trust_code for c, s in sites.items()})
    assert (site_trust[df.site_code.notna()] == df.trust_code[df.site_code.notna()]).all(), "site not of trust"
    site_level = df.site_code.map({c: s.neonatal_unit_level for c, s in sites.items()})
    assert (site_level == df.birth_site_level).all(), "birth_site_level is not the site's level"
    trusts = df.trust_code.unique()
    lmns = {t: hierarchy.ancestor_at(t, "lmns").code for t in trusts}
    region = {t: hierarchy.ancestor_at(t, "region").code for t in trusts}
    assert (df.lmns_code == df.trust_code.map(lmns)).all()
    assert (df.region_code == df.trust_code.map(region)).all()

    assert (df.birth_datetime >= pd.Timestamp("2000-01-01")).all()
    assert (df.birth_datetime <= pd.Timestamp(now)).all(), "birth in the future"
    assert df.record_id.is_unique, "duplicate record_id"

    # Beyond the loader: fields that only make sense for some births are null otherwise.
    assert (df.mgso4_within_24h.notna() == (df.gestation_weeks < 30)).all()
    assert (df.antenatal_steroids.notna() == (df.gestation_weeks < 34)).all()
    caesarean = df.mode_of_delivery.isin(["elective_caesarean", "emergency_caesarean"])
    assert df.perineal_tear_degree[caesarean].isna().all(), "perineal tear recorded for a caesarean"
    assert ((df.onset_of_labour == "not_in_labour") == (df.mode_of_delivery == "elective_caesarean")).all()
    assert df.mother_id.str.fullmatch(r"M[0-9a-f]{16}").all()


def deliveries(df: pd.DataFrame) -> pd.DataFrame:
    """One row per mother (= per delivery: every mother has one delivery in generated data)."""
    return df.drop_duplicates("mother_id")


def rate_with_se(events: int | np.integer, denominator: int | np.integer, per: float) -> tuple[float, float]:
    """Rate per ``per`` and its binomial standard error, for tolerance checks."""
    p = events / denominator
    return p * per, float(np.sqrt(p * (1 - p) / denominator)) * per
