"""One process at a time across an instance's workers: a PostgreSQL advisory lock.

Several ``matneo serve`` processes may share one PostgreSQL app store (docs/deployment.md).
Their background jobs (the hourly harm overdue check, the signals refresh after a load) must
then run in one of them, not in each: :class:`ProcessLock` elects that one. It takes a
*session-level* advisory lock (``pg_try_advisory_lock``, PostgreSQL manual, "Advisory Locks",
https://www.postgresql.org/docs/current/explicit-locking.html#ADVISORY-LOCKS) on a connection
of its own, outside the request pool, and keeps it for as long as the process lives. The
server releases a session lock when its connection ends, so if that process dies or loses its
connection, another takes over at its next try; nothing is left to clean up by hand.

SQLite is a single-machine, single-process deployment: the lock is always granted there.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

log = logging.getLogger(__name__)


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for ``name`` (advisory locks are keyed by a bigint)."""
    return int.from_bytes(hashlib.blake2b(f"matneo:{name}".encode(), digest_size=8).digest(), "big", signed=True)


class ProcessLock:
    """A named lock that at most one process holds at a time; :meth:`acquire` is cheap to call often."""

    def __init__(self, url: str, name: str) -> None:
        self.url = url
        self.name = name
        self.key = lock_key(name)
        self._engine: Engine | None = None
        self._connection: Connection | None = None
        self._pid: int | None = None  # the PostgreSQL backend (session) holding the lock

    @property
    def shared(self) -> bool:
        """Whether other processes can share this database (PostgreSQL), so the lock means something."""
        return self.url.startswith("postgresql")

    def acquire(self) -> bool:
        """True when this process holds the lock: still, or newly (it was free). Never waits."""
        if not self.shared:
            return True
        if self._connection is not None:
            # The lock lasts as long as its database session. Same backend process, same session:
            # still ours. A dropped connection raises, or comes back as a new session without it.
            try:
                pid = self._connection.execute(text("SELECT pg_backend_pid()")).scalar()
                self._connection.commit()
            except SQLAlchemyError:
                pid = None
            if pid is not None and pid == self._pid:
                return True
            log.warning("lock %s: its database session ended; trying to take it again", self.name)
            self._drop()
        engine = create_engine(self.url, poolclass=NullPool)
        try:
            connection = engine.connect()
        except SQLAlchemyError:
            engine.dispose()
            log.warning("lock %s: cannot reach the database; tried again later", self.name)
            return False
        try:
            got, pid = connection.execute(
                text("SELECT pg_try_advisory_lock(:key), pg_backend_pid()"), {"key": self.key}
            ).one()
            connection.commit()  # not left idle in a transaction; the session lock outlives the commit
        except SQLAlchemyError:
            got, pid = False, None
        if not got:
            connection.close()
            engine.dispose()
            return False
        self._engine, self._connection, self._pid = engine, connection, pid
        log.info("lock %s: taken by this process", self.name)
        return True

    def release(self) -> None:
        """Give the lock up (closing its connection releases it even if the unlock fails)."""
        if self._connection is not None:
            with contextlib.suppress(SQLAlchemyError):  # closing the connection below releases it anyway
                self._connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
                self._connection.commit()
        self._drop()

    def _drop(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(SQLAlchemyError):  # a dead connection: the server has ended its session
                self._connection.close()
        if self._engine is not None:
            self._engine.dispose()
        self._engine, self._connection, self._pid = None, None, None
