"""Bounded work and caches over real HTTP (issue 11, finding 5).

A server of its own over the session's small national instance, so the test can see its
caches and hold its build slots: expensive work is capped per user (HTTP 429) and in total
(HTTP 503) with a clear message and Retry-After, and a query parameter a user can vary freely
(the funnel's ``highlight``) does not make new cache entries.
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from matneo.auth.users import list_users
from matneo.measures.results import PER_USER_BUILDS, REQUESTER, TOTAL_BUILDS
from matneo.web.app import create_app
from matneo.web.services import Services

from .conftest import PASSWORD, WebInstance, free_port, sign_in


@dataclass
class Served:
    app: FastAPI
    base_url: str

    @property
    def services(self) -> Services:
        return self.app.state.services  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def served(web: WebInstance) -> Iterator[Served]:
    app = create_app(web.settings)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.02)
    yield Served(app, f"http://127.0.0.1:{port}")
    server.should_exit = True
    thread.join(10)


def _client(served: Served, web: WebInstance, name: str) -> httpx.Client:
    client = httpx.Client(base_url=served.base_url, timeout=60, follow_redirects=False)
    assert sign_in(client, web.users[name][0], PASSWORD).status_code == 303
    return client


def _user_id(web: WebInstance, name: str) -> int:
    email = web.users[name][0]
    return next(u.id for u in list_users(web.settings.database_url) if u.email == email)


class Holds:
    """Expensive builds that stay running until released, each on behalf of a requester."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.release = threading.Event()
        self.threads: list[threading.Thread] = []
        self.errors: list[BaseException] = []

    def start(self, requester: Any, name: str) -> None:
        def build() -> str:
            self.release.wait(60)
            return name

        def run() -> None:
            REQUESTER.set(requester)
            try:
                self.services.results.memo(("held build", name), build)
            except BaseException as error:  # pragma: no cover - reported by the test
                self.errors.append(error)

        thread = threading.Thread(target=contextvars.Context().run, args=(run,), daemon=True)
        thread.start()
        self.threads.append(thread)

    def wait_running(self, requester: Any, count: int) -> None:
        deadline = time.monotonic() + 10
        while self.services.results.limiter.running(requester) < count:
            assert time.monotonic() < deadline, f"{count} builds for {requester} never started"
            time.sleep(0.01)

    def finish(self) -> None:
        self.release.set()
        for thread in self.threads:
            thread.join(10)
        assert not self.errors


def test_a_user_over_their_build_limit_gets_429_and_everyone_gets_503_when_the_server_is_full(
    served: Served, web: WebInstance
) -> None:
    trust, national = _client(served, web, "trust"), _client(served, web, "national")
    trust_id = _user_id(web, "trust")
    holds = Holds(served.services)
    try:
        for i in range(PER_USER_BUILDS):
            holds.start(trust_id, f"trust {i}")
        holds.wait_running(trust_id, PER_USER_BUILDS)

        page = trust.get("/organisations/R0A", params={"measure": "caesarean_rate"})  # not cached: a build
        assert page.status_code == 429
        assert page.headers["Retry-After"] == "5"
        assert "You already have 2 pages being prepared. Try again in a few seconds." in page.text
        api = trust.get("/api/v1/measures", params={"measure": "pph_1500", "period": "year", "by": "ethnic_group"})
        assert api.status_code == 429 and "Try again" in api.json()["detail"]
        assert trust.get("/health").status_code == 200  # cheap requests still answered

        for i in range(TOTAL_BUILDS - PER_USER_BUILDS):  # other users fill the server
            holds.start(f"someone else {i}", f"other {i}")
        holds.wait_running(None, TOTAL_BUILDS)
        busy = national.get("/api/v1/funnel", params={"measure": "pph_1500", "period": "year"})
        assert busy.status_code == 503
        assert busy.headers["Retry-After"] == "5"
        assert "busy" in busy.json()["detail"]
    finally:
        holds.finish()

    assert served.services.results.limiter.running() == 0
    assert trust.get("/organisations/R0A", params={"measure": "caesarean_rate"}).status_code == 200
    assert national.get("/api/v1/funnel", params={"measure": "pph_1500", "period": "year"}).status_code == 200


def test_a_funnel_highlight_that_is_not_an_organisation_makes_no_new_cache_entry(
    served: Served, web: WebInstance
) -> None:
    """Each distinct ``?highlight=`` was cached until the next load (issue 11: memory grew with
    every 500 requests). Only an organisation can be ringed, so anything else shares one entry."""
    national = _client(served, web, "national")
    params = {"measure": "stillbirth_rate", "period": "year"}
    assert national.get("/funnel", params={**params, "highlight": "not-an-org-0"}).status_code == 200
    entries = len(served.services.results.entries)
    for i in range(1, 60):
        assert national.get("/funnel", params={**params, "highlight": f"not-an-org-{i}"}).status_code == 200
    assert len(served.services.results.entries) == entries
    ringed = national.get("/funnel", params={**params, "highlight": "R0A"})
    assert ringed.status_code == 200
    assert len(served.services.results.entries) == entries + 1  # a real organisation is its own page


def test_the_case_mix_funnel_comes_from_one_table_per_store_version(served: Served, web: WebInstance) -> None:
    """The adjusted funnel scans the records once per store version (warmed after each load):
    every adjusted measure and year is a slice of that one table."""
    national = _client(served, web, "national")
    params = {"level": "trust", "period": "year", "adjustment": "adjusted"}
    first = national.get("/api/v1/funnel", params={**params, "measure": "stillbirth_rate"})
    assert first.status_code == 200 and first.json()["points"]
    version = served.services.results.version()
    assert (version, "memo", "adjusted") in served.services.results.entries
    table = served.services.results.entries.get((version, "memo", "adjusted"))
    second = national.get("/api/v1/funnel", params={**params, "measure": "neonatal_mortality_24wk"})
    assert second.status_code == 200
    assert served.services.results.entries.get((version, "memo", "adjusted")) is table
