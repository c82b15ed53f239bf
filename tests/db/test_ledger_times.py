"""Ledger times are UTC in the app store; local time is for display only.

Before, the loader stamped loads with the server's local wall-clock time, so a summer load
showed an hour out once pages converted stored times (UTC) to London time. Migration 0011
converts those rows; batch records now carry their UTC offset; records from before (an old
store manifest replayed by ``reconcile``) are recognised by their batch id and converted.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import insert, select

from matneo.config import Settings
from matneo.db import ledger
from matneo.db.models import Load
from matneo.db.session import MIGRATIONS_DIR, get_engine, migrate, transaction
from matneo.records.load import load_files

SUMMER = dt.datetime(2026, 7, 1, 10, 30, 0)  # BST: 09:30 UTC
WINTER = dt.datetime(2026, 12, 1, 10, 30, 0)  # GMT: 10:30 UTC


@pytest.fixture
def london(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Run as a server in England would: local time is Europe/London, with summer time."""
    monkeypatch.setenv("TZ", "Europe/London")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def _load(row_id: int, batch_id: str, started: dt.datetime, mode: str | None, status: str = "loaded") -> dict:
    return {
        "id": row_id,
        "batch_id": batch_id,
        "file_name": f"file{row_id}.csv",
        "file_sha256": f"{row_id:064d}",
        "file_format": "csv",
        "file_bytes": 1,
        "status": status,
        "rows_read": 1,
        "rows_loaded": 1,
        "rows_rejected": 0,
        "started_at": started,
        "finished_at": started + dt.timedelta(seconds=5),
        "mode": mode,
    }


def test_migration_0011_converts_local_ledger_times_to_utc(settings: Settings, london: None) -> None:
    settings.ensure_dirs()
    url = settings.database_url
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with get_engine(url).begin() as connection:
        config.attributes["connection"] = connection
        # the settings fixture hands over a database at the newest schema: step back to before 0011
        command.downgrade(config, "0008")
    new_utc = dt.datetime(2026, 7, 2, 9, 0, 0)
    rows = [
        _load(1, "20260701T103000-abcd1234-0", SUMMER, None),  # the old loader, local summer time
        _load(2, "20261201T103000-abcd1234-0", WINTER, None),  # local winter time is UTC already
        _load(3, "failed-1234abcd", SUMMER, None, status="failed"),  # an old failure: no batch time
        _load(4, "20260702T100000-beef0001-0", new_utc, "resubmit"),  # since 0008: UTC, local batch id
        _load(5, "failed-5678abcd", new_utc, None, status="failed"),  # a failure since then
    ]
    with get_engine(url).begin() as connection:
        connection.execute(insert(Load.__table__), rows)
    migrate(url)
    with transaction(url) as session:
        got = {load.id: (load.started_at, load.finished_at) for load in session.scalars(select(Load))}
    utc_summer = dt.datetime(2026, 7, 1, 9, 30, 0)
    assert got[1] == (utc_summer, utc_summer + dt.timedelta(seconds=5))
    assert got[2][0] == WINTER
    assert got[3][0] == utc_summer
    assert got[4][0] == new_utc and got[5][0] == new_utc, "rows already in UTC are left alone"


def test_batch_records_say_utc_and_old_local_ones_are_converted(london: None) -> None:
    utc = dt.datetime(2026, 7, 1, 9, 30, 0)
    assert ledger.batch_time(utc) == "2026-07-01T09:30:00+00:00"
    assert ledger.stored_time("2026-07-01T09:30:00+00:00", "20260701T093000Z-abcd1234-0") == utc
    assert ledger.stored_time("2026-07-01T10:30:00", "20260701T103000-abcd1234-0") == utc  # old manifest
    assert ledger.stored_time("2026-07-01T09:30:00", "20260701T103000-abcd1234-0") == utc  # 0008 to now
    assert ledger.stored_time("2026-07-01T09:30:00", "revert-1") == utc


def test_a_load_is_stamped_in_utc_whatever_the_local_zone(
    settings: Settings,
    london: None,
    make_row,
    write_csv,
    tmp_path,  # type: ignore[no-untyped-def]
) -> None:
    before = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    batch = load_files([write_csv(tmp_path / "b.csv", [make_row()])], settings)
    after = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with transaction(settings.database_url) as session:
        load = session.scalars(select(Load)).one()
    assert before <= load.started_at <= load.finished_at <= after
    assert batch.batch_id[15] == "Z" and load.batch_id.startswith(before.strftime("%Y%m%d"))
