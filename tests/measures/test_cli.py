"""``matneo measures`` and ``matneo ambition`` as people run them: a real child process, output piped."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from matneo.config import Settings


def matneo(settings: Settings, *args: str) -> subprocess.CompletedProcess:
    """Run ``matneo`` with its output piped, as ``matneo ... | less`` does (no COLUMNS: Rich would use 80)."""
    env = dict(os.environ, MATNEO_HOME=str(settings.home), MATNEO_DATABASE_URL=settings.database_url)
    env.pop("COLUMNS", None)
    return subprocess.run(
        [sys.executable, "-m", "matneo.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture
def loaded(sqlite_settings: Settings, tmp_path: Path, make_row: Callable[..., dict], write_csv) -> Settings:  # type: ignore[no-untyped-def]
    """Two years (2019-2020) of births at one trust, three a month, a stillbirth every fourth month."""
    rows = []
    for year in (2019, 2020):
        for month in range(1, 13):
            day = {"birth_datetime": f"{year}-{month:02d}-15 10:30:00"}
            dead = {"outcome": "stillbirth", "stillbirth_timing": "antepartum", "nnu_admission": "", "brain_injury": ""}
            rows += [make_row(**day, **(dead if month % 4 == 0 else {})), make_row(**day), make_row(**day)]
    result = matneo(sqlite_settings, "load", str(write_csv(tmp_path / "births.csv", rows)))
    assert result.returncode == 0, result.stderr
    return sqlite_settings


def rows(result: subprocess.CompletedProcess) -> list[dict]:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_org_implies_its_level(loaded: Settings, trusts: list[tuple[str, str]]) -> None:
    trust = trusts[0][0]
    alone = rows(matneo(loaded, "measures", "-m", "stillbirth_rate", "--org", trust.lower(), "--format", "json"))
    assert {(r["level"], r["org_code"]) for r in alone} == {("trust", trust)}
    assert [r["numerator"] for r in alone] == [3, 3]
    england = rows(matneo(loaded, "measures", "-m", "stillbirth_rate", "--format", "json"))
    assert {r["org_code"] for r in england} == {"ENG"}  # no --org: England, as before
    wrong = matneo(loaded, "measures", "--org", trust, "--level", "lmns")
    assert wrong.returncode == 2 and f"{trust} is a trust, not an LMNS" in wrong.stderr
    unknown = matneo(loaded, "measures", "--org", "NOPE")
    assert unknown.returncode == 2 and "no organisation with code NOPE" in unknown.stderr


def test_rolling_periods_take_any_from_and_to(loaded: Settings) -> None:
    """A rolling period is picked by the month it ends in, so a range shorter than the window works."""
    args = ["measures", "-m", "stillbirth_rate", "--period", "rolling_12m", "--format", "json"]
    chosen = rows(matneo(loaded, *args, "--from", "2020-01", "--to", "2020-03"))
    assert [r["period"] for r in chosen] == ["12 months to Jan 2020", "12 months to Feb 2020", "12 months to Mar 2020"]
    one = rows(matneo(loaded, *args, "--from", "2020-06", "--to", "2020-06"))
    assert [(r["period"], r["numerator"], r["denominator"]) for r in one] == [("12 months to Jun 2020", 3, 36)]
    backwards = matneo(loaded, *args, "--from", "2020-06", "--to", "2020-01")
    assert backwards.returncode == 2 and "is after --to" in backwards.stderr
    # calendar periods are unchanged: those lying within the range
    assert [
        r["period"]
        for r in rows(matneo(loaded, "measures", "--from", "2020-01", "-m", "stillbirth_rate", "--format", "json"))
    ] == ["2020"]


def test_piped_tables_keep_each_row_on_one_line_with_both_intervals(loaded: Settings) -> None:
    table = matneo(
        loaded, "measures", "-m", "stillbirth_rate", "--period", "rolling_12m", "--from", "2020-01", "--to", "2020-03"
    )
    assert table.returncode == 0, table.stderr
    lines = [line for line in table.stdout.splitlines() if "stillbirth_rate" in line]
    assert len(lines) == 3  # one line per row, nothing cut or wrapped into fragments
    assert "95% CI" in table.stdout and "99.8% CI" in table.stdout
    (row,) = rows(
        matneo(
            loaded,
            "measures",
            "-m",
            "stillbirth_rate",
            "--period",
            "rolling_12m",
            "--from",
            "2020-01",
            "--to",
            "2020-01",
            "--format",
            "json",
        )
    )
    cells = [c.strip() for c in lines[0].split("│")]
    assert "12 months to Jan 2020" in cells  # the web's label for the same period
    assert f"{row['lower95']:.2f}–{row['upper95']:.2f}" in cells
    assert f"{row['lower998']:.2f}–{row['upper998']:.2f}" in cells
    listing = matneo(loaded, "measures", "--list")
    assert re.search(r"right_place_of_birth_under_34wk .*│", listing.stdout)  # whole id and title on its line


def test_piped_ambition_table_is_not_wrapped(loaded: Settings) -> None:
    table = matneo(loaded, "ambition")
    assert table.returncode == 0, table.stderr
    line = next(line for line in table.stdout.splitlines() if "Perinatal mortality" in line)
    assert "Perinatal mortality (stillbirths and neonatal deaths)" in line and "2020:" in line


def test_piped_messages_are_not_wrapped(
    sqlite_settings: Settings, tmp_path: Path, make_row: Callable[..., dict], write_csv
) -> None:  # type: ignore[no-untyped-def]
    """Piped, a line longer than 80 columns stays one line, so a script or a person can read it
    back: a message naming a long path (Rich broke one over two lines, and a CI run failed on it
    with a longer temporary folder) and a table (the load's ledger)."""
    deep = tmp_path / ("a-folder-with-a-long-name-" * 4) / "births-for-the-month-of-june-2022.csv"
    deep.parent.mkdir(parents=True)
    missing = matneo(sqlite_settings, "load", str(deep))
    assert missing.returncode != 0 and str(deep) in missing.stderr, missing.stderr
    loaded = matneo(sqlite_settings, "load", str(write_csv(deep, [make_row()])))
    assert loaded.returncode == 0, loaded.stderr
    assert re.search(r"births-for-the-month-of-june-2022\.csv\s+│\s+loaded", loaded.stdout), loaded.stdout
