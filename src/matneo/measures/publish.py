"""Measure tables for publication or for other organisations: suppressed, checked, then released.

Patient-level data and unsuppressed small numbers stay with the organisation that owns them
(docs/methods.md, "Disclosure control"). Anything shown outside it goes through
:func:`publishable`: parent codes are attached so sibling organisations are protected
against differencing from their parent's total, small counts are suppressed with secondary
suppression, and :func:`~matneo.measures.disclosure.assert_no_leak` checks the result before
it is returned. ``suppression_reason`` is dropped: which hidden cell is the small one is
itself disclosive.

Measures share counts, so every measure published together is suppressed as one linked
table (:func:`cube_relations` finds the identities between them; docs/adr/0007): publish
all measures of a period through one call, then choose the rows to show.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from matneo.measures.compute import IMD_QUINTILE_LABELS
from matneo.measures.counts import denominator_column, numerator_column
from matneo.measures.definitions import get_measures
from matneo.measures.disclosure import (
    DEFAULT_POLICY,
    Relation,
    Relations,
    SuppressionPolicy,
    assert_no_leak,
    default_sibling_keys,
    linear_relations,
    suppress,
)
from matneo.reference.organisations import OrgHierarchy, load_hierarchy


def cube_relations(cube: pl.DataFrame, measures: Sequence[str] | None = None, by: str | None = None) -> Relations:
    """Every identity between the numerators and denominators of ``measures``, from the count cube.

    The cube's rows (trust × month × ethnic group × IMD quintile) are finer than anything
    published, so an identity that holds in each of them holds in every published cell
    (:func:`~matneo.measures.disclosure.linear_relations`). With a breakdown ``by``, each
    group gets the identities that hold within it (keyed by the group label that ``compute``
    gives it); without one, the key is ``None``. Denominators come first, so numerators are
    written in terms of denominators (stillbirths = births − live births).
    """
    chosen = get_measures(list(measures) if measures is not None else None)
    columns = [(m.id, "denominator", denominator_column(m)) for m in chosen]
    columns += [(m.id, "numerator", numerator_column(m)) for m in chosen]

    def relations_of(part: pl.DataFrame) -> list[Relation]:
        counts = part.select([c for _, _, c in columns]).to_numpy().astype(np.int64)
        return [
            tuple((columns[i][0], columns[i][1], float(coefficient)) for i, coefficient in sorted(identity.items()))
            for identity in linear_relations(counts)
        ]

    if by is None:
        return {None: relations_of(cube)}
    if by not in ("ethnic_group", "imd_quintile"):
        raise ValueError(f"by must be ethnic_group or imd_quintile, not {by!r}")
    found: dict[Any, list[Relation]] = {}
    for (value,), part in cube.partition_by(by, as_dict=True).items():
        label = IMD_QUINTILE_LABELS.get(value, value) if by == "imd_quintile" else value
        found[label] = relations_of(part)
    return found


def publishable(
    table: pl.DataFrame,
    policy: SuppressionPolicy = DEFAULT_POLICY,
    hierarchy: OrgHierarchy | None = None,
    relations: Relations | None = None,
    *,
    audit: bool = True,
    hidden_before: tuple[npt.ArrayLike, npt.ArrayLike] | None = None,
) -> pl.DataFrame:
    """``table`` (from ``compute`` or ``inequalities``) made safe to show outside its owner.

    ``relations``: the identities between the table's measures (:func:`cube_relations`); the
    table must then hold every measure published for its period. ``audit=False`` skips
    re-running the linear audit that :func:`suppress` has just passed (the web app's per-reader
    tables, where it would double the wait); the other leak checks always run.
    ``hidden_before``: where to start from (see :func:`matneo.measures.disclosure.suppress`).
    """
    hierarchy = hierarchy or load_hierarchy()
    parents = {code: org.parent_code for code, org in hierarchy.organisations.items()}
    with_parents = table.with_columns(
        pl.col("org_code").replace_strict(parents, default=None, return_dtype=pl.String).alias("parent_code")
    )
    keys = default_sibling_keys(with_parents)
    safe = suppress(with_parents, policy, keys, relations=relations, hidden_before=hidden_before)
    assert_no_leak(safe, policy, keys, relations=relations, linear_audit=audit)
    ratio_columns = [c for c in ("ratio", "ratio_lower95", "ratio_upper95") if c in safe.columns]
    if ratio_columns:  # a ratio to a hidden reference or of a hidden group would disclose it
        safe = safe.with_columns(
            [pl.when(pl.col("suppressed")).then(None).otherwise(pl.col(c)).alias(c) for c in ratio_columns]
        )
    return safe.drop("suppression_reason", "parent_code")
