"""Two modes, a plan before anything changes, the partial-month guard, and reverting a load.

The product issue: a 47-row upload for one trust-month replaced all 406 rows of that month and
the page said only "Loaded 47". Now the plan says so first, an upload can add or correct
records instead, a resubmission that shrinks a month to under half is refused unless
allowed, every load's outcome is in the ledger and the audit log, and a load can be undone.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from matneo.config import Settings
from matneo.db.models import AuditEvent, Load
from matneo.db.session import transaction
from matneo.records.changes import MonthChange
from matneo.records.load import PlanChanged, PlanRefused, load_files
from matneo.records.revert import RevertRefused, revert_load
from matneo.records.store import RecordStore

DECEMBER = "2024-12-10 09:00:00"


def stored(settings: Settings) -> list[tuple]:
    sql = "SELECT trust_code, record_id, month, birth_weight_g FROM births ORDER BY 1, 2"
    return RecordStore(settings.records_dir).connect().execute(sql).fetchall()


def loads(settings: Settings) -> list[Load]:
    with transaction(settings.database_url) as session:
        return list(session.scalars(select(Load).order_by(Load.id)))


def december(make_row, n: int, prefix: str = "D", **changes: str) -> list[dict[str, str]]:
    return [make_row(record_id=f"{prefix}{i}", birth_datetime=DECEMBER, **changes) for i in range(n)]


@pytest.fixture
def month_of_ten(settings: Settings, make_row, write_csv, tmp_path: Path) -> Settings:
    load_files([write_csv(tmp_path / "december.csv", december(make_row, 10))], settings)
    return settings


def test_dry_run_shows_the_plan_and_changes_nothing(
    month_of_ten: Settings, make_row, write_csv, tmp_path: Path, trusts
) -> None:
    settings = month_of_ten
    before = (stored(settings), [x.id for x in loads(settings)], RecordStore(settings.records_dir).current_version())
    rows = [*december(make_row, 3), make_row(record_id="BAD", gestation_weeks="60", birth_datetime=DECEMBER)]
    reports = sorted(settings.rejections_dir.iterdir())
    result = load_files([write_csv(tmp_path / "short.csv", rows)], settings, dry_run=True)
    trust = trusts[0][0]
    assert result.plan()["replaces"] == [{"trust_code": trust, "month": "2024-12", "existing_rows": 10, "new_rows": 3}]
    assert result.plan()["rejected_rows"] == 1 and result.plan()["moved_records"] == 0
    assert result.plan()["partial_months"] == result.plan()["replaces"]
    (change,) = result.files[0].months
    assert change == MonthChange(trust, "2024-12", 10, 3, supplied=3, added=0, replaced=3, removed=7)
    assert change.describe() == f"This replaces 10 records of {trust} December 2024 with 3."
    after = (stored(settings), [x.id for x in loads(settings)], RecordStore(settings.records_dir).current_version())
    assert after == before
    assert sorted(settings.rejections_dir.iterdir()) == reports
    assert result.files[0].rejection_file is None and result.files[0].top_reasons
    assert list(settings.staging_dir.iterdir()) == []


def test_a_partial_month_is_refused_unless_allowed(month_of_ten: Settings, make_row, write_csv, tmp_path: Path) -> None:
    settings = month_of_ten
    before = stored(settings)
    path = write_csv(tmp_path / "four.csv", december(make_row, 4, birth_weight_g="2222"))
    with pytest.raises(PlanRefused, match=r"would replace 10 records of \w+ December 2024 with 4"):
        load_files([path], settings)
    assert stored(settings) == before and len(loads(settings)) == 1
    half = write_csv(tmp_path / "five.csv", december(make_row, 5, birth_weight_g="2222"))
    assert load_files([half], settings).rows_loaded == 5  # exactly half is not a partial month
    result = load_files([path], settings, allow_shrink=True)
    assert len(stored(settings)) == 4
    assert (result.files[0].rows_replaced, result.files[0].rows_removed) == (4, 1)


def test_upsert_adds_and_corrects_and_keeps_the_rest(
    month_of_ten: Settings, make_row, write_csv, tmp_path: Path
) -> None:
    settings = month_of_ten
    rows = [
        make_row(record_id="D3", birth_datetime=DECEMBER, birth_weight_g="2900"),
        make_row(record_id="NEW", birth_datetime=DECEMBER),
    ]
    result = load_files([write_csv(tmp_path / "fix.csv", rows)], settings, mode="upsert")
    assert len(stored(settings)) == 11
    assert next(r for r in stored(settings) if r[1] == "D3")[3] == 2900
    (change,) = result.files[0].months
    assert (change.existing_rows, change.new_rows, change.added, change.replaced, change.removed) == (10, 11, 1, 1, 0)
    load = loads(settings)[-1]
    assert (load.mode, load.rows_added, load.rows_replaced, load.rows_removed) == ("upsert", 1, 1, 0)


def test_a_record_moving_month_is_in_the_plan(month_of_ten: Settings, make_row, write_csv, tmp_path: Path) -> None:
    settings = month_of_ten
    moved = make_row(record_id="D0", birth_datetime="2025-01-02 01:00:00")
    result = load_files([write_csv(tmp_path / "jan.csv", [moved])], settings, mode="upsert", dry_run=True)
    plan = result.plan()
    assert plan["moved_records"] == 1
    assert [(r["month"], r["existing_rows"], r["new_rows"]) for r in plan["replaces"]] == [
        ("2024-12", 10, 9),
        ("2025-01", 0, 1),
    ]


def test_a_plan_made_on_another_version_is_not_loaded(
    month_of_ten: Settings, make_row, write_csv, tmp_path: Path
) -> None:
    settings = month_of_ten
    path = write_csv(tmp_path / "more.csv", [make_row(record_id="X", birth_datetime=DECEMBER)])
    version = RecordStore(settings.records_dir).current_version()
    load_files([write_csv(tmp_path / "other.csv", [make_row(record_id="Y")])], settings, mode="upsert")
    with pytest.raises(PlanChanged):
        load_files([path], settings, mode="upsert", expect_version=version)


def test_every_load_is_audited_with_its_outcome_and_no_row_contents(
    month_of_ten: Settings, make_row, write_csv, tmp_path: Path
) -> None:
    settings = month_of_ten
    rows = december(make_row, 6, prefix="E")
    load_files([write_csv(tmp_path / "six.csv", rows)], settings, actor="midwife@test.invalid", allow_shrink=True)
    with transaction(settings.database_url) as session:
        events = list(session.scalars(select(AuditEvent).where(AuditEvent.action == "records.load")))
    assert len(events) == 2
    details = json.loads(events[-1].details)
    assert events[-1].actor == "midwife@test.invalid"
    assert (details["mode"], details["rows_added"], details["rows_replaced"], details["rows_removed"]) == (
        "resubmit",
        6,
        0,
        10,
    )
    assert details["months"][0][1:] == ["2024-12", 10, 6]
    assert not any(row["record_id"] in events[-1].details or row["mother_id"] in events[-1].details for row in rows)


# -- revert -------------------------------------------------------------------------------------
def test_revert_puts_the_month_back_and_the_file_may_be_loaded_again(
    month_of_ten: Settings, make_row, write_csv, tmp_path: Path
) -> None:
    settings = month_of_ten
    before = stored(settings)
    path = write_csv(tmp_path / "four.csv", december(make_row, 4, prefix="F"))
    load = load_files([path], settings, allow_shrink=True).ledger_ids[0]
    assert len(stored(settings)) == 4
    result = revert_load(settings, load, actor="lead@test.invalid")
    assert stored(settings) == before
    assert [(c.existing_rows, c.new_rows) for c in result.months] == [(4, 10)]
    by_id = {x.id: x for x in loads(settings)}
    assert by_id[load].status == "reverted"
    assert (by_id[result.load_id].status, by_id[result.load_id].reverts_load_id) == ("revert", load)
    with transaction(settings.database_url) as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "records.load_reverted")).one()
        assert event.actor == "lead@test.invalid" and json.loads(event.details)["reverts_load"] == load
    with pytest.raises(RevertRefused, match="already been reverted"):
        revert_load(settings, load)
    again = load_files([path], settings, allow_shrink=True)
    assert again.files[0].status == "loaded"


def test_a_later_load_of_the_same_months_blocks_the_revert(
    month_of_ten: Settings, make_row, write_csv, tmp_path: Path
) -> None:
    settings = month_of_ten
    first = loads(settings)[0].id
    later = load_files(
        [write_csv(tmp_path / "fix.csv", [make_row(record_id="D1", birth_datetime=DECEMBER, birth_weight_g="2500")])],
        settings,
        mode="upsert",
    ).ledger_ids[0]
    before = stored(settings)
    with pytest.raises(RevertRefused, match=f"later load changed the same trust-months \\(load {later} ") as refused:
        revert_load(settings, first)
    assert refused.value.reason == "blocked"
    assert stored(settings) == before
    revert_load(settings, later)
    revert_load(settings, first)  # the later load is undone: the first may be reverted now
    assert stored(settings) == []


def test_revert_leaves_other_trusts_in_the_same_month_alone(
    settings: Settings, make_row, write_csv, tmp_path: Path, trusts
) -> None:
    other, site = trusts[1]
    load_files(
        [write_csv(tmp_path / "theirs.csv", december(make_row, 3, "T", trust_code=other, site_code=site))], settings
    )
    ours = load_files([write_csv(tmp_path / "ours.csv", december(make_row, 2, "O"))], settings).ledger_ids[0]
    theirs_before = [r for r in stored(settings) if r[0] == other]
    revert_load(settings, ours)
    assert stored(settings) == theirs_before


def test_a_revert_out_of_scope_or_of_nothing_is_refused(month_of_ten: Settings) -> None:
    load = loads(month_of_ten)[0].id
    with pytest.raises(RevertRefused, match="no load") as refused:
        revert_load(month_of_ten, load, scope={"RJ1"})
    assert refused.value.reason == "not_found"
    with pytest.raises(RevertRefused, match="no load"):
        revert_load(month_of_ten, 999)
