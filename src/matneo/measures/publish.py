"""Measure tables for publication or for other organisations: suppressed, checked, then released.

Patient-level data and unsuppressed small numbers stay with the organisation that owns them
(docs/methods.md, "Disclosure control"). Anything shown outside it goes through
:func:`publishable`: parent codes are attached so sibling organisations are protected
against differencing from their parent's total, small counts are suppressed with secondary
suppression, and :func:`~matneo.measures.disclosure.assert_no_leak` checks the result before
it is returned. ``suppression_reason`` is dropped: which hidden cell is the small one is
itself disclosive.
"""

from __future__ import annotations

import polars as pl

from matneo.measures.disclosure import DEFAULT_POLICY, SuppressionPolicy, assert_no_leak, default_sibling_keys, suppress
from matneo.reference.organisations import OrgHierarchy, load_hierarchy


def publishable(
    table: pl.DataFrame, policy: SuppressionPolicy = DEFAULT_POLICY, hierarchy: OrgHierarchy | None = None
) -> pl.DataFrame:
    """``table`` (from ``compute`` or ``inequalities``) made safe to show outside its owner."""
    hierarchy = hierarchy or load_hierarchy()
    parents = {code: org.parent_code for code, org in hierarchy.organisations.items()}
    with_parents = table.with_columns(
        pl.col("org_code").replace_strict(parents, default=None, return_dtype=pl.String).alias("parent_code")
    )
    keys = default_sibling_keys(with_parents)
    safe = suppress(with_parents, policy, keys)
    assert_no_leak(safe, policy, keys)
    ratio_columns = [c for c in ("ratio", "ratio_lower95", "ratio_upper95") if c in safe.columns]
    if ratio_columns:  # a ratio to a hidden reference or of a hidden group would disclose it
        safe = safe.with_columns(
            [pl.when(pl.col("suppressed")).then(None).otherwise(pl.col(c)).alias(c) for c in ratio_columns]
        )
    return safe.drop("suppression_reason", "parent_code")
