"""Shared fixtures: an isolated MATNEO_HOME per test, on SQLite and on the real PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from matneo.config import Settings

POSTGRES_URL = os.environ.get("MATNEO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture
def sqlite_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    home = tmp_path / "home"
    monkeypatch.setenv("MATNEO_HOME", str(home))
    monkeypatch.delenv("MATNEO_DATABASE_URL", raising=False)
    return Settings(home=home, database_url=f"sqlite:///{home / 'matneo.db'}")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh schema in the real PostgreSQL test database, dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    try:
        with admin.begin() as connection:
            connection.execute(text(f"CREATE SCHEMA {schema}"))
    except Exception as error:  # pragma: no cover - only when the server is down
        pytest.fail(f"PostgreSQL is required for this test and is not reachable at {POSTGRES_URL}: {error}")
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def settings(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings for an isolated instance, once with SQLite and once with PostgreSQL."""
    home = tmp_path / "home"
    monkeypatch.setenv("MATNEO_HOME", str(home))
    sqlite_url = f"sqlite:///{home / 'matneo.db'}"
    url = sqlite_url if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    monkeypatch.setenv("MATNEO_DATABASE_URL", url)
    return Settings(home=home, database_url=url)
