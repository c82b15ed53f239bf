"""Spec tests: a small table of births in, numerator and denominator per trust out.

Each case is the reference for one measure's definition: which babies or maternities are
counted above and below the line, at the boundaries that matter (24+0, 37+0, 28 days,
42 days, twins). Every case runs on both engines (Polars and the DuckDB reference), which
must agree. Columns not given take the values of a healthy term singleton live birth.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from matneo.measures.compute import compute
from matneo.measures.counts import build_cube, build_reference_cube
from matneo.measures.definitions import MEASURES
from matneo.records.parse import STORE_SCHEMA
from matneo.reference.organisations import load_hierarchy

BORN = dt.datetime(2019, 6, 15, 10, 30)
DEFAULTS: dict[str, object] = {
    "outcome": "live_birth",
    "gestation_weeks": 39,
    "gestation_days": 2,
    "plurality": 1,
    "birth_order": 1,
    "birth_weight_g": 3400,
    "ethnic_category": "A",
    "imd_decile": 5,
    "smoking_at_delivery": False,
    "continuity_of_carer": False,
    "mode_of_delivery": "spontaneous_vertex",
    "nnu_admission": False,
    "apgar_5min": 9,
    "pph_ml": 300,
    "perineal_tear_degree": 1,
    "brain_injury": False,
}


def parse_table(text: str) -> list[dict[str, object]]:
    """Rows of a markdown-style table; ``ga`` is weeks+days, ``nnd``/``md`` are days after birth."""
    lines = [line.strip().strip("|") for line in text.strip().splitlines()]
    header = [h.strip() for h in lines[0].split("|")]
    rows = []
    for line in lines[1:]:
        cells = dict(zip(header, (c.strip() for c in line.split("|")), strict=True))
        row: dict[str, object] = dict(DEFAULTS)
        for key, cell in cells.items():
            if cell == "":
                continue
            if key == "ga":
                weeks, days = cell.split("+")
                row["gestation_weeks"], row["gestation_days"] = int(weeks), int(days)
            elif key == "nnd":
                row["neonatal_death_datetime"] = BORN + dt.timedelta(days=float(cell))
            elif key == "md":
                row["maternal_death_datetime"] = BORN + dt.timedelta(days=float(cell))
            elif key == "null":
                row[cell] = None
            elif key in ("trust", "mother"):
                row[key] = cell
            else:
                dtype = STORE_SCHEMA[key]
                row[key] = int(cell) if dtype == pl.Int32 else (cell == "true") if dtype == pl.Boolean else cell
        rows.append(row)
    return rows


def run(tmp_path: Path, rows: list[dict[str, object]], measure: str) -> dict[str, tuple[int, int]]:
    trusts = [t.code for t in load_hierarchy().trusts()[:2]]
    records = []
    for n, row in enumerate(rows):
        record = {name: None for name in STORE_SCHEMA}
        record.update({k: v for k, v in row.items() if k in STORE_SCHEMA})
        record["trust_code"] = trusts[int(str(row.get("trust", "T1"))[1]) - 1]
        record["record_id"], record["mother_id"] = f"R{n}", str(row.get("mother", f"M{n}"))
        record["birth_datetime"] = BORN
        records.append({k: record[k] for k in STORE_SCHEMA})
    path = tmp_path / "year=2019" / "month=6" / "data.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    pl.DataFrame(records, schema=STORE_SCHEMA).write_parquet(path)
    cube = build_cube([path])
    reference = build_reference_cube(f"SELECT * FROM read_parquet('{path}', hive_partitioning = true)")
    assert cube.equals(reference), "the Polars and DuckDB engines disagree"
    result = compute([measure], level="trust", period="month", cube=cube)
    code_to_label = {code: f"T{i + 1}" for i, code in enumerate(trusts)}
    return {
        code_to_label[org]: (num, den)
        for org, num, den in result.select("org_code", "numerator", "denominator").iter_rows()
        if den or num
    }


# measure id -> list of (case name, table, expected {trust: (numerator, denominator)})
SPECS: dict[str, list[tuple[str, str, dict[str, tuple[int, int]]]]] = {
    "stillbirth_rate": [
        (
            "ONS: stillbirths from 24+0 over all live births (any gestation) and stillbirths",
            """
            | trust | outcome         | ga   |
            | T1    | live_birth      | 39+0 |
            | T1    | stillbirth      | 24+0 |
            | T1    | late_fetal_loss | 23+6 |
            | T1    | live_birth      | 23+6 |
            | T2    | live_birth      | 40+0 |
            """,
            {"T1": (1, 3), "T2": (0, 1)},
        ),
        (
            # ONS: 1 / (3 live + 1 still) = 250 per 1,000; MBRRACE-UK (births from 24+0 only): 1 / 2 = 500.
            "where ONS and MBRRACE-UK differ: live births before 24+0 count in ONS's denominator",
            """
            | outcome         | ga   |
            | stillbirth      | 30+0 |
            | live_birth      | 38+0 |
            | live_birth      | 22+3 |
            | live_birth      | 23+6 |
            | late_fetal_loss | 22+0 |
            """,
            {"T1": (1, 4)},
        ),
    ],
    "neonatal_mortality_24wk": [
        (
            "deaths under 28 days of babies born alive from 24+0",
            """
            | outcome    | ga   | nnd  |
            | live_birth | 24+0 | 2    |
            | live_birth | 23+6 | 1    |
            | live_birth | 39+0 | 27.9 |
            | live_birth | 39+0 |      |
            | stillbirth | 30+0 |      |
            """,
            {"T1": (2, 3)},
        ),
    ],
    "neonatal_mortality_all": [
        (
            "all gestations count, stillbirths do not",
            """
            | outcome    | ga   | nnd |
            | live_birth | 22+1 | 0   |
            | live_birth | 39+0 |     |
            | stillbirth | 39+0 |     |
            """,
            {"T1": (1, 2)},
        ),
    ],
    "perinatal_mortality": [
        (
            "stillbirths plus neonatal deaths from 24+0 over total births from 24+0",
            """
            | outcome    | ga   | nnd |
            | stillbirth | 25+0 |     |
            | live_birth | 26+0 | 3   |
            | live_birth | 23+0 | 1   |
            | live_birth | 40+0 |     |
            """,
            {"T1": (2, 3)},
        ),
    ],
    "brain_injury_rate": [
        (
            "brain injuries over all live births",
            """
            | outcome    | ga   | brain_injury |
            | live_birth | 39+0 | true         |
            | live_birth | 23+0 | false        |
            | live_birth | 40+0 |              |
            | stillbirth | 39+0 | false        |
            """,
            {"T1": (1, 3)},
        ),
    ],
    "maternal_mortality": [
        (
            "direct and indirect deaths up to 42 days, per maternity (twins are one)",
            """
            | mother | plurality | birth_order | md | maternal_death_cause_class |
            | A      | 2         | 1           | 10 | direct                     |
            | A      | 2         | 2           | 10 | direct                     |
            | B      | 1         | 1           | 42 | indirect                   |
            | C      | 1         | 1           | 43 | direct                     |
            | D      | 1         | 1           | 5  | coincidental               |
            | E      | 1         | 1           |    |                            |
            """,
            {"T1": (2, 5)},
        ),
    ],
    "preterm_birth_rate": [
        (
            "24+0 to 36+6 over all births from 24+0",
            """
            | outcome    | ga   |
            | live_birth | 24+0 |
            | stillbirth | 36+6 |
            | live_birth | 37+0 |
            | live_birth | 23+6 |
            """,
            {"T1": (2, 3)},
        ),
    ],
    "smoke_free_at_delivery": [
        (
            "per maternity with smoking recorded",
            """
            | mother | plurality | birth_order | smoking_at_delivery | null                |
            | A      | 2         | 1           | false               |                     |
            | A      | 2         | 2           | false               |                     |
            | B      | 1         | 1           | true                |                     |
            | C      | 1         | 1           |                     | smoking_at_delivery |
            """,
            {"T1": (1, 2)},
        ),
    ],
    "mgso4_under_30wk": [
        (
            "live births before 30+0 with the item recorded",
            """
            | ga   | mgso4_within_24h |
            | 29+6 | true             |
            | 26+0 | false            |
            | 30+0 | true             |
            | 28+0 |                  |
            """,
            {"T1": (1, 2)},
        ),
    ],
    "antenatal_steroids_under_34wk": [
        (
            "a full course within 7 days counts; a partial course does not",
            """
            | ga   | antenatal_steroids    |
            | 33+6 | full_course_within_7d |
            | 30+0 | partial               |
            | 34+0 | full_course_within_7d |
            """,
            {"T1": (1, 2)},
        ),
    ],
    "right_place_of_birth_under_34wk": [
        (
            "unit level by gestation band (needs local confirmation)",
            """
            | ga   | birth_site_level |
            | 26+6 | NICU             |
            | 26+6 | LNU              |
            | 27+0 | LNU              |
            | 31+6 | SCU              |
            | 32+0 | SCU              |
            | 33+6 | none             |
            | 34+0 | none             |
            """,
            {"T1": (3, 6)},
        ),
    ],
    "continuity_of_carer_black_asian": [
        (
            "Black and Asian women only",
            """
            | ethnic_category | continuity_of_carer |
            | M               | true                |
            | H               | false               |
            | A               | true                |
            | D               | true                |
            """,
            {"T1": (1, 2)},
        ),
    ],
    "continuity_of_carer_most_deprived": [
        (
            "IMD decile 1 only",
            """
            | imd_decile | continuity_of_carer |
            | 1          | true                |
            | 1          | false               |
            | 2          | true                |
            """,
            {"T1": (1, 2)},
        ),
    ],
    "term_nnu_admission": [
        (
            "live births from 37+0",
            """
            | ga   | nnu_admission |
            | 37+0 | true          |
            | 36+6 | true          |
            | 41+0 | false         |
            """,
            {"T1": (1, 2)},
        ),
    ],
    "caesarean_rate": [
        (
            "planned and emergency caesareans per maternity",
            """
            | mother | plurality | birth_order | mode_of_delivery    |
            | A      | 2         | 1           | emergency_caesarean |
            | A      | 2         | 2           | emergency_caesarean |
            | B      | 1         | 1           | elective_caesarean  |
            | C      | 1         | 1           | forceps             |
            """,
            {"T1": (2, 3)},
        ),
    ],
    "pph_1500": [
        (
            "1,500 ml or more",
            """
            | pph_ml |
            | 1500   |
            | 1499   |
            """,
            {"T1": (1, 2)},
        ),
    ],
    "third_fourth_degree_tear": [
        (
            "vaginal births only",
            """
            | mode_of_delivery   | perineal_tear_degree |
            | forceps            | 3                    |
            | spontaneous_vertex | 4                    |
            | spontaneous_vertex | 2                    |
            | elective_caesarean | 0                    |
            """,
            {"T1": (2, 3)},
        ),
    ],
    "apgar_below_7_term": [
        (
            "term live births with a 5-minute score",
            """
            | ga   | apgar_5min |
            | 37+0 | 6          |
            | 40+0 | 7          |
            | 36+6 | 3          |
            """,
            {"T1": (1, 2)},
        ),
    ],
}

CASES = [(measure, name, table, expected) for measure, cases in SPECS.items() for name, table, expected in cases]


@pytest.mark.parametrize(("measure", "name", "table", "expected"), CASES, ids=[f"{c[0]}: {c[1]}" for c in CASES])
def test_measure_counts(tmp_path: Path, measure: str, name: str, table: str, expected: dict) -> None:
    assert run(tmp_path, parse_table(table), measure) == expected


def test_every_measure_has_a_spec() -> None:
    uncovered = {m.id for m in MEASURES} - set(SPECS) - {"continuity_of_carer"}
    assert uncovered == set()


def test_measures_reference_doc_is_current() -> None:
    from matneo.measures.reference_doc import render

    committed = (Path(__file__).parents[2] / "docs" / "measures.md").read_text(encoding="utf-8")
    assert committed == render(), "regenerate: python -m matneo.measures.reference_doc > docs/measures.md"
