"""Every row of a national year obeys the loader's rules, and deliveries hang together."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pyarrow as pa

from matneo.records.schema import ARROW_SCHEMA, FIELD_NAMES
from matneo.synth import generate_year

from .checks import AS_OF, assert_valid, deliveries


def test_schema_is_exactly_the_record_schema(national_2019: pa.Table) -> None:
    assert national_2019.schema.equals(ARROW_SCHEMA, check_metadata=True)
    assert tuple(national_2019.column_names) == FIELD_NAMES
    for name in ("record_id", "trust_code", "birth_datetime", "outcome", "mother_id"):
        assert national_2019.column(name).null_count == 0


def test_every_row_passes_the_loader_rules(national_2019_df: pd.DataFrame, hierarchy) -> None:
    assert_valid(national_2019_df, hierarchy)


def test_babies_of_one_delivery_share_the_mother_and_delivery(national_2019_df: pd.DataFrame) -> None:
    df = national_2019_df.assign(day=national_2019_df.birth_datetime.dt.normalize())
    by_mother = df.groupby("mother_id").agg(
        n=("record_id", "size"),
        plurality=("plurality", "first"),
        plurality_values=("plurality", "nunique"),
        trusts=("trust_code", "nunique"),
        sites=("site_code", "nunique"),
        gestations=("gestation_weeks", "nunique"),
        gestation_days=("gestation_days", "nunique"),
        days=("day", "nunique"),
        first=("birth_datetime", "min"),
        last=("birth_datetime", "max"),
    )
    assert (by_mother.n == by_mother.plurality).all(), "every mother has exactly `plurality` babies"
    same = by_mother[["plurality_values", "trusts", "sites", "gestations", "gestation_days", "days"]]
    assert (same == 1).all().all()
    ordered = df.sort_values(["mother_id", "birth_order"])
    assert (ordered.groupby("mother_id").cumcount() + 1 == ordered.birth_order).all(), "birth_order is 1..n"
    spread = (by_mother["last"] - by_mother["first"])[by_mother.n > 1]
    assert (spread > pd.Timedelta(0)).all() and (spread <= pd.Timedelta(minutes=40)).all(), "minutes apart"
    twins_share = (by_mother.plurality >= 2).mean()
    assert 0.013 < twins_share < 0.017
    assert (by_mother.plurality == 3).sum() > 0, "a few triplets"


def test_multiples_are_smaller_and_earlier(national_2019_df: pd.DataFrame) -> None:
    df = national_2019_df
    single, multiple = df[df.plurality == 1], df[df.plurality >= 2]
    assert multiple.birth_weight_g.median() < single.birth_weight_g.median() - 500
    assert (multiple.gestation_weeks < 37).mean() > 0.4 > 0.1 > (single.gestation_weeks < 37).mean()


def test_record_and_mother_ids_are_unique_across_years(hierarchy) -> None:
    a = generate_year(2018, scale=0.05, hierarchy=hierarchy, as_of=AS_OF)
    b = generate_year(2019, scale=0.05, hierarchy=hierarchy, as_of=AS_OF)
    both = pa.concat_tables([a, b]).to_pandas()
    assert both.record_id.is_unique
    assert both.mother_id.nunique() == len(deliveries(both)) == (both.birth_order == 1).sum()
    assert both.record_id.str.fullmatch(r"[A-Z0-9]+-20(18|19)-\d{6}").all()


def test_field_dependencies(national_2019_df: pd.DataFrame) -> None:
    df = national_2019_df
    live = df[df.outcome == "live_birth"]
    cooled = live[live.therapeutic_cooling]
    assert (cooled.hie_grade >= 2).mean() > 0.7, "cooling is mostly for HIE grade 2–3"
    assert live.nnu_admission[live.brain_injury].all(), "brain injury is counted among NNU admissions"
    preterm = live.gestation_weeks < 34
    assert live.nnu_admission[preterm].mean() > 0.9
    assert 0.04 < live.nnu_admission[live.gestation_weeks >= 37].mean() < 0.07
    assert live.apgar_5min[preterm].mean() < live.apgar_5min[~preterm].mean()
    nnd_lag = (live.neonatal_death_datetime - live.birth_datetime).dropna()
    assert (nnd_lag < pd.Timedelta(days=7)).mean() > 0.6, "most neonatal deaths in the first week"
    sb = df[df.outcome == "stillbirth"].stillbirth_timing.value_counts(normalize=True)
    assert 0.8 < sb["antepartum"] < 0.9
    assert (df.birth_weight_g.dropna() < 2500).mean() < 0.1
    by_week = df[df.plurality == 1].groupby("gestation_weeks").birth_weight_g.median()
    assert by_week.loc[24:41].is_monotonic_increasing


def test_current_year_stops_before_the_extract_date(hierarchy) -> None:
    as_of = dt.date(2024, 3, 15)
    df = generate_year(2024, scale=0.05, hierarchy=hierarchy, as_of=as_of).to_pandas()
    cut = pd.Timestamp(as_of)
    assert df.birth_datetime.max() < cut
    assert (df.neonatal_death_datetime.dropna() < cut).all()
    assert (df.maternal_death_datetime.dropna() < cut).all()
    assert_valid(df, hierarchy, now=dt.datetime(2024, 3, 15))
    full = generate_year(2023, scale=0.05, hierarchy=hierarchy, as_of=as_of).num_rows
    assert 0.15 < len(df) / full < 0.25, "about 2.5 months of births"
