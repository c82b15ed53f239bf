"""Background jobs: the overdue check hourly, the signals register after each new load."""

from __future__ import annotations

from pathlib import Path

from matneo.auth.users import add_user
from matneo.config import Settings
from matneo.db.session import upgrade
from matneo.records.load import load_files
from matneo.reference.organisations import load_hierarchy
from matneo.signals.register import current
from matneo.synth import write_dataset
from matneo.synth.generator import parse_struggling
from matneo.web.jobs import OVERDUE_EVERY, BackgroundJobs
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
