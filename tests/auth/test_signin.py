"""Signing in and out, throttling and session expiry, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import pytest

from matneo.auth import throttle
from matneo.auth.access import Access
from matneo.auth.signin import (
    SESSION_IDLE,
    SESSION_MAX,
    SignInFailed,
    TooManyAttempts,
    session_user,
    sign_in,
    sign_out,
)
from matneo.auth.throttle import (
    ACCOUNT_FIRST_DELAY,
    ACCOUNT_FREE_FAILURES,
    ACCOUNT_MAX_DELAY,
    ADDRESS_WINDOW,
    account_delay,
)
from matneo.auth.users import add_user, audit_trail, set_active, sign_in_limits, unlock
from matneo.config import Settings
from matneo.db.session import upgrade
from matneo.reference.organisations import load_hierarchy

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


def test_repeated_failures_make_the_next_attempt_wait_then_unlock(user: tuple[str, int]) -> None:
    url, user_id = user
    for _ in range(ACCOUNT_FREE_FAILURES):
        with pytest.raises(SignInFailed) as failed:
            sign_in(url, "mw@test.invalid", "wrong password!!", now=T0)
        assert not isinstance(failed.value, TooManyAttempts)
    with pytest.raises(TooManyAttempts) as waiting:  # even the right password is not checked yet
        sign_in(url, "mw@test.invalid", PASSWORD, now=T0 + ACCOUNT_FIRST_DELAY - dt.timedelta(seconds=1))
    assert "Wait 1 minute" in str(waiting.value)
    with pytest.raises(SignInFailed):  # the wait is over: one more guess, then twice as long
        sign_in(url, "mw@test.invalid", "wrong password!!", now=T0 + ACCOUNT_FIRST_DELAY)
    with pytest.raises(TooManyAttempts) as longer:
        sign_in(url, "mw@test.invalid", PASSWORD, now=T0 + ACCOUNT_FIRST_DELAY)
    assert "Wait 2 minutes" in str(longer.value)
    assert sign_in(url, "mw@test.invalid", PASSWORD, now=T0 + 3 * ACCOUNT_FIRST_DELAY).user.user_id == user_id
    for _ in range(ACCOUNT_FREE_FAILURES):
        with pytest.raises(SignInFailed):
            sign_in(url, "mw@test.invalid", "wrong password!!", now=T0)
    unlock(url, user_id, actor="admin@test.invalid")
    assert sign_in(url, "mw@test.invalid", PASSWORD, now=T0).user.user_id == user_id
    reasons = [e["details"].get("reason") for e in audit_trail(url) if e["action"] == "sign_in.failed"]
    assert "wrong password" in reasons
    assert "too many failed attempts for this e-mail address: asked to wait" in reasons


def test_the_delay_never_grows_past_its_ceiling(user: tuple[str, int]) -> None:
    assert account_delay(ACCOUNT_FREE_FAILURES - 1) is None
    assert account_delay(ACCOUNT_FREE_FAILURES) == ACCOUNT_FIRST_DELAY
    assert account_delay(ACCOUNT_FREE_FAILURES + 1) == 2 * ACCOUNT_FIRST_DELAY
    assert account_delay(10_000) == ACCOUNT_MAX_DELAY


def test_wrong_passwords_from_someone_else_do_not_end_a_live_session(user: tuple[str, int]) -> None:
    """The old lock-out signed the victim out; the delay leaves their session alone."""
    url, _ = user
    live = sign_in(url, "mw@test.invalid", PASSWORD, now=T0, address="192.0.2.10")
    for _ in range(ACCOUNT_FREE_FAILURES + 3):
        with pytest.raises(SignInFailed):
            sign_in(url, "mw@test.invalid", "wrong password!!", now=T0, address="198.51.100.66")
    assert session_user(url, live.token, now=T0 + dt.timedelta(minutes=5)) == live.user


def test_unknown_addresses_are_delayed_like_real_ones(user: tuple[str, int]) -> None:
    url, _ = user
    messages = []
    for email in ("mw@test.invalid", "nobody@test.invalid"):
        for _ in range(ACCOUNT_FREE_FAILURES):
            with pytest.raises(SignInFailed):
                sign_in(url, email, "wrong password!!", now=T0)
        with pytest.raises(TooManyAttempts) as waiting:
            sign_in(url, email, "wrong password!!", now=T0)
        messages.append(str(waiting.value))
    assert messages[0] == messages[1], "the delay must not reveal which addresses have accounts"


def test_one_client_address_is_limited_across_accounts(user: tuple[str, int], monkeypatch: pytest.MonkeyPatch) -> None:
    url, user_id = user
    monkeypatch.setattr(throttle, "ADDRESS_MAX_FAILURES", 4)  # a small limit keeps the test quick (Argon2 is slow)
    for n in range(throttle.ADDRESS_MAX_FAILURES):  # password spraying: one guess at many addresses
        with pytest.raises(SignInFailed):
            sign_in(url, f"person{n}@test.invalid", "Summer2026!!!", now=T0, address="198.51.100.7")
    with pytest.raises(TooManyAttempts) as refused:  # not even a right password from there
        sign_in(url, "mw@test.invalid", PASSWORD, now=T0, address="198.51.100.7")
    assert "from this computer or network" in str(refused.value)
    assert sign_in(url, "mw@test.invalid", PASSWORD, now=T0, address="198.51.100.8").user.user_id == user_id
    later = T0 + ADDRESS_WINDOW
    assert sign_in(url, "mw@test.invalid", PASSWORD, now=later, address="198.51.100.7").user.user_id == user_id


def test_successes_from_a_shared_address_do_not_use_up_its_limit(
    user: tuple[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hospital's staff behind one address sign in all morning: only failures count."""
    url, _ = user
    monkeypatch.setattr(throttle, "ADDRESS_MAX_FAILURES", 3)
    for _ in range(throttle.ADDRESS_MAX_FAILURES * 2):
        sign_in(url, "mw@test.invalid", PASSWORD, now=T0, address="192.0.2.99")
    for _ in range(throttle.ADDRESS_MAX_FAILURES - 1):
        with pytest.raises(SignInFailed):
            sign_in(url, "someone@test.invalid", "wrong password!!", now=T0, address="192.0.2.99")
    assert sign_in(url, "mw@test.invalid", PASSWORD, now=T0, address="192.0.2.99")


def test_concurrent_wrong_passwords_are_counted_one_by_one(user: tuple[str, int]) -> None:
    """40 guesses at once: exactly the free ones are checked, every other one is refused unchecked."""
    url, _ = user
    outcomes: list[str] = []

    def guess(n: int) -> None:
        try:
            sign_in(url, "mw@test.invalid", f"wrong password {n:02d}", address=f"203.0.113.{n}")
        except TooManyAttempts:
            outcomes.append("refused")
        except SignInFailed:
            outcomes.append("checked")

    with ThreadPoolExecutor(max_workers=40) as pool:
        list(pool.map(guess, range(40)))
    assert outcomes.count("checked") == ACCOUNT_FREE_FAILURES
    assert outcomes.count("refused") == 40 - ACCOUNT_FREE_FAILURES
    limits = {(row.kind, row.subject): row for row in sign_in_limits(url)}
    assert limits[("account", "mw@test.invalid")].failures == ACCOUNT_FREE_FAILURES
    assert limits[("account", "mw@test.invalid")].refused == 40 - ACCOUNT_FREE_FAILURES


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
