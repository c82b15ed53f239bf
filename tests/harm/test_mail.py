"""Notification e-mail through a real SMTP server (aiosmtpd on a loopback port)."""

from __future__ import annotations

import re
import socket

import pytest
from sqlalchemy import select

from casework import Inbox, RefusingInbox
from matneo.auth.access import Access
from matneo.auth.users import add_user, set_active
from matneo.config import MailSettings, Settings, get_mail_settings
from matneo.db.models import AuditEvent, HarmNotification, User
from matneo.db.session import transaction
from matneo.harm import portal
from matneo.harm.portal import Patient
from matneo.harm.portal.mail import send_notifications

from .conftest import OTHER, OWN
from .test_cases import LATER, NHS, SUBMITTED, stillbirth

PASSWORD = "a perfectly long password"


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
    case = portal.submit(app_store, people["trust"], stillbirth(), Patient(NHS, "Baby of A"), today=SUBMITTED).id
    made = portal.overdue_check(url, LATER)
    assert made > 0

    assert send_notifications(url, mail) == made
    assert len(inbox.messages) == made
    for recipients, message in inbox.messages:
        assert recipients == ["midwife@r0a.test"], "active trust staff of the owning trust only"
        assert message["From"] == "matneo@trust.nhs.test"
        body = message.get_payload()
        assert f"/harm/{case}" in body
        # words, not codes: the route by name and the deadline as people write dates
        assert message["Subject"] == f"MatNeo: harm report {case} needs action"  # no route codes
        text = message.get_payload(decode=True).decode()  # quoted-printable folds long lines
        assert re.search(r"was due by \d{1,2} [A-Z][a-z]{2} \d{4} ", text), text
        assert not re.search(r"\d{4}-\d{2}-\d{2}", text)
        assert NHS not in body and "Baby of A" not in body and NHS not in message["Subject"]
    assert send_notifications(url, mail) == 0, "each notification is e-mailed once"
    with transaction(url) as session:
        assert all(n.emailed_at is not None for n in session.scalars(select(HarmNotification)))


def test_a_relay_that_is_down_loses_nothing(app_store: Settings, people: dict[str, Access]) -> None:
    url = app_store.database_url
    add_user(url, "midwife@r0a.test", "trust_staff", OWN, PASSWORD, actor="tests")
    portal.submit(app_store, people["trust"], stillbirth(), today=SUBMITTED)
    portal.overdue_check(url, LATER)
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    with pytest.raises(OSError):
        send_notifications(url, MailSettings(host="127.0.0.1", port=closed))
    with transaction(url) as session:
        assert all(n.emailed_at is None for n in session.scalars(select(HarmNotification)))


def test_a_sender_address_with_a_header_in_it_is_refused_before_sending(
    app_store: Settings, smtp: tuple[Inbox, MailSettings]
) -> None:
    inbox, mail = smtp
    bad = MailSettings(host=mail.host, port=mail.port, sender="matneo@trust.nhs.test\r\nBcc: attacker@evil.test")
    with pytest.raises(ValueError, match="is not an e-mail address"):
        send_notifications(app_store.database_url, bad)
    assert inbox.messages == []


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


def test_a_refused_or_malformed_address_does_not_stop_other_notices(
    app_store: Settings, people: dict[str, Access], refusing_smtp: tuple[Inbox, MailSettings]
) -> None:
    """Before: one message per notice to all its trust's staff, in one run that stopped at the
    first refusal, so a trust whose only address the relay refused (or an address holding a line
    break, stored before addresses were checked) stopped every other trust's notices."""
    inbox, mail = refusing_smtp
    url = app_store.database_url
    add_user(url, RefusingInbox.REFUSED, "trust_staff", OWN, PASSWORD, actor="tests")  # R0A's only address
    add_user(url, "staff@rj1.test", "trust_staff", OTHER, PASSWORD, actor="tests")
    add_user(url, "gone@rj1.test", "trust_staff", OTHER, PASSWORD, actor="tests")
    add_user(url, "placeholder@rj1.test", "trust_staff", OTHER, PASSWORD, actor="tests")
    with transaction(url) as session:  # an address stored before input checking, with a header in it
        user = session.scalars(select(User).where(User.email == "placeholder@rj1.test")).one()
        user.email = "old@rj1.test\r\nBcc: attacker@evil.test"
    own = portal.submit(app_store, people["trust"], stillbirth(), today=SUBMITTED).id
    other = portal.submit(app_store, people["other"], stillbirth(), today=SUBMITTED).id
    assert portal.overdue_check(url, LATER) > 0
    with transaction(url) as session:
        notes = {n.id: n.report_id for n in session.scalars(select(HarmNotification))}
    other_notes = sum(1 for report in notes.values() if report == other)
    assert other_notes and len(notes) > other_notes, "notices for both trusts"

    assert send_notifications(url, mail) == other_notes, "every RJ1 notice went; R0A's were refused"
    delivered = [recipients for recipients, _ in inbox.messages]
    assert sorted(delivered) == sorted([["gone@rj1.test"], ["staff@rj1.test"]] * other_notes)
    assert all("attacker@evil.test" not in str(m) for _, m in inbox.messages)
    assert all(m["To"] in ("staff@rj1.test", "gone@rj1.test") for _, m in inbox.messages), "one recipient each"
    with transaction(url) as session:
        sent = {n.report_id: n.emailed_at is not None for n in session.scalars(select(HarmNotification))}
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "harm.notifications_emailed")).one()
    assert sent == {own: False, other: True}, "R0A's notices stay unsent, to be tried again"
    assert '"refused": ' in event.details and '"invalid_addresses": 1' in event.details
    assert send_notifications(url, mail) == 0, "refused again, nothing sent twice"
    assert len(inbox.messages) == 2 * other_notes
