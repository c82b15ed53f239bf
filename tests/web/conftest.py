"""A small national instance for the web tests, built once per session.

Five years of synthetic births for every trust (scale 0.05), one trust with a planted
deterioration (so the register has signals), the signals register refreshed, and one user per
role around two trusts in different regions. Served by uvicorn on a free loopback port.
"""

from __future__ import annotations

import datetime as dt
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from playwright.sync_api import Browser, Page, expect, sync_playwright

from matneo.auth.users import add_user
from matneo.config import Settings
from matneo.db.models import Signal, SignalEvent
from matneo.db.session import dispose_all_engines, transaction, upgrade
from matneo.records.load import load_files
from matneo.reference.organisations import OrgHierarchy, load_hierarchy
from matneo.signals.register import refresh_from_store
from matneo.synth import write_dataset
from matneo.synth.generator import parse_struggling
from matneo.web.app import create_app

from .browsing import CHROMIUM, CHROMIUM_ARGS

PASSWORD = "correct horse battery staple"
OWN_TRUST = "R0A"  # Manchester University NHS FT: North West, Greater Manchester LMNS
OTHER_TRUST = "RJ1"  # Guy's and St Thomas': London


@dataclass(frozen=True)
class WebInstance:
    settings: Settings
    hierarchy: OrgHierarchy
    base_url: str
    users: dict[str, tuple[str, str, str]]  # name → (e-mail, role, organisation)

    def client(self, name: str | None = None) -> httpx.Client:
        """An HTTP client, signed in as ``name`` (anonymous if None), with its CSRF token."""
        client = httpx.Client(base_url=self.base_url, timeout=60, follow_redirects=False)
        if name is not None:
            sign_in(client, self.users[name][0], PASSWORD)
            client.headers["X-CSRF-Token"] = client.get("/api/v1/me").json()["csrf_token"]
        return client


def sign_in(client: httpx.Client, email: str, password: str) -> httpx.Response:
    page = client.get("/sign-in")
    assert page.status_code == 200
    token = client.cookies.get("matneo_csrf")
    return client.post("/sign-in", data={"email": email, "password": password, "csrf_token": token, "next": "/"})


def plant_signal(url: str, trust: str, measure: str, summary: str) -> int:
    """An open signal in the register (detection at this small scale may find none)."""
    with transaction(url) as session:
        entry = Signal(
            trust_code=trust,
            measure=measure,
            method="funnel",
            status="open",
            first_signal_date=dt.date(2023, 12, 31),
            last_signal_date=dt.date(2023, 12, 31),
            summary=summary,
            statistic=3.0,
        )
        session.add(entry)
        session.add(SignalEvent(signal=entry, action="raised", actor="tests"))
        session.flush()
        return entry.id


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def users_for(hierarchy: OrgHierarchy) -> dict[str, tuple[str, str, str]]:
    lmns = hierarchy.ancestor_at(OWN_TRUST, "lmns").code
    region = hierarchy.ancestor_at(OWN_TRUST, "region").code
    return {
        "national": ("national@test.invalid", "national_analyst", "ENG"),
        "region": ("region@test.invalid", "regional_lead", region),
        "lmns": ("lmns@test.invalid", "lmns_lead", lmns),
        "trust": ("trust@test.invalid", "trust_staff", OWN_TRUST),
        "other_trust": ("other@test.invalid", "trust_staff", OTHER_TRUST),
        "admin": ("admin@test.invalid", "administrator", "ENG"),
        "trust_admin": ("trust-admin@test.invalid", "administrator", OWN_TRUST),
    }


def serve(settings: Settings) -> tuple[str, Callable[[], None]]:
    port = free_port()
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="error")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.02)

    def stop() -> None:
        server.should_exit = True
        thread.join(10)

    return f"http://127.0.0.1:{port}", stop


@pytest.fixture(scope="session")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebInstance]:
    home = tmp_path_factory.mktemp("web-home")
    settings = Settings(home=home, database_url=f"sqlite:///{home / 'matneo.db'}")
    settings.ensure_dirs()
    upgrade(settings.database_url, load_hierarchy())
    hierarchy = load_hierarchy()
    files = write_dataset(
        home / "synthetic",
        range(2019, 2024),
        scale=0.05,
        seed=11,
        struggling=[parse_struggling(f"{OWN_TRUST}:2022-01:4.0")],
    )
    load_files(files, settings, hierarchy)
    refresh_from_store(settings)
    plant_signal(settings.database_url, OWN_TRUST, "stillbirth_rate", "planted by the web tests")
    users = users_for(hierarchy)
    for email, role, org in users.values():
        add_user(settings.database_url, email, role, org, PASSWORD, actor="tests")
    base_url, stop = serve(settings)
    yield WebInstance(settings, hierarchy, base_url, users)
    stop()
    dispose_all_engines()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium (installed by scripts/setup-browser; never a downloaded browser).

    Per module, not per session: Playwright's sync API keeps an event loop running on this
    thread while it is open, and other modules' tests use ``asyncio.run``.
    """
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is required for the browser tests: run scripts/setup-browser")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def signed_in(browser: Browser, web: WebInstance) -> Iterator[Callable[[str], Page]]:
    """``signed_in(name)``: a new browser page signed in as that user, on the England overview.

    ``page.errors`` collects the page's script errors and console errors, for the tests to check.
    """
    contexts = []

    def open_as(name: str) -> Page:
        context = browser.new_context(base_url=web.base_url, viewport={"width": 1200, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(30_000)
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        page.errors = errors  # type: ignore[attr-defined]
        page.goto("/sign-in")
        page.fill("#email", web.users[name][0])
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        expect(page).to_have_url(re.compile(r"/$"))
        return page

    yield open_as
    for context in contexts:
        context.close()


@pytest.fixture(autouse=True)
def _close_database_connections() -> Iterator[None]:
    """Keep the session instance's pooled connections: the server thread is using them."""
    yield


@pytest.fixture
def bad_upload(tmp_path: Path, make_row, write_csv) -> Callable[[str], Path]:  # type: ignore[no-untyped-def]
    """A CSV for one trust with two good rows and one bad row (impossible gestation).

    Dated June 2018, before the session dataset starts, so loading it replaces nothing.
    """

    def build(trust: str) -> Path:
        site = load_hierarchy().sites_of(trust)[0].code
        org = {"trust_code": trust, "site_code": site, "birth_datetime": "2018-06-15 10:30:00"}
        batch = uuid.uuid4().hex[:8]  # different content each time: a repeat upload would be skipped
        rows = [
            make_row(record_id=f"UPLOAD-{batch}-1", **org),
            make_row(record_id=f"UPLOAD-{batch}-2", **org),
            make_row(record_id=f"UPLOAD-{batch}-3", gestation_weeks="61", **org),
        ]
        return write_csv(tmp_path / f"upload-{trust}.csv", rows)

    return build
