"""Ratios to the reference group, by hand."""

from __future__ import annotations

import datetime as dt
import math

import polars as pl
import pytest

from matneo.measures.inequalities import inequalities

from .cubes import cube_frame


def cube(rows: list[tuple[str, int, int, int, int]]) -> pl.DataFrame:
    """(ethnic group, stillbirths, births, smoke-free, maternities) for one trust-month."""
    return cube_frame(
        [("R0A", dt.date(2019, 1, 1), g, 3, sb, births, sf, mat) for g, sb, births, sf, mat in rows],
        ["stillbirth_rate", "smoke_free_at_delivery"],
    )


def test_rate_ratio_against_white_women() -> None:
    data = cube([("White", 20, 5000, 4500, 5000), ("Black", 10, 1000, 950, 1000), ("Asian", 0, 800, 760, 800)])
    result = inequalities(["stillbirth_rate", "smoke_free_at_delivery"], cube=data).sort("measure", "ethnic_group")
    rows = {(r["measure"], r["ethnic_group"]): r for r in result.iter_rows(named=True)}
    black = rows[("stillbirth_rate", "Black")]
    # (10/1000) / (20/5000) = 2.5; SE ln = √(1/10 + 1/20) = 0.387298; 2.5·exp(∓1.959964·0.387298)
    assert black["ratio"] == pytest.approx(2.5)
    assert black["ratio_lower95"] == pytest.approx(2.5 * math.exp(-1.959964 * math.sqrt(0.15)), rel=1e-6)
    assert black["reference_group"] == "White"
    assert rows[("stillbirth_rate", "Asian")]["ratio"] is None  # no events: not available, never 0
    assert rows[("stillbirth_rate", "White")]["ratio"] == pytest.approx(1.0)
    smoke = rows[("smoke_free_at_delivery", "Black")]
    # Percentages use the risk ratio: (950/1000)/(4500/5000) = 1.055556;
    # SE ln = √(1/950 − 1/1000 + 1/4500 − 1/5000) = √(0.0000526 + 0.0000222) = 0.008650
    se = math.sqrt(1 / 950 - 1 / 1000 + 1 / 4500 - 1 / 5000)
    assert smoke["ratio"] == pytest.approx(0.95 / 0.9)
    assert smoke["ratio_upper95"] == pytest.approx(0.95 / 0.9 * math.exp(1.959964 * se), rel=1e-6)


def test_no_reference_group_gives_no_ratio() -> None:
    result = inequalities(["stillbirth_rate"], cube=cube([("Black", 10, 1000, 0, 0)]))
    assert result.get_column("ratio").to_list() == [None]


def test_unknown_breakdown() -> None:
    with pytest.raises(ValueError, match="by must be one of"):
        inequalities(["stillbirth_rate"], by="age", cube=cube([]))  # type: ignore[arg-type]
