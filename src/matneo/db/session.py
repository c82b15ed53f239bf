"""Engines, migrations and transactions for the app store.

Migrations are an explicit step (``matneo db upgrade``, run by ``scripts/demo`` and by
``matneo serve --upgrade``), never a side effect of an ordinary command: with several
workers or a shared PostgreSQL, an upgrade must happen once, when an operator chooses. Every
other entry point calls :func:`prepare`, which refuses a database that is behind with
:class:`DatabaseBehind` ("run `matneo db upgrade`") rather than failing later on a missing
column.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from matneo.reference.organisations import OrgHierarchy

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


class DatabaseBehind(RuntimeError):
    """The app store's schema is not the one this version of MatNeo needs; the message says what to run."""


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str:
    """The newest schema revision this version of MatNeo knows."""
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None, "the packaged migrations have a single head"
    return head


def current_revision(url: str) -> str | None:
    """The schema revision the database at ``url`` is at; None for a database MatNeo never set up."""
    with get_engine(url).connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def migrate(url: str) -> None:
    """Bring the database at ``url`` up to the newest schema (idempotent)."""
    config = _alembic_config()
    with get_engine(url).begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def check_schema(url: str) -> None:
    """Raise :class:`DatabaseBehind` unless the database at ``url`` is at the newest schema."""
    current, head = current_revision(url), head_revision()
    if current == head:
        return
    if current is None:
        state = "has no MatNeo tables yet"
    elif current in {script.revision for script in ScriptDirectory.from_config(_alembic_config()).walk_revisions()}:
        state = f"is at schema {current}; this version of MatNeo needs {head}"
    else:
        raise DatabaseBehind(
            f"The app database is at schema {current}, which this version of MatNeo does not know "
            f"(its newest is {head}): it was upgraded by a newer MatNeo. Run that version instead."
        )
    raise DatabaseBehind(f"The app database {state}. Run `matneo db upgrade` first.")


def upgrade(url: str, hierarchy: OrgHierarchy) -> None:
    """``matneo db upgrade``: migrate the app store to the newest schema, then sync its organisations."""
    from matneo.db.organisations import sync_organisations

    migrate(url)
    sync_organisations(url, hierarchy)


def prepare(url: str, hierarchy: OrgHierarchy) -> None:
    """Check the app store is at the newest schema (no migrating) and bring its organisations in
    line with ``hierarchy`` (the instance's reference data, which ``matneo reference install``
    may have changed since the last upgrade)."""
    from matneo.db.organisations import sync_organisations

    check_schema(url)
    sync_organisations(url, hierarchy)


@contextmanager
def transaction(url: str) -> Iterator[Session]:
    """A session whose work commits together at the end of the block, or not at all."""
    factory = sessionmaker(get_engine(url), expire_on_commit=False)
    with factory.begin() as session:
        yield session
