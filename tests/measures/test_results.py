"""Suppression for one reader: their own cells known, never an error, never a small count shown."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from matneo.measures.disclosure import DEFAULT_POLICY
from matneo.measures.results import suppressed_by_period
from matneo.reference.organisations import OrgHierarchy

MARCH, APRIL = dt.date(2018, 3, 1), dt.date(2018, 4, 1)


def _rows(
    hierarchy: OrgHierarchy, cells: list[tuple[str, dt.date, int | None, int | None]], ratios: bool = False
) -> pl.DataFrame:
    records = []
    for code, start, numerator, denominator in cells:
        org = hierarchy.get(code)
        value = None if numerator is None or not denominator else numerator / denominator * 1000
        records.append(
            {
                "measure": "stillbirth_rate",
                "level": org.level,
                "org_code": code,
                "org_name": org.name,
                "period": start.strftime("%Y-%m"),
                "period_start": start,
                "period_end": start + dt.timedelta(days=27),
                "months": 1,
                "numerator": numerator,
                "denominator": denominator,
                "value": value,
                "lower95": value,
                "upper95": value,
                "lower998": value,
                "upper998": value,
                "suppressed": False,
                **({"ratio": 1.0, "ratio_lower95": 0.5, "ratio_upper95": 2.0} if ratios else {}),
            }
        )
    return pl.DataFrame(records, schema_overrides={"numerator": pl.Int64, "denominator": pl.Int64})


@pytest.mark.parametrize("ratios", [False, True], ids=["rates", "with ratio columns"])
def test_a_period_the_readers_own_cells_pin_down_is_hidden_not_an_error(hierarchy: OrgHierarchy, ratios: bool) -> None:
    """March: the region's only data is the reader's own LMNS (known to them, given as missing),
    so the region's small counts cannot be protected by hiding anything else. That month is hidden
    for this reader; April, with ordinary counts, is suppressed as usual."""
    trust = "R0A"
    lmns = hierarchy.ancestor_at(trust, "lmns").code
    region = hierarchy.ancestor_at(trust, "region").code
    table = _rows(
        hierarchy,
        [
            ("ENG", MARCH, 2, 3),
            (region, MARCH, 2, 3),
            (lmns, MARCH, None, None),  # the reader's own: known to them
            (trust, MARCH, None, None),
            ("ENG", APRIL, 400, 50_000),
            (region, APRIL, 60, 7_000),
            (lmns, APRIL, None, None),
            (trust, APRIL, None, None),
        ],
        ratios,
    )
    safe = suppressed_by_period(table, hierarchy, None)
    march = safe.filter(pl.col("period_start") == MARCH)
    assert march.filter(pl.col("org_code").is_in(["ENG", region]))["suppressed"].to_list() == [True, True]
    assert march["numerator"].is_null().all() and march["value"].is_null().all()
    assert safe.columns == table.columns
    april = safe.filter((pl.col("period_start") == APRIL) & (pl.col("org_code") == "ENG"))
    assert april["numerator"].to_list() == [400] and april["suppressed"].to_list() == [False]
    shown = safe["numerator"].drop_nulls().to_numpy()
    assert not DEFAULT_POLICY.small_numerator(shown.astype(float)).any()
