"""Tests for case-mix adjustment by indirect standardisation (``matneo.signals.casemix``).

Hand calculations follow PHEindicatormethods ``calculate_ISRatio`` as restated in
``docs/casemix.md``: E = Σ nᵢ·Xᵢ/Nᵢ, ratio = O/E, CI exact Poisson
below 10 observed and Byar's from 10, divided by E. The expected intervals are computed here
from the textbook formulas (χ² quantiles, Byar's cube), not from ``matneo.stats.ci``.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import polars as pl
import pytest
from scipy import stats

from matneo.measures.counts import build_cube
from matneo.measures.definitions import MEASURES_BY_ID
from matneo.records.parse import STORE_SCHEMA
from matneo.signals.casemix import (
    NOT_RECORDED,
    STRATA_BY_MEASURE,
    STRATUM_COLUMNS,
    expected_risk,
    indirectly_standardise,
    strata_counts,
)

Z95 = stats.norm.ppf(0.975)


def tiny(rows: list[tuple[str, str, int, int]], measure: str = "stillbirth_rate") -> pl.DataFrame:
    """(trust, maternal age band, numerator, denominator) rows as a strata frame."""
    return pl.DataFrame(
        rows,
        schema={
            "trust_code": pl.String,
            "maternal_age_band": pl.String,
            f"{measure}__num": pl.Int64,
            f"{measure}__den": pl.Int64,
        },
        orient="row",
    )


def isr(frame: pl.DataFrame, **kwargs: object) -> dict[str, dict[str, object]]:
    result = indirectly_standardise(
        frame, "stillbirth_rate", by=("trust_code",), strata_columns=("maternal_age_band",), **kwargs
    )
    return {row["trust_code"]: row for row in result.iter_rows(named=True)}


# --- hand-calculated ratio --------------------------------------------------------------------
# England (the two trusts pooled): 20–24: 5 / 3000; 35–39: 14 / 1500; crude 19 / 4500.
# T1: E = 1000·5/3000 + 1000·14/1500 = 11, O = 9  (exact interval)
# T2: E = 2000·5/3000 +  500·14/1500 =  8, O = 10 (Byar's interval)
HAND = tiny(
    [
        ("T1", "20–24", 2, 1000),
        ("T1", "35–39", 7, 1000),
        ("T2", "20–24", 3, 2000),
        ("T2", "35–39", 7, 500),
    ]
)


def test_hand_calculated_expected_ratio_and_adjusted_rate() -> None:
    got = isr(HAND)
    assert got["T1"]["observed"] == 9 and got["T2"]["observed"] == 10
    assert got["T1"]["expected"] == pytest.approx(11.0)
    assert got["T2"]["expected"] == pytest.approx(8.0)
    assert got["T1"]["ratio"] == pytest.approx(9 / 11)
    assert got["T2"]["ratio"] == pytest.approx(10 / 8)
    england = 19 / 4500 * 1000
    assert got["T1"]["reference_rate"] == pytest.approx(england)
    assert got["T1"]["adjusted_rate"] == pytest.approx(9 / 11 * england)
    assert got["T2"]["adjusted_rate"] == pytest.approx(1.25 * england)
    assert got["T1"]["crude_rate"] == pytest.approx(4.5)
    assert got["T2"]["crude_rate"] == pytest.approx(4.0)
    assert got["T1"]["denominator"] == 2000 and got["T1"]["unmatched_denominator"] == 0


def test_confidence_interval_switches_from_exact_to_byar_at_10_observed() -> None:
    got = isr(HAND)
    # 9 observed: exact (Garwood) interval, χ²(0.025; 18)/2 and χ²(0.975; 20)/2, divided by E = 11.
    assert got["T1"]["ci_method"] == "exact"
    assert got["T1"]["ratio_lower"] == pytest.approx(stats.chi2.ppf(0.025, 18) / 2 / 11, rel=1e-9)
    assert got["T1"]["ratio_upper"] == pytest.approx(stats.chi2.ppf(0.975, 20) / 2 / 11, rel=1e-9)
    # 10 observed: Byar's approximation, divided by E = 8.
    assert got["T2"]["ci_method"] == "byar"
    lower = 10 * (1 - 1 / 90 - Z95 / (3 * math.sqrt(10))) ** 3
    upper = 11 * (1 - 1 / 99 + Z95 / (3 * math.sqrt(11))) ** 3
    assert got["T2"]["ratio_lower"] == pytest.approx(lower / 8, rel=1e-9)
    assert got["T2"]["ratio_upper"] == pytest.approx(upper / 8, rel=1e-9)
    england = 19 / 4500 * 1000
    assert got["T2"]["adjusted_lower"] == pytest.approx(lower / 8 * england, rel=1e-9)
    # Byar's at 9 would differ from the exact interval, so the switch is visible.
    byar_9 = 9 * (1 - 1 / 81 - Z95 / 9) ** 3
    assert abs(byar_9 / 11 - got["T1"]["ratio_lower"]) > 1e-4


def test_observed_equals_expected_over_england_when_england_is_the_reference() -> None:
    result = indirectly_standardise(HAND, "stillbirth_rate", by=("trust_code",), strata_columns=("maternal_age_band",))
    assert result["observed"].sum() == pytest.approx(result["expected"].sum())


def test_case_mix_alone_explains_a_higher_crude_rate() -> None:
    # Identical stratum rates in both trusts (2 and 10 per 1,000); T_A books mostly older mothers.
    frame = tiny(
        [
            ("TA", "20–24", 2, 1000),
            ("TA", "35–39", 40, 4000),
            ("TB", "20–24", 8, 4000),
            ("TB", "35–39", 10, 1000),
        ]
    )
    got = isr(frame)
    assert got["TA"]["crude_rate"] == pytest.approx(8.4)
    assert got["TB"]["crude_rate"] == pytest.approx(3.6)
    assert got["TA"]["ratio"] == pytest.approx(1.0)
    assert got["TB"]["ratio"] == pytest.approx(1.0)
    assert got["TA"]["adjusted_rate"] == pytest.approx(got["TB"]["adjusted_rate"])
    assert got["TA"]["ratio_lower"] < 1 < got["TA"]["ratio_upper"]


def test_given_reference_and_strata_with_no_reference_denominator() -> None:
    reference = tiny([("ENG", "20–24", 10, 5000), ("ENG", "35–39", 0, 0)])
    frame = tiny([("T1", "20–24", 1, 1000), ("T1", "35–39", 3, 200)])
    got = isr(frame, reference=reference)["T1"]
    # The 35–39 stratum has no reference rate: it adds nothing to O or E and is reported.
    assert got["observed"] == 1
    assert got["expected"] == pytest.approx(2.0)
    assert got["ratio"] == pytest.approx(0.5)
    assert got["unmatched_denominator"] == 200
    assert got["reference_rate"] == pytest.approx(2.0)  # 10 / 5000 per 1,000


def test_zero_expected_gives_not_available_not_infinity() -> None:
    frame = tiny([("T1", "20–24", 0, 1000), ("T2", "20–24", 0, 500)])
    got = isr(frame)
    assert got["T1"]["expected"] == 0
    assert got["T1"]["ratio"] is None and got["T1"]["adjusted_rate"] is None


def test_unknown_measure_or_missing_columns_raise() -> None:
    with pytest.raises(ValueError, match="unknown measure"):
        indirectly_standardise(HAND, "nope")
    with pytest.raises(ValueError, match="has no column"):
        indirectly_standardise(HAND, "stillbirth_rate", by=("trust_code",))


# --- strata definitions -----------------------------------------------------------------------
def test_strata_cover_the_outcome_measures_and_never_adjust_for_the_outcome() -> None:
    required = {
        "stillbirth_rate", "neonatal_mortality_24wk", "perinatal_mortality", "brain_injury_rate",
        "preterm_birth_rate", "term_nnu_admission", "caesarean_rate", "pph_1500",
        "third_fourth_degree_tear", "apgar_below_7_term",
    }  # fmt: skip
    assert required <= set(STRATA_BY_MEASURE)
    assert set(STRATA_BY_MEASURE) <= set(MEASURES_BY_ID)
    for strata in STRATA_BY_MEASURE.values():
        assert set(strata) <= set(STRATUM_COLUMNS)
        assert len(set(strata)) == len(strata)
    for measure in ("stillbirth_rate", "perinatal_mortality", "preterm_birth_rate"):
        assert "gestation_band" not in STRATA_BY_MEASURE[measure]
        assert "birth_weight_band" not in STRATA_BY_MEASURE[measure]
    assert "gestation_band" in STRATA_BY_MEASURE["neonatal_mortality_24wk"]


# --- from the store's Parquet files -----------------------------------------------------------
BORN = dt.datetime(2019, 6, 15, 10, 30)
HEALTHY: dict[str, object] = {
    "outcome": "live_birth",
    "gestation_weeks": 39,
    "gestation_days": 2,
    "plurality": 1,
    "birth_order": 1,
    "birth_weight_g": 3400,
    "maternal_age": 31,
    "ethnic_category": "A",
    "imd_decile": 5,
}


def write_store(tmp_path: Path, rows: list[dict[str, object]]) -> Path:
    """Rows (overrides of a healthy term live birth) as a store partition file."""
    records = []
    for n, row in enumerate(rows):
        record: dict[str, object] = {name: None for name in STORE_SCHEMA}
        record.update(HEALTHY)
        record.update(row)
        record["record_id"], record["mother_id"] = f"R{n}", f"M{n}"
        record["birth_datetime"] = BORN + dt.timedelta(hours=n)
        records.append(record)
    path = tmp_path / "year=2019" / "month=6" / "data.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    pl.DataFrame(records, schema=STORE_SCHEMA).write_parquet(path)
    return path


ROWS: list[dict[str, object]] = [
    {"trust_code": "T1"},
    {"trust_code": "T1", "outcome": "stillbirth", "gestation_weeks": 30, "gestation_days": 0},
    {"trust_code": "T1", "maternal_age": 38, "plurality": 2, "birth_order": 1},
    {"trust_code": "T1", "maternal_age": 38, "plurality": 2, "birth_order": 2, "outcome": "stillbirth"},
    {"trust_code": "T1", "outcome": "late_fetal_loss", "gestation_weeks": 22, "gestation_days": 0},
    {"trust_code": "T2", "maternal_age": None, "imd_decile": None, "ethnic_category": None},
    {"trust_code": "T2", "gestation_weeks": 26, "gestation_days": 3,
     "neonatal_death_datetime": BORN + dt.timedelta(days=3)},
    {"trust_code": "T2", "outcome": "stillbirth", "gestation_weeks": 37, "gestation_days": 0},
]  # fmt: skip


def test_strata_counts_from_a_store_partition(tmp_path: Path) -> None:
    path = write_store(tmp_path, ROWS)
    counts = strata_counts([path], ["stillbirth_rate", "neonatal_mortality_24wk"])
    assert counts.columns[:2] == ["trust_code", "year"]
    assert set(counts.columns[2:7]) == {
        "gestation_band",
        "plurality",
        "maternal_age_band",
        "ethnic_group",
        "imd_quintile",
    }
    assert counts["year"].unique().to_list() == [2019]

    def cell(trust: str, **strata: str) -> tuple[int, int, int, int]:
        rows = counts.filter(pl.col("trust_code") == trust, *[pl.col(k) == v for k, v in strata.items()])
        sums = rows.select(pl.col(c).sum() for c in counts.columns if c.endswith(("__num", "__den")))
        s = sums.row(0, named=True)
        return (
            s["stillbirth_rate__num"], s["stillbirth_rate__den"],
            s["neonatal_mortality_24wk__num"], s["neonatal_mortality_24wk__den"],
        )  # fmt: skip

    # T1: four births from 24+0 (the late fetal loss at 22+0 is in no denominator), two stillbirths.
    assert cell("T1") == (2, 4, 0, 2)
    assert cell("T1", plurality="multiple", maternal_age_band="35–39") == (1, 2, 0, 1)
    assert cell("T1", plurality="singleton", maternal_age_band="30–34", gestation_band="28+0–31+6") == (1, 1, 0, 0)
    # T2: missing age, deprivation and ethnicity are explicit strata, not dropped.
    assert cell("T2") == (1, 3, 1, 2)
    assert cell("T2", maternal_age_band=NOT_RECORDED, imd_quintile=NOT_RECORDED, ethnic_group="Not stated") == (
        0, 1, 0, 1,
    )  # fmt: skip
    assert cell("T2", gestation_band="24+0–27+6", imd_quintile="3", ethnic_group="White") == (0, 1, 1, 1)
    # The same babies as the published (unadjusted) count cube.
    cube = build_cube([path])
    for measure in ("stillbirth_rate", "neonatal_mortality_24wk"):
        for suffix in ("__num", "__den"):
            assert counts[measure + suffix].sum() == cube[measure + suffix].sum()


def test_strata_counts_without_files_is_empty_with_columns() -> None:
    empty = strata_counts([], ["preterm_birth_rate"])
    assert empty.is_empty()
    assert "preterm_birth_rate__num" in empty.columns and "plurality" in empty.columns


def test_expected_risk_sums_to_the_expected_count(tmp_path: Path) -> None:
    rows = [dict(r) for r in ROWS] + [
        {"trust_code": "T2", "outcome": "stillbirth", "maternal_age": 31},
        {"trust_code": "T1", "maternal_age": 19},
        {"trust_code": "T1", "maternal_age": 19, "outcome": "stillbirth"},
    ]
    path = write_store(tmp_path, rows)
    risk = expected_risk([path], "stillbirth_rate")
    assert risk.columns == ["trust_code", "birth_datetime", "observed", "risk"]
    assert risk.height == len(rows) - 1  # the late fetal loss is not in the denominator
    assert risk["risk"].is_between(0, 1).all()
    isr_frame = indirectly_standardise(
        strata_counts([path], ["stillbirth_rate"]), "stillbirth_rate", by=("trust_code",)
    )
    by_trust = risk.group_by("trust_code").agg(pl.col("observed").sum(), pl.col("risk").sum()).sort("trust_code")
    assert by_trust["observed"].to_list() == isr_frame["observed"].to_list()
    assert by_trust["risk"].to_list() == pytest.approx(isr_frame["expected"].to_list())
    # Same answer from an in-memory frame of records.
    from_frame = expected_risk(pl.read_parquet(path), "stillbirth_rate")
    assert from_frame["risk"].to_list() == pytest.approx(risk["risk"].to_list())


def test_expected_risk_of_a_stratum_is_its_england_rate(tmp_path: Path) -> None:
    rows = [
        {"trust_code": "T1", "maternal_age": 19},
        {"trust_code": "T2", "maternal_age": 19, "outcome": "stillbirth"},
        {"trust_code": "T2", "maternal_age": 19},
        {"trust_code": "T2", "maternal_age": 19},
        {"trust_code": "T1", "maternal_age": 25},
    ]
    risk = expected_risk([write_store(tmp_path, rows)], "stillbirth_rate")
    assert risk.filter(pl.col("trust_code") == "T1")["risk"].to_list() == pytest.approx([0.25, 0.0])


def test_stratum_codes_are_one_to_one_with_labels() -> None:
    """Grouping on codes (fast) and labelling afterwards gives the labels of stratum_expressions."""
    from matneo.signals.casemix import _code_labels, stratum_code_expressions, stratum_expressions

    frame = pl.DataFrame(
        {
            "ga_days": [None, 150, 160, 170, 200, 260, 300, 400],
            "birth_weight_g": [None, 400, 700, 1200, 2000, 3000, 4500, 9000],
            "plurality": [None, 1, 2, 3, 1, 1, 1, 1],
            "maternal_age": [None, 15, 22, 27, 32, 37, 45, 30],
            "ethnic_group": ["White", None, "Asian", "Black", "Mixed", "Other", "Not stated", "White"],
            "imd_quintile": [None, 1, 2, 3, 4, 5, 0, 9],
        }
    )
    labels = frame.select([e.alias(c) for c, e in stratum_expressions().items()])
    coded = frame.select([e.alias(c) for c, e in stratum_code_expressions().items()])
    back = coded.with_columns(pl.col("ethnic_group").cast(pl.Int64)).select(
        [(_code_labels(c) if c != "ethnic_group" else pl.col(c)).alias(c) for c in coded.columns if c != "ethnic_group"]
    )
    assert back.equals(labels.drop("ethnic_group"))
