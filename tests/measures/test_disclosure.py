"""Disclosure control: primary and secondary suppression, the linear audit, and the leak checker.

The worked examples are written as small tables: one row per cell, ``expect`` is ``P``
(primary suppression), ``S`` (secondary) or ``.`` (shown). An empty cell is a null.
"""

from __future__ import annotations

import datetime as dt
import itertools
import textwrap
from collections import defaultdict

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matneo.measures.disclosure import (
    DEFAULT_POLICY,
    DERIVED_COLUMNS,
    SUPPRESSION_THRESHOLD,
    DisclosureError,
    DisclosureLeakError,
    SuppressionPolicy,
    assert_no_leak,
    default_sibling_keys,
    suppress,
)

PERIOD = {"period_start": dt.date(2024, 4, 1), "period_end": dt.date(2025, 3, 31)}
COLUMN_NAMES = {"org": "org_code", "parent": "parent_code", "num": "numerator", "den": "denominator"}
MARKS = {".": None, "P": "primary", "S": "secondary"}
NO_DENOMINATOR_RULE = SuppressionPolicy(suppress_denominator_below=None)


def parse(text: str) -> tuple[pl.DataFrame, list[str | None]]:
    """A measure table from an ASCII table, and the expected suppression_reason per row."""
    lines = [line for line in textwrap.dedent(text).strip().splitlines() if line.strip()]
    header = [COLUMN_NAMES.get(h.strip(), h.strip()) for h in lines[0].split("|")]
    cells = [[c.strip() or None for c in line.split("|")] for line in lines[1:]]
    columns = {name: [row[i] for row in cells] for i, name in enumerate(header)}
    expected = [MARKS[mark or "."] for mark in columns.pop("expect", [None] * len(cells))]
    data: dict[str, list[object]] = {"measure": ["stillbirth_rate"] * len(cells), "level": ["x"] * len(cells)}
    data |= {k: v for k, v in columns.items() if k not in ("numerator", "denominator")}
    numerator = [int(v) for v in columns["numerator"]]
    denominator = [int(v) for v in columns["denominator"]] if "denominator" in columns else [1000] * len(cells)
    frame = pl.DataFrame(data).with_columns(
        pl.lit(PERIOD["period_start"]).alias("period_start"),
        pl.lit(PERIOD["period_end"]).alias("period_end"),
        pl.Series("numerator", numerator, dtype=pl.Int64),
        pl.Series("denominator", denominator, dtype=pl.Int64),
    )
    value = pl.col("numerator") / pl.col("denominator") * 1000
    return frame.with_columns(
        value.alias("value"),
        (value * 0.5).alias("lower95"),
        (value * 1.5 + 1).alias("upper95"),
        (value * 0.3).alias("lower998"),
        (value * 2 + 2).alias("upper998"),
    ), expected


def check(
    text: str,
    policy: SuppressionPolicy = NO_DENOMINATOR_RULE,
    keys: list[list[str]] | None = None,
) -> pl.DataFrame:
    """Suppress the table in ``text`` and compare with its ``expect`` column; return the result."""
    table, expected = parse(text)
    keys = default_sibling_keys(table) if keys is None else keys
    out = suppress(table, policy, keys)
    assert out["suppression_reason"].to_list() == expected
    assert out["suppressed"].to_list() == [e is not None for e in expected]
    assert_unchanged_where_shown(table, out)
    assert_no_leak(out, policy, keys)
    return out


def assert_unchanged_where_shown(table: pl.DataFrame, out: pl.DataFrame) -> None:
    """Shown rows are untouched; suppressed rows lose the numerator and everything derived from it."""
    assert out.columns == [*table.columns, "suppressed", "suppression_reason"]
    assert out.height == table.height
    shown = ~out["suppressed"]
    for column in table.columns:
        if column == "denominator":
            continue
        assert out.filter(shown)[column].to_list() == table.filter(shown)[column].to_list(), column
    hidden = out.filter(out["suppressed"])
    for column in ["numerator", *[c for c in DERIVED_COLUMNS if c in table.columns]]:
        assert hidden[column].null_count() == hidden.height, column
    kept = out["denominator"].is_not_null()
    assert out.filter(kept)["denominator"].to_list() == table.filter(kept)["denominator"].to_list()


# --------------------------------------------------------------------------------------
# Worked examples
# --------------------------------------------------------------------------------------


def test_primary_only_without_sibling_sets() -> None:
    check(
        """
        org | num | expect
        A   | 3   | P
        B   | 12  | .
        C   | 0   | .
        D   | 7   | P
        E   | 8   | .
        F   | 1   | P
        """,
        keys=[],
    )


def test_one_suppressed_child_forces_a_secondary() -> None:
    # L = A + B + C is published, so A would be 30 − 12 − 15: B, the next smallest, goes too.
    check(
        """
        org | parent | num | expect
        L   |        | 30  | .
        A   | L      | 3   | P
        B   | L      | 12  | S
        C   | L      | 15  | .
        """
    )


def test_two_suppressed_children_need_no_secondary() -> None:
    check(
        """
        org | parent | num | expect
        L   |        | 23  | .
        A   | L      | 3   | P
        B   | L      | 5   | P
        C   | L      | 15  | .
        """
    )


def test_secondary_suppression_chains_across_hierarchy_and_groups() -> None:
    # A/g1 is small. In the g1 hierarchy set B/g1 (10) is hidden; in A's group set A/g2 is
    # hidden. Each of those leaves a set with one hidden cell (B's groups; the g2 trusts),
    # which B/g2 closes.
    check(
        """
        org | parent | group | num | expect
        L   |        | g1    | 13  | .
        L   |        | g2    | 40  | .
        A   | L      | g1    | 3   | P
        A   | L      | g2    | 20  | S
        B   | L      | g1    | 10  | S
        B   | L      | g2    | 20  | S
        """
    )


def test_ties_are_broken_by_org_code_then_group() -> None:
    check(
        """
        org | parent | num | expect
        L   |        | 23  | .
        C   | L      | 10  | .
        A   | L      | 3   | P
        B   | L      | 10  | S
        """
    )
    check(
        """
        org | group | num | expect
        A   | g3    | 10  | .
        A   | g1    | 3   | P
        A   | g2    | 10  | S
        """
    )


def test_zero_is_shown_and_never_chosen_while_a_non_zero_cell_is_available() -> None:
    # Hiding B (0) beside A would only reveal that A + B = 3.
    check(
        """
        org | parent | num | expect
        L   |        | 15  | .
        A   | L      | 3   | P
        B   | L      | 0   | .
        C   | L      | 12  | S
        """
    )


def test_zero_is_suppressed_when_the_policy_says_so() -> None:
    check(
        """
        org | parent | num | expect
        L   |        | 15  | .
        A   | L      | 3   | P
        B   | L      | 0   | P
        C   | L      | 12  | .
        """,
        policy=SuppressionPolicy(suppress_zero=True, suppress_denominator_below=None),
    )


def test_a_zero_is_the_secondary_when_nothing_else_is_left() -> None:
    # The LMNS total (3) is published elsewhere, not in this table.
    check(
        """
        org | parent | num | expect
        A   | L      | 3   | P
        B   | L      | 0   | S
        """
    )


def test_nothing_to_suppress() -> None:
    out = check(
        """
        org | parent | group | num | expect
        L   |        | g1    | 40  | .
        L   |        | g2    | 0   | .
        A   | L      | g1    | 12  | .
        A   | L      | g2    | 0   | .
        B   | L      | g1    | 28  | .
        B   | L      | g2    | 0   | .
        """
    )
    assert out["suppression_reason"].null_count() == out.height


def test_a_parent_with_a_single_child_is_suppressed_with_it() -> None:
    # L's only trust is A, so L's row *is* A's row: hiding A/g2 (to protect A/g1 within A's
    # groups) means hiding L/g2 too, or L/g2 − (nothing) gives it back.
    check(
        """
        org | parent | group | num | expect
        L   |        | g1    | 3   | P
        L   |        | g2    | 20  | S
        A   | L      | g1    | 3   | P
        A   | L      | g2    | 20  | S
        """
    )


def test_a_hidden_parent_is_protected_from_the_sum_of_its_children() -> None:
    # L1 is hidden to protect L2 within region R; L1 = A + B would give it back, so A goes too.
    check(
        """
        org | parent | num | expect
        R   |        | 100 | .
        L1  | R      | 40  | S
        L2  | R      | 3   | P
        A   | L1     | 20  | S
        B   | L1     | 20  | .
        C   | L2     | 3   | P
        """
    )


def test_all_groups_row_is_the_total_of_the_groups() -> None:
    # A's all-groups row (null group) is published, so A/g2 must go with A/g1.
    check(
        """
        org | group | num | expect
        A   |       | 33  | .
        A   | g1    | 3   | P
        A   | g2    | 12  | S
        A   | g3    | 18  | .
        """
    )


def test_small_denominator_hides_the_row_and_its_denominator_with_a_secondary() -> None:
    out = check(
        """
        org | parent | num | den | expect
        L   |        | 30  | 300 | .
        A   | L      | 0   | 5   | P
        B   | L      | 10  | 100 | S
        C   | L      | 20  | 195 | .
        """,
        policy=DEFAULT_POLICY,
    )
    assert out["denominator"].to_list() == [300, None, None, 195]


def test_denominator_is_kept_for_numerator_suppression_and_without_a_denominator_rule() -> None:
    out = check(
        """
        org | parent | num | den | expect
        L   |        | 30  | 300 | .
        A   | L      | 0   | 5   | .
        B   | L      | 3   | 100 | P
        C   | L      | 27  | 195 | S
        """,
        policy=NO_DENOMINATOR_RULE,
    )
    assert out["denominator"].to_list() == [300, 5, 100, 195]


BRIDGE = """
    org | group | num | expect
    A   | g1    | 3   | P
    A   | g2    | 4   | P
    A   | g5    | 100 | S
    B   | g1    | 2   | P
    B   | g2    | 5   | P
    B   | g3    | 6   | P
    C   | g3    | 7   | P
    C   | g4    | 50  | S
    D   | g3    | 60  | S
    D   | g4    | 70  | S
    D   | g6    | 80  | S
    E   | g5    | 200 | S
    F   | g6    | 90  | S
    """
ROWS_AND_COLUMNS = [
    ["measure", "period_start", "period_end", "org_code"],
    ["measure", "period_start", "period_end", "group"],
]
AUDIT_ONLY = [("A", "g5"), ("E", "g5"), ("D", "g6"), ("F", "g6")]


def test_linear_audit_protects_a_cell_that_no_single_sum_reveals() -> None:
    # Totals of every org (row) and group (column) are published elsewhere. The set rule
    # leaves every row and column with 0 or at least 2 hidden cells, but B/g3 is a bridge
    # between the A,B × g1,g2 block and the C,D × g3,g4 block, and each block gives it away:
    # (row A + row B) − (g1 + g2) = A/g5 + B/g3 and g3 − (row C + row D − g4) = B/g3 − D/g6.
    # The audit hides D/g6 and A/g5 (and the set rule then F/g6 and E/g5).
    out = check(BRIDGE, keys=ROWS_AND_COLUMNS)
    audit_only = pl.concat_list("org_code", "group").list.join("/").is_in([f"{o}/{g}" for o, g in AUDIT_ONLY])
    set_rule_only = out.with_columns(
        pl.when(audit_only).then(False).otherwise(pl.col("suppressed")).alias("suppressed"),
        pl.when(audit_only).then(None).otherwise(pl.col("suppression_reason")).alias("suppression_reason"),
        pl.when(audit_only).then(100).otherwise(pl.col("numerator")).alias("numerator"),
    )
    with pytest.raises(DisclosureLeakError, match=r"org_code=B.*group=g3: its numerator can be worked out"):
        assert_no_leak(set_rule_only, NO_DENOMINATOR_RULE, ROWS_AND_COLUMNS)


def test_unprotectable_table_raises() -> None:
    # Without g5 and g6 every term of every sum around B/g3 is hidden already: only the
    # external totals could be, and they are not in the table.
    table, _ = parse("\n".join(line for line in BRIDGE.splitlines() if "g5" not in line and "g6" not in line))
    with pytest.raises(DisclosureError, match=r"org_code=B.*group=g3.*add the totals published elsewhere"):
        suppress(table, NO_DENOMINATOR_RULE, ROWS_AND_COLUMNS)


def test_works_on_compute_output_with_a_breakdown_column_and_placeholder_flag() -> None:
    table, _ = parse(
        """
        org | parent | group | num
        L   |        | White | 40
        L   |        | Black | 4
        A   | L      | White | 25
        A   | L      | Black | 4
        B   | L      | White | 15
        B   | L      | Black | 0
        """
    )
    table = table.rename({"group": "ethnic_group"}).with_columns(pl.lit(False).alias("suppressed"))
    keys = default_sibling_keys(table)
    assert keys == [
        ["measure", "period_start", "period_end", "ethnic_group", "parent_code"],
        ["measure", "period_start", "period_end", "level", "org_code"],
    ]
    out = suppress(table, NO_DENOMINATOR_RULE, keys)
    assert out.columns == [*table.columns, "suppression_reason"]
    assert out.select("org_code", "ethnic_group", "suppression_reason").rows() == [
        ("L", "White", "secondary"),
        ("L", "Black", "primary"),
        ("A", "White", "secondary"),
        ("A", "Black", "primary"),
        ("B", "White", None),
        ("B", "Black", None),
    ]
    # L/Black and A/Black are hidden, so L's and A's groups each need a second hidden cell. B's
    # groups need none, and B/White is not fixed by the sums: L/White − A/White = B/White is
    # one equation in two unknowns.
    assert out.schema == {**table.schema, "suppression_reason": pl.String}


def test_empty_table() -> None:
    table, _ = parse("org | parent | num | expect\nA | L | 3 | P")
    out = suppress(table.clear(), DEFAULT_POLICY, default_sibling_keys(table))
    assert out.height == 0
    assert out.columns[-2:] == ["suppressed", "suppression_reason"]


# --------------------------------------------------------------------------------------
# Policy and input validation
# --------------------------------------------------------------------------------------


def test_default_policy_follows_the_nhs_secondary_care_rule() -> None:
    assert SUPPRESSION_THRESHOLD == 8
    assert DEFAULT_POLICY.threshold == 8
    assert DEFAULT_POLICY.suppress_zero is False
    assert DEFAULT_POLICY.suppress_denominator_below == 8
    assert "Disclosure control methodology for Hospital Episode Statistics" in DEFAULT_POLICY.source
    assert "needs local confirmation" in DEFAULT_POLICY.source
    small = DEFAULT_POLICY.small_numerator([0, 1, 7, 8, np.nan])
    assert small.tolist() == [False, True, True, False, False]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"threshold": 0},
        {"threshold": 2.5},
        {"threshold": True},
        {"suppress_zero": 1},
        {"suppress_denominator_below": 0},
        {"suppress_denominator_below": False},
        {"source": " "},
    ],
)
def test_invalid_policy(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        SuppressionPolicy(**kwargs)  # type: ignore[arg-type]


def test_threshold_one_suppresses_nothing() -> None:
    assert not SuppressionPolicy(threshold=1).small_numerator([0, 1, 2]).any()


@pytest.mark.parametrize(
    ("change", "keys", "message"),
    [
        (lambda t: t, ["measure", "parent_code"], "list of column lists"),
        (lambda t: t, [["measure", "nope"]], "not in the table"),
        (lambda t: t, [[]], "at least one column"),
        (lambda t: t, [["org_code", "parent_code"]], "both parent_code and org_code"),
        (lambda t: t.drop("numerator"), [], "no numerator"),
        (lambda t: pl.concat([t, t]), [], "not unique"),
        (lambda t: t.with_columns(pl.lit(True).alias("suppressed")), [], "already suppressed"),
        (lambda t: t.with_columns(pl.lit("primary").alias("suppression_reason")), [], "already suppressed"),
        (lambda t: t.with_columns(-pl.col("numerator")), [], "must not be negative"),
        (lambda t: t.with_columns(pl.col("org_code").alias("parent_code")), [["parent_code"]], "its own parent"),
        (lambda t: t.with_columns(pl.lit("x").alias("group")), [], "several group columns"),
    ],
)
def test_invalid_input(change, keys, message: str) -> None:  # type: ignore[no-untyped-def]
    table, _ = parse(
        """
        org | parent | ethnic_group | num | expect
        L   |        | White        | 30  | .
        A   | L      | White        | 30  | .
        """
    )
    with pytest.raises(ValueError, match=message):
        suppress(change(table), DEFAULT_POLICY, keys)


def test_ambiguous_parent_needs_the_group_column_in_the_key() -> None:
    table, _ = parse(
        """
        org | parent | group | num | expect
        L   |        | g1    | 30  | .
        L   |        | g2    | 30  | .
        A   | L      | g1    | 30  | .
        A   | L      | g2    | 30  | .
        """
    )
    with pytest.raises(ValueError, match="matches several rows"):
        suppress(table, DEFAULT_POLICY, [["measure", "parent_code"]])


def test_several_all_groups_rows_in_one_set_are_rejected() -> None:
    table, _ = parse(
        """
        org | group | num | expect
        A   |       | 30  | .
        B   |       | 30  | .
        """
    )
    with pytest.raises(ValueError, match="several rows with a null"):
        suppress(table, DEFAULT_POLICY, [["measure"]])


# --------------------------------------------------------------------------------------
# assert_no_leak
# --------------------------------------------------------------------------------------


def published(text: str, policy: SuppressionPolicy = NO_DENOMINATOR_RULE) -> pl.DataFrame:
    table, _ = parse(text)
    return suppress(table, policy, default_sibling_keys(table))


TWO_TRUSTS = """
    org | parent | num | den | expect
    L   |        | 30  | 300 | .
    A   | L      | 3   | 100 | P
    B   | L      | 12  | 100 | S
    C   | L      | 15  | 100 | .
    """


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        (
            lambda t: t.with_columns(pl.Series("numerator", [30, 3, 12, 15])),
            "a numerator in the suppressed range is shown",
        ),
        (lambda t: t.with_columns(pl.lit(1.0).alias("upper998")), "suppressed but upper998 is shown"),
        (lambda t: t.with_columns(pl.col("numerator").fill_null(99)), "suppressed but its numerator is shown"),
        (lambda t: t.with_columns(pl.lit(None, pl.String).alias("suppression_reason")), "without a suppression_reason"),
        (lambda t: t.with_columns(pl.lit("primary").alias("suppression_reason")), "but is not suppressed"),
        (
            lambda t: t.with_columns(pl.when(pl.col("suppressed")).then(pl.lit("other")).alias("suppression_reason")),
            "neither primary nor secondary",
        ),
        (
            lambda t: t.with_columns(
                pl.when(pl.col("org_code") == "B").then(False).otherwise(pl.col("suppressed")).alias("suppressed"),
                pl.when(pl.col("org_code") == "B")
                .then(None)
                .otherwise(pl.col("suppression_reason"))
                .alias("suppression_reason"),
            ),
            "org_code=A.*the only suppressed numerator of a sibling set or identity",
        ),
        (lambda t: t.with_columns(pl.lit(None, pl.Boolean).alias("suppressed")), "suppressed has missing values"),
    ],
)
def test_assert_no_leak_catches(tamper, message: str) -> None:  # type: ignore[no-untyped-def]
    out = published(TWO_TRUSTS)
    assert_no_leak(out, NO_DENOMINATOR_RULE, default_sibling_keys(out))
    with pytest.raises(DisclosureLeakError, match=message):
        assert_no_leak(tamper(out), NO_DENOMINATOR_RULE, default_sibling_keys(out))


def test_assert_no_leak_checks_denominators_under_a_denominator_rule() -> None:
    out = published(TWO_TRUSTS.replace("| 3   | 100 |", "| 3   | 5   |"))
    with pytest.raises(DisclosureLeakError, match="a denominator in the suppressed range is shown"):
        assert_no_leak(out, DEFAULT_POLICY)
    hidden = suppress(parse(TWO_TRUSTS.replace("| 3   | 100 |", "| 3   | 5   |"))[0], DEFAULT_POLICY, [])
    with pytest.raises(DisclosureLeakError, match=r"org_code=A.*the only suppressed denominator"):
        assert_no_leak(hidden, DEFAULT_POLICY, default_sibling_keys(hidden))


def test_assert_no_leak_reports_many_rows_briefly() -> None:
    table = pl.DataFrame({"org_code": [f"T{i:02}" for i in range(25)], "numerator": [1] * 25, "suppressed": False})
    with pytest.raises(DisclosureLeakError, match=r"\.\.\. and 15 more rows"):
        assert_no_leak(table)


def test_assert_no_leak_needs_the_flag() -> None:
    with pytest.raises(ValueError, match="numerator and suppressed"):
        assert_no_leak(pl.DataFrame({"numerator": [10]}))


# --------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------

PROFILE = settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow])
counts = st.one_of(st.integers(0, 9), st.integers(0, 60))


@st.composite
def policies(draw: st.DrawFn) -> SuppressionPolicy:
    return SuppressionPolicy(
        threshold=draw(st.integers(1, 10)),
        suppress_zero=draw(st.booleans()),
        suppress_denominator_below=draw(st.none() | st.integers(1, 12)),
    )


@st.composite
def hierarchy_tables(draw: st.DrawFn) -> tuple[pl.DataFrame, list[list[str]]]:
    """England → regions → LMNSs → trusts, optionally by group (with or without all-groups rows).

    Leaf counts are random; every other row is the sum of its children, as in a real table.
    """
    parent = {"E": None}
    level = {"E": "england"}
    for r in range(draw(st.integers(1, 3))):
        parent[f"R{r}"], level[f"R{r}"] = "E", "region"
        for m in range(draw(st.integers(1, 3))):
            parent[f"R{r}L{m}"], level[f"R{r}L{m}"] = f"R{r}", "lmns"
            for t in range(draw(st.integers(1, 3))):
                parent[f"R{r}L{m}T{t}"], level[f"R{r}L{m}T{t}"] = f"R{r}L{m}", "trust"
    n_groups = draw(st.integers(0, 3))
    groups: list[str | None] = [f"g{g}" for g in range(n_groups)] or [None]
    with_all_groups = n_groups > 0 and draw(st.booleans())
    leaves = [o for o in parent if o not in parent.values()]
    num: dict[tuple[str, str | None], int] = defaultdict(int)
    den: dict[tuple[str, str | None], int] = defaultdict(int)
    for leaf, group in itertools.product(leaves, groups):
        n = draw(counts)
        d = n + draw(counts)
        node: str | None = leaf
        while node is not None:
            for g in [group, None] if with_all_groups else [group]:
                num[node, g] += n
                den[node, g] += d
            node = parent[node]
    rows = [
        {"org_code": o, "level": level[o], "parent_code": parent[o], "group": g, "numerator": num[o, g]}
        | {"denominator": den[o, g]}
        for (o, g) in num
    ]
    table = pl.DataFrame(rows, schema_overrides={"parent_code": pl.String, "group": pl.String}).with_columns(
        pl.lit("m").alias("measure"),
        pl.lit(PERIOD["period_start"]).alias("period_start"),
        pl.lit(PERIOD["period_end"]).alias("period_end"),
        (pl.col("numerator") / pl.col("denominator")).alias("value"),
        (pl.col("numerator") / (pl.col("denominator") + 1)).alias("lower95"),
    )
    if n_groups == 0:
        table = table.drop("group")
    keys = default_sibling_keys(table)
    chosen = draw(st.sampled_from([keys, keys[:1], keys[-1:]]))
    return table, chosen


@st.composite
def grid_tables(draw: st.DrawFn) -> tuple[pl.DataFrame, list[list[str]]]:
    """Some cells of an organisation × group grid; every sibling total is published elsewhere."""
    cells = draw(
        st.lists(
            st.tuples(st.sampled_from("ABCDE"), st.sampled_from(["g1", "g2", "g3", "g4"])), min_size=1, unique=True
        )
    )
    numerators = draw(st.lists(counts, min_size=len(cells), max_size=len(cells)))
    extra = draw(st.lists(counts, min_size=len(cells), max_size=len(cells)))
    table = pl.DataFrame(
        {
            "measure": "m",
            "org_code": [c[0] for c in cells],
            "group": [c[1] for c in cells],
            "numerator": numerators,
            "denominator": [n + e for n, e in zip(numerators, extra, strict=True)],
        }
    ).with_columns((pl.col("numerator") / pl.col("denominator")).alias("value"))
    by_org, by_group = ["measure", "org_code"], ["measure", "group"]
    keys = draw(st.sampled_from([[by_org, by_group], [by_org], [by_group], []]))
    return table, keys


def oracle_equations(table: pl.DataFrame, keys: list[list[str]]) -> list[dict[int, int]]:
    """The published sums, rebuilt independently from the documented meaning of sibling keys."""
    records = table.rows(named=True)
    has_group = "group" in table.columns
    equations = []
    for key in keys:
        sets: dict[tuple[object, ...], list[int]] = defaultdict(list)
        for i, r in enumerate(records):
            if "parent_code" in key and r["parent_code"] is None:
                continue
            sets[tuple(r[c] for c in key)].append(i)
        for members in sets.values():
            first = records[members[0]]
            if "parent_code" in key:
                same = [c for c in key if c not in ("parent_code", "level")]
                totals = [
                    i
                    for i, r in enumerate(records)
                    if r["org_code"] == first["parent_code"] and all(r[c] == first[c] for c in same)
                ]
                terms = members
            elif has_group and "group" not in key:
                totals = [i for i in members if records[i]["group"] is None]
                terms = [i for i in members if records[i]["group"] is not None]
            else:
                totals, terms = [], members
            assert len(totals) <= 1
            if (totals and terms) or len(terms) > 1:
                equations.append({**dict.fromkeys(terms, 1), **dict.fromkeys(totals, -1)})
    return equations


def oracle_determined(equations: list[dict[int, int]], hidden: np.ndarray) -> set[int]:
    """Hidden cells fixed by the sums: e_j in the row space of the sums restricted to hidden cells."""
    cells = np.flatnonzero(hidden)
    if not len(cells) or not equations:
        return set()
    index = {c: k for k, c in enumerate(cells)}
    a = np.zeros((len(equations), len(cells)))
    for e, eq in enumerate(equations):
        for row, coef in eq.items():
            if row in index:
                a[e, index[row]] = coef
    rank = np.linalg.matrix_rank(a)
    return {c for c in cells if np.linalg.matrix_rank(np.vstack([a, np.eye(len(cells))[index[c]]])) == rank}


def check_protected(table: pl.DataFrame, out: pl.DataFrame, policy: SuppressionPolicy, keys: list[list[str]]) -> None:
    assert_no_leak(out, policy, keys)
    numerator = table["numerator"].to_numpy().astype(float)
    denominator = table["denominator"].to_numpy().astype(float)
    suppressed = out["suppressed"].to_numpy()
    den_hidden = out["denominator"].is_null().to_numpy()
    primary = policy.small_numerator(numerator) | policy.small_denominator(denominator)
    assert (out["suppression_reason"].to_numpy() == "primary").tolist() == primary.tolist()
    assert (suppressed >= primary).all()
    assert (den_hidden <= suppressed).all()
    assert (policy.small_denominator(denominator) <= den_hidden).all()
    for column in table.columns:
        if column != "denominator":
            assert out.filter(~out["suppressed"])[column].equals(table.filter(~out["suppressed"])[column])
    equations = oracle_equations(table, keys)
    for hidden in (suppressed, den_hidden):
        for eq in equations:
            assert sum(bool(hidden[row]) for row in eq) != 1, eq
        assert oracle_determined(equations, hidden) == set()


@PROFILE
@given(hierarchy_tables(), policies())
def test_hierarchy_tables_are_protected(case: tuple[pl.DataFrame, list[list[str]]], policy: SuppressionPolicy) -> None:
    table, keys = case
    check_protected(table, suppress(table, policy, keys), policy, keys)


@PROFILE
@given(grid_tables(), policies())
def test_grids_are_protected_or_refused_only_when_unprotectable(
    case: tuple[pl.DataFrame, list[list[str]]], policy: SuppressionPolicy
) -> None:
    table, keys = case
    try:
        out = suppress(table, policy, keys)
    except DisclosureError:
        # Refusing is right only if even hiding every cell leaves a cell fixed by the
        # external totals.
        assert oracle_determined(oracle_equations(table, keys), np.ones(table.height, dtype=bool))
        return
    check_protected(table, out, policy, keys)


@PROFILE
@given(hierarchy_tables(), policies(), st.randoms(use_true_random=False))
def test_result_does_not_depend_on_row_order(
    case: tuple[pl.DataFrame, list[list[str]]], policy: SuppressionPolicy, random: object
) -> None:
    table, keys = case
    order = list(range(table.height))
    random.shuffle(order)  # type: ignore[attr-defined]
    shuffled = table[order]
    direct = suppress(table, policy, keys)[order]
    assert suppress(shuffled, policy, keys).equals(direct)
