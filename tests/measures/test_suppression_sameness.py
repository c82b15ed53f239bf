"""The faster suppression gives exactly what the old one gave (issue 10, first views).

``disclosure_reference`` is a frozen copy of ``matneo.measures.disclosure`` from before the
speed-up. On a small synthetic national dataset, for readers of several scopes (nobody, a
trust, an LMNS, a region), every period type and both breakdowns, the whole multi-period
table and single periods are suppressed by both, and the results must be equal cell for cell
(or both refuse the table with the same message).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from matneo.config import Settings
from matneo.db.session import upgrade
from matneo.measures import disclosure
from matneo.measures.compute import PERIODS
from matneo.measures.results import BREAKDOWN_PERIODS, ResultCache, _start_from
from matneo.records.load import load_files
from matneo.reference.organisations import OrgHierarchy
from matneo.synth import write_dataset

from . import disclosure_reference as reference


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory, hierarchy: OrgHierarchy) -> ResultCache:
    """Three years of synthetic births for every trust at a small scale: plenty of 1–7 counts."""
    home = tmp_path_factory.mktemp("sameness")
    settings = Settings(home=home, database_url=f"sqlite:///{home / 'matneo.db'}")
    settings.ensure_dirs()
    upgrade(settings.database_url, hierarchy)
    files = write_dataset(home / "synth", [2022, 2023, 2024], scale=0.03, seed=5, hierarchy=hierarchy)
    load_files(files, settings, hierarchy)
    return ResultCache(settings, hierarchy)


def _below(hierarchy: OrgHierarchy, code: str) -> frozenset[str]:
    found = {code}
    for child in hierarchy.children(code):
        found |= _below(hierarchy, child.code)
    return frozenset(found)


def _scopes(hierarchy: OrgHierarchy) -> dict[str, frozenset[str]]:
    trust = hierarchy.trusts()[3]
    lmns = hierarchy.organisations[trust.parent_code or ""]
    region = hierarchy.organisations[lmns.parent_code or ""]
    return {
        "nobody": frozenset(),
        "trust": frozenset({trust.code}),
        "lmns": _below(hierarchy, lmns.code),
        "region": _below(hierarchy, region.code),
    }


def _outcome(run: Callable[[], pl.DataFrame]) -> tuple[str, Any]:
    try:
        return "table", run()
    except (disclosure.DisclosureError, reference.DisclosureError) as error:
        return "refused", str(error)


def _same(table: pl.DataFrame, hierarchy: OrgHierarchy, relations: Any) -> None:
    parents = {code: org.parent_code for code, org in hierarchy.organisations.items()}
    table = table.with_columns(
        pl.col("org_code").replace_strict(parents, default=None, return_dtype=pl.String).alias("parent_code")
    )
    keys = disclosure.default_sibling_keys(table)
    new = _outcome(lambda: disclosure.suppress(table, disclosure.DEFAULT_POLICY, keys, relations=relations))
    old = _outcome(lambda: reference.suppress(table, reference.DEFAULT_POLICY, keys, relations=relations))
    assert new[0] == old[0], (new, old)
    if new[0] == "refused":
        assert new[1] == old[1]
        return
    assert_frame_equal(new[1], old[1], check_exact=True)
    # the safety net passes on what is published, full linear audit included
    disclosure.assert_no_leak(new[1], disclosure.DEFAULT_POLICY, keys, relations=relations)


CASES = [(p, None) for p in PERIODS] + [(p, by) for p in BREAKDOWN_PERIODS for by in ("ethnic_group", "imd_quintile")]


@pytest.mark.slow
@pytest.mark.parametrize(("period", "by"), CASES, ids=[f"{p}-{b}" for p, b in CASES])
def test_suppression_is_unchanged(results: ResultCache, hierarchy: OrgHierarchy, period: str, by: str | None) -> None:
    whole = results.table(period, by)
    relations = results.relations(by)
    starts = sorted(set(whole["period_start"].to_list()))
    assert starts, "no periods: the dataset is too short for this period type"
    # the last 12 periods (60 months on a page; fewer here to keep the test short), and the last alone
    recent = whole.filter(pl.col("period_start").is_in(starts[-12:]))
    for known in _scopes(hierarchy).values():
        masked = recent.with_columns(
            [
                pl.when(pl.col("org_code").is_in(list(known))).then(None).otherwise(pl.col(c)).alias(c)
                for c in ("numerator", "denominator")
            ]
        )
        _same(masked, hierarchy, relations)
        _same(masked.filter(pl.col("period_start") == starts[-1]), hierarchy, relations)


# -- a reader's suppression started from the public one ----------------------------------------


def _flags(safe: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    hidden = safe["suppressed"].to_numpy()
    return hidden, hidden & safe["denominator"].is_null().to_numpy()


def _started_readers(table: pl.DataFrame, hierarchy: OrgHierarchy, relations: Any) -> int:
    """Suppress ``table`` for the public, then for each reader starting from it; check each reader's
    result; return how many readers could start (the public was not refused, nor the reader)."""
    keys = disclosure.default_sibling_keys(table)
    public = _outcome(lambda: disclosure.suppress(table, disclosure.DEFAULT_POLICY, keys, relations=relations))
    if public[0] == "refused":  # withheld whole: no audited pattern to start from (ResultCache does not)
        return 0
    before = _flags(public[1])
    started = 0
    for name, known in _scopes(hierarchy).items():
        if not known:
            continue
        own = table["org_code"].is_in(list(known)).to_numpy()
        masked = table.with_columns(
            [
                pl.when(pl.col("org_code").is_in(list(known))).then(None).otherwise(pl.col(c)).alias(c)
                for c in ("numerator", "denominator")
            ]
        )
        outcome = _outcome(
            lambda masked=masked: disclosure.suppress(
                masked, disclosure.DEFAULT_POLICY, keys, relations=relations, hidden_before=before
            )
        )
        if outcome[0] == "refused":
            continue
        started += 1
        safe = outcome[1]
        disclosure.assert_no_leak(safe, disclosure.DEFAULT_POLICY, keys, relations=relations)
        hidden = safe["suppressed"].to_numpy()
        assert (hidden | own)[before[0]].all(), f"{name}: a cell the public suppression hid is shown"
        assert not hidden[own].any(), f"{name}: the reader's own figures are hidden from them"
    return started


@pytest.mark.slow
@pytest.mark.parametrize("period", PERIODS)
def test_a_reader_started_from_the_public_suppression_is_protected(
    results: ResultCache, hierarchy: OrgHierarchy, period: str
) -> None:
    """Issue 10: a reader's suppression starts from the public one and audits again only the
    blocks of sums their own figures took part in. What comes out must pass the full linear
    audit (every block, not only those), keep hidden every cell the public hid that the reader
    does not know, and never hide the reader's own figures. (Breakdowns: at this scale the public
    suppression of every period by group is withheld whole, so a reader starts from nothing, as
    ``test_suppression_is_unchanged`` checks.)"""
    whole = results.table(period)
    relations = results.relations()
    starts = sorted(set(whole["period_start"].to_list()))
    parents = {code: org.parent_code for code, org in hierarchy.organisations.items()}
    recent = whole.filter(pl.col("period_start").is_in(starts[-12:])).with_columns(
        pl.col("org_code").replace_strict(parents, default=None, return_dtype=pl.String).alias("parent_code")
    )
    assert _started_readers(recent, hierarchy, relations), "no reader's suppression could start from the public one"


def test_a_reader_starting_from_the_public_suppression_keeps_its_hidden_cells_and_protects_them() -> None:
    """Trust A's 3 stillbirths are small: the public hides A and, as its complement, B (the smaller
    of the others). A's own staff know A. Started from the public pattern, B stays hidden (the
    public and every other reader cannot see it either), and B is now the only hidden term of
    L = A + B + C, which A's staff could work out as 63 − 3 − 40: C is hidden with it. Suppressed
    from nothing, A's staff would see every figure (nothing of theirs is small to them)."""
    table = _small_table()
    keys = disclosure.default_sibling_keys(table)
    public = disclosure.suppress(table, disclosure.DEFAULT_POLICY, keys)
    assert public["suppressed"].to_list() == [False, True, True, False]
    staff = table.with_columns(
        pl.when(pl.col("org_code") == "A").then(None).otherwise(pl.col(c)).alias(c)
        for c in ("numerator", "denominator")
    )
    started = disclosure.suppress(staff, disclosure.DEFAULT_POLICY, keys, hidden_before=_flags(public))
    assert started["suppressed"].to_list() == [False, False, True, True]
    assert started["suppression_reason"].to_list() == [None, None, "secondary", "secondary"]
    disclosure.assert_no_leak(started, disclosure.DEFAULT_POLICY, keys)
    from_nothing = disclosure.suppress(staff, disclosure.DEFAULT_POLICY, keys)
    assert not from_nothing["suppressed"].any()


def test_the_public_suppression_is_no_start_where_a_period_was_withheld_whole() -> None:
    """A period the public could not protect was withheld whole, never audited: no start."""
    whole = pl.DataFrame(
        {
            "measure": ["m"] * 4,
            "org_code": ["L", "A", "L", "A"],
            "period_start": [dt.date(2024, 1, 1)] * 2 + [dt.date(2024, 2, 1)] * 2,
            "numerator": [10, 3, 10, None],
            "denominator": [100, 30, 100, None],
        }
    )
    keys = ["measure", "org_code", "period_start"]
    audited = pl.DataFrame(
        {
            "measure": ["m"],
            "org_code": ["A"],
            "period_start": [dt.date(2024, 1, 1)],
            "__hide": [True],
            "__hide_den": [False],
        }
    )
    assert _start_from(whole, audited, keys) is not None
    withheld = pl.DataFrame(  # February: L hidden, and A has no counts at all
        {
            "measure": ["m"],
            "org_code": ["L"],
            "period_start": [dt.date(2024, 2, 1)],
            "__hide": [True],
            "__hide_den": [True],
        }
    )
    assert _start_from(whole, pl.concat([audited, withheld]), keys) is None


def test_a_readers_first_view_starts_from_the_cached_public_suppression(
    results: ResultCache, hierarchy: OrgHierarchy
) -> None:
    """The public pattern is suppressed once per period and kept; readers' views reuse it."""
    trust = hierarchy.trusts()[0].code
    latest = results.latest_start("stillbirth_rate", "rolling_12m", 12)
    results.published("stillbirth_rate", "rolling_12m", known=frozenset({trust}), since=latest)
    version = results.version()
    assert (version, "hidden", "rolling_12m", None, frozenset(), latest) in results.entries
    assert (version, "hidden", "rolling_12m", None, frozenset({trust}), latest) in results.entries


# -- the audit's reuse of the system suppress has just built --------------------------------


def _small_table() -> pl.DataFrame:
    """An LMNS (L) of three trusts, one measure, one period: trust A's 3 is small."""
    return pl.DataFrame(
        {
            "measure": ["m"] * 4,
            "level": ["lmns", "trust", "trust", "trust"],
            "org_code": ["L", "A", "B", "C"],
            "parent_code": [None, "L", "L", "L"],
            "period_start": [dt.date(2024, 1, 1)] * 4,
            "period_end": [dt.date(2024, 1, 31)] * 4,
            "numerator": [63, 3, 20, 40],
            "denominator": [1300, 100, 400, 800],
        }
    )


def test_the_audit_after_suppress_reuses_the_system_only_for_the_same_rows() -> None:
    table = _small_table()
    keys = disclosure.default_sibling_keys(table)
    checked = disclosure._check_keys(table, keys)
    first = disclosure._linked_equations(table, checked, None, None, True)
    again = disclosure._linked_equations(table.with_columns(pl.col("numerator") + 1), checked, None, None, True)
    assert again is first  # counts differ, rows do not: the same system
    renamed = table.with_columns(pl.col("parent_code").replace({"L": "X"}), pl.col("org_code").replace({"L": "X"}))
    disclosure._linked_equations(table, checked, None, None, True)
    other = disclosure._linked_equations(renamed.reverse(), checked, None, None, True)
    assert other is not first
    fresh = disclosure._build_linked_equations(renamed.reverse(), checked, None, None, True)
    for name in ("eq", "row", "coef"):
        assert (getattr(other, name) == getattr(fresh, name)).all()


def test_readers_of_the_same_rows_share_one_system_and_only_a_few_are_kept() -> None:
    """Two readers' suppression of the same periods differs only in the counts each knows (given as
    missing): the second reuses the first's system; the kept systems are bounded."""
    table = _small_table()
    keys = disclosure.default_sibling_keys(table)
    checked = disclosure._check_keys(table, keys)
    first = disclosure._linked_system(table, checked, None, None, True)
    reader = table.with_columns(
        pl.when(pl.col("org_code") == "A").then(None).otherwise(pl.col("numerator")).alias("numerator")
    )
    assert disclosure._linked_system(reader, checked, None, None, True) is first
    for shift in range(disclosure._SYSTEMS_KEPT):  # as many other period sets
        other = table.with_columns(pl.col("period_start") + dt.timedelta(days=shift + 1))
        disclosure._linked_system(other, checked, None, None, True)
    assert len(disclosure._systems) == disclosure._SYSTEMS_KEPT
    assert disclosure._linked_system(table, checked, None, None, True) is not first  # dropped, built again


def test_the_audit_right_after_suppress_still_finds_a_tampered_cell() -> None:
    table = _small_table()
    keys = disclosure.default_sibling_keys(table)
    safe = disclosure.suppress(table, disclosure.DEFAULT_POLICY, keys)
    assert safe["suppressed"].to_list() == [False, True, True, False]
    # show the secondary cell again: A's 3 = L − B − C
    tampered = safe.with_columns(
        pl.when(pl.col("org_code") == "B").then(20).otherwise(pl.col("numerator")).alias("numerator"),
        pl.when(pl.col("org_code") == "B").then(False).otherwise(pl.col("suppressed")).alias("suppressed"),
        pl.when(pl.col("org_code") == "B")
        .then(None)
        .otherwise(pl.col("suppression_reason"))
        .alias("suppression_reason"),
    )
    with pytest.raises(disclosure.DisclosureLeakError, match="the only suppressed numerator"):
        disclosure.assert_no_leak(tampered, disclosure.DEFAULT_POLICY, keys, linear_audit=False)


@pytest.mark.parametrize("seed", range(40))
def test_the_audit_finds_the_same_determined_cells_on_random_systems(seed: int) -> None:
    """Random sparse systems with many two-term sums, cycles and parallel sums (the cases the
    elimination of two-term sums must get right), blocks small and large."""
    rng = np.random.default_rng(seed)
    n_rows = int(rng.integers(5, 400))
    n_eq = int(rng.integers(1, n_rows))
    eq, row, coef = [], [], []
    for e in range(n_eq):
        size = int(rng.choice([2, 2, 2, 3, 4, 6]))
        members = rng.choice(n_rows, size=min(size, n_rows), replace=False)
        eq += [e] * len(members)
        row += members.tolist()
        coef += rng.choice([1.0, -1.0, 2.0, 0.5, -3.0], size=len(members)).tolist()
    hidden = rng.random(n_rows) < rng.uniform(0.2, 0.9)
    new = disclosure._Equations(np.array(eq), np.array(row), np.array(coef), n_eq, n_rows)
    old = reference._Equations(np.array(eq), np.array(row), np.array(coef), n_eq, n_rows)

    def determined(blocks: list[Any]) -> dict[tuple[int, ...], tuple[list[int], list[bool]]]:
        return {tuple(b.equations.tolist()): (b.rows.tolist(), b.determined.tolist()) for b in blocks}

    with disclosure._one_blas_thread():
        assert determined(disclosure._determined(hidden, new)) == determined(reference._determined(hidden, old))
