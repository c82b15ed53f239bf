"""Suppression across linked measures: no hidden count comes back from another measure's counts.

Security finding (issue 11, critical 1): measures share numerators and denominators. Births
from 24 weeks minus live births from 24 weeks is the stillbirth count; perinatal deaths minus
neonatal deaths from 24 weeks is the stillbirth count again. Suppressing each measure on its
own let a trust user recover every other organisation's hidden 1–7 stillbirth counts.

These tests attack the published tables the way that user did, automatically for every pair
of registered measures (a newly registered measure is attacked too): the attacker's
identities between two measures are found independently of the product, from the distinct
combinations of the measures' conditions over the birth records themselves.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from matneo.config import Settings
from matneo.db.session import upgrade
from matneo.measures.counts import DERIVED_COLUMNS as DERIVED_SQL
from matneo.measures.definitions import MEASURES, Measure
from matneo.measures.disclosure import (
    DEFAULT_POLICY,
    Relation,
    assert_no_leak,
    default_sibling_keys,
    linear_relations,
    suppress,
)
from matneo.measures.results import ResultCache
from matneo.records.load import load_files
from matneo.records.store import RecordStore
from matneo.reference.organisations import OrgHierarchy
from matneo.synth import write_dataset

READER = "R0A"  # a trust user: their own trust's cells are known to them
PERIOD_TYPES = ("month", "quarter", "year", "rolling_12m")


# -- linear_relations: hand-checked identities ----------------------------------------------


def test_relations_of_births_live_births_and_stillbirths() -> None:
    """Columns: births, live births, stillbirths (3 cells). births = live + stillbirths in every
    cell, so the one identity is stillbirths = births − live births (written in the earlier
    columns): 1·stillbirths − 1·births + 1·live = 0."""
    counts = [[100, 97, 3], [250, 249, 1], [80, 80, 0]]
    assert linear_relations(counts) == [{2: Fraction(1), 0: Fraction(-1), 1: Fraction(1)}]


def test_identical_columns_are_one_identity_and_independent_columns_none() -> None:
    assert linear_relations([[5, 5, 1], [7, 7, 3], [2, 2, 9]]) == [{1: Fraction(1), 0: Fraction(-1)}]
    assert linear_relations([[1, 0], [0, 1]]) == []


def test_rational_coefficients_and_counts_too_large_for_int64_products() -> None:
    """Column 2 is (column 0 + column 1) / 2 in every row. Counts of 3·10⁹ squared overflow
    int64, so the exact Gram matrix must be accumulated in Python integers."""
    big = 3_000_000_000
    counts = np.array([[2 * big, 0, big], [0, 2 * big, big], [2, 4, 3]], dtype=np.int64)
    assert linear_relations(counts) == [{2: Fraction(1), 0: Fraction(-1, 2), 1: Fraction(-1, 2)}]


def test_relations_need_integer_counts() -> None:
    with pytest.raises(ValueError, match="integers"):
        linear_relations([[0.5, 1.0]])


# -- a worked example: the stillbirth attack on a two-trust LMNS --------------------------------


def _example() -> pl.DataFrame:
    """Stillbirth rate (births from 24 weeks) and neonatal mortality (live births from 24 weeks)
    for trusts A and B of LMNS L. A has 3 stillbirths (1–7: primary), B 12, L 15."""
    cells = [  # org, parent, stillbirths, births, neonatal deaths, live births
        ("A", "L", 3, 400, 9, 397),
        ("B", "L", 12, 1200, 10, 1188),
        ("L", None, 15, 1600, 19, 1585),
    ]
    rows = []
    for org, parent, stillbirths, births, deaths, live in cells:
        for measure, num, den in (("stillbirth_rate", stillbirths, births), ("neonatal_mortality_24wk", deaths, live)):
            rows.append(
                {
                    "measure": measure,
                    "level": "lmns" if parent is None else "trust",
                    "org_code": org,
                    "parent_code": parent,
                    "period_start": dt.date(2024, 1, 1),
                    "period_end": dt.date(2024, 12, 31),
                    "numerator": num,
                    "denominator": den,
                    "value": num / den * 1000,
                }
            )
    return pl.DataFrame(rows)


EXAMPLE_RELATIONS: dict[None, list[Relation]] = {
    None: [
        (
            ("stillbirth_rate", "numerator", 1.0),
            ("stillbirth_rate", "denominator", -1.0),
            ("neonatal_mortality_24wk", "denominator", 1.0),
        )
    ]
}


def test_without_the_identity_births_minus_live_births_gives_the_hidden_stillbirths_back() -> None:
    """Suppressing each measure alone hides A's 3 stillbirths and, as the sibling rule wants,
    B's 12, but leaves both denominators of A shown: 400 − 397 = 3."""
    table = _example()
    out = suppress(table, DEFAULT_POLICY, default_sibling_keys(table))
    a = {r["measure"]: r for r in out.filter(pl.col("org_code") == "A").iter_rows(named=True)}
    assert a["stillbirth_rate"]["numerator"] is None
    assert a["stillbirth_rate"]["denominator"] - a["neonatal_mortality_24wk"]["denominator"] == 3
    with pytest.raises(AssertionError, match=r"org_code=A.*numerator"):
        assert_no_leak(out, DEFAULT_POLICY, default_sibling_keys(out), relations=EXAMPLE_RELATIONS)


def test_with_the_identity_a_linked_count_is_hidden_too() -> None:
    """With the identity, A's live births (the smaller linked count, hiding its neonatal row)
    are hidden, and so are B's (else L's live births minus B's give A's back)."""
    table = _example()
    keys = default_sibling_keys(table)
    out = suppress(table, DEFAULT_POLICY, keys, relations=EXAMPLE_RELATIONS)
    assert_no_leak(out, DEFAULT_POLICY, keys, relations=EXAMPLE_RELATIONS)
    shown = {(r["org_code"], r["measure"]): (r["numerator"], r["denominator"]) for r in out.iter_rows(named=True)}
    assert shown[("A", "stillbirth_rate")] == (None, 400)
    assert shown[("A", "neonatal_mortality_24wk")] == (None, None)
    assert shown[("B", "neonatal_mortality_24wk")] == (None, None)
    assert shown[("L", "stillbirth_rate")] == (15, 1600)


# -- the attack on a national instance ------------------------------------------------------


@dataclass(frozen=True)
class Instance:
    results: ResultCache
    files: list[Path]  # the records store's Parquet files


@pytest.fixture(scope="module")
def instance(tmp_path_factory: pytest.TempPathFactory, hierarchy: OrgHierarchy) -> Instance:
    """One year of synthetic births for every trust at a small scale: plenty of 1–7 counts."""
    home = tmp_path_factory.mktemp("linked")
    settings = Settings(home=home, database_url=f"sqlite:///{home / 'matneo.db'}")
    settings.ensure_dirs()
    upgrade(settings.database_url, hierarchy)
    files = write_dataset(home / "synth", [2024], scale=0.05, seed=11, hierarchy=hierarchy)
    load_files(files, settings, hierarchy)
    return Instance(ResultCache(settings, hierarchy), RecordStore(settings.records_dir).partition_files())


def _atoms(files: list[Path], measures: list[Measure]) -> pl.DataFrame:
    """The attacker's view of the definitions: every combination of the measures' conditions
    (denominator, and numerator within it) that occurs in some birth record, with its group."""
    frame = pl.scan_parquet(files, hive_partitioning=True).with_columns(
        [pl.sql_expr(sql).alias(name) for name, sql in DERIVED_SQL.items()]
    )
    flags = []
    for m in measures:
        den = pl.sql_expr(m.denominator).fill_null(False)
        flags += [
            den.alias(f"{m.id}|denominator"),
            (den & pl.sql_expr(m.numerator).fill_null(False)).alias(f"{m.id}|numerator"),
        ]
    return frame.select("ethnic_group", *flags).unique().collect()


def _identities(atoms: pl.DataFrame, columns: list[str]) -> list[dict[str, float]]:
    """Identities between ``columns`` that hold for every record: the null space of the atoms."""
    matrix = atoms.select(columns).to_numpy().astype(float)
    _, singular, vt = np.linalg.svd(matrix.T @ matrix)  # the same null space, a small matrix
    rank = int((singular > 1e-9).sum())
    return [dict(zip(columns, vt[i], strict=True)) for i in range(rank, len(columns))]


def _determined_cells(table: pl.DataFrame, hierarchy: OrgHierarchy, identities: list[dict[str, float]]) -> list[str]:
    """Hidden counts of ``table`` (one period) that the attacker can work out exactly.

    Unknowns: every hidden numerator and denominator. Equations: each parent's count is the
    sum of its children's (per measure and quantity), and each identity holds in every cell.
    A hidden count is determined iff its unit vector lies in the row space of the equations
    restricted to the unknowns.
    """
    value = {}
    for r in table.iter_rows(named=True):
        for quantity in ("numerator", "denominator"):
            value[(r["org_code"], r["measure"], quantity)] = r[quantity]
    unknowns = sorted(key for key, v in value.items() if v is None)
    if not unknowns:
        return []
    index = {key: i for i, key in enumerate(unknowns)}
    equations: list[dict[int, float]] = []

    def add(terms: list[tuple[tuple[str, str, str], float]]) -> None:
        equation: dict[int, float] = {}
        for key, coefficient in terms:
            if key in index:
                equation[index[key]] = equation.get(index[key], 0.0) + coefficient
        if equation:
            equations.append(equation)

    orgs = set(table["org_code"].to_list())
    measures = set(table["measure"].to_list())
    for parent in orgs:
        children = [c.code for c in hierarchy.children(parent) if c.code in orgs]
        if children:
            for measure, quantity in itertools.product(measures, ("numerator", "denominator")):
                add([((parent, measure, quantity), -1.0), *[((c, measure, quantity), 1.0) for c in children]])
    for org in orgs:
        for identity in identities:
            add([((org, *column.split("|")), coefficient) for column, coefficient in identity.items()])
    if not equations:
        return []
    a = np.zeros((len(equations), len(unknowns)))
    for row, equation in enumerate(equations):
        for column, coefficient in equation.items():
            a[row, column] = coefficient
    _, singular, vt = np.linalg.svd(a, full_matrices=False)
    basis = vt[singular > singular.max() * max(a.shape) * np.finfo(float).eps]
    distance = 1.0 - np.square(basis).sum(axis=0)
    return [
        f"{org} {measure} {quantity}"
        for (org, measure, quantity), d in zip(unknowns, distance, strict=True)
        if d < 1e-8
    ]


@pytest.mark.slow
@pytest.mark.parametrize("period", PERIOD_TYPES)
def test_no_pair_of_measures_gives_back_a_hidden_count(
    instance: Instance, hierarchy: OrgHierarchy, period: str
) -> None:
    """For every pair of registered measures (each with itself too), as trust R0A: no hidden
    numerator or denominator of another organisation can be worked out from the published
    sums of the two measures and the identities between them, in any period checked."""
    known = frozenset({READER})
    published = pl.concat(
        [instance.results.published(m.id, period, known=known) for m in MEASURES], how="vertical_relaxed"
    )
    atoms = _atoms(instance.files, list(MEASURES))
    periods = published.select("period_start").unique().sort("period_start")["period_start"].to_list()
    checked = periods[-3:] if period == "month" else periods[-2:]
    linked_pairs = 0
    hidden_cells = 0
    for first, second in itertools.combinations_with_replacement(MEASURES, 2):
        columns = [
            f"{m.id}|{q}" for m in {first.id: first, second.id: second}.values() for q in ("denominator", "numerator")
        ]
        identities = _identities(atoms, columns)
        if first is not second and not identities:
            continue  # no identity links them: the pair is the two measures alone, attacked below
        linked_pairs += first is not second
        for start in checked:
            cells = published.filter(
                pl.col("measure").is_in([first.id, second.id]) & (pl.col("period_start") == start)
            ).with_columns(
                # The reader's own cells are known to them: give them as published.
                pl.when(pl.col("org_code") == READER).then(pl.lit(0)).otherwise(pl.col(c)).alias(c)
                for c in ("numerator", "denominator")
            )
            hidden_cells += cells["numerator"].null_count()
            leaks = _determined_cells(cells, hierarchy, identities)
            assert not leaks, f"{first.id} + {second.id}, {period} from {start}: {leaks[:5]}"
    assert linked_pairs >= 5, "the registry has linked measures (stillbirths, births and live births at least)"
    assert hidden_cells, "the data has hidden cells to attack"


def _partner(table: pl.DataFrame, base: str, quantity: str, sign: int) -> str:
    """The measure whose ``quantity`` differs from ``base``'s by the stillbirth count in every cell.

    The probe's two attacks, found in the unsuppressed figures rather than written down (so
    they follow the definitions): births − live births (denominators, ``sign`` −1) and
    perinatal deaths − neonatal deaths (numerators, ``sign`` −1 from the perinatal side).
    """
    wide = table.pivot("measure", index=["org_code", "period_start"], values=quantity)
    stillbirths = table.filter(pl.col("measure") == "stillbirth_rate").sort("org_code", "period_start")["numerator"]
    wide = wide.sort("org_code", "period_start")
    for measure in (m.id for m in MEASURES if m.id not in (base, "stillbirth_rate")):
        if (wide[base] + sign * wide[measure] == stillbirths).all():
            return measure
    raise AssertionError(f"no measure's {quantity} differs from {base}'s by the stillbirths")


@pytest.mark.slow
def test_the_stillbirth_attack_from_the_finding(instance: Instance) -> None:
    """The probe's exact attacks, as trust R0A, on every trust and LMNS month where another
    organisation's stillbirth count is hidden: the two denominators whose difference is the
    stillbirth count are not both shown, nor the two numerators (perinatal deaths and neonatal
    deaths) whose difference is."""
    known = frozenset({READER})
    names = ("stillbirth_rate", "perinatal_mortality", *(m.id for m in MEASURES))
    raw = pl.concat([instance.results.measure_table(m, "month") for m in dict.fromkeys(names)])
    births_partner = _partner(raw, "stillbirth_rate", "denominator", -1)
    deaths_partner = _partner(raw, "perinatal_mortality", "numerator", -1)
    rows = {
        m: {
            (r["org_code"], r["period_start"]): r
            for r in instance.results.published(m, "month", known=known).iter_rows(named=True)
        }
        for m in {"stillbirth_rate", "perinatal_mortality", births_partner, deaths_partner}
    }
    attacked = 0
    for key, stillbirths in rows["stillbirth_rate"].items():
        if not stillbirths["suppressed"] or key[0] == READER:
            continue
        attacked += 1
        assert stillbirths["denominator"] is None or rows[births_partner][key]["denominator"] is None, key
        assert rows["perinatal_mortality"][key]["numerator"] is None or rows[deaths_partner][key]["numerator"] is None
    assert attacked > 100


@pytest.mark.slow
def test_a_breakdown_too_sparse_to_audit_is_withheld(instance: Instance, hierarchy: OrgHierarchy) -> None:
    """At this small scale nearly every count by ethnic group is 1–7, and the hidden counts of a
    year are linked into one system too large to audit exactly: the year is withheld from a
    reader outside the organisations, not published unaudited."""
    published = pl.concat(
        [instance.results.published(m.id, "year", by="ethnic_group", known=frozenset({READER})) for m in MEASURES],
        how="vertical_relaxed",
    )
    others = published.filter(pl.col("org_code") != READER)
    assert others["suppressed"].all()
    assert others["numerator"].is_null().all() and others["denominator"].is_null().all()
    assert published.filter(pl.col("org_code") == READER)["numerator"].is_not_null().any()


@pytest.mark.slow
@pytest.mark.parametrize("by", [None])
def test_every_published_table_passes_the_full_audit_with_the_attackers_identities(
    instance: Instance, hierarchy: OrgHierarchy, by: str | None
) -> None:
    """All measures of a period at once, checked with every identity between all of them (found
    from the records, per ethnic group for the breakdown), not just pairs."""
    period = "year"
    published = pl.concat(
        [instance.results.published(m.id, period, by=by, known=frozenset()) for m in MEASURES], how="vertical_relaxed"
    )
    atoms = _atoms(instance.files, list(MEASURES))
    columns = [f"{m.id}|{q}" for m in MEASURES for q in ("denominator", "numerator")]

    def as_relations(part: pl.DataFrame) -> list[Relation]:
        # Exact and sparse (the product finds its identities from the cube, not from the records).
        found = linear_relations(part.select(columns).to_numpy().astype(np.int64))
        return [tuple((*columns[c].split("|"), float(v)) for c, v in i.items()) for i in found]  # type: ignore[misc]

    if by is None:
        relations = {None: as_relations(atoms)}
    else:
        relations = {g: as_relations(part) for (g,), part in atoms.partition_by(by, as_dict=True).items()}
    parents = {code: org.parent_code for code, org in hierarchy.organisations.items()}
    table = published.with_columns(pl.col("org_code").replace_strict(parents, default=None).alias("parent_code"))
    assert table["suppressed"].sum() > 0
    assert_no_leak(table, DEFAULT_POLICY, default_sibling_keys(table), relations=relations)


def test_an_empty_table_is_returned_empty_with_the_linked_measures() -> None:
    """A period type with no periods yet (two years of data and three-year rolling periods): the
    linked equations had no rows to build from and raised IndexError."""
    table = _example().clear()
    out = suppress(table, DEFAULT_POLICY, default_sibling_keys(table), relations=EXAMPLE_RELATIONS)
    assert out.height == 0 and {"suppressed", "suppression_reason"} <= set(out.columns)
    assert_no_leak(out, DEFAULT_POLICY, default_sibling_keys(out), relations=EXAMPLE_RELATIONS)
