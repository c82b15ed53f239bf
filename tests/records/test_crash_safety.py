"""A load killed at any moment leaves the store and the ledger as they were.

These tests run the real ``matneo load`` command in a child process and kill it with
SIGKILL — no clean-up handlers run — either at a named stage (``MATNEO_FAULT_AT``) or after
a short delay while it is busy validating a large file.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from matneo.config import Settings
from matneo.records.faults import FAULT_POINTS
from matneo.records.load import load_files
from matneo.records.schema import FIELD_NAMES
from matneo.records.status import store_status
from matneo.records.store import RecordStore


def run_load(settings: Settings, path: Path, fault: str | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, MATNEO_HOME=str(settings.home), MATNEO_DATABASE_URL=settings.database_url)
    env.pop("MATNEO_FAULT_AT", None)
    if fault:
        env["MATNEO_FAULT_AT"] = fault
    return subprocess.run(
        [sys.executable, "-m", "matneo.cli.main", "load", str(path)], env=env, capture_output=True, text=True
    )


def snapshot(settings: Settings) -> tuple:
    store = RecordStore(settings.records_dir)
    rows = store.connect().execute("SELECT record_id, birth_weight_g FROM births ORDER BY record_id").fetchall()
    summary = store_status(settings)
    return store.current_version(), rows, [(x.id, x.rows_loaded) for x in summary.last_loads]


@pytest.fixture
def loaded(settings: Settings, make_row, write_csv, tmp_path: Path) -> Settings:
    load_files([write_csv(tmp_path / "base.csv", [make_row(record_id="B1"), make_row(record_id="B2")])], settings)
    return settings


@pytest.mark.parametrize("point", [p for p in FAULT_POINTS if p != "after_swap"])
def test_kill_before_the_swap_changes_nothing(point: str, loaded: Settings, make_row, write_csv, tmp_path) -> None:
    before = snapshot(loaded)
    update = write_csv(tmp_path / "update.csv", [make_row(record_id="B1", birth_weight_g="2000"), make_row()])
    result = run_load(loaded, update, fault=point)
    assert result.returncode == -signal.SIGKILL, result.stderr
    assert snapshot(loaded) == before
    # The next load sweeps up what the killed one left and works normally.
    again = run_load(loaded, update)
    assert again.returncode == 0, again.stderr
    assert list(loaded.staging_dir.iterdir()) == []
    version, rows, _ = snapshot(loaded)
    assert version == before[0] + 1
    assert ("B1", 2000) in rows


def test_kill_after_the_swap_keeps_the_load_and_repairs_the_ledger(
    loaded: Settings, make_row, write_csv, tmp_path: Path
) -> None:
    update = write_csv(tmp_path / "update.csv", [make_row(record_id="B1", birth_weight_g="2100")])
    result = run_load(loaded, update, fault="after_swap")
    assert result.returncode == -signal.SIGKILL
    version, rows, loads = snapshot(loaded)
    assert ("B1", 2100) in rows
    assert len(loads) == 1  # the ledger write never happened
    # The next writer restores the ledger from the store's manifest, so the file is known.
    again = run_load(loaded, update)
    assert again.returncode == 0, again.stderr
    assert "already loaded" in again.stdout
    _, _, loads = snapshot(loaded)
    assert len(loads) == 2
    assert snapshot(loaded)[0] == version


def _big_csv(path: Path, make_row, rows: int) -> Path:
    template = make_row()
    columns = {name: np.full(rows, template[name], dtype=object) for name in FIELD_NAMES}
    ids = np.char.add("BIG", np.arange(rows).astype(str))
    columns["record_id"] = ids
    columns["mother_id"] = np.char.add("MB", np.arange(rows).astype(str))
    pacsv.write_csv(pa.table({k: pa.array(v, pa.string()) for k, v in columns.items()}), path)
    return path


@pytest.mark.slow
def test_kill_at_any_moment_leaves_all_or_nothing(
    sqlite_settings: Settings, make_row, write_csv, tmp_path: Path
) -> None:
    """SIGKILL a real load at several moments while it works: never a partial store."""
    settings = sqlite_settings
    load_files(
        [write_csv(tmp_path / "base.csv", [make_row(record_id="B1", birth_datetime="2018-01-05 09:00")])], settings
    )
    before = snapshot(settings)
    big = _big_csv(tmp_path / "big.csv", make_row, 600_000)
    env = dict(os.environ, MATNEO_HOME=str(settings.home), MATNEO_DATABASE_URL=settings.database_url)
    killed_midway = 0
    for delay in (0.0, 0.1, 0.3, 0.6):
        child = subprocess.Popen(
            [sys.executable, "-m", "matneo.cli.main", "load", str(big)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while not any(settings.staging_dir.glob("*")) and child.poll() is None:
            assert time.monotonic() < deadline
            time.sleep(0.005)
        time.sleep(delay)
        if child.poll() is None:
            child.send_signal(signal.SIGKILL)
        child.wait()
        if child.returncode == -signal.SIGKILL:
            after = snapshot(settings)
            assert after == before or store_status(settings).rows == 600_001, "a partial load is visible"
            killed_midway += after == before
        if store_status(settings).rows == 600_001:
            break
    assert killed_midway >= 1, "no kill landed while the load was working; make the file bigger"
    assert run_load(settings, big).returncode == 0
    assert store_status(settings).rows == 600_001


def run_revert(settings: Settings, load_id: int, fault: str | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, MATNEO_HOME=str(settings.home), MATNEO_DATABASE_URL=settings.database_url)
    env.pop("MATNEO_FAULT_AT", None)
    if fault:
        env["MATNEO_FAULT_AT"] = fault
    command = [sys.executable, "-m", "matneo.cli.main", "loads", "revert", str(load_id)]
    return subprocess.run(command, env=env, capture_output=True, text=True)


def test_a_revert_killed_before_the_swap_changes_nothing(loaded: Settings, make_row, write_csv, tmp_path) -> None:
    update = write_csv(tmp_path / "update.csv", [make_row(record_id="B1", birth_weight_g="2000"), make_row()])
    load_id = load_files([update], loaded, allow_shrink=True).ledger_ids[0]
    before = snapshot(loaded)
    result = run_revert(loaded, load_id, fault="before_swap")
    assert result.returncode == -signal.SIGKILL, result.stderr
    assert snapshot(loaded) == before
    assert run_revert(loaded, load_id).returncode == 0
    _, rows, _ = snapshot(loaded)
    assert ("B1", 2000) not in rows and len(rows) == 2


def test_a_revert_killed_after_the_swap_is_recorded_by_the_next_writer(
    loaded: Settings, make_row, write_csv, tmp_path
) -> None:
    update = write_csv(tmp_path / "update.csv", [make_row(record_id="B1", birth_weight_g="2000"), make_row()])
    load_id = load_files([update], loaded, allow_shrink=True).ledger_ids[0]
    result = run_revert(loaded, load_id, fault="after_swap")
    assert result.returncode == -signal.SIGKILL
    _, rows, _ = snapshot(loaded)
    assert ("B1", 2000) not in rows  # the store is reverted; the ledger does not know yet
    again = run_revert(loaded, load_id)
    assert again.returncode == 1 and "already been reverted" in again.stderr


def test_every_new_file_is_on_disk_before_the_version_goes_live(
    sqlite_settings: Settings, make_row, write_csv, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A power cut right after the swap must not leave the live version pointing at empty or torn
    Parquet: each new data file, the manifest and the load's undo file are fsynced before
    ``CURRENT`` is replaced. (Before, only directories were fsynced.) The real ``os.fsync`` and
    ``os.replace`` run; the test only notes which files had been flushed when the swap came."""
    settings = sqlite_settings
    load_files([write_csv(tmp_path / "base.csv", [make_row(record_id="B1")])], settings)
    store = RecordStore(settings.records_dir)
    earlier = set(store.undo_dir.glob("*.parquet"))  # flushed by the first load, before the spy
    flushed: set[tuple[int, int]] = set()
    checked: list[int] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        real_fsync(fd)
        info = os.fstat(fd)
        flushed.add((info.st_dev, info.st_ino))

    def replace(src, dst) -> None:  # type: ignore[no-untyped-def]
        if Path(dst) == store.root / "CURRENT":
            live = store.version_dir(int(Path(src).read_text().strip().removeprefix("v")))
            files = [
                *live.rglob("*.parquet"),
                live / "manifest.json",
                *(set(store.undo_dir.glob("*.parquet")) - earlier),
            ]
            unflushed = [f.relative_to(store.root) for f in files if (f.stat().st_dev, f.stat().st_ino) not in flushed]
            assert unflushed == [], f"not on disk when the version went live: {unflushed}"
            checked.append(len(files))
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    update = [make_row(record_id="B1", birth_weight_g="2000"), make_row(birth_datetime="2019-08-03 01:00")]
    load_files([write_csv(tmp_path / "update.csv", update)], settings)
    assert checked and checked[0] >= 4, "two data files, the manifest and an undo file"
