"""Migrations are an explicit step: `matneo db upgrade`. Every other entry point refuses a database
that is behind, saying what to run, instead of migrating it (or failing on a missing column)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text

from matneo.config import Settings
from matneo.db.session import (
    DatabaseBehind,
    _alembic_config,
    current_revision,
    get_engine,
    head_revision,
    prepare,
)
from matneo.reference.organisations import load_hierarchy
from matneo.web.app import create_app

UPGRADE_HINT = "Run `matneo db upgrade` first."


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def blank(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """An instance nobody has upgraded yet (unlike the shared ``settings`` fixture)."""
    home = tmp_path / "blank"
    home.mkdir()
    url = f"sqlite:///{home / 'matneo.db'}" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    return Settings(home=home, database_url=url)


def matneo(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, MATNEO_HOME=str(settings.home), MATNEO_DATABASE_URL=settings.database_url, COLUMNS="250")
    return subprocess.run(
        [sys.executable, "-m", "matneo.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )


def at_revision(settings: Settings, revision: str) -> None:
    """Put the database at an older schema, as a previous version of MatNeo left it."""
    config = _alembic_config()
    with get_engine(settings.database_url).begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def test_commands_on_a_new_database_say_to_run_db_upgrade_and_change_nothing(blank: Settings) -> None:
    for args in (["status"], ["users", "list"], ["harm", "overdue-check"], ["serve", "--port", "1"]):
        result = matneo(blank, *args)
        assert result.returncode == 1, (args, result.stdout, result.stderr)
        assert "has no MatNeo tables yet" in result.stderr and UPGRADE_HINT in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr
    assert current_revision(blank.database_url) is None, "nothing migrated it behind the operator's back"


def test_a_database_behind_is_named_with_both_schemas_and_db_upgrade_fixes_it(blank: Settings) -> None:
    previous = "0007"
    at_revision(blank, previous)
    result = matneo(blank, "loads", "list")
    assert result.returncode == 1
    assert f"is at schema {previous}; this version of MatNeo needs {head_revision()}" in result.stderr
    assert UPGRADE_HINT in result.stderr
    assert current_revision(blank.database_url) == previous

    upgraded = matneo(blank, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert f"upgraded from {previous} to {head_revision()}" in upgraded.stdout
    assert current_revision(blank.database_url) == head_revision()
    assert matneo(blank, "loads", "list").returncode == 0
    again = matneo(blank, "db", "upgrade")
    assert again.returncode == 0 and "already at the newest schema" in again.stdout


def test_a_database_from_a_newer_matneo_is_refused_not_downgraded(blank: Settings) -> None:
    at_revision(blank, "head")
    with get_engine(blank.database_url).begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    result = matneo(blank, "status")
    assert result.returncode == 1
    assert "upgraded by a newer MatNeo" in result.stderr


def test_the_web_app_refuses_to_start_on_a_database_behind(blank: Settings) -> None:
    with pytest.raises(DatabaseBehind, match="matneo db upgrade"):
        create_app(blank)
    with pytest.raises(DatabaseBehind, match="matneo db upgrade"):
        prepare(blank.database_url, load_hierarchy())
