"""Monthly measure results for the sites of one trust (a QI project of one site, issue 13).

The count cube (``counts.py``) is summed by trust; a project run at one site of a trust must
chart that site's births. :func:`~matneo.measures.counts.build_site_counts` evaluates the very
same conditions per site and month, so the sites of a trust add up to the trust's figures by
construction (records without a site code count for the trust only). Everything here is cached
per records-store version through :meth:`~matneo.measures.results.ResultCache.memo`: one scan of
the trust's records per version, not one per page.

Who sees what (docs/adr/0005, and ``matneo.measures.publish``): a reader whose scope holds the
trust sees its sites' figures as the trust's own data, unsuppressed. Anyone else gets them
through :func:`~matneo.measures.disclosure.suppress` — the one small-number rule with secondary
suppression — with the sites as a sibling set whose total is the trust (taken as known to the
reader, the cautious assumption: a site can then not be worked back as trust minus the other
sites), and every measure of a month suppressed as one linked table (docs/adr/0007).
"""

from __future__ import annotations

from typing import Any

import polars as pl

from matneo.measures.compute import with_intervals
from matneo.measures.counts import build_site_counts, denominator_column, numerator_column
from matneo.measures.definitions import MEASURES, MEASURES_BY_ID
from matneo.measures.disclosure import (
    DEFAULT_POLICY,
    DERIVED_COLUMNS,
    DisclosureError,
    assert_no_leak,
    default_sibling_keys,
    suppress,
)
from matneo.measures.publish import cube_relations

#: ``org_code`` of a trust's records that carry no site code (never shown; a term of the sum).
NO_SITE = "__no_site__"


def site_counts(results: Any, trust_code: str) -> pl.DataFrame:
    """Every measure's counts per site and month of ``trust_code``, for the store version served."""
    return results.memo(("site_counts", trust_code), lambda: build_site_counts(results.partition_files(), trust_code))


def site_results(counts: pl.DataFrame, trust_code: str) -> pl.DataFrame:
    """The long monthly table (measure, level, org_code, parent_code, period_start, period_end,
    numerator, denominator, value) of every site of the trust, every month the trust has data
    (a site with no births that month gets zeros), plus the trust's own row as ``level`` trust.

    Pure: the same counts give the same table. Values and intervals as ``compute`` gives them.
    """
    if counts.is_empty():
        return pl.DataFrame()
    grid = counts.with_columns(pl.col("site_code").fill_null(NO_SITE).alias("org_code")).drop("site_code")
    count_columns = [c for c in grid.columns if c.endswith(("__num", "__den"))]
    grid = grid.group_by("org_code", "month_start").agg(pl.col(count_columns).sum())
    months = grid.select("month_start").unique()
    orgs = grid.select("org_code").unique()
    full = orgs.join(months, how="cross").join(grid, on=["org_code", "month_start"], how="left").fill_null(0)
    trust = full.group_by("month_start").agg(pl.col(count_columns).sum()).with_columns(org_code=pl.lit(trust_code))
    cells = pl.concat([full, trust.select(full.columns)]).sort("org_code", "month_start")
    is_trust = pl.col("org_code") == trust_code
    parts = []
    for m in MEASURES:
        parts.append(
            cells.select(
                pl.lit(m.id).alias("measure"),
                pl.when(is_trust).then(pl.lit("trust")).otherwise(pl.lit("site")).alias("level"),
                "org_code",
                pl.when(is_trust)
                .then(pl.lit(None, dtype=pl.String))
                .otherwise(pl.lit(trust_code))
                .alias("parent_code"),
                pl.col("month_start").alias("period_start"),
                pl.col("month_start").dt.month_end().alias("period_end"),
                pl.col(numerator_column(m)).alias("numerator"),
                pl.col(denominator_column(m)).alias("denominator"),
            )
        )
    return with_intervals(pl.concat(parts), list(MEASURES))


def published_site_results(table: pl.DataFrame, counts: pl.DataFrame) -> pl.DataFrame:
    """``table`` (:func:`site_results`) as a reader outside the trust may see it.

    The trust's row is given as known (its counts nulled before suppression), so each month's
    sites are protected against differencing from the trust's total; the records without a site
    code are a hideable term of that sum and never shown. Returns the site rows with
    ``suppressed``; the linear audit runs as for any published table.
    """
    if table.is_empty():
        return table.with_columns(pl.lit(False).alias("suppressed"))
    is_trust = pl.col("level") == "trust"
    masked = table.with_columns(
        [pl.when(is_trust).then(None).otherwise(pl.col(c)).alias(c) for c in ("numerator", "denominator")]
    )
    keys = default_sibling_keys(masked)
    relations = cube_relations(counts.drop("site_code", "month_start")) if counts.height else None
    parts = []
    # Sibling sets and identities never span months, so each month is suppressed on its own (as
    # ``results.suppressed_by_period``). A month that cannot be protected — a small count pinned
    # down by the trust's known total with every other term already hidden — is withheld whole.
    for part in masked.partition_by("period_start", maintain_order=True):
        try:
            safe = suppress(part, DEFAULT_POLICY, keys, relations=relations)
            assert_no_leak(safe, DEFAULT_POLICY, keys, relations=relations)
            parts.append(safe.drop("suppression_reason"))
        except DisclosureError:
            hidden = [c for c in ("numerator", "denominator", *DERIVED_COLUMNS) if c in part.columns]
            parts.append(part.with_columns(pl.lit(True).alias("suppressed"), *[pl.lit(None).alias(c) for c in hidden]))
    return pl.concat(parts, how="vertical_relaxed").filter(~is_trust)


def site_series(results: Any, trust_code: str, site_code: str, measure_id: str, *, in_scope: bool) -> pl.DataFrame:
    """One site's monthly rows of one measure: ``period_start``, numerator, denominator, value,
    ``suppressed``. ``in_scope``: the reader's scope holds the trust (unsuppressed figures);
    otherwise the suppressed table, computed once per store version and trust."""
    if measure_id not in MEASURES_BY_ID:
        raise ValueError(f"unknown measure {measure_id!r}")
    counts = site_counts(results, trust_code)
    table = results.memo(("site_results", trust_code), lambda: site_results(counts, trust_code))
    if not in_scope:
        table = results.memo(("site_published", trust_code), lambda: published_site_results(table, counts))
    if table.is_empty():
        return pl.DataFrame(
            schema={
                "period_start": pl.Date,
                "numerator": pl.Int64,
                "denominator": pl.Int64,
                "value": pl.Float64,
                "suppressed": pl.Boolean,
            }
        )
    rows = table.filter((pl.col("measure") == measure_id) & (pl.col("org_code") == site_code))
    if "suppressed" not in rows.columns:
        rows = rows.with_columns(pl.lit(False).alias("suppressed"))
    return rows.select("period_start", "numerator", "denominator", "value", "suppressed").sort("period_start")
