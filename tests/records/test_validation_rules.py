"""Every validation rule, each with a row that breaks it and, at its boundary, one that passes.

One file holds all the rows so the real loader (DuckDB, real files, real ledger) runs once;
each parametrised case then checks the rules reported for its own row. The table doubles
as the reference for what the loader rejects and why (see docs/birth-record.md).
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import defaultdict
from pathlib import Path

import pytest

from matneo.config import Settings
from matneo.records.load import BatchResult, load_files
from matneo.records.reference_doc import render
from matneo.records.store import RecordStore
from matneo.records.validation import CROSS_ROW_RULES, row_rules
from matneo.reference.organisations import OrgHierarchy
from rowbuilder import valid_row

LOAD_TIME = dt.datetime(2026, 11, 21, 12, 0, 0)

# (case id, expected rule id, field overrides). Expected None means the row must be accepted.
CASES: list[tuple[str, str | None, dict[str, str]]] = [
    ("valid term live birth", None, {}),
    # required fields
    ("record_id empty", "record_id_required", {"record_id": ""}),
    ("trust_code empty", "trust_code_required", {"trust_code": ""}),
    ("birth_datetime empty", "birth_datetime_required", {"birth_datetime": ""}),
    ("gestation_weeks empty", "gestation_weeks_required", {"gestation_weeks": ""}),
    ("gestation_days empty", "gestation_days_required", {"gestation_days": ""}),
    ("plurality empty", "plurality_required", {"plurality": ""}),
    ("birth_order empty", "birth_order_required", {"birth_order": ""}),
    ("outcome empty", "outcome_required", {"outcome": ""}),
    ("mother_id empty", "mother_id_required", {"mother_id": ""}),
    # types
    ("weeks not whole", "gestation_weeks_type", {"gestation_weeks": "39.5"}),
    ("weeks text", "gestation_weeks_type", {"gestation_weeks": "thirty-nine"}),
    ("weight has units", "birth_weight_g_type", {"birth_weight_g": "3400g"}),
    ("date in UK order", "birth_datetime_type", {"birth_datetime": "15/06/2019 10:30"}),
    ("impossible date", "birth_datetime_type", {"birth_datetime": "2019-02-30 10:00:00"}),
    ("boolean word", "brain_injury_type", {"brain_injury": "maybe"}),
    ("neonatal death not a date", "neonatal_death_datetime_type", {"neonatal_death_datetime": "soon"}),
    ("weeks written 39.0 is whole", None, {"gestation_weeks": "39.0"}),
    # text length
    ("record_id of 65 characters", "record_id_length", {"record_id": "R" * 65}),
    ("record_id of 64 characters accepted", None, {"record_id": "R" * 64}),
    ("booleans as Y/N", None, {"brain_injury": "N", "nnu_admission": "no", "smoking_at_delivery": "Y"}),
    ("ISO T separator", None, {"birth_datetime": "2019-06-15T10:30:00"}),
    # ranges and their boundaries
    ("gestation 19 weeks", "gestation_weeks_range", {"gestation_weeks": "19", "gestation_days": "6"}),
    ("gestation 45 weeks", "gestation_weeks_range", {"gestation_weeks": "45", "gestation_days": "0"}),
    (
        "gestation 20+0 accepted",
        None,
        {"gestation_weeks": "20", "gestation_days": "0", "booking_gestation_weeks": "10"},
    ),
    ("gestation 44+6 accepted", None, {"gestation_weeks": "44", "gestation_days": "6"}),
    ("gestation days 7", "gestation_days_range", {"gestation_days": "7"}),
    ("gestation days -1", "gestation_days_range", {"gestation_days": "-1"}),
    ("weight 199 g", "birth_weight_g_range", {"birth_weight_g": "199"}),
    ("weight 7001 g", "birth_weight_g_range", {"birth_weight_g": "7001"}),
    ("weight 200 g accepted", None, {"birth_weight_g": "200"}),
    ("weight 7000 g accepted", None, {"birth_weight_g": "7000"}),
    ("plurality 0", "plurality_range", {"plurality": "0"}),
    ("birth order 9", "birth_order_range", {"plurality": "8", "birth_order": "9"}),
    ("booking at -1 weeks", "booking_gestation_weeks_range", {"booking_gestation_weeks": "-1"}),
    ("hie grade 4", "hie_grade_range", {"hie_grade": "4"}),
    ("maternal age 9", "maternal_age_range", {"maternal_age": "9"}),
    ("imd decile 11", "imd_decile_range", {"imd_decile": "11"}),
    ("imd decile 0", "imd_decile_range", {"imd_decile": "0"}),
    ("apgar 11", "apgar_5min_range", {"apgar_5min": "11"}),
    ("pph negative", "pph_ml_range", {"pph_ml": "-5"}),
    ("tear degree 5", "perineal_tear_degree_range", {"perineal_tear_degree": "5"}),
    ("parity 21", "parity_range", {"parity": "21"}),
    # code lists
    ("sex as a letter", "sex_code", {"sex": "F"}),
    ("outcome misspelt", "outcome_code", {"outcome": "livebirth"}),
    ("ethnic code Q", "ethnic_category_code", {"ethnic_category": "Q"}),
    ("ethnic code 99 accepted", None, {"ethnic_category": "99"}),
    ("mode of delivery unknown", "mode_of_delivery_code", {"mode_of_delivery": "caesarean"}),
    ("onset unknown", "onset_of_labour_code", {"onset_of_labour": "augmented"}),
    ("steroids unknown", "antenatal_steroids_code", {"antenatal_steroids": "yes"}),
    (
        "stillbirth timing unknown word",
        "stillbirth_timing_code",
        {
            "outcome": "stillbirth",
            "stillbirth_timing": "before labour",
            "nnu_admission": "",
            "brain_injury": "",
            "therapeutic_cooling": "",
        },
    ),
    ("unit level lower case", "birth_site_level_code", {"birth_site_level": "nicu"}),
    (
        "cause class unknown",
        "maternal_death_cause_class_code",
        {"maternal_death_datetime": "2019-06-20 10:00:00", "maternal_death_cause_class": "late"},
    ),
    # dates plausible
    ("born 1999", "birth_datetime_plausible", {"birth_datetime": "1999-12-31 23:59:00"}),
    ("born in the future", "birth_datetime_plausible", {"birth_datetime": "2026-11-23 12:00:00"}),
    ("born 2000-01-01 accepted", None, {"birth_datetime": "2000-01-01 00:00:00"}),
    # organisation reference
    ("unknown trust", "trust_unknown", {"trust_code": "RZZ", "site_code": ""}),
    ("site of another trust", "site_not_of_trust", {"site_code": "@other_site"}),
    ("wrong LMNS", "lmns_mismatch", {"lmns_code": "QXX"}),
    ("wrong region", "region_mismatch", {"region_code": "Y99"}),
    ("right LMNS and region accepted", None, {"lmns_code": "@lmns", "region_code": "@region"}),
    # multiple births on one row
    ("birth order beyond plurality", "birth_order_exceeds_plurality", {"plurality": "1", "birth_order": "2"}),
    # stillbirth and late fetal loss definitions
    (
        "stillbirth at 23+6",
        "stillbirth_under_24_weeks",
        {
            "outcome": "stillbirth",
            "stillbirth_timing": "antepartum",
            "gestation_weeks": "23",
            "gestation_days": "6",
            "nnu_admission": "",
            "brain_injury": "",
            "therapeutic_cooling": "",
        },
    ),
    (
        "stillbirth at 24+0 accepted",
        None,
        {
            "outcome": "stillbirth",
            "stillbirth_timing": "antepartum",
            "gestation_weeks": "24",
            "gestation_days": "0",
            "nnu_admission": "",
            "brain_injury": "",
            "therapeutic_cooling": "",
        },
    ),
    (
        "late fetal loss at 24+0",
        "late_fetal_loss_gestation",
        {
            "outcome": "late_fetal_loss",
            "gestation_weeks": "24",
            "gestation_days": "0",
            "nnu_admission": "",
            "brain_injury": "",
            "therapeutic_cooling": "",
        },
    ),
    (
        "late fetal loss at 21+6",
        "late_fetal_loss_gestation",
        {
            "outcome": "late_fetal_loss",
            "gestation_weeks": "21",
            "gestation_days": "6",
            "nnu_admission": "",
            "brain_injury": "",
            "therapeutic_cooling": "",
            "booking_gestation_weeks": "10",
        },
    ),
    (
        "late fetal loss at 22+0 accepted",
        None,
        {
            "outcome": "late_fetal_loss",
            "gestation_weeks": "22",
            "gestation_days": "0",
            "nnu_admission": "",
            "brain_injury": "",
            "therapeutic_cooling": "",
        },
    ),
    (
        "late fetal loss at 23+6 accepted",
        None,
        {
            "outcome": "late_fetal_loss",
            "gestation_weeks": "23",
            "gestation_days": "6",
            "nnu_admission": "",
            "brain_injury": "",
            "therapeutic_cooling": "",
        },
    ),
    (
        "stillbirth without timing",
        "stillbirth_timing_missing",
        {"outcome": "stillbirth", "nnu_admission": "", "brain_injury": "", "therapeutic_cooling": ""},
    ),
    ("timing on a live birth", "stillbirth_timing_not_stillbirth", {"stillbirth_timing": "intrapartum"}),
    # neonatal deaths
    (
        "neonatal death of a stillbirth",
        "neonatal_death_not_live_birth",
        {
            "outcome": "stillbirth",
            "stillbirth_timing": "intrapartum",
            "neonatal_death_datetime": "2019-06-16 10:30:00",
            "nnu_admission": "",
            "brain_injury": "",
            "therapeutic_cooling": "",
        },
    ),
    ("neonatal death before birth", "neonatal_death_before_birth", {"neonatal_death_datetime": "2019-06-15 10:29:00"}),
    (
        "neonatal death at exactly 28 days",
        "neonatal_death_after_28_days",
        {"neonatal_death_datetime": "2019-07-13 10:30:00"},
    ),
    ("neonatal death at 27 days 23:59 accepted", None, {"neonatal_death_datetime": "2019-07-13 10:29:00"}),
    ("neonatal death at birth accepted", None, {"neonatal_death_datetime": "2019-06-15 10:30:00"}),
    # fields only a live-born baby can have
    (
        "brain injury for a stillbirth",
        "brain_injury_not_live_birth",
        {
            "outcome": "stillbirth",
            "stillbirth_timing": "antepartum",
            "brain_injury": "true",
            "nnu_admission": "",
            "therapeutic_cooling": "",
        },
    ),
    (
        "HIE grade for a stillbirth",
        "hie_grade_not_live_birth",
        {
            "outcome": "stillbirth",
            "stillbirth_timing": "antepartum",
            "hie_grade": "2",
            "nnu_admission": "",
            "brain_injury": "",
            "therapeutic_cooling": "",
        },
    ),
    (
        "cooling for a stillbirth",
        "therapeutic_cooling_not_live_birth",
        {
            "outcome": "stillbirth",
            "stillbirth_timing": "antepartum",
            "therapeutic_cooling": "true",
            "nnu_admission": "",
            "brain_injury": "",
        },
    ),
    (
        "NNU admission for a stillbirth",
        "nnu_admission_not_live_birth",
        {
            "outcome": "stillbirth",
            "stillbirth_timing": "antepartum",
            "nnu_admission": "true",
            "brain_injury": "",
            "therapeutic_cooling": "",
        },
    ),
    # booking and maternal deaths
    ("booked after birth", "booking_after_birth", {"booking_gestation_weeks": "40"}),
    ("cause class without death", "maternal_death_class_without_death", {"maternal_death_cause_class": "direct"}),
    (
        "maternal death before the birth date",
        "maternal_death_before_birth",
        {"maternal_death_datetime": "2019-06-14 23:00:00", "maternal_death_cause_class": "direct"},
    ),
    (
        "maternal death after 366 days",
        "maternal_death_over_a_year",
        {"maternal_death_datetime": "2020-06-15 10:31:00", "maternal_death_cause_class": "indirect"},
    ),
    (
        "late maternal death at 365 days accepted",
        None,
        {"maternal_death_datetime": "2020-06-14 10:30:00", "maternal_death_cause_class": "indirect"},
    ),
    (
        "maternal death on the day accepted",
        None,
        {"maternal_death_datetime": "2019-06-15 08:00:00", "maternal_death_cause_class": "direct"},
    ),
]

# Rows that break a rule only together: (case id, expected rule, [overrides for each row]).
GROUP_CASES: list[tuple[str, str | None, list[dict[str, str]]]] = [
    ("same record id twice", "record_id_duplicate", [{"record_id": "DUP1"}, {"record_id": "DUP1"}]),
    (
        "twins with different plurality",
        "plurality_inconsistent",
        [
            {"mother_id": "TW1", "plurality": "2", "birth_order": "1"},
            {"mother_id": "TW1", "plurality": "3", "birth_order": "2"},
        ],
    ),
    (
        "three babies of twins",
        "more_babies_than_plurality",
        [
            {"mother_id": "TW2", "plurality": "2", "birth_order": "1"},
            {"mother_id": "TW2", "plurality": "2", "birth_order": "2"},
            {"mother_id": "TW2", "plurality": "2", "birth_order": "2", "birth_datetime": "2019-06-15 10:45:00"},
        ],
    ),
    (
        "twins both first",
        "birth_order_repeated",
        [
            {"mother_id": "TW3", "plurality": "2", "birth_order": "1"},
            {"mother_id": "TW3", "plurality": "2", "birth_order": "1"},
        ],
    ),
    (
        "two singletons of one mother on one day",
        "more_babies_than_plurality",
        [{"mother_id": "TW4"}, {"mother_id": "TW4", "birth_order": "1"}],
    ),
    (
        "consistent twins accepted",
        None,
        [
            {"mother_id": "TW5", "plurality": "2", "birth_order": "1"},
            {"mother_id": "TW5", "plurality": "2", "birth_order": "2", "birth_datetime": "2019-06-15 10:41:00"},
        ],
    ),
    (
        "same mother on different days accepted",
        None,
        [{"mother_id": "TW6"}, {"mother_id": "TW6", "birth_datetime": "2020-08-01 09:00:00"}],
    ),
]


def _resolve(value: str, hierarchy: OrgHierarchy, trust: str, other_trust: str) -> str:
    if value == "@other_site":
        return hierarchy.sites_of(other_trust)[0].code
    if value == "@lmns":
        return hierarchy.ancestor_at(trust, "lmns").code
    if value == "@region":
        return hierarchy.ancestor_at(trust, "region").code
    return value


@pytest.fixture(scope="module")
def outcome(tmp_path_factory: pytest.TempPathFactory, hierarchy: OrgHierarchy, trusts: list[tuple[str, str]]):
    """Load one file with every case; return (result, rules by row, row of each case, store)."""
    tmp = tmp_path_factory.mktemp("rules")
    trust, other = trusts[0][0], trusts[1][0]
    rows: list[dict[str, str]] = []
    case_rows: dict[str, list[int]] = {}
    for case_id, _, changes in CASES:
        resolved = {k: _resolve(v, hierarchy, trust, other) for k, v in changes.items()}
        case_rows[case_id] = [len(rows) + 2]
        rows.append(valid_row(trusts, len(rows), **resolved))
    for case_id, _, group in GROUP_CASES:
        case_rows[case_id] = []
        for changes in group:
            case_rows[case_id].append(len(rows) + 2)
            rows.append(valid_row(trusts, len(rows), **changes))
    path = tmp / "cases.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    home = tmp / "home"
    settings = Settings(home=home, database_url=f"sqlite:///{home / 'matneo.db'}")
    result: BatchResult = load_files([path], settings, hierarchy=hierarchy, now=LOAD_TIME)
    rules_by_row: dict[int, set[str]] = defaultdict(set)
    report = result.files[0].rejection_file
    assert report is not None
    with open(report, newline="", encoding="utf-8") as handle:
        for line in csv.DictReader(handle):
            rules_by_row[int(line["row"])].add(line["rule"])
            assert line["source_file"] == path.name  # never a server path
            assert line["reason"]
    return result, rules_by_row, case_rows, RecordStore(settings.records_dir)


@pytest.mark.parametrize(("case_id", "expected", "changes"), CASES, ids=[c[0] for c in CASES])
def test_single_row_rule(outcome, case_id: str, expected: str | None, changes: dict[str, str]) -> None:
    _, rules_by_row, case_rows, _ = outcome
    (row,) = case_rows[case_id]
    if expected is None:
        assert rules_by_row.get(row, set()) == set(), f"row {row} should be accepted"
    else:
        assert expected in rules_by_row[row]


@pytest.mark.parametrize(("case_id", "expected", "group"), GROUP_CASES, ids=[c[0] for c in GROUP_CASES])
def test_rule_across_rows(outcome, case_id: str, expected: str | None, group: list[dict[str, str]]) -> None:
    _, rules_by_row, case_rows, _ = outcome
    for row in case_rows[case_id]:
        if expected is None:
            assert rules_by_row.get(row, set()) == set()
        else:
            assert expected in rules_by_row[row], f"row {row} of {case_id}"


def test_every_rule_has_a_failing_case() -> None:
    covered = {expected for _, expected, _ in CASES + GROUP_CASES if expected}
    declared = {rule.id for rule in row_rules()} | {rule.id for rule in CROSS_ROW_RULES}
    # Type and length rules are generated the same way for every field of a type: one case per type is enough.
    untested = {r for r in declared - covered if not r.endswith(("_type", "_length"))}
    assert untested == set(), f"rules without a failing row: {sorted(untested)}"


def test_counts_add_up_and_only_good_rows_are_stored(outcome) -> None:
    result, rules_by_row, _, store = outcome
    (file_result,) = result.files
    assert file_result.rows_read == file_result.rows_loaded + file_result.rows_rejected
    assert file_result.rows_rejected == len(rules_by_row)
    con = store.connect()
    stored = con.execute("SELECT count(*) FROM births").fetchone()[0]
    assert stored == file_result.rows_loaded
    lmns, region = con.execute(
        "SELECT DISTINCT lmns_code, region_code FROM births WHERE lmns_code IS NOT NULL"
    ).fetchall()[0]
    assert lmns.startswith("Q") and region.startswith("Y")


def test_birth_record_reference_doc_is_current() -> None:
    committed = (Path(__file__).parents[2] / "docs" / "birth-record.md").read_text(encoding="utf-8")
    assert committed == render(), "regenerate: python -m matneo.records.reference_doc > docs/birth-record.md"
