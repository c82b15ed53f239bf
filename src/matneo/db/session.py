"""Engines, migrations and transactions for the app store."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_ENGINES: dict[str, Engine] = {}


def _enable_sqlite_foreign_keys(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def get_engine(url: str) -> Engine:
    """One pooled engine per database URL (SQLite gets foreign keys and WAL turned on).

    The pool is as large as the web server's thread pool (40), so requests do not open and
    close connections; PostgreSQL connections are pinged before use (a server restart must not
    fail a request), SQLite files need no ping.
    """
    engine = _ENGINES.get(url)
    if engine is None:
        sqlite = url.startswith("sqlite")
        engine = create_engine(url, pool_pre_ping=not sqlite, pool_size=10, max_overflow=30)
        if sqlite:
            event.listen(engine, "connect", _enable_sqlite_foreign_keys)
        _ENGINES[url] = engine
    return engine


def dispose_engine(url: str) -> None:
    """Close the pooled connections to ``url`` and forget its engine."""
    engine = _ENGINES.pop(url, None)
    if engine is not None:
        engine.dispose()


def dispose_all_engines() -> None:
    """Close every pooled connection (end of a test, or before forking workers)."""
    for url in list(_ENGINES):
        dispose_engine(url)


def migrate(url: str) -> None:
    """Bring the database at ``url`` up to the newest schema (idempotent)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with get_engine(url).begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def prepare(url: str) -> None:
    """Migrate the app store and bring its organisations in line with the reference data."""
    from matneo.db.organisations import sync_organisations
    from matneo.reference.organisations import load_hierarchy

    migrate(url)
    sync_organisations(url, load_hierarchy())


@contextmanager
def transaction(url: str) -> Iterator[Session]:
    """A session whose work commits together at the end of the block, or not at all."""
    factory = sessionmaker(get_engine(url), expire_on_commit=False)
    with factory.begin() as session:
        yield session
