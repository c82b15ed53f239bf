"""Security headers and what ``/api/v1/status`` shows, over real HTTP (issue 11 finding 11).

The app is served with the uvicorn configuration ``matneo serve`` uses
(:func:`matneo.web.server.server_config`), trusting 127.0.0.1 as its TLS proxy, so a request
with ``X-Forwarded-Proto: https`` is what a browser's https request looks like behind it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from matneo.auth.users import add_user
from matneo.config import Settings
from matneo.db.session import upgrade
from matneo.records.load import load_files
from matneo.reference.organisations import OrgHierarchy, load_hierarchy
from matneo.web.app import create_app
from matneo.web.security import SECURITY_HEADERS

from .auth_servers import sign_in, start_process, start_thread, stop_process
from .conftest import PASSWORD

HTTPS = {"X-Forwarded-Proto": "https"}


@pytest.fixture
def served(
    sqlite_settings: Settings,
    hierarchy: OrgHierarchy,
    trusts: list[tuple[str, str]],
    make_row: Callable[..., dict[str, str]],
    write_csv: Callable[..., Path],
) -> Iterator[tuple[str, list[tuple[str, str]]]]:
    """Three records at one trust, five at another; a user at each level; a route that fails."""
    settings = sqlite_settings
    settings.ensure_dirs()
    upgrade(settings.database_url, load_hierarchy())
    (own, own_site), (other, other_site) = trusts[0], trusts[1]
    rows = [make_row(trust_code=own, site_code=own_site) for _ in range(3)]
    rows += [make_row(trust_code=other, site_code=other_site) for _ in range(4)]
    rows += [make_row(trust_code=other, site_code=other_site, birth_datetime="2019-07-02 08:00:00")]
    load_files([write_csv(settings.home / "births.csv", rows)], settings, hierarchy)
    add_user(settings.database_url, "trust@test.invalid", "trust_staff", own, PASSWORD, actor="tests")
    add_user(settings.database_url, "national@test.invalid", "national_analyst", "ENG", PASSWORD, actor="tests")
    app = create_app(settings)

    @app.get("/test-only/fails")
    def fails() -> None:
        raise RuntimeError("a bug, with internals that must not reach the browser")

    base_url, stop = start_thread(app, forwarded_allow_ips="127.0.0.1")
    yield base_url, trusts
    stop()


def _assert_secured(response: httpx.Response) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, f"{name} missing on {response.status_code}"
    assert "server" not in response.headers, "no server banner"


def test_error_responses_carry_the_security_headers(served: tuple[str, list]) -> None:
    base_url, _ = served
    client = httpx.Client(base_url=base_url, timeout=60)
    assert sign_in(client, "trust@test.invalid").status_code == 303
    answers = {
        "page not found": client.get("/no-such-page"),
        "API not found": client.get("/api/v1/no-such-thing"),
        "static not found": client.get("/static/no-such-file.css"),
        "method not allowed": client.delete("/health"),
        "forbidden": client.get("/admin/users"),
        "server error": client.get("/test-only/fails"),
        "anonymous API": httpx.get(f"{base_url}/api/v1/me"),
    }
    assert [a.status_code for a in answers.values()] == [404, 404, 404, 405, 403, 500, 401]
    for response in answers.values():
        _assert_secured(response)
    failed = answers["server error"]
    assert "Sorry, there is a problem" in failed.text and "internals" not in failed.text
    assert failed.headers["cache-control"] == "no-store"


def test_hsts_only_over_https(served: tuple[str, list]) -> None:
    base_url, _ = served
    plain = httpx.get(f"{base_url}/sign-in")
    _assert_secured(plain)
    assert "strict-transport-security" not in plain.headers
    assert "secure" not in plain.headers["set-cookie"].lower()
    secure = httpx.get(f"{base_url}/sign-in", headers=HTTPS)
    assert secure.headers["strict-transport-security"] == "max-age=31536000"
    assert "; secure" in secure.headers["set-cookie"].lower()
    missing = httpx.get(f"{base_url}/no-such-page", headers=HTTPS)
    assert missing.status_code in (303, 404) and "strict-transport-security" in missing.headers


def test_session_cookie_is_secure_when_the_proxy_says_https(served: tuple[str, list]) -> None:
    base_url, _ = served
    form = httpx.get(f"{base_url}/sign-in", headers=HTTPS)
    token = form.headers["set-cookie"].split(";")[0].split("=", 1)[1]  # httpx keeps Secure cookies from http
    data = {"email": "trust@test.invalid", "password": PASSWORD, "csrf_token": token, "next": "/"}
    response = httpx.post(f"{base_url}/sign-in", data=data, headers={**HTTPS, "Cookie": f"matneo_csrf={token}"})
    assert response.status_code == 303
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("matneo_session="))
    assert "; secure" in cookie.lower() and "httponly" in cookie.lower()


def test_status_shows_a_trust_only_its_own_figures(served: tuple[str, list]) -> None:
    base_url, trusts = served
    trust = httpx.Client(base_url=base_url, timeout=60)
    assert sign_in(trust, "trust@test.invalid").status_code == 303
    own = trust.get("/api/v1/status").json()
    assert (own["rows"], own["trusts"], own["months"]) == (3, 1, 1)
    assert own["first_month"] == own["last_month"] == "2019-06"
    assert "last_loads" not in own and "home" not in own
    assert trusts[1][0] not in trust.get("/api/v1/status").text
    national = httpx.Client(base_url=base_url, timeout=60)
    assert sign_in(national, "national@test.invalid").status_code == 303
    everything = national.get("/api/v1/status").json()
    assert (everything["rows"], everything["trusts"], everything["months"]) == (8, 2, 2)


def test_matneo_serve_believes_only_the_proxies_it_is_told_about(sqlite_settings: Settings) -> None:
    """The command's own option, in its own process: forwarded https counts only from a named proxy."""
    settings = sqlite_settings
    settings.ensure_dirs()
    upgrade(settings.database_url, load_hierarchy())
    for options, trusted in ((("--forwarded-allow-ips", "127.0.0.1"), True), ((), False)):
        base_url, process = start_process(settings, *options)
        try:
            response = httpx.get(f"{base_url}/sign-in", headers=HTTPS)
            _assert_secured(response)
            assert ("strict-transport-security" in response.headers) is trusted
            assert ("; secure" in response.headers["set-cookie"].lower()) is trusted
        finally:
            stop_process(process)
