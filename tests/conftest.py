"""Shared fixtures: an isolated MATNEO_HOME per test, on SQLite and on the real PostgreSQL."""

from __future__ import annotations

import csv
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from casework import Inbox, RefusingInbox, serve
from matneo.config import MailSettings, Settings
from matneo.db.session import dispose_all_engines, dispose_engine, upgrade
from matneo.records.schema import FIELD_NAMES
from matneo.reference.organisations import OrgHierarchy, load_hierarchy
from rowbuilder import valid_row

POSTGRES_URL = os.environ.get("MATNEO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture(autouse=True)
def _close_database_connections() -> Iterator[None]:
    """No test leaves pooled connections behind for the next one to trip over."""
    yield
    dispose_all_engines()


@pytest.fixture
def sqlite_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    home = tmp_path / "home"
    monkeypatch.setenv("MATNEO_HOME", str(home))
    monkeypatch.delenv("MATNEO_DATABASE_URL", raising=False)
    return _upgraded(Settings(home=home, database_url=f"sqlite:///{home / 'matneo.db'}"))


def _upgraded(settings: Settings) -> Settings:
    """An instance after `matneo db upgrade`, as an operator sets one up (migrations are that explicit step)."""
    settings.home.mkdir(parents=True, exist_ok=True)
    upgrade(settings.database_url, load_hierarchy())
    return settings


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
        url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
        yield url
    finally:
        dispose_engine(url)
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
    return _upgraded(Settings(home=home, database_url=url))


# -- birth-record files: one valid row, then change what a test is about --------------------
@pytest.fixture(scope="session")
def hierarchy() -> OrgHierarchy:
    return load_hierarchy()


@pytest.fixture(scope="session")
def trusts(hierarchy: OrgHierarchy) -> list[tuple[str, str]]:
    """(trust_code, one of its site codes) for a few trusts of the packaged reference."""
    return [(t.code, hierarchy.sites_of(t.code)[0].code) for t in hierarchy.trusts()[:3]]


@pytest.fixture
def make_row(trusts: list[tuple[str, str]]) -> Callable[..., dict[str, str]]:
    """A valid term singleton live birth as CSV text; keyword arguments override fields."""
    counter = iter(range(1, 1_000_000))
    return lambda **changes: valid_row(trusts, next(counter), **changes)


def _write_csv(path: Path, rows: list[dict[str, str]], columns: list[str] | None = None) -> Path:
    columns = columns or list(FIELD_NAMES)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture
def write_csv() -> Callable[..., Path]:
    """Write rows (dicts of text) to a UTF-8 CSV with the birth-record header (or ``columns``)."""
    return _write_csv


@pytest.fixture
def app_store(settings: Settings) -> Settings:
    """An upgraded app store on both backends (the harm, review and QI tests' starting point)."""
    settings.ensure_dirs()
    upgrade(settings.database_url, load_hierarchy())
    return settings


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, MailSettings]]:
    """A real SMTP relay on a loopback port that accepts every message."""
    yield from serve(Inbox())


@pytest.fixture
def refusing_smtp() -> Iterator[tuple[Inbox, MailSettings]]:
    """A real SMTP relay that refuses :attr:`RefusingInbox.REFUSED` at RCPT time."""
    yield from serve(RefusingInbox())
