"""Signing in and out: password check, lock-out after repeated failures, server-side sessions.

Why server-side sessions: the cookie carries only a random token (256 bits); the database
keeps its SHA-256, the user and the CSRF token. Signing out, locking or deactivating a user
ends their sessions at once, which a self-contained signed cookie cannot do.

Lock-out (OWASP Authentication Cheat Sheet, "Account lockout"; NCSC password guidance,
"throttle or lock out"): after :data:`MAX_FAILED_SIGN_INS` consecutive failures the account
is locked for :data:`LOCKOUT`; a successful sign-in resets the count. The numbers are
MatNeo's defaults and **need local confirmation** against the trust's access-control policy.
Every attempt is audited; the failure message is the same whether the e-mail address is
unknown, the password is wrong or the account is locked, so sign-in cannot be used to find
out which addresses have accounts.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import threading
from dataclasses import dataclass

from sqlalchemy import delete, select

from matneo.auth.passwords import hash_password, needs_rehash, verify_password
from matneo.auth.users import audit
from matneo.db.models import User, WebSession, utcnow
from matneo.db.session import transaction

MAX_FAILED_SIGN_INS = 5  # needs local confirmation
LOCKOUT = dt.timedelta(minutes=15)  # needs local confirmation
SESSION_IDLE = dt.timedelta(hours=1)  # needs local confirmation: signed out after an hour without use
SESSION_MAX = dt.timedelta(hours=12)  # needs local confirmation: one working shift at most
_TOUCH_EVERY = dt.timedelta(minutes=1)  # last-seen is written at most once a minute (no write per request)

FAILURE_MESSAGE = (
    "Your e-mail address or password is not right, or your account is locked. "
    f"After {MAX_FAILED_SIGN_INS} failed attempts sign-in is locked for {int(LOCKOUT.total_seconds() // 60)} minutes."
)

# Verifying against a real hash when the address is unknown takes as long as a wrong password.
_DUMMY_HASH = hash_password("not-a-real-password-for-timing")


class SignInFailed(Exception):
    """Sign-in refused; ``str(error)`` is safe to show to the person signing in."""


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


def sign_in(url: str, email: str, password: str, now: dt.datetime | None = None) -> NewSession:
    """Check the password and start a session; :class:`SignInFailed` (audited) otherwise."""
    now = now or utcnow()
    email = email.strip().lower()
    with transaction(url) as session:
        user = session.scalars(select(User).where(User.email == email)).first()
        password_ok = verify_password(user.password_hash if user else _DUMMY_HASH, password)
        if user is None or not user.active:
            audit(session, email or "(blank)", "sign_in.failed", "user", "-", reason="unknown or inactive")
        elif user.locked_until is not None and user.locked_until > now:
            audit(session, email, "sign_in.failed", "user", str(user.id), reason="locked")
        elif not password_ok:
            user.failed_sign_ins += 1
            reason = "wrong password"
            if user.failed_sign_ins >= MAX_FAILED_SIGN_INS:
                user.locked_until, user.failed_sign_ins = now + LOCKOUT, 0
                reason = "wrong password; account locked"
            audit(session, email, "sign_in.failed", "user", str(user.id), reason=reason)
        else:
            user.failed_sign_ins, user.locked_until = 0, None
            if user.password_hash and needs_rehash(user.password_hash):
                user.password_hash = hash_password(password)
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


def session_user(url: str, token: str | None, now: dt.datetime | None = None) -> SignedInUser | None:
    """The user a session token belongs to, or None (unknown, expired, idle too long, user inactive)."""
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
        if user.locked_until is not None and user.locked_until > now:
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
