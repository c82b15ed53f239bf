"""Disclosure control: small-number suppression with secondary suppression for measure tables.

Patient-level data stays with the organisation that owns it. Whatever leaves it — a
published table, a page shown to another organisation, an API response — is an aggregate,
and an aggregate can still identify people when a count is small ("the 2 stillbirths to
Bangladeshi mothers at trust X in March"). This module removes such counts before
publication, and removes enough other cells that the hidden counts cannot be worked back
from what is still shown.

Three rules, restated in ``docs/methods.md`` ("Disclosure control"):

1. **Primary suppression.** A numerator in the small range 1 … ``threshold − 1`` is hidden
   (zero too if ``suppress_zero``), and so is a row whose denominator is in the small range
   1 … ``suppress_denominator_below − 1``. Hiding a row nulls its numerator and everything
   computed from it (value and confidence limits: value × denominator, or a confidence limit
   with the denominator, gives the numerator back). A denominator is nulled only when the
   denominator itself is what needs protecting.
2. **Secondary suppression.** Rows of a *sibling set* add up to a total that is published
   (the trusts of one LMNS add up to the LMNS; the ethnic groups of one trust add up to the
   trust). If exactly one term of such a sum is hidden, total − (the rest) gives it back, so
   a second term is hidden: the smallest non-zero one, ties broken by organisation code,
   then group. A row can be in several sets (hierarchy and groups), so this is repeated until
   no set has exactly one hidden term.
3. **Linear audit.** "No set with exactly one hidden term" is not enough on its own: hidden
   cells that are each in two sets can still be pinned down by adding and subtracting whole
   sets (a "bridge" between two blocks of hidden cells). Every hidden cell is checked against
   the whole system of published sums (one rank-revealing factorisation per connected
   block of hidden cells, after eliminating the sums with two hidden terms, which tie one
   hidden cell to another and leave the same solutions); a cell the sums determine gets another term of one of its sums
   hidden, and rules 2 and 3 run again until nothing is determined.
4. **Linked measures.** Measures share counts: births from 24 weeks minus live births from 24
   weeks is the stillbirth count; perinatal deaths minus stillbirths is the neonatal deaths
   from 24 weeks. So every numerator and denominator of every measure of an organisation and
   period (and group) is one cell of one linked table, and the identities between them
   (:class:`Relation`, found exactly from the data by :func:`linear_relations`) are equations
   of the same system as the sibling sums. Rules 2 and 3 run on that whole system, so a count
   hidden in one measure cannot be worked back from any other measure's numerator or
   denominator (docs/adr/0007-linked-measure-suppression.md).

The default threshold follows NHS Digital's disclosure control method for Hospital Episode
Statistics (HES) and the Emergency Care Data Set (ECDS), which covers NHS Maternity Statistics:
counts of 1 to 7 below national level are replaced by ``*`` (see :data:`SUPPRESSION_THRESHOLD`).
MatNeo applies it at every level, England included: a cautious difference that needs a local
decision. That method rounds every other count to the nearest 5 instead of using secondary
suppression. It replaced, in September 2018, an earlier rule (1 to 5 suppressed, then
secondary suppression) because checking secondary suppression by hand took considerable time,
risked error and gave inconsistent outputs. MatNeo publishes exact counts, so it keeps secondary
suppression — automated here, and checked by the linear audit rather than by hand.

``suppression_reason`` is for audit, not for publication: knowing which hidden cell is the
primary one (1 to 7) narrows what a reader can infer about the others. Publish ``suppressed``.

The design follows ehrql's ``measures/disclosure_control.py`` (a domain rule as a couple of
named constants and small pure functions); no code was copied.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl
from scipy import linalg
from scipy.sparse import coo_array, csr_array
from scipy.sparse.csgraph import breadth_first_order, connected_components, minimum_spanning_tree
from threadpoolctl import threadpool_limits

__all__ = [
    "DEFAULT_POLICY",
    "DERIVED_COLUMNS",
    "GROUP_COLUMNS",
    "SUPPRESSION_THRESHOLD",
    "DisclosureError",
    "DisclosureLeakError",
    "Relation",
    "Relations",
    "SuppressionPolicy",
    "assert_no_leak",
    "default_sibling_keys",
    "linear_relations",
    "suppress",
]

#: Counts from 1 to ``SUPPRESSION_THRESHOLD − 1`` (1 to 7) are suppressed. Source: NHS Digital
#: (now NHS England), "Disclosure control methodology for Hospital Episode Statistics (HES) and
#: Emergency Care Data Set (ECDS)", applied by the Secondary Care Analysis team from
#: 13 September 2018, in scope for the annual NHS Maternity Statistics. The 1-to-7 rule is
#: quoted by NHS Digital's Data Quality Maturity Index "Suppression rules" page for the HES
#: (APC, OP) and ECDS data ("Values between one and 7 replaced with an asterisk ... All
#: remaining integer values are rounded to the nearest five"); an unofficial copy of the
#: methodology gives the same threshold for derived statistics ("At sub-national level, where
#: the number of values used is between 1 and 7 inclusive, no calculation is made and a '*' is
#: displayed"). Whether NHS
#: England's Maternity Services Monthly Statistics (MSDS) use the same threshold was not
#: confirmed from a primary source: needs local confirmation.
SUPPRESSION_THRESHOLD = 8

_DEFAULT_SOURCE = (
    "NHS Digital, Disclosure control methodology for Hospital Episode Statistics (HES) and Emergency Care "
    "Data Set (ECDS), from 13 September 2018 (covers NHS Maternity Statistics): counts 1-7 below national "
    "level suppressed. MatNeo uses secondary suppression where that method rounds other counts to the "
    "nearest 5. Threshold used by NHS England's Maternity Services Monthly Statistics (MSDS): needs local "
    "confirmation."
)

#: Columns computed from the numerator, nulled with it. A value or a confidence limit together
#: with the published denominator gives the numerator back.
DERIVED_COLUMNS: tuple[str, ...] = ("value", "lower95", "upper95", "lower998", "upper998")

#: Names a breakdown column may have (``matneo.measures.compute`` names it after the
#: breakdown). A null in it marks the all-groups row of an organisation.
GROUP_COLUMNS: tuple[str, ...] = ("group", "ethnic_group", "imd_quintile")

PRIMARY = "primary"
SECONDARY = "secondary"

_IDENTITY = ("measure", "level", "org_code", "period_start", "period_end")
_ROW = "__matneo_row"
_SET = "__matneo_set"
_CODE = "__matneo_code"
#: A hidden cell whose unit vector is within this squared distance of the row space of the
#: published sums counts as determined (0 in exact arithmetic; otherwise typically of the order
#: of 1/(number of hidden cells in the block) or more, far above rounding error).
_ROW_SPACE_TOLERANCE = 1e-9
_QUANTITIES = ("numerator", "denominator")
#: Blocks of up to this many hidden cells are checked together in batches (see _determined).
_BATCH_COLUMNS = 32
#: A block of more hidden counts than this is not audited (one factorisation would take
#: minutes): :func:`suppress` raises :class:`DisclosureError`, and the web app then withholds
#: the period. Such blocks arise only where nearly every count of a period is small (a
#: breakdown of a sparse dataset); a national monthly table's largest block is about 250.
_MAX_AUDIT_COLUMNS = 2000

#: One exact identity between counts of the same cell (organisation, period and group):
#: ``((measure, "numerator" | "denominator", coefficient), ...)`` with Σ coefficient × count = 0,
#: e.g. ``(("stillbirth_rate", "numerator", 1), ("stillbirth_rate", "denominator", -1),
#: ("neonatal_mortality_24wk", "denominator", 1))``: stillbirths = births − live births.
Relation = tuple[tuple[str, str, float], ...]
#: Identities by group value (``None`` for a table without a breakdown): a breakdown can add
#: identities of its own (for Black and Asian women, "Continuity of Carer: Black and Asian
#: women" counts the same women as "Continuity of Carer").
Relations = Mapping[Any, Sequence[Relation]]


class DisclosureError(ValueError):
    """The table cannot be protected by suppressing cells of the table itself.

    Raised when a hidden cell is determined by totals that are published elsewhere (not rows
    of the table) and every other term of every sum it is part of is already hidden. Include
    the total rows in the table so that suppression can hide one of them.
    """


class DisclosureLeakError(AssertionError):
    """A table about to be published would disclose a small count (see :func:`assert_no_leak`)."""


@dataclass(frozen=True)
class SuppressionPolicy:
    """What counts as small, and where the rule comes from.

    ``threshold``: numerators 1 … ``threshold − 1`` are suppressed (``threshold=1`` suppresses
    none). ``suppress_zero``: suppress zero numerators too — off by default because the NHS
    Digital rule replaces 1 to 7 and shows zeros, but a local policy may differ (for example
    where "no one in this group had the outcome" is itself sensitive).
    ``suppress_denominator_below``: suppress a row (and null its denominator) when the
    denominator is 1 … this − 1; ``None`` never hides denominators. The default applies the same
    1-to-7 rule, because the source rule is about every count of people, and a denominator is
    one. ``source``: where the numbers come from, shown in published metadata.
    """

    threshold: int = SUPPRESSION_THRESHOLD
    suppress_zero: bool = False
    suppress_denominator_below: int | None = SUPPRESSION_THRESHOLD
    source: str = _DEFAULT_SOURCE

    def __post_init__(self) -> None:
        if isinstance(self.threshold, bool) or not isinstance(self.threshold, int) or self.threshold < 1:
            raise ValueError(f"threshold must be an integer of at least 1, got {self.threshold!r}")
        if not isinstance(self.suppress_zero, bool):
            raise ValueError(f"suppress_zero must be True or False, got {self.suppress_zero!r}")
        below = self.suppress_denominator_below
        if below is not None and (isinstance(below, bool) or not isinstance(below, int) or below < 1):
            raise ValueError(f"suppress_denominator_below must be None or an integer of at least 1, got {below!r}")
        if not isinstance(self.source, str) or not self.source.strip():
            raise ValueError("source must say where the policy comes from")

    def small_numerator(self, numerator: npt.ArrayLike) -> npt.NDArray[np.bool_]:
        """True where a numerator must be suppressed (missing values are never small)."""
        x = np.asarray(numerator, dtype=np.float64)
        small = (x > 0) & (x < self.threshold)
        return small | (x == 0) if self.suppress_zero else small

    def small_denominator(self, denominator: npt.ArrayLike) -> npt.NDArray[np.bool_]:
        """True where a denominator must be suppressed (never when the policy has no denominator rule)."""
        x = np.asarray(denominator, dtype=np.float64)
        if self.suppress_denominator_below is None:
            return np.zeros(x.shape, dtype=bool)
        return (x > 0) & (x < self.suppress_denominator_below)


DEFAULT_POLICY = SuppressionPolicy()


# --------------------------------------------------------------------------------------
# Sibling sets as linear equations
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Equations:
    """Published sums as a sparse incidence list: entry i puts row ``row[i]`` in equation ``eq[i]``.

    ``coef`` is +1 for a term of the sum and −1 for the total when the total is itself a row
    of the table (so the equation reads total − Σ terms = 0). When the total is not in the
    table it is assumed to be published elsewhere: Σ terms = constant.
    """

    eq: npt.NDArray[np.int64]
    row: npt.NDArray[np.int64]
    coef: npt.NDArray[np.float64]
    n_eq: int
    n_rows: int

    def members(self, equations: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        return self.row[np.isin(self.eq, equations)]


def _group_column(table: pl.DataFrame, group_column: str | None) -> str | None:
    if group_column is not None:
        if group_column not in table.columns:
            raise ValueError(f"group column {group_column!r} is not in the table")
        return group_column
    present = [c for c in GROUP_COLUMNS if c in table.columns]
    if len(present) > 1:
        raise ValueError(f"the table has several group columns ({', '.join(present)}): name one with group_column")
    return present[0] if present else None


def _check_keys(table: pl.DataFrame, sibling_keys: Sequence[Sequence[str]]) -> list[list[str]]:
    if isinstance(sibling_keys, str) or any(isinstance(k, str) for k in sibling_keys):
        raise ValueError('sibling_keys is a list of column lists, e.g. [["measure", "period_start", "parent_code"]]')
    keys = [list(k) for k in sibling_keys]
    for key in keys:
        if not key:
            raise ValueError("a sibling key needs at least one column")
        missing = [c for c in key if c not in table.columns]
        if missing:
            raise ValueError(f"sibling key {key} names columns not in the table: {', '.join(missing)}")
        if "parent_code" in key:
            if "org_code" not in table.columns:
                raise ValueError("a hierarchy sibling key (with parent_code) needs an org_code column")
            if "org_code" in key:
                raise ValueError(f"sibling key {key} has both parent_code and org_code: siblings share a parent")
            if (table["org_code"].cast(pl.String) == table["parent_code"].cast(pl.String)).any():
                raise ValueError("a row is its own parent (org_code equals parent_code)")
    return keys


def _equations(table: pl.DataFrame, keys: list[list[str]], group: str | None) -> _Equations:
    """Turn every sibling set of every key into one equation over table rows."""
    indexed = table.with_row_index(_ROW)
    eqs: list[npt.NDArray[np.int64]] = []
    rows: list[npt.NDArray[np.int64]] = []
    coefs: list[npt.NDArray[np.float64]] = []
    n_eq = 0
    for key in keys:
        hierarchical = "parent_code" in key
        # only the columns needed: filtering and grouping the whole table copies every column
        members = indexed.select(_ROW, *key)
        members = members.filter(pl.col("parent_code").is_not_null()) if hierarchical else members
        sets = members.group_by(key, maintain_order=True).agg(pl.col(_ROW)).with_row_index(_SET)
        pairs = sets.select(_SET, _ROW).explode(_ROW)
        set_id = pairs[_SET].to_numpy().astype(np.int64)
        row = pairs[_ROW].to_numpy().astype(np.int64)
        coef = np.ones(len(row))
        size = np.bincount(set_id, minlength=sets.height)
        has_total = np.zeros(sets.height, dtype=bool)
        if hierarchical:
            match = [c for c in key if c not in ("parent_code", "level")]
            wanted = sets.select(_SET, *match, pl.col("parent_code").cast(pl.String).alias(_CODE))
            available = indexed.select(_ROW, *match, pl.col("org_code").cast(pl.String).alias(_CODE))
            found = wanted.join(available, on=[*match, _CODE], how="inner", nulls_equal=True)
            if found[_SET].is_duplicated().any():
                raise ValueError(
                    f"sibling key {key}: a parent_code matches several rows; add the columns that tell them apart "
                    "(for example the group column) to the key"
                )
            total_set = found[_SET].to_numpy().astype(np.int64)
            total_row = found[_ROW].to_numpy().astype(np.int64)
            set_id = np.concatenate([set_id, total_set])
            row = np.concatenate([row, total_row])
            coef = np.concatenate([coef, -np.ones(len(total_row))])
            has_total[total_set] = True
        elif group is not None and group not in key:
            is_total = indexed[group].is_null().to_numpy()[row]
            n_totals = np.bincount(set_id, weights=is_total, minlength=sets.height)
            if (n_totals > 1).any():
                raise ValueError(
                    f"sibling key {key}: a sibling set has several rows with a null {group!r} (the all-groups row); "
                    "add the columns that tell them apart to the key"
                )
            coef[is_total] = -1.0
            has_total = n_totals == 1
            size = size - n_totals.astype(np.int64)
        # A lone term whose total is published elsewhere *is* that total, and a total with no
        # terms is no sum: neither gives an equation.
        useful = (has_total & (size >= 1)) | (size > 1)
        keep = useful[set_id]
        remap = np.cumsum(useful) - 1
        eqs.append(remap[set_id[keep]] + n_eq)
        rows.append(row[keep])
        coefs.append(coef[keep])
        n_eq += int(useful.sum())
    if not eqs:
        empty = np.zeros(0, dtype=np.int64)
        return _Equations(empty, empty, np.zeros(0), 0, table.height)
    return _Equations(np.concatenate(eqs), np.concatenate(rows), np.concatenate(coefs), n_eq, table.height)


def _single_hidden(hidden: npt.NDArray[np.bool_], eqs: _Equations) -> npt.NDArray[np.bool_]:
    """Equations with exactly one hidden term (that term is the total minus the others)."""
    return np.bincount(eqs.eq, weights=hidden[eqs.row], minlength=eqs.n_eq) == 1


def _tie_order(table: pl.DataFrame, group: str | None) -> npt.NDArray[np.int64]:
    """Rows by organisation code, group, measure, level, period, row position (nulls last):
    how :func:`_preference` breaks ties, the same for every column."""
    ties = [
        c for c in ("org_code", group, "measure", "level", "period_start", "period_end") if c and c in table.columns
    ]
    ordered = table.select(*ties).with_row_index(_ROW).sort([*ties, _ROW], nulls_last=True)
    return ordered[_ROW].to_numpy().astype(np.int64)


def _preference(
    table: pl.DataFrame, column: str, group: str | None, tie_order: npt.NDArray[np.int64] | None = None
) -> npt.NDArray[np.int64]:
    """Rank of every row as a secondary-suppression candidate for ``column``: lower is chosen first.

    Smallest non-zero count first (hiding a zero beside one small count reveals their small
    sum), then zeros, then missing counts; ties by organisation code, group, measure, level,
    period, row position (``tie_order``: :func:`_tie_order`, if the caller has it).
    """
    if tie_order is None:
        tie_order = _tie_order(table, group)
    values = table[column].cast(pl.Float64)
    missing = values.is_null().to_numpy()
    v = values.fill_null(0.0).to_numpy()
    kind = np.where(missing, 2, np.where(v == 0, 1, 0))
    # lexsort is stable: rows equal on (kind, value) keep the tie order.
    ordered = tie_order[np.lexsort((v[tie_order], kind[tie_order]))]
    preference = np.empty(table.height, dtype=np.int64)
    preference[ordered] = np.arange(table.height)
    return preference


def _set_rule(
    hidden: npt.NDArray[np.bool_],
    eqs: _Equations,
    eligible: npt.NDArray[np.bool_],
    preference: npt.NDArray[np.int64],
    by_preference: npt.NDArray[np.int64] | None = None,
) -> npt.NDArray[np.bool_]:
    """Rows to hide so that no equation is left with exactly one hidden term (one pass).

    ``by_preference``: ``np.argsort(preference)``, if the caller has it (it is the same every pass)."""
    add = np.zeros(eqs.n_rows, dtype=bool)
    need = _single_hidden(hidden, eqs)
    if not need.any():
        return add
    open_ = need[eqs.eq] & ~hidden[eqs.row] & eligible[eqs.row]
    best = np.full(eqs.n_eq, np.iinfo(np.int64).max)
    np.minimum.at(best, eqs.eq[open_], preference[eqs.row[open_]])
    chosen = best[need & (best < np.iinfo(np.int64).max)]
    if by_preference is None:
        by_preference = np.argsort(preference)
    add[by_preference[chosen]] = True
    return add


@dataclass(frozen=True)
class _Block:
    """Hidden rows linked by shared sums, with the sums restricted to them: ``matrix`` · x = known."""

    equations: npt.NDArray[np.int64]
    rows: npt.NDArray[np.int64]
    matrix: npt.NDArray[np.float64]
    determined: npt.NDArray[np.bool_]


def _rank(r: npt.NDArray[np.float64], shape: tuple[int, ...]) -> int:
    """Numerical rank from the R factor of a pivoted QR (the usual LAPACK-style tolerance)."""
    diagonal = np.abs(np.diag(r))
    return int((diagonal > diagonal.max(initial=0.0) * max(shape) * np.finfo(float).eps).sum())


def _determined(
    hidden: npt.NDArray[np.bool_],
    eqs: _Equations,
    changed: npt.NDArray[np.bool_] | None = None,
) -> list[_Block]:
    """Blocks with a hidden row that the published sums determine exactly.

    A block is a set of hidden rows linked by shared equations. Restricted to its hidden rows,
    the equations read A·x = b with b known, and x_j is determined iff the unit vector e_j
    lies in the row space of A. ``changed``: only blocks holding one of these rows are
    checked (the others are as they were at the previous check).
    """
    touched = hidden[eqs.row]
    if not touched.any():
        return []
    hidden_rows = np.flatnonzero(hidden)
    column = np.full(eqs.n_rows, -1, dtype=np.int64)
    column[hidden_rows] = np.arange(len(hidden_rows))
    e_eq, e_col, e_coef = eqs.eq[touched], column[eqs.row[touched]], eqs.coef[touched]
    k = len(hidden_rows)
    graph = coo_array((np.ones(len(e_eq)), (e_col, k + e_eq)), shape=(k + eqs.n_eq, k + eqs.n_eq))
    _, label = connected_components(graph, directed=False)
    block_of = label[e_col].astype(np.int64)
    wanted = np.unique(label[column[np.flatnonzero(hidden & changed)]]) if changed is not None else None
    if wanted is not None:
        is_wanted = np.zeros(int(label.max(initial=0)) + 1, dtype=bool)
        is_wanted[wanted] = True
        keep = is_wanted[block_of]
        e_eq, e_col, e_coef, block_of = e_eq[keep], e_col[keep], e_coef[keep], block_of[keep]
    # Each block's equations and hidden rows, numbered from 0 within the block (in ascending
    # order, as _helpful expects).
    eq_keys, eq_local = np.unique(block_of * (eqs.n_eq + 1) + e_eq, return_inverse=True)
    col_keys, col_local = np.unique(block_of * (k + 1) + e_col, return_inverse=True)
    eq_block, col_block = eq_keys // (eqs.n_eq + 1), col_keys // (k + 1)
    blocks, eq_start = np.unique(eq_block, return_index=True)
    col_start = np.searchsorted(col_block, blocks)
    eq_count = np.diff(np.r_[eq_start, len(eq_keys)])
    col_count = np.diff(np.r_[col_start, len(col_keys)])
    position = np.searchsorted(blocks, block_of)
    local_eq = eq_local - eq_start[position]
    local_col = col_local - col_start[position]
    if (col_count > _MAX_AUDIT_COLUMNS).any():
        raise DisclosureError(
            f"more than {_MAX_AUDIT_COLUMNS} hidden counts are linked to each other in one period: too many small "
            "numbers to publish that period safely (withhold it)"
        )
    # Which hidden rows are determined is found on an equivalent, much smaller system (two-term
    # sums eliminated); a block with a determined row is returned with its whole matrix, which
    # _fix_determined works on.
    determined = _determined_by_merged(position, eq_local, col_local, e_coef, len(eq_keys), len(col_keys), len(blocks))
    hit = np.zeros(len(blocks), dtype=bool)
    hit[position[determined[col_local]]] = True
    found = []
    for b in np.flatnonzero(hit):
        entry = np.flatnonzero(position == b)
        a = np.zeros((int(eq_count[b]), int(col_count[b])))
        a[local_eq[entry], local_col[entry]] = e_coef[entry]
        found.append(
            _block(
                b,
                eq_keys,
                col_keys,
                eq_start,
                col_start,
                eq_count,
                col_count,
                eqs,
                k,
                hidden_rows,
                a,
                determined[col_start[b] : col_start[b] + col_count[b]],
            )
        )
    return found


def _determined_by_merged(
    block: npt.NDArray[np.int64],
    eq: npt.NDArray[np.int64],
    col: npt.NDArray[np.int64],
    coef: npt.NDArray[np.float64],
    n_eq: int,
    n_col: int,
    n_blocks: int,
) -> npt.NDArray[np.bool_]:
    """Which hidden counts (columns ``0…n_col−1``) the equations determine, block by block.

    x_j is determined iff z_j = 0 for every z in the null space of A. An equation with two
    terms, a·z_p + b·z_v = 0, gives z_v = −(a/b)·z_p: z_v and z_p are determined together,
    and substituting z_v out of the other equations (and dropping this one) leaves a system
    with the same null space on the remaining unknowns. This is done for a spanning forest of
    the two-term equations at once: every column becomes a multiple of its tree's root, the
    equations not in the forest are rewritten in the roots (an equation that closes a cycle
    becomes α·z_root = 0, which determines the root when α ≠ 0), and each block's roots are
    then checked as before (pivoted QR, squared distance from the row space). The result is
    the same as checking the whole block, on a system several times smaller.
    """
    # One entry per (equation, column), the last one as the dense assignment took it.
    present = coef != 0
    eq, col, coef, block = eq[present], col[present], coef[present], block[present]
    key = eq * n_col + col
    _, last = np.unique(key[::-1], return_index=True)
    keep = len(key) - 1 - last
    eq, col, coef, block = eq[keep], col[keep], coef[keep], block[keep]
    terms = np.bincount(eq, minlength=n_eq)
    pair = terms[eq] == 2
    order = np.flatnonzero(pair)[np.argsort(eq[pair], kind="stable")]
    first, second = order[0::2], order[1::2]  # the two terms of each two-term equation
    lo = np.minimum(col[first], col[second])
    hi = np.maximum(col[first], col[second])
    # Spanning forest of the two-term equations (weights number them; parallel edges: the first).
    edge_key, edge_first = np.unique(lo * n_col + hi, return_index=True)
    tree = minimum_spanning_tree(
        csr_array((edge_first + 1.0, (lo[edge_first], hi[edge_first])), shape=(n_col, n_col))
    ).tocoo()
    tree_pair = (tree.data - 1).astype(np.int64)  # index into first/second
    in_tree = np.zeros(len(first), dtype=bool)
    in_tree[tree_pair] = True
    # Root every tree at its smallest column, then multipliers by pointer jumping.
    n_trees, label = connected_components(tree, directed=False)
    root_of = np.full(n_trees, n_col, dtype=np.int64)
    np.minimum.at(root_of, label, np.arange(n_col))
    parent = np.arange(n_col)
    ratio = np.ones(n_col)
    if len(tree_pair):
        # Orient each tree edge from the root outwards: a breadth-first order from a virtual node
        # joined to every root.
        virtual = n_col
        rows = np.r_[tree.row, tree.col, np.full(n_trees, virtual)]
        cols = np.r_[tree.col, tree.row, root_of]
        graph = csr_array((np.ones(len(rows)), (rows, cols)), shape=(n_col + 1, n_col + 1))
        _, predecessor = breadth_first_order(graph, virtual, directed=True, return_predecessors=True)
        child = np.flatnonzero((predecessor[:n_col] >= 0) & (predecessor[:n_col] != virtual))
        up = predecessor[child].astype(np.int64)
        edge = np.searchsorted(edge_key, np.minimum(child, up) * n_col + np.maximum(child, up))
        e = edge_first[edge]
        a_first, a_second = coef[first[e]], coef[second[e]]
        child_is_first = col[first[e]] == child
        a_child = np.where(child_is_first, a_first, a_second)
        a_up = np.where(child_is_first, a_second, a_first)
        parent[child] = up
        ratio[child] = -a_up / a_child  # z_child = ratio · z_parent
        while (parent != parent[parent]).any():
            ratio = ratio * ratio[parent]
            parent = parent[parent]
    # The other equations, in the roots: Σ coef·ratio over the terms of each root.
    dropped = np.zeros(len(eq), dtype=bool)
    dropped[first[in_tree]] = True
    dropped[second[in_tree]] = True
    kept = ~dropped
    r_eq, r_col, r_coef = eq[kept], parent[col[kept]], coef[kept] * ratio[col[kept]]
    r_key, r_index = np.unique(r_eq * n_col + r_col, return_inverse=True)
    value = np.bincount(r_index, weights=r_coef)
    scale = np.bincount(r_index, weights=np.abs(r_coef))
    nonzero = np.abs(value) > 1e-12 * scale  # terms that cancel exactly (up to rounding) vanish
    r_eq, r_col, value = r_key[nonzero] // n_col, r_key[nonzero] % n_col, value[nonzero]
    col_block = np.zeros(n_col, dtype=np.int64)
    col_block[col] = block
    r_block = col_block[r_col]
    # Every block's roots and rewritten equations, numbered from 0 within the block.
    roots = np.unique(parent[col])
    roots = roots[np.argsort(col_block[roots], kind="stable")]
    root_block = col_block[roots]
    root_start = np.searchsorted(root_block, np.arange(n_blocks + 1))
    root_count = np.diff(root_start)
    root_local = np.zeros(n_col, dtype=np.int64)
    root_local[roots] = np.arange(len(roots)) - root_start[root_block]
    eq_key, eq_index = np.unique(r_block * (n_eq + 1) + r_eq, return_inverse=True)
    eq_block = eq_key // (n_eq + 1)
    eq_start = np.searchsorted(eq_block, np.arange(n_blocks + 1))
    eq_count = np.diff(eq_start)
    local_eq = eq_index - eq_start[r_block]
    local_root = root_local[r_col]
    determined_root = np.zeros(n_col, dtype=bool)
    # A block with no equation left determines nothing. Small ones: decomposed together,
    # padded with zeros (a zero row or column changes no row space), one batched SVD per size
    # class; the others one by one with a pivoted QR.
    checked = eq_count > 0
    small = checked & (root_count <= _BATCH_COLUMNS) & (eq_count <= 2 * _BATCH_COLUMNS)
    for size in (4, 8, 16, _BATCH_COLUMNS):
        chosen = np.flatnonzero(small & (root_count <= size) & (root_count > size // 2 if size > 4 else True))
        if not len(chosen):
            continue
        rows_needed = int(eq_count[chosen].max())
        slot = np.full(n_blocks, -1, dtype=np.int64)
        slot[chosen] = np.arange(len(chosen))
        entry = slot[r_block] >= 0
        stacked = np.zeros((len(chosen), rows_needed, size))
        stacked[slot[r_block[entry]], local_eq[entry], local_root[entry]] = value[entry]
        singular, vt = np.linalg.svd(stacked, full_matrices=False)[1:]
        tolerance = singular.max(axis=1, initial=0.0) * max(rows_needed, size) * np.finfo(float).eps
        basis = (singular > tolerance[:, None])[:, :, None] * vt
        found = 1.0 - np.square(basis).sum(axis=1) < _ROW_SPACE_TOLERANCE
        slot_of_root = slot[root_block]
        in_chosen = slot_of_root >= 0
        determined_root[roots[in_chosen]] = found[slot_of_root[in_chosen], root_local[roots[in_chosen]]]
    by_block = np.argsort(r_block, kind="stable")
    entry_start = np.searchsorted(r_block[by_block], np.arange(n_blocks + 1))
    for b in np.flatnonzero(checked & ~small):
        entry = by_block[entry_start[b] : entry_start[b + 1]]
        a = np.zeros((int(eq_count[b]), int(root_count[b])))
        a[local_eq[entry], local_root[entry]] = value[entry]
        # Pivoted QR of Aᵀ: the first ``rank`` columns of Q are an orthonormal basis of the row
        # space of A, so 1 − ‖Q[j, :rank]‖² is the squared distance of e_j from it. (QR is an
        # order of magnitude faster than an SVD at the size of a national table's blocks.)
        q, r, _ = linalg.qr(a.T, mode="economic", pivoting=True)
        rank = _rank(r, a.shape)
        block_roots = roots[root_start[b] : root_start[b + 1]]
        determined_root[block_roots] = 1.0 - np.square(q[:, :rank]).sum(axis=1) < _ROW_SPACE_TOLERANCE
    return determined_root[parent]


def _block(b, eq_keys, col_keys, eq_start, col_start, eq_count, col_count, eqs, k, hidden_rows, matrix, determined):  # type: ignore[no-untyped-def]
    """The :class:`_Block` of block number ``b`` of :func:`_determined`'s numbering."""
    equations = eq_keys[eq_start[b] : eq_start[b] + eq_count[b]] % (eqs.n_eq + 1)
    columns = col_keys[col_start[b] : col_start[b] + col_count[b]] % (k + 1)
    return _Block(equations, hidden_rows[columns], matrix, determined)


def _one_blas_thread() -> threadpool_limits:
    """BLAS on one thread for the audit's many small factorisations.

    A multi-threaded BLAS gains nothing on them and, when other work shares the cores (a web
    server's threads, other processes), its threads spin against each other: a 240-column QR
    took 1.2 s instead of 9 ms on a busy two-core machine.
    """
    return threadpool_limits(limits=1, user_api="blas")


def _helpful(block: _Block, target: int, candidates: npt.NDArray[np.int64], eqs: _Equations) -> npt.NDArray[np.bool_]:
    """Which candidates, hidden, would stop the block's sums determining row ``target``.

    Every combination c of the block's equations with Aᵀc = e_target gives the target. Hiding
    a published row u adds the column v_u (its coefficients in those equations), and the
    target stays determined iff some such c also has c·v_u = 0. The solutions c form
    c₀ + null(Aᵀ), so u helps iff v_u is orthogonal to null(Aᵀ) (lies in the range of A) and
    c₀·v_u ≠ 0.
    """
    a = block.matrix
    in_block = np.isin(eqs.eq, block.equations) & np.isin(eqs.row, candidates)
    v = np.zeros((len(block.equations), len(candidates)))
    equation_index = np.searchsorted(block.equations, eqs.eq[in_block])
    candidate_index = np.searchsorted(candidates, eqs.row[in_block])
    v[equation_index, candidate_index] = eqs.coef[in_block]
    q, r, pivot = linalg.qr(a, mode="economic", pivoting=True)  # A[:, pivot] = Q R
    rank = _rank(r, a.shape)
    basis = q[:, :rank]
    unit = (pivot == int(np.searchsorted(block.rows, target))).astype(float)
    # Aᵀc = e_target with c = basis·y: R[:rank, :rank]ᵀ y = (e_target permuted)[:rank].
    c0 = basis @ linalg.solve_triangular(r[:rank, :rank], unit[:rank], trans="T")
    residual = v - basis @ (basis.T @ v)
    in_range = np.square(residual).sum(axis=0) < _ROW_SPACE_TOLERANCE * np.maximum(np.square(v).sum(axis=0), 1.0)
    return in_range & (np.abs(c0 @ v) > np.sqrt(_ROW_SPACE_TOLERANCE))


def _fix_determined(
    table: pl.DataFrame,
    hidden: npt.NDArray[np.bool_],
    eqs: _Equations,
    eligible: npt.NDArray[np.bool_],
    preference: npt.NDArray[np.int64],
    changed: npt.NDArray[np.bool_] | None = None,
) -> npt.NDArray[np.bool_]:
    """For each block with a determined hidden row, hide one more term of the block's sums.

    The term is the most preferred (smallest non-zero) published one that on its own makes
    the block's most preferred determined row undetermined; if none does, the most preferred term of the
    block's sums, and the loop in :func:`suppress` continues from there.
    """
    add = np.zeros(eqs.n_rows, dtype=bool)
    for block in _determined(hidden, eqs, changed):
        rows = block.rows[block.determined]
        target = int(rows[np.argmin(preference[rows])])
        candidates = np.unique(eqs.members(block.equations))
        candidates = candidates[~hidden[candidates] & eligible[candidates]]
        if not len(candidates):
            what = f"the {_quantity(table, target)} of {_describe(table, target % table.height)}"
            raise DisclosureError(
                f"{what} is determined by the published sums and every other term of them is already suppressed; "
                "add the totals published elsewhere to the table as rows, so that they can be suppressed too"
            )
        helpful = candidates[_helpful(block, target, candidates, eqs)]
        pool = helpful if len(helpful) else candidates
        add[pool[np.argmin(preference[pool])]] = True
    return add


def _quantity(table: pl.DataFrame, unknown: int) -> str:
    """Unknowns 0…n−1 are numerators, n…2n−1 denominators."""
    return _QUANTITIES[unknown // table.height]


def _describe(table: pl.DataFrame, row: int) -> str:
    columns = [c for c in (*_IDENTITY, *GROUP_COLUMNS) if c in table.columns]
    values = table.row(row, named=True)
    return "row " + ", ".join(f"{c}={values[c]}" for c in columns) if columns else f"row {row}"


# --------------------------------------------------------------------------------------
# Linked measures: identities between counts of one cell
# --------------------------------------------------------------------------------------


def _gram(counts: npt.NDArray[np.int64]) -> list[list[int]]:
    """countsᵀ·counts in exact integers (int64 products in chunks that cannot overflow)."""
    largest = int(np.abs(counts).max(initial=0))
    if counts.shape[0] * largest * largest < 2**52:
        # Every product and partial sum is an integer below 2**53, so float64 arithmetic is exact,
        # and several times faster than numpy's integer matmul on a national cube (issue 10: first
        # views wait for these identities). einsum, not BLAS: a multi-threaded BLAS on a busy
        # machine took seconds for this 38-column product.
        product = np.ascontiguousarray(counts, dtype=np.float64)
        return [[int(v) for v in row] for row in np.einsum("ij,ik->jk", product, product)]
    chunk = (2**62) // max(largest * largest, 1) // max(counts.shape[1], 1)
    if chunk < 1:  # one product alone would overflow: Python integers throughout (rare, slow)
        exact = counts.astype(object)
        return [[int(v) for v in row] for row in exact.T @ exact]
    total = np.zeros((counts.shape[1], counts.shape[1]), dtype=object)
    for start in range(0, counts.shape[0], chunk):
        part = counts[start : start + chunk]
        total += (part.T @ part).astype(object)
    return [[int(v) for v in row] for row in total]


def linear_relations(counts: npt.ArrayLike) -> list[dict[int, Fraction]]:
    """A basis of every exact linear identity between the columns of an integer count matrix.

    ``counts``: one row per cell of data (any breakdown finer than what is published, e.g.
    trust × month × ethnic group × IMD quintile), one column per published quantity. An
    identity λ (``{column: coefficient}``) has counts · λ = 0 in every row, so it holds for
    every sum of rows too: for every organisation, period and group a reader can see. Rows
    that are too few or too alike can only add identities (a cautious reader model), never
    remove a true one.

    Computed exactly: the null space of countsᵀ·counts (the same as that of counts) from its
    reduced row echelon form over the rationals, so each identity writes one column in terms
    of earlier ones (order the columns so that the ones to write others in come first).
    """
    matrix = np.asarray(counts)
    if matrix.ndim != 2:
        raise ValueError("counts must be a matrix: one row per cell, one column per quantity")
    if matrix.size and not np.issubdtype(matrix.dtype, np.integer):
        raise ValueError("counts must be integers")
    k = matrix.shape[1]
    rows = [[Fraction(v) for v in row] for row in _gram(matrix.astype(np.int64))] if matrix.size else []
    pivots: list[int] = []
    r = 0
    for column in range(k):
        pivot = next((i for i in range(r, len(rows)) if rows[i][column] != 0), None)
        if pivot is None:
            continue
        rows[r], rows[pivot] = rows[pivot], rows[r]
        lead = rows[r][column]
        rows[r] = [v / lead for v in rows[r]]
        for i in range(len(rows)):
            if i != r and rows[i][column] != 0:
                factor = rows[i][column]
                rows[i] = [a - factor * b for a, b in zip(rows[i], rows[r], strict=True)]
        pivots.append(column)
        r += 1
    relations = []
    for free in (c for c in range(k) if c not in pivots):
        relation = {free: Fraction(1)}
        for row, column in enumerate(pivots):
            if rows[row][free] != 0:
                relation[column] = -rows[row][free]
        relations.append(relation)
    return relations


def _relation_equations(
    table: pl.DataFrame, relations: Relations, group: str | None, first_eq: int
) -> tuple[list[npt.NDArray[np.int64]], list[npt.NDArray[np.int64]], list[npt.NDArray[np.float64]], int]:
    """One equation per relation per cell, over the numerator (row) and denominator (n + row) unknowns."""
    n = table.height
    if not n:  # no rows (a period type with no periods yet): no cells, no equations
        return [], [], [], first_eq
    cell_columns = [c for c in ("level", "org_code", "period_start", "period_end", group) if c and c in table.columns]
    keys = table.select(cell_columns)
    cells = keys.unique(maintain_order=True).with_row_index("__matneo_cell")
    cell_of = keys.join(cells, on=cell_columns, how="left", nulls_equal=True, maintain_order="left")[
        "__matneo_cell"
    ].to_numpy()
    measures = {m: i for i, m in enumerate(table["measure"].unique(maintain_order=True).to_list())}
    grid = np.full((cells.height, len(measures)), -1, dtype=np.int64)
    grid[cell_of, table["measure"].replace_strict(measures, return_dtype=pl.Int64).to_numpy()] = np.arange(n)
    group_of = cells[group].to_list() if group else [None] * cells.height
    eqs: list[npt.NDArray[np.int64]] = []
    rows: list[npt.NDArray[np.int64]] = []
    coefs: list[npt.NDArray[np.float64]] = []
    n_eq = first_eq
    by_value: dict[Any, list[int]] = {}
    for index, value in enumerate(group_of):
        by_value.setdefault(value, []).append(index)
    for value, members in by_value.items():
        if value not in relations and None not in relations:
            raise ValueError(f"no relations are given for the group {value!r} (nor for None)")
        chosen = np.asarray(members, dtype=np.int64)
        for relation in relations.get(value, relations.get(None, ())):
            if any(m not in measures for m, _, _ in relation):
                raise ValueError(
                    "a relation names a measure that is not in the table: compute the relations from the "
                    "measures that are published together"
                )
            terms = np.stack([grid[chosen, measures[m]] + (n if q == "denominator" else 0) for m, q, _ in relation])
            complete = (np.stack([grid[chosen, measures[m]] for m, _, _ in relation]) >= 0).all(axis=0)
            terms = terms[:, complete]
            count = terms.shape[1]
            if not count:
                continue
            eqs.append(np.repeat(np.arange(n_eq, n_eq + count, dtype=np.int64)[None, :], len(relation), axis=0).ravel())
            rows.append(terms.ravel())
            coefs.append(np.repeat(np.array([float(c) for _, _, c in relation])[:, None], count, axis=1).ravel())
            n_eq += count
    return eqs, rows, coefs, n_eq


#: The columns the equations are built from (besides the sibling keys and the group column).
_EQUATION_COLUMNS = ("measure", "level", "org_code", "parent_code", "period_start", "period_end")
#: The systems built lately (:func:`_linked_equations`), newest last, with what each was built from.
#: The system depends only on the rows' names, never on their counts, and every reader's
#: suppression of the same periods has the same rows (a reader's own cells are given as missing
#: counts, not removed): the first reader of a period set builds it and the others reuse it, as
#: does the audit right after :func:`suppress` (issue 10: a reader's first LMNS view 1.1 → 0.9 s).
#: An organisation page suppresses five period sets (the latest rolling year, the rest of the
#: trend, the SPC months, two breakdowns); the largest system, 60 national months of every
#: measure, holds about 27 MB.
_SYSTEMS_KEPT = 6
_systems: list[_System] = []
_systems_lock = threading.Lock()


@dataclass(frozen=True, eq=False)
class _System:
    """One linked system and what it was built from (the naming columns, value for value)."""

    naming: pl.DataFrame
    keys: list[list[str]]
    group: str | None
    relations: Relations | None
    denominators: bool
    equations: _Equations
    tie_order: npt.NDArray[np.int64]

    def built_from(
        self,
        naming: pl.DataFrame,
        keys: list[list[str]],
        group: str | None,
        relations: Relations | None,
        denominators: bool,
    ) -> bool:
        return (
            self.keys == keys
            and self.group == group
            and self.denominators == denominators
            and (self.relations is relations or self.relations == relations)
            and self.naming.height == naming.height
            and self.naming.columns == naming.columns
            and self.naming.equals(naming, null_equal=True)
        )


def _linked_system(
    table: pl.DataFrame, keys: list[list[str]], group: str | None, relations: Relations | None, denominators: bool
) -> _System:
    """The whole system of :func:`_linked_equations` with the rows' tie order (:func:`_tie_order`),
    reused from a recent call whose naming columns are equal value for value. Raises ValueError
    when the rows are not unique on their identity (each cell of a sum must appear once)."""
    columns = list(dict.fromkeys(c for c in (*_EQUATION_COLUMNS, group, *[c for k in keys for c in k]) if c))
    naming = table.select([c for c in columns if c in table.columns])
    with _systems_lock:
        kept = list(_systems)
    for system in reversed(kept):
        if system.built_from(naming, keys, group, relations, denominators):
            with _systems_lock:
                if system in _systems:  # the most recently used last
                    _systems.remove(system)
                    _systems.append(system)
            return system
    identity = [c for c in (*_IDENTITY, group) if c and c in table.columns]
    if identity and naming.select(identity).n_unique() < naming.height:
        raise ValueError(f"rows are not unique on {', '.join(identity)}: each cell of a sum must appear once")
    equations = _build_linked_equations(table, keys, group, relations, denominators)
    tie_order = _tie_order(table, group)
    for array in (equations.eq, equations.row, equations.coef, tie_order):
        array.setflags(write=False)
    built = _System(naming, [list(k) for k in keys], group, relations, denominators, equations, tie_order)
    with _systems_lock:
        _systems.append(built)
        del _systems[:-_SYSTEMS_KEPT]
    return built


def _linked_equations(
    table: pl.DataFrame, keys: list[list[str]], group: str | None, relations: Relations | None, denominators: bool
) -> _Equations:
    """The whole system: sibling sums of numerators (unknowns 0…n−1) and, with ``denominators``,
    of denominators (n…2n−1), plus the identities between measures of each cell.

    The system depends only on the sibling keys, the group, the relations and the columns
    naming each row (never on counts): when those are equal, value for value, to the ones of
    a recent call, that call's system is returned (it is the same system).
    """
    return _linked_system(table, keys, group, relations, denominators).equations


def _build_linked_equations(
    table: pl.DataFrame, keys: list[list[str]], group: str | None, relations: Relations | None, denominators: bool
) -> _Equations:
    n = table.height
    sums = _equations(table, keys, group)
    if not denominators:
        if relations:
            raise ValueError("relations need the denominator column (they link numerators and denominators)")
        return sums
    eqs = [sums.eq, sums.eq + sums.n_eq]
    rows = [sums.row, sums.row + n]
    coefs = [sums.coef, sums.coef]
    n_eq = 2 * sums.n_eq
    if relations:
        if "measure" not in table.columns:
            raise ValueError("relations need a measure column")
        r_eqs, r_rows, r_coefs, n_eq = _relation_equations(table, relations, group, n_eq)
        eqs, rows, coefs = eqs + r_eqs, rows + r_rows, coefs + r_coefs
    return _Equations(np.concatenate(eqs), np.concatenate(rows), np.concatenate(coefs), n_eq, 2 * n)


# --------------------------------------------------------------------------------------
# Public functions
# --------------------------------------------------------------------------------------


def default_sibling_keys(table: pl.DataFrame, *, group_column: str | None = None) -> list[list[str]]:
    """The usual sibling sets of a MatNeo measure table.

    * hierarchy: rows with the same measure, period (and group) and ``parent_code`` — the
      trusts of one LMNS, the LMNSs of one region, the regions of England (if the table has a
      ``parent_code`` column);
    * groups: rows with the same measure, period, level and ``org_code`` — the ethnic groups
      or IMD quintiles of one organisation (if the table has a group column).
    """
    group = _group_column(table, group_column)
    base = [c for c in ("measure", "period_start", "period_end") if c in table.columns]
    keys = []
    if "parent_code" in table.columns:
        keys.append([*base, *([group] if group else []), "parent_code"])
    if group is not None:
        keys.append([*base, *[c for c in ("level", "org_code") if c in table.columns]])
    return keys


def suppress(
    table: pl.DataFrame,
    policy: SuppressionPolicy,
    sibling_keys: Sequence[Sequence[str]],
    *,
    group_column: str | None = None,
    derived_columns: Sequence[str] = DERIVED_COLUMNS,
    relations: Relations | None = None,
    hidden_before: tuple[npt.ArrayLike, npt.ArrayLike] | None = None,
) -> pl.DataFrame:
    """Return ``table`` with small counts suppressed and a ``suppressed``/``suppression_reason`` pair.

    ``sibling_keys``: column lists; rows that agree on every column of one list form a
    sibling set whose numerators (and denominators) add up to a published total. When the
    list contains ``parent_code``, the total is the row whose ``org_code`` is that parent code
    (and which agrees on the other columns, ``level`` aside); rows with a null ``parent_code``
    have no parent. Otherwise, when the table has a group column not in the list, a row with
    a null group is the set's all-groups total. Any other set's total is assumed to be
    published elsewhere. See :func:`default_sibling_keys`.

    ``group_column``: the breakdown column (found among :data:`GROUP_COLUMNS` if not given).
    ``derived_columns``: columns computed from the numerator, nulled with it (those present).
    ``relations``: identities between the measures of one cell (rule 4; see
    :func:`linear_relations`), by group value; the table then holds every measure published
    together, and a count hidden in one measure is protected against all of them.

    Suppressed rows get ``suppressed = True``, ``suppression_reason`` ``"primary"`` (a small
    numerator or denominator) or ``"secondary"`` (hidden so that a primary cell cannot be
    recovered), and a null numerator and derived columns; the denominator is nulled only where
    the denominator is small or was hidden to protect another small denominator. Rows keep
    their order. A missing numerator or denominator in the input stays missing and is treated
    as known to a reader (the cautious assumption). An all-False ``suppressed`` placeholder (as
    ``matneo.measures.compute`` returns) is replaced. Raises :class:`DisclosureError` when a
    hidden cell cannot be protected without hiding a total that is not in the table.

    ``hidden_before``: (hidden numerators, hidden denominators), row by row, of a result of
    this function for the same rows, the same policy, keys and relations, in which fewer counts
    were missing (the public suppression, for a reader who knows their own counts). Suppression
    then starts from it: its hidden cells that are still counts stay hidden, and only the blocks
    of sums that hold a cell it hid and that is now missing, or a cell newly hidden, are audited
    again; every other block is as that result's audit left it (issue 10: a reader's first view
    audits a few blocks, not every period's). The result still passes every check; it may hide
    cells that suppressing from nothing would not.

    Keep ``suppression_reason`` internal: telling primary cells from secondary ones narrows
    what a reader can infer. The result is deterministic and does not depend on row order.
    """
    if "numerator" not in table.columns:
        raise ValueError("the table has no numerator column")
    already = ("suppressed" in table.columns and table["suppressed"].fill_null(False).any()) or (
        "suppression_reason" in table.columns and table["suppression_reason"].is_not_null().any()
    )
    if already:
        raise ValueError("the table is already suppressed: suppress once, from the unsuppressed counts")
    table = table.drop([c for c in ("suppressed", "suppression_reason") if c in table.columns])
    group = _group_column(table, group_column)
    keys = _check_keys(table, sibling_keys)
    numerator = table["numerator"].cast(pl.Float64).to_numpy()
    has_denominator = "denominator" in table.columns
    denominator = table["denominator"].cast(pl.Float64).to_numpy() if has_denominator else np.full(table.height, np.nan)
    for name, values in (("numerator", numerator), ("denominator", denominator)):
        if (values < 0).any():
            raise ValueError(f"{name}s must not be negative")
    system = _linked_system(table, keys, group, relations, has_denominator)

    primary_den = policy.small_denominator(denominator)
    primary = policy.small_numerator(numerator) | primary_den
    n = table.height
    protect_denominators = has_denominator and policy.suppress_denominator_below is not None
    # Unknowns: numerators 0…n−1, then (with a denominator column) denominators n…2n−1. A
    # hidden denominator hides its numerator too (the value and the numerator give it back).
    eqs, tie_order = system.equations, system.tie_order
    num_pref = _preference(table, "numerator", group, tie_order)
    hidden = primary.copy()
    eligible = ~np.isnan(numerator)
    preference = num_pref
    if has_denominator:
        hidden = np.concatenate([primary, primary_den])
        eligible = np.concatenate([eligible, ~np.isnan(denominator) & protect_denominators])
        # Hiding a numerator costs less than hiding a denominator (which hides both).
        preference = np.concatenate([num_pref, _preference(table, "denominator", group, tie_order) + n])

    # Unknowns hidden when the system was last audited: the audit only re-checks blocks that
    # gained a hidden unknown since.
    audited = np.zeros(len(hidden), dtype=bool)
    if hidden_before is not None:
        parts = hidden_before if has_denominator else hidden_before[:1]
        before = np.concatenate([np.asarray(part, dtype=bool) for part in parts])
        if before.shape != hidden.shape:
            raise ValueError("hidden_before must give a numerator and a denominator flag for every row")
        now_known = before & ~eligible
        # Blocks that held a cell now known have fewer unknowns than when they passed: every
        # hidden unknown sharing a sum with such a cell is audited again (each part such a block
        # falls into holds one). Other blocks are the earlier result's own, which passed.
        touches_known = np.bincount(eqs.eq, weights=now_known[eqs.row], minlength=eqs.n_eq) > 0
        near_known = np.zeros(len(hidden), dtype=bool)
        near_known[eqs.row[touches_known[eqs.eq]]] = True
        before &= eligible
        hidden |= before
        audited = before & ~near_known
    by_preference = np.argsort(preference)
    with _one_blas_thread():
        while True:
            add = _set_rule(hidden, eqs, eligible, preference, by_preference)
            if not add.any():
                add = _fix_determined(table, hidden, eqs, eligible, preference, hidden & ~audited)
                audited = hidden.copy()
                if not add.any():
                    break
            hidden |= add
            if has_denominator:
                hidden[:n] |= hidden[n:]
    hidden_num = hidden[:n]
    hidden_den = hidden[n:] if has_denominator else np.zeros(n, dtype=bool)

    hide_num = pl.Series("__matneo_hide_num", hidden_num)
    hide_den = pl.Series("__matneo_hide_den", hidden_den)
    # numpy's stubs reject None here, but it is what makes an object array of reasons or None.
    reason = np.where(primary, PRIMARY, np.where(hidden_num, SECONDARY, None))  # type: ignore[call-overload]
    nulled = ["numerator", *[c for c in derived_columns if c in table.columns and c != "numerator"]]
    return (
        table.with_columns(hide_num, hide_den)
        .with_columns(
            *[pl.when(pl.col(hide_num.name)).then(None).otherwise(pl.col(c)).alias(c) for c in nulled],
            *(
                [pl.when(pl.col(hide_den.name)).then(None).otherwise(pl.col("denominator")).alias("denominator")]
                if has_denominator
                else []
            ),
            pl.col(hide_num.name).alias("suppressed"),
            pl.Series("suppression_reason", reason.tolist(), dtype=pl.String),
        )
        .drop(hide_num.name, hide_den.name)
    )


def assert_no_leak(
    published: pl.DataFrame,
    policy: SuppressionPolicy = DEFAULT_POLICY,
    sibling_keys: Sequence[Sequence[str]] | None = None,
    *,
    group_column: str | None = None,
    derived_columns: Sequence[str] = DERIVED_COLUMNS,
    relations: Relations | None = None,
    linear_audit: bool = True,
) -> None:
    """Raise :class:`DisclosureLeakError` if ``published`` would disclose a small count.

    For the tests and for the API layer, just before anything leaves the owning organisation.
    Checks that no shown numerator (or, under a denominator rule, denominator) is in the small
    range; that every suppressed row has no numerator, value or confidence limit; that
    ``suppressed`` and ``suppression_reason`` agree. With ``sibling_keys`` (same meaning as
    in :func:`suppress`) it also checks that no sibling set has exactly one hidden term and
    that no hidden numerator or denominator is determined by the published sums, and with
    ``relations`` by those sums and the identities between measures together.
    ``linear_audit=False`` skips that last check (the costly one): :func:`suppress` only
    returns once it passes, so a caller that has just suppressed the table may skip it; the
    tests run it on every table they publish. Right after :func:`suppress` of the same rows,
    the system of sums and identities that :func:`suppress` built is reused once its naming
    columns are found equal, value for value (the system depends on nothing else).
    """
    if "numerator" not in published.columns or "suppressed" not in published.columns:
        raise ValueError("a published table needs numerator and suppressed columns")
    if not published.height:  # nothing published, nothing to give away
        return
    problems: list[str] = []
    if published["suppressed"].null_count():
        problems.append("suppressed has missing values")
    suppressed = published["suppressed"].fill_null(False).to_numpy().astype(bool)
    numerator = published["numerator"].cast(pl.Float64).to_numpy()

    def report(mask: npt.NDArray[np.bool_], what: str) -> None:
        for row in np.flatnonzero(mask)[:10]:
            problems.append(f"{_describe(published, int(row))}: {what}")
        if mask.sum() > 10:
            problems.append(f"... and {int(mask.sum()) - 10} more rows: {what}")

    report(policy.small_numerator(numerator), "a numerator in the suppressed range is shown")
    report(suppressed & ~np.isnan(numerator), "suppressed but its numerator is shown")
    for column in derived_columns:
        if column in published.columns and column != "numerator":
            shown = published[column].is_not_null().to_numpy()
            report(suppressed & shown, f"suppressed but {column} is shown")
    has_denominator = "denominator" in published.columns
    denominator = published["denominator"].cast(pl.Float64).to_numpy() if has_denominator else None
    if denominator is not None:
        report(policy.small_denominator(denominator), "a denominator in the suppressed range is shown")
    if "suppression_reason" in published.columns:
        reason = published["suppression_reason"]
        report(suppressed & reason.is_null().to_numpy(), "suppressed without a suppression_reason")
        report(~suppressed & reason.is_not_null().to_numpy(), "has a suppression_reason but is not suppressed")
        report(
            reason.is_not_null().to_numpy() & ~reason.is_in([PRIMARY, SECONDARY]).fill_null(False).to_numpy(),
            "suppression_reason is neither primary nor secondary",
        )
    if sibling_keys is not None:
        group = _group_column(published, group_column)
        n = published.height
        eqs = _linked_equations(
            published, _check_keys(published, sibling_keys), group, relations, denominator is not None
        )
        hidden = suppressed.copy()
        if denominator is not None:
            hidden = np.concatenate([suppressed, suppressed & np.isnan(denominator)])
        single = _single_hidden(hidden, eqs)
        lone = np.zeros(len(hidden), dtype=bool)
        lone[eqs.row[single[eqs.eq] & hidden[eqs.row]]] = True
        determined = np.zeros(len(hidden), dtype=bool)
        try:
            with _one_blas_thread():
                for block in _determined(hidden, eqs) if linear_audit else ():
                    determined[block.rows[block.determined]] = True
        except DisclosureError as error:
            problems.append(f"cannot be audited: {error}")
        for offset, quantity in zip(range(0, len(hidden), n), _QUANTITIES, strict=False):
            part = slice(offset, offset + n)
            report(lone[part], f"the only suppressed {quantity} of a sibling set or identity: the rest give it back")
            report(determined[part] & ~lone[part], f"its {quantity} can be worked out from the published figures")
    if problems:
        raise DisclosureLeakError("disclosive table:\n" + "\n".join(problems))
