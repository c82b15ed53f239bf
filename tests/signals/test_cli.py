"""`matneo signals`: the refresh counts and the register table, in words."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import polars as pl

from matneo.config import Settings
from matneo.db.session import upgrade
from matneo.reference.organisations import load_hierarchy
from matneo.signals.detect import SIGNAL_COLUMNS
from matneo.signals.register import refresh


def matneo(settings: Settings, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, MATNEO_HOME=str(settings.home), MATNEO_DATABASE_URL=settings.database_url, COLUMNS="250")
    return subprocess.run(
        [sys.executable, "-m", "matneo.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )


def test_refresh_counts_every_kind_of_change(sqlite_settings: Settings, tmp_path: Path, make_row, write_csv) -> None:
    rows = [make_row(birth_datetime="2019-06-15 10:30:00")]
    assert matneo(sqlite_settings, "load", str(write_csv(tmp_path / "b.csv", rows))).returncode == 0
    result = matneo(sqlite_settings, "signals")
    assert result.returncode == 0, result.stderr
    assert (
        "Detection on data to 30 Jun 2019: 0 raised, 0 updated, 0 stopped signalling, 0 signalling again, 0 closed."
        in result.stdout
    )


def test_the_table_shows_methods_and_dates_in_words(sqlite_settings: Settings) -> None:
    settings = sqlite_settings
    settings.ensure_dirs()
    upgrade(settings.database_url, load_hierarchy())
    signals = pl.DataFrame(
        [("R0A", "stillbirth_rate", "cusum", dt.date(2019, 8, 1), "CUSUM 7.4, threshold 7", 7.4)],
        schema=SIGNAL_COLUMNS,
        orient="row",
    )
    refresh(settings.database_url, signals, dt.date(2019, 10, 31))
    table = matneo(settings, "signals", "--no-refresh").stdout
    assert "Risk-adjusted CUSUM" in table and "cusum" not in table
    assert "1 Aug 2019" in table and "2019-08-01" not in table
    assert "Stopped" in table
    (entry,) = json.loads(matneo(settings, "signals", "--no-refresh", "--format", "json").stdout)
    assert (entry["method"], entry["since"], entry["signalling"]) == ("cusum", "2019-08-01", False)
