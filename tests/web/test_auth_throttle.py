"""Sign-in throttling attacked over real HTTP, against real ``matneo serve`` processes.

Issue 11 findings 3 and 4: concurrent guesses must not share a count, several server
processes must share one count (it lives in the database, SQLite or PostgreSQL), a stranger's
wrong passwords must not end the victim's live session, an administrator sees and clears the
limits, and behind a trusted proxy each real client has its own address limit.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest

from matneo.auth.throttle import ACCOUNT_FREE_FAILURES, ADDRESS_MAX_FAILURES
from matneo.auth.users import add_user, sign_in_limits
from matneo.config import Settings
from matneo.db.session import dispose_all_engines, upgrade
from matneo.reference.organisations import load_hierarchy
from matneo.web.app import create_app

from .auth_servers import sign_in, sign_in_form, start_process, start_thread, stop_process
from .conftest import PASSWORD

VICTIM = "midwife@test.invalid"
ADMIN = "admin@test.invalid"
GUESSES = 40


@pytest.fixture
def two_servers(settings: Settings) -> Iterator[list[str]]:
    """Two ``matneo serve`` processes sharing one database, as behind a load balancer."""
    settings.ensure_dirs()
    upgrade(settings.database_url, load_hierarchy())
    add_user(settings.database_url, VICTIM, "trust_staff", "R0A", PASSWORD, actor="tests")
    add_user(settings.database_url, ADMIN, "administrator", "ENG", PASSWORD, actor="tests")
    dispose_all_engines()
    started = [start_process(settings) for _ in range(2)]
    yield [base_url for base_url, _ in started]
    for _, process in started:
        stop_process(process)


async def _guess_at_once(servers: list[str], token: str) -> list[int]:
    """40 wrong passwords for one account, all in flight together, spread over both servers.

    Each claims to come from a different address in ``X-Forwarded-For``: without a trusted
    proxy (``matneo serve`` trusts none by default) that header must change nothing.
    """
    clients = [httpx.AsyncClient(base_url=url, timeout=120, cookies={"matneo_csrf": token}) for url in servers]
    try:

        async def one(n: int) -> int:
            data = {"email": VICTIM, "password": f"wrong guess number {n:02d}", "csrf_token": token}
            headers = {"X-Forwarded-For": f"203.0.113.{n}"}
            response = await clients[n % 2].post("/sign-in", data=data, headers=headers)
            return response.status_code

        return await asyncio.gather(*(one(n) for n in range(GUESSES)))
    finally:
        for client in clients:
            await client.aclose()


def test_concurrent_guesses_are_each_counted_and_the_victim_stays_signed_in(
    settings: Settings, two_servers: list[str]
) -> None:
    victim = httpx.Client(base_url=two_servers[0], timeout=60)
    admin = httpx.Client(base_url=two_servers[1], timeout=60)
    assert sign_in(victim, VICTIM).status_code == 303  # the midwife is at work, signed in
    assert sign_in(admin, ADMIN).status_code == 303
    attacker = httpx.Client(base_url=two_servers[1], timeout=60)
    token = sign_in_form(attacker)

    statuses = Counter(asyncio.run(_guess_at_once(two_servers, token)))

    # Before the fix: all 40 checked, the count ending at 1 or 2. Now exactly the free failures
    # are checked; every other guess is refused unchecked, whichever process took it.
    assert statuses == {401: ACCOUNT_FREE_FAILURES, 429: GUESSES - ACCOUNT_FREE_FAILURES}
    limits = {(row.kind, row.subject): row for row in sign_in_limits(settings.database_url)}
    account = limits[("account", VICTIM)]
    assert account.failures == ACCOUNT_FREE_FAILURES and account.blocked_until is not None
    address = limits[("address", "127.0.0.1")]  # the spoofed X-Forwarded-For was ignored
    assert address.failures == ADDRESS_MAX_FAILURES and address.refused == GUESSES - ADDRESS_MAX_FAILURES
    assert not any(subject.startswith("203.0.113.") for _, subject in limits)

    # Lock-out as a weapon: the victim's live session goes on, on both servers.
    assert victim.get("/api/v1/me").json()["email"] == VICTIM
    victim.base_url = httpx.URL(two_servers[1])
    assert victim.get("/api/v1/me").status_code == 200
    refused = sign_in(httpx.Client(base_url=two_servers[0], timeout=60), VICTIM)
    assert refused.status_code == 429 and "Wait" in refused.text

    # The administrator sees both limits and clears them; then the midwife can sign in again.
    page = admin.get("/admin/users")
    assert page.status_code == 200
    assert f'data-limit="{VICTIM}"' in page.text and 'data-limit="127.0.0.1"' in page.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    for kind, subject in (("account", VICTIM), ("address", "127.0.0.1")):
        cleared = admin.post("/admin/sign-in-limits", data={"kind": kind, "subject": subject, "csrf_token": csrf})
        assert cleared.status_code == 303
    assert sign_in(httpx.Client(base_url=two_servers[0], timeout=60), VICTIM).status_code == 303
    assert sign_in_limits(settings.database_url) == []


def test_trust_administrators_clear_only_their_own_users_limits(sqlite_settings: Settings) -> None:
    settings = sqlite_settings
    settings.ensure_dirs()
    upgrade(settings.database_url, load_hierarchy())
    add_user(settings.database_url, VICTIM, "trust_staff", "R0A", PASSWORD, actor="tests")
    add_user(settings.database_url, "other@test.invalid", "trust_staff", "RJ1", PASSWORD, actor="tests")
    add_user(settings.database_url, "trust-admin@test.invalid", "administrator", "R0A", PASSWORD, actor="tests")
    base_url, stop = start_thread(create_app(settings))
    try:
        for email in (VICTIM, "other@test.invalid"):
            assert sign_in(httpx.Client(base_url=base_url), email, "not the password!").status_code == 401
        admin = httpx.Client(base_url=base_url)
        assert sign_in(admin, "trust-admin@test.invalid").status_code == 303
        page = admin.get("/admin/users").text
        assert f'data-limit="{VICTIM}"' in page
        assert "other@test.invalid" not in page and 'data-limit="127.0.0.1"' not in page
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        for kind, subject in (("account", "other@test.invalid"), ("address", "127.0.0.1")):
            data = {"kind": kind, "subject": subject, "csrf_token": csrf}
            assert admin.post("/admin/sign-in-limits", data=data).status_code == 404
    finally:
        stop()


def test_clients_behind_a_trusted_proxy_each_get_their_own_limit(sqlite_settings: Settings) -> None:
    """Behind the proxy everyone came from the proxy's address: one client could block them all."""
    settings = sqlite_settings
    settings.ensure_dirs()
    upgrade(settings.database_url, load_hierarchy())
    add_user(settings.database_url, VICTIM, "trust_staff", "R0A", PASSWORD, actor="tests")
    base_url, stop = start_thread(create_app(settings), forwarded_allow_ips="127.0.0.1")
    try:
        noisy = {"X-Forwarded-For": "198.51.100.20"}
        sign_in_form(proxy := httpx.Client(base_url=base_url, timeout=60))
        for n in range(ADDRESS_MAX_FAILURES):
            token = proxy.cookies["matneo_csrf"]  # each answer brings a fresh form token
            data = {"email": f"guess{n}@test.invalid", "password": "not the password!", "csrf_token": token}
            assert proxy.post("/sign-in", data=data, headers=noisy).status_code == 401
        blocked = sign_in(httpx.Client(base_url=base_url, timeout=60), VICTIM, **noisy)
        assert blocked.status_code == 429 and "from this computer or network" in blocked.text
        other = sign_in(httpx.Client(base_url=base_url, timeout=60), VICTIM, **{"X-Forwarded-For": "198.51.100.21"})
        assert other.status_code == 303
        subjects = {row.subject for row in sign_in_limits(settings.database_url) if row.kind == "address"}
        assert "198.51.100.20" in subjects and "127.0.0.1" not in subjects
    finally:
        stop()
