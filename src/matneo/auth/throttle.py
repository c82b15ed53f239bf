"""Sign-in throttling, kept in the app database so every server process shares it.

Two kinds of limit, as trusted services use them (OWASP Authentication Cheat Sheet, "Account
lockout" and "Login throttling",
https://cheatsheetseries.owasp.org/cheatsheets/Authentication_Cheat_Sheet.html; NCSC
"Password administration for system owners", 2018, "Use account lockout, throttling or
monitoring", https://www.ncsc.gov.uk/collection/passwords):

* **Per account: a progressive delay.** The first :data:`ACCOUNT_FREE_FAILURES` wrong
  passwords for an e-mail address cost nothing; each one after that makes the next attempt
  wait, :data:`ACCOUNT_FIRST_DELAY` and doubling up to :data:`ACCOUNT_MAX_DELAY`. Nothing
  is locked for good and live sessions are **not** ended: a stranger typing wrong passwords
  cannot sign a midwife out or keep them out for long. The count is kept for unknown
  addresses too, so the delay does not tell anyone which addresses have accounts. A correct
  password clears it; so does an administrator (admin page, ``matneo users change unlock``).
* **Per client address: a limit per window.** :data:`ADDRESS_MAX_FAILURES` failed sign-ins
  from one address within :data:`ADDRESS_WINDOW` refuse further attempts from it until the
  window ends. A successful sign-in does not reset it (one known password must not buy more
  guesses at other accounts). Behind a reverse proxy the address is the real client's only
  when ``matneo serve --forwarded-allow-ips`` names the proxy.

Why the database and a reservation: counting after the password check lets a burst of
concurrent guesses all be checked against the same old count (40 at once ended at a count of
1 or 2). Here each attempt first *reserves* its slot: it takes the row's write lock (a write
on SQLite, ``SELECT … FOR UPDATE`` on PostgreSQL), counts itself as a failure, commits, and
only then is the password checked; a success gives the slot back. So however many arrive at
once, exactly the allowed number are checked and the rest are refused without a check.

Every number here is MatNeo's default and **needs local confirmation** against the trust's
access-control policy.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from matneo.db.models import SignInThrottle

ACCOUNT = "account"
ADDRESS = "address"
KIND_WORDS = {ACCOUNT: "E-mail address", ADDRESS: "Client address"}

ACCOUNT_FREE_FAILURES = 5  # needs local confirmation
ACCOUNT_FIRST_DELAY = dt.timedelta(minutes=1)  # needs local confirmation
ACCOUNT_MAX_DELAY = dt.timedelta(minutes=15)  # needs local confirmation
ACCOUNT_FORGET_AFTER = dt.timedelta(hours=24)  # failures this old no longer count (needs local confirmation)
ADDRESS_MAX_FAILURES = 20  # needs local confirmation
ADDRESS_WINDOW = dt.timedelta(minutes=15)  # needs local confirmation
MAX_SUBJECT = 254


def account_delay(failures: int) -> dt.timedelta | None:
    """How long the next attempt must wait after ``failures`` consecutive failures (None: no wait)."""
    if failures < ACCOUNT_FREE_FAILURES:
        return None
    doublings = min(failures - ACCOUNT_FREE_FAILURES, 20)
    return min(ACCOUNT_FIRST_DELAY * 2**doublings, ACCOUNT_MAX_DELAY)


@dataclass(frozen=True)
class Reservation:
    """The outcome of :func:`reserve`: go ahead and check the password, or refused and for how long."""

    refused_by: str | None  # None, ACCOUNT or ADDRESS
    wait: dt.timedelta = dt.timedelta(0)

    @property
    def minutes(self) -> int:
        return max(1, math.ceil(self.wait.total_seconds() / 60))


@dataclass(frozen=True)
class ThrottleView:
    """One row of throttle state, for the admin page."""

    kind: str
    subject: str
    failures: int
    refused: int
    last_failure_at: dt.datetime | None
    blocked_until: dt.datetime | None

    @property
    def kind_words(self) -> str:
        return KIND_WORDS.get(self.kind, self.kind)


def _locked_row(session: Session, kind: str, subject: str) -> SignInThrottle:
    """The row for (kind, subject), created if missing, locked until the transaction ends.

    The INSERT comes first on purpose: on SQLite it takes the database's write lock before
    anything is read, so two processes cannot read the same count (a read first would let
    both read, then one fail to write); on PostgreSQL ``FOR UPDATE`` locks the row.
    """
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(
        insert(SignInThrottle)
        .values(kind=kind, subject=subject, failures=0, refused=0)
        .on_conflict_do_nothing(index_elements=["kind", "subject"])
    )
    return session.scalars(
        select(SignInThrottle)
        .where(SignInThrottle.kind == kind, SignInThrottle.subject == subject)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def _subject(text: str) -> str:
    return (text.strip().lower() or "(blank)")[:MAX_SUBJECT]


def reserve(session: Session, email: str, address: str, now: dt.datetime) -> Reservation:
    """Count this attempt as a failure before its password is checked, or refuse it.

    Runs in the caller's transaction, which must commit before the password is checked (so
    the next attempt sees this one). Address first, then account: the same order everywhere,
    so two transactions never wait for each other's rows.
    """
    by_address = _locked_row(session, ADDRESS, _subject(address))
    if by_address.first_failure_at is None or by_address.first_failure_at + ADDRESS_WINDOW <= now:
        by_address.failures, by_address.first_failure_at, by_address.blocked_until = 0, now, None
    if by_address.failures >= ADDRESS_MAX_FAILURES:
        by_address.refused += 1
        until = by_address.first_failure_at + ADDRESS_WINDOW
        by_address.blocked_until = until
        return Reservation(ADDRESS, until - now)
    by_address.failures += 1
    by_address.last_failure_at = now
    if by_address.failures >= ADDRESS_MAX_FAILURES:
        by_address.blocked_until = by_address.first_failure_at + ADDRESS_WINDOW

    by_account = _locked_row(session, ACCOUNT, _subject(email))
    if by_account.last_failure_at is not None and by_account.last_failure_at + ACCOUNT_FORGET_AFTER <= now:
        by_account.failures, by_account.blocked_until, by_account.first_failure_at = 0, None, None
    if by_account.blocked_until is not None and by_account.blocked_until > now:
        by_account.refused += 1
        return Reservation(ACCOUNT, by_account.blocked_until - now)
    by_account.failures += 1
    by_account.first_failure_at = by_account.first_failure_at or now
    by_account.last_failure_at = now
    delay = account_delay(by_account.failures)
    by_account.blocked_until = now + delay if delay else None
    return Reservation(None)


def succeeded(session: Session, email: str, address: str, now: dt.datetime) -> None:
    """The password was right: clear the account's count and give back the address's slot."""
    by_address = _locked_row(session, ADDRESS, _subject(address))
    by_address.failures = max(by_address.failures - 1, 0)
    if by_address.failures < ADDRESS_MAX_FAILURES:
        by_address.blocked_until = None
    session.execute(
        delete(SignInThrottle).where(SignInThrottle.kind == ACCOUNT, SignInThrottle.subject == _subject(email))
    )
    forget_old(session, now)


def forget_old(session: Session, now: dt.datetime) -> None:
    """Delete rows that no longer limit anything (no failure for a day, nothing blocked)."""
    stale = now - max(ACCOUNT_FORGET_AFTER, ADDRESS_WINDOW)
    session.execute(
        delete(SignInThrottle).where(
            or_(SignInThrottle.last_failure_at.is_(None), SignInThrottle.last_failure_at <= stale),
            or_(SignInThrottle.blocked_until.is_(None), SignInThrottle.blocked_until <= now),
        )
    )


def current(session: Session, now: dt.datetime) -> list[ThrottleView]:
    """Throttle state that still counts: blocked now, or failures within the last day."""
    since = now - ACCOUNT_FORGET_AFTER
    rows = session.scalars(
        select(SignInThrottle)
        .where(
            SignInThrottle.failures + SignInThrottle.refused > 0,
            or_(SignInThrottle.blocked_until > now, SignInThrottle.last_failure_at > since),
        )
        .order_by(SignInThrottle.last_failure_at.desc())
    )
    return [
        ThrottleView(r.kind, r.subject, r.failures, r.refused, r.last_failure_at, r.blocked_until)
        for r in rows
        if not (r.kind == ADDRESS and r.first_failure_at and r.first_failure_at + ADDRESS_WINDOW <= now)
    ]


def clear(session: Session, kind: str, subject: str) -> bool:
    """Forget one row (an administrator's decision); True if there was one."""
    result: Any = session.execute(
        delete(SignInThrottle).where(SignInThrottle.kind == kind, SignInThrottle.subject == _subject(subject))
    )
    return bool(result.rowcount)
