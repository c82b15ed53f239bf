"""Background jobs: the overdue check hourly, the signals register after each new load."""

from __future__ import annotations

import time
from pathlib import Path

from matneo.auth.access import Access
from matneo.auth.signin import SignedInUser
from matneo.auth.users import add_user
from matneo.config import Settings
from matneo.db.session import upgrade
from matneo.records.load import load_files
from matneo.reference.organisations import load_hierarchy
from matneo.signals.register import current
from matneo.synth import write_dataset
from matneo.synth.generator import parse_struggling
from matneo.web.jobs import OVERDUE_EVERY, BackgroundJobs
from matneo.web.pages import organisation
from matneo.web.services import Services


def test_jobs_refresh_signals_after_a_load_and_check_overdue_hourly(sqlite_settings: Settings, tmp_path: Path) -> None:
    settings = sqlite_settings
    settings.ensure_dirs()
    upgrade(settings.database_url, load_hierarchy())
    clock = [0.0]
    jobs = BackgroundJobs(Services.create(settings), clock=lambda: clock[0])
    assert jobs.run_once() == ["overdue check: 0 new notifications"]
    assert jobs.run_once() == []  # nothing loaded, and the overdue check ran less than an hour ago

    files = write_dataset(
        tmp_path / "synthetic", range(2021, 2024), scale=0.05, seed=3, struggling=[parse_struggling("R0A:2021-01:6.0")]
    )
    load_files(files, settings)
    add_user(settings.database_url, "trust@test.invalid", "trust_staff", "R0A", "a-long-enough-passphrase-1", "test")
    done = jobs.run_once()
    assert len(done) == 2 and done[0].startswith("store version") and "tables" in done[0]
    assert "suppression for 1 readers' scopes" in done[0], done[0]
    assert done[1].startswith("signals refreshed for store version") and "child process" in done[1]
    version = jobs.services.results.version()
    assert (version, "table", "rolling_12m", None) in jobs.services.results.entries, "warmed before anyone asks"
    hidden = {key[2:5] for key in jobs.services.results.entries._items if key[1] == "hidden"}
    assert ("month", None, frozenset({"R0A"})) in hidden, "a trust user's LMNS SPC is warmed (issue 10)"
    assert ("year", "ethnic_group", frozenset({"R0A"})) in hidden, "and their breakdowns"
    assert any(s["trust_code"] == "R0A" for s in current(settings.database_url)), "the planted trust is found"
    assert jobs.run_once() == []  # same store version: no second refresh

    clock[0] = OVERDUE_EVERY
    assert jobs.run_once() == ["overdue check: 0 new notifications"]


def test_pages_read_before_a_load_are_ready_when_the_new_version_is_served(
    sqlite_settings: Settings, tmp_path: Path
) -> None:
    """Issue 10: once the server serves a new load, the pages people were reading are built already."""
    settings = sqlite_settings
    settings.ensure_dirs()
    hierarchy = load_hierarchy()
    upgrade(settings.database_url, hierarchy)
    files = write_dataset(tmp_path / "synthetic", [2022, 2023], scale=0.03, seed=4, hierarchy=hierarchy)
    load_files([f for f in files if "2022" in f.name], settings)
    services = Services.create(settings)
    services.results.hold_previous_until_warm(services.warm)
    analyst = Access(SignedInUser(1, "a@test.invalid", "national_analyst", "ENG", "x"), hierarchy)
    organisation.build(services, analyst, "R0A", "pph_1500")
    before = services.results.version()
    assert before is not None
    load_files([f for f in files if "2023" in f.name], settings)
    deadline = time.monotonic() + 120
    while services.results.version() == before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert services.results.version() == before + 1
    assert (before + 1, "memo", "organisation", "*", "R0A", "pph_1500") in services.results.entries


def test_signals_refresh_from_the_new_version_while_the_previous_one_is_still_served(
    sqlite_settings: Settings, tmp_path: Path
) -> None:
    """Issue 16: the refresh starts when a load lands, not once the server serves the new version
    (its warming took 48 s while clients kept the server busy, and the signals waited for it)."""
    import threading

    settings = sqlite_settings
    settings.ensure_dirs()
    hierarchy = load_hierarchy()
    upgrade(settings.database_url, hierarchy)
    files = write_dataset(
        tmp_path / "synthetic",
        [2022, 2023],
        scale=0.05,
        seed=3,
        hierarchy=hierarchy,
        struggling=[parse_struggling("R0A:2023-01:6.0")],
    )
    load_files([f for f in files if "2022" in f.name], settings)
    services = Services.create(settings)
    release = threading.Event()
    services.results.hold_previous_until_warm(lambda: release.wait(120))  # the warming never ends meanwhile
    jobs = BackgroundJobs(services)
    served = services.results.version()
    assert jobs.run_once() == ["overdue check: 0 new notifications"]

    load_files([f for f in files if "2023" in f.name], settings)
    try:
        done = jobs.run_once()
        assert services.results.version() == served, "the previous version is still served (still warming)"
        assert done == [line for line in done if line.startswith("signals refreshed for store version")] and done
        assert any(s["trust_code"] == "R0A" for s in current(settings.database_url)), "the new year's signal"
        assert jobs.run_once() == [], "once per version"
    finally:
        release.set()
