"""Signing in and out: password check, sign-in throttling, server-side sessions.

Why server-side sessions: the cookie carries only a random token (256 bits); the database
keeps its SHA-256, the user and the CSRF token. Signing out or deactivating a user ends
their sessions at once, which a self-contained signed cookie cannot do.

Throttling (:mod:`matneo.auth.throttle`): each attempt reserves its slot in the database
before the password is checked, so concurrent guesses cannot share one count; too many
failures for an e-mail address make the next attempt wait (a progressive delay, never a
permanent lock, and live sessions go on), and too many from one client address refuse that
address for a while. Every attempt is audited; a wrong password and an unknown address get
the same message, so sign-in cannot be used to find out which addresses have accounts.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import threading
from dataclasses import dataclass

from sqlalchemy import delete, select

from matneo.auth import throttle
from matneo.auth.passwords import needs_rehash, rehash, verify_password
from matneo.auth.users import audit
from matneo.db.models import User, WebSession, utcnow
from matneo.db.session import transaction

SESSION_IDLE = dt.timedelta(hours=1)  # needs local confirmation: signed out after an hour without use
SESSION_MAX = dt.timedelta(hours=12)  # needs local confirmation: one working shift at most
_TOUCH_EVERY = dt.timedelta(minutes=1)  # last-seen is written at most once a minute (no write per request)

FAILURE_MESSAGE = (
    "Your e-mail address or password is not right. "
    f"After {throttle.ACCOUNT_FREE_FAILURES} failed attempts you have to wait a little longer before each new try."
)

# Verifying against a real hash when the address is unknown takes as long as a wrong password.
_DUMMY_HASH = rehash("not-a-real-password-for-timing")


class SignInFailed(Exception):
    """Sign-in refused; ``str(error)`` is safe to show to the person signing in."""


class TooManyAttempts(SignInFailed):
    """Refused without checking the password: too many recent failures (HTTP 429)."""

    def __init__(self, reservation: throttle.Reservation) -> None:
        minutes = f"{reservation.minutes} minute" + ("" if reservation.minutes == 1 else "s")
        if reservation.refused_by == throttle.ADDRESS:
            message = f"Too many failed sign-in attempts from this computer or network. Wait {minutes} and try again."
        else:
            message = (
                f"Too many failed attempts to sign in with this e-mail address. Wait {minutes} and try again, "
                "or ask your MatNeo administrator to clear it. If you are already signed in elsewhere, "
                "that stays signed in."
            )
        super().__init__(message)
        self.reservation = reservation


@dataclass(frozen=True)
class SignedInUser:
    """Who is signed in, as every page and API call sees them."""

    user_id: int
    email: str
    role: str
    org_code: str
    csrf_token: str


@dataclass(frozen=True)
class NewSession:
    token: str
    user: SignedInUser
    expires_at: dt.datetime


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def sign_in(
    url: str, email: str, password: str, now: dt.datetime | None = None, address: str = "unknown"
) -> NewSession:
    """Check the password and start a session; :class:`SignInFailed` (audited) otherwise.

    ``address`` is the client's address (the real one behind a trusted proxy). Three short
    transactions: reserve a throttle slot (committed, so concurrent attempts see it), look
    the user up and check the password outside any transaction (Argon2 is slow on purpose),
    then record the outcome.
    """
    now = now or utcnow()
    email = email.strip().lower()
    actor = email or "(blank)"
    with transaction(url) as session:
        reservation = throttle.reserve(session, email, address, now)
        if reservation.refused_by is not None:
            reason = (
                "too many failed attempts from this client address"
                if reservation.refused_by == throttle.ADDRESS
                else "too many failed attempts for this e-mail address: asked to wait"
            )
            audit(session, actor, "sign_in.failed", "user", "-", reason=reason)
    if reservation.refused_by is not None:
        raise TooManyAttempts(reservation)
    with transaction(url) as session:
        user = session.scalars(select(User).where(User.email == email)).first()
        user_id, stored_hash = (user.id, user.password_hash) if user is not None and user.active else (None, None)
    password_ok = verify_password(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    with transaction(url) as session:
        user = session.get(User, user_id) if user_id is not None else None
        if user is None or not user.active:
            audit(session, actor, "sign_in.failed", "user", "-", reason="unknown or inactive")
        elif not password_ok:
            audit(session, email, "sign_in.failed", "user", str(user.id), reason="wrong password")
        else:
            throttle.succeeded(session, email, address, now)
            if user.password_hash and needs_rehash(user.password_hash):
                user.password_hash = rehash(password)
            token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
            expires = now + SESSION_MAX
            session.add(
                WebSession(
                    token_hash=_token_hash(token),
                    user_id=user.id,
                    csrf_token=csrf,
                    created_at=now,
                    last_seen_at=now,
                    expires_at=expires,
                )
            )
            audit(session, email, "sign_in", "user", str(user.id))
            return NewSession(token, SignedInUser(user.id, user.email, user.role, user.org_code, csrf), expires)
    raise SignInFailed(FAILURE_MESSAGE)


class _RecentSessions:
    """Sessions checked in the last few seconds, so a page's requests do not each hit the database.

    Why: the session check was a quarter to a half of the server's work per request
    (benchmarks/bench_web.py). Sign-out and deactivation clear entries here at once; a change
    made by another process (a second server) is seen within :data:`_RECHECK_AFTER`.
    """

    def __init__(self) -> None:
        self._entries: dict[tuple[str, str], tuple[SignedInUser, dt.datetime, dt.datetime]] = {}
        self._lock = threading.Lock()

    def get(self, url: str, token_hash: str, now: dt.datetime) -> SignedInUser | None:
        with self._lock:
            entry = self._entries.get((url, token_hash))
        if entry is None:
            return None
        user, checked_at, expires_at = entry
        if not checked_at <= now < checked_at + _RECHECK_AFTER or now >= expires_at:
            return None
        return user

    def put(self, url: str, token_hash: str, user: SignedInUser, now: dt.datetime, expires_at: dt.datetime) -> None:
        with self._lock:
            if len(self._entries) > 10_000:
                self._entries.clear()
            self._entries[(url, token_hash)] = (user, now, expires_at)

    def forget(self, token_hash: str | None = None, user_id: int | None = None) -> None:
        """Drop a session, or every session of a user id (in any database: a miss is harmless)."""
        with self._lock:
            for key, (user, _, _) in list(self._entries.items()):
                if key[1] == token_hash or user.user_id == user_id:
                    del self._entries[key]


_RECHECK_AFTER = dt.timedelta(seconds=5)
_RECENT = _RecentSessions()


def recent_session_user(url: str, token: str | None) -> SignedInUser | None:
    """The user of a session checked in the last few seconds, from memory only (None: ask
    :func:`session_user`). Cheap enough for the web server's event loop, so most requests need no
    worker thread to find their user."""
    if not token or len(token) > 100:
        return None
    return _RECENT.get(url, _token_hash(token), utcnow())


def session_user(url: str, token: str | None, now: dt.datetime | None = None) -> SignedInUser | None:
    """The user a session token belongs to, or None (unknown, expired, idle too long, user inactive).

    Sign-in throttling does not touch sessions: failed attempts by someone else must not sign
    the person out.
    """
    if not token or len(token) > 100:
        return None
    now = now or utcnow()
    token_hash = _token_hash(token)
    recent = _RECENT.get(url, token_hash, now)
    if recent is not None:
        return recent
    with transaction(url) as session:
        found = session.execute(
            select(WebSession, User)
            .join(User, User.id == WebSession.user_id)
            .where(WebSession.token_hash == token_hash)
        ).first()
        if found is None:
            return None
        row, user = found
        if row.expires_at <= now or row.last_seen_at + SESSION_IDLE <= now or not user.active:
            session.delete(row)
            return None
        if now - row.last_seen_at >= _TOUCH_EVERY:
            row.last_seen_at = now
        signed_in = SignedInUser(user.id, user.email, user.role, user.org_code, row.csrf_token)
    _RECENT.put(url, token_hash, signed_in, now, min(row.expires_at, now + SESSION_IDLE))
    return signed_in


def sign_out(url: str, token: str | None) -> None:
    """End the session (audited); nothing happens for an unknown token."""
    if not token:
        return
    with transaction(url) as session:
        row = session.get(WebSession, _token_hash(token))
        _RECENT.forget(token_hash=_token_hash(token))
        if row is None:
            return
        user = session.get(User, row.user_id)
        session.delete(row)
        audit(session, user.email if user else "-", "sign_out", "user", str(row.user_id))


def end_sessions(session, user_id: int) -> None:  # type: ignore[no-untyped-def]
    """Delete every session of a user, inside the caller's transaction (deactivation)."""
    session.execute(delete(WebSession).where(WebSession.user_id == user_id))
    _RECENT.forget(user_id=user_id)
