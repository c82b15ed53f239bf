"""Notification e-mail through a real SMTP server (aiosmtpd on a loopback port)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from matneo.auth.access import Access
from matneo.auth.users import add_user, set_active
from matneo.config import MailSettings, Settings, get_mail_settings
from matneo.db.models import HarmNotification
from matneo.db.session import transaction
from matneo.harm import cases
from matneo.harm.cases import Patient
from matneo.harm.mail import send_notifications

from .conftest import OTHER, OWN
from .test_cases import LATER, NHS, SUBMITTED, stillbirth

PASSWORD = "a perfectly long password"


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, MailSettings]]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, MailSettings(host="127.0.0.1", port=port, sender="matneo@trust.nhs.test")
    controller.stop()


def test_each_notification_is_emailed_once_to_its_trusts_staff_without_identifiers(
    app_store: Settings, people: dict[str, Access], smtp: tuple[Inbox, MailSettings]
) -> None:
    inbox, mail = smtp
    url = app_store.database_url
    for email, role, org in [
        ("midwife@r0a.test", "trust_staff", OWN),
        ("left@r0a.test", "trust_staff", OWN),
        ("lead@r0a.test", "administrator", OWN),
        ("staff@rj1.test", "trust_staff", OTHER),
    ]:
        user = add_user(url, email, role, org, PASSWORD, actor="tests")
        if email.startswith("left"):
            set_active(url, user.id, False, actor="tests")
    case = cases.submit(app_store, people["trust"], stillbirth(), Patient(NHS, "Baby of A"), today=SUBMITTED).id
    made = cases.overdue_check(url, LATER)
    assert made > 0

    assert send_notifications(url, mail) == made
    assert len(inbox.messages) == made
    for recipients, message in inbox.messages:
        assert recipients == ["midwife@r0a.test"], "active trust staff of the owning trust only"
        assert message["From"] == "matneo@trust.nhs.test"
        assert message["Subject"].startswith(f"MatNeo: harm report {case} needs action")
        body = message.get_payload()
        assert f"/harm/{case}" in body
        assert NHS not in body and "Baby of A" not in body and NHS not in message["Subject"]
    assert send_notifications(url, mail) == 0, "each notification is e-mailed once"
    with transaction(url) as session:
        assert all(n.emailed_at is not None for n in session.scalars(select(HarmNotification)))


def test_a_relay_that_is_down_loses_nothing(app_store: Settings, people: dict[str, Access]) -> None:
    url = app_store.database_url
    add_user(url, "midwife@r0a.test", "trust_staff", OWN, PASSWORD, actor="tests")
    cases.submit(app_store, people["trust"], stillbirth(), today=SUBMITTED)
    cases.overdue_check(url, LATER)
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    with pytest.raises(OSError):
        send_notifications(url, MailSettings(host="127.0.0.1", port=closed))
    with transaction(url) as session:
        assert all(n.emailed_at is None for n in session.scalars(select(HarmNotification)))


def test_mail_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MATNEO_SMTP_HOST", raising=False)
    assert get_mail_settings() is None
    monkeypatch.setenv("MATNEO_SMTP_HOST", "relay.nhs.test")
    monkeypatch.setenv("MATNEO_SMTP_PORT", "587")
    monkeypatch.setenv("MATNEO_SMTP_STARTTLS", "1")
    assert get_mail_settings() == MailSettings("relay.nhs.test", 587, "matneo@localhost", True, None, None)
    monkeypatch.setenv("MATNEO_SMTP_PORT", "smtp")
    with pytest.raises(ValueError, match="MATNEO_SMTP_PORT"):
        get_mail_settings()
