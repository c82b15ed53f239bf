"""Signing in and out, lock-out and session expiry, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest

from matneo.auth.access import Access
from matneo.auth.signin import (
    LOCKOUT,
    MAX_FAILED_SIGN_INS,
    SESSION_IDLE,
    SESSION_MAX,
    SignInFailed,
    session_user,
    sign_in,
    sign_out,
)
from matneo.auth.users import add_user, audit_trail, set_active, unlock
from matneo.config import Settings
from matneo.db.session import upgrade
from matneo.reference.organisations import load_hierarchy
from matneo.web.security import ClientThrottle

PASSWORD = "a perfectly long password"
T0 = dt.datetime(2026, 11, 22, 9, 0)


@pytest.fixture
def user(settings: Settings) -> tuple[str, int]:
    settings.ensure_dirs()
    upgrade(settings.database_url, load_hierarchy())
    view = add_user(settings.database_url, "mw@test.invalid", "trust_staff", "R0A", PASSWORD, actor="tests")
    return settings.database_url, view.id


def test_sign_in_starts_a_session_and_sign_out_ends_it(user: tuple[str, int]) -> None:
    url, user_id = user
    new = sign_in(url, "  MW@test.invalid ", PASSWORD, now=T0)
    assert new.user.user_id == user_id and new.user.org_code == "R0A"
    assert len(new.token) >= 40 and len(new.user.csrf_token) >= 40
    assert session_user(url, new.token, now=T0) == new.user
    sign_out(url, new.token)
    assert session_user(url, new.token, now=T0) is None
    actions = [e["action"] for e in audit_trail(url)]
    assert actions[:2] == ["sign_out", "sign_in"]


def test_unknown_tokens_give_no_user(user: tuple[str, int]) -> None:
    url, _ = user
    assert session_user(url, None) is None
    assert session_user(url, "") is None
    assert session_user(url, "not-a-token") is None
    assert session_user(url, "x" * 5000) is None


def test_the_failure_message_is_the_same_for_every_failure(user: tuple[str, int]) -> None:
    url, _ = user
    messages = set()
    for email, password in [("nobody@test.invalid", PASSWORD), ("mw@test.invalid", "wrong password!!")]:
        with pytest.raises(SignInFailed) as error:
            sign_in(url, email, password, now=T0)
        messages.add(str(error.value))
    assert len(messages) == 1, "sign-in must not reveal which e-mail addresses have accounts"


def test_lock_out_after_repeated_failures_then_unlock(user: tuple[str, int]) -> None:
    url, user_id = user
    for _ in range(MAX_FAILED_SIGN_INS):
        with pytest.raises(SignInFailed):
            sign_in(url, "mw@test.invalid", "wrong password!!", now=T0)
    with pytest.raises(SignInFailed):  # locked: even the right password is refused
        sign_in(url, "mw@test.invalid", PASSWORD, now=T0 + LOCKOUT - dt.timedelta(seconds=1))
    assert sign_in(url, "mw@test.invalid", PASSWORD, now=T0 + LOCKOUT).user.user_id == user_id
    for _ in range(MAX_FAILED_SIGN_INS):
        with pytest.raises(SignInFailed):
            sign_in(url, "mw@test.invalid", "wrong password!!", now=T0)
    unlock(url, user_id, actor="admin@test.invalid")
    assert sign_in(url, "mw@test.invalid", PASSWORD, now=T0).user.user_id == user_id
    reasons = [e["details"].get("reason") for e in audit_trail(url) if e["action"] == "sign_in.failed"]
    assert "wrong password; account locked" in reasons and "locked" in reasons


def test_a_success_resets_the_failure_count(user: tuple[str, int]) -> None:
    url, _ = user
    for _ in range(MAX_FAILED_SIGN_INS - 1):
        with pytest.raises(SignInFailed):
            sign_in(url, "mw@test.invalid", "wrong password!!", now=T0)
    sign_in(url, "mw@test.invalid", PASSWORD, now=T0)
    with pytest.raises(SignInFailed):
        sign_in(url, "mw@test.invalid", "wrong password!!", now=T0)
    assert sign_in(url, "mw@test.invalid", PASSWORD, now=T0)  # one failure since the reset: not locked


def test_sessions_end_when_idle_or_too_old(user: tuple[str, int]) -> None:
    url, _ = user
    idle = sign_in(url, "mw@test.invalid", PASSWORD, now=T0)
    assert session_user(url, idle.token, now=T0 + SESSION_IDLE - dt.timedelta(seconds=1)) is not None
    assert session_user(url, idle.token, now=T0 + 2 * SESSION_IDLE) is None
    busy = sign_in(url, "mw@test.invalid", PASSWORD, now=T0)
    now = T0
    while now + SESSION_IDLE / 2 < T0 + SESSION_MAX:  # used every half hour all day
        now += SESSION_IDLE / 2
        assert session_user(url, busy.token, now=now) is not None
    assert session_user(url, busy.token, now=T0 + SESSION_MAX) is None


def test_deactivating_a_user_ends_their_sessions(user: tuple[str, int]) -> None:
    url, user_id = user
    new = sign_in(url, "mw@test.invalid", PASSWORD, now=T0)
    set_active(url, user_id, False, actor="admin@test.invalid")
    assert session_user(url, new.token, now=T0) is None
    with pytest.raises(SignInFailed):
        sign_in(url, "mw@test.invalid", PASSWORD, now=T0)


def test_scope_follows_the_hierarchy(user: tuple[str, int]) -> None:
    url, _ = user
    hierarchy = load_hierarchy()
    trust = Access(sign_in(url, "mw@test.invalid", PASSWORD).user, hierarchy)
    assert trust.scope == {"R0A"}
    lmns_code = hierarchy.ancestor_at("R0A", "lmns").code
    add_user(url, "lmns@test.invalid", "lmns_lead", lmns_code, PASSWORD, actor="tests")
    lmns = Access(sign_in(url, "lmns@test.invalid", PASSWORD).user, hierarchy)
    assert lmns.scope == {lmns_code, *(t.code for t in hierarchy.trusts_under(lmns_code))}
    assert "R0A" in lmns.scope and hierarchy.ancestor_at("R0A", "region").code not in lmns.scope
    add_user(url, "eng@test.invalid", "national_analyst", "ENG", PASSWORD, actor="tests")
    national = Access(sign_in(url, "eng@test.invalid", PASSWORD).user, hierarchy)
    assert national.scope == set(hierarchy.organisations) and national.sees_everything


def test_client_throttle_blocks_then_forgets() -> None:
    clock = [0.0]
    throttle = ClientThrottle(max_failures=3, window=60, clock=lambda: clock[0])
    for _ in range(3):
        assert not throttle.blocked("10.0.0.1")
        throttle.failed("10.0.0.1")
    assert throttle.blocked("10.0.0.1")
    assert not throttle.blocked("10.0.0.2")
    clock[0] = 60.0
    assert not throttle.blocked("10.0.0.1")
