"""Review notices by e-mail through a real SMTP server (aiosmtpd on a loopback port), as harm notices are:
once per notice, a message per recipient, no identifiers, deadlines as dates in words."""

from __future__ import annotations

import datetime as dt
import re
import socket

import pytest
from sqlalchemy import select

from casework import Inbox, RefusingInbox
from matneo.auth.access import Access
from matneo.auth.users import add_user, set_active
from matneo.config import MailSettings, Settings
from matneo.db.models import AuditEvent
from matneo.db.session import transaction
from matneo.reviews import actions
from matneo.reviews.mail import send_review_notices
from matneo.reviews.models import ReviewNotification
from matneo.reviews.notices import overdue_check

from .conftest import OTHER, OWN

PASSWORD = "a perfectly long password"
TODAY = dt.date(2026, 12, 3)
DAY_IN_WORDS = re.compile(r"due by \d{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} ")


def _overdue(settings: Settings, people: dict[str, Access]) -> tuple[int, int]:
    """(review id, notices made): a 2019 death whose review started late, so stages are past their deadlines."""
    review_id = actions.open_from_record(settings, people["trust"], "NND-22")
    made = overdue_check(settings.database_url, TODAY)
    assert made > 0
    return review_id, made


def test_each_review_notice_is_emailed_once_per_staff_member_without_identifiers(
    with_deaths: Settings, people: dict[str, Access], smtp: tuple[Inbox, MailSettings]
) -> None:
    inbox, mail = smtp
    url = with_deaths.database_url
    for email, role, org in [
        ("midwife@r0a.test", "trust_staff", OWN),
        ("obstetrician@r0a.test", "trust_staff", OWN),
        ("left@r0a.test", "trust_staff", OWN),
        ("lead@r0a.test", "administrator", OWN),
        ("staff@rj1.test", "trust_staff", OTHER),
    ]:
        user = add_user(url, email, role, org, PASSWORD, actor="tests")
        if email.startswith("left"):
            set_active(url, user.id, False, actor="tests")
    review_id, made = _overdue(with_deaths, people)

    assert send_review_notices(url, mail) == made
    assert len(inbox.messages) == 2 * made, "one message per notice per active trust staff member"
    assert {r for recipients, _ in inbox.messages for r in recipients} == {"midwife@r0a.test", "obstetrician@r0a.test"}
    for recipients, message in inbox.messages:
        assert len(recipients) == 1 and message["From"] == "matneo@trust.nhs.test"
        body = message.get_payload()
        assert DAY_IN_WORDS.search(body), body
        assert "NND-22" not in body and f"Review {review_id}" not in body and str(review_id) not in message["Subject"]
        assert "/reviews" in body and "2019-" not in body
    assert send_review_notices(url, mail) == 0, "each notice is e-mailed once"
    with transaction(url) as session:
        assert all(n.emailed_at is not None for n in session.scalars(select(ReviewNotification)))
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "review.notices_emailed")).first()
        assert event is not None and '"sent": ' in event.details


def test_a_refused_address_stops_no_one_else_and_a_relay_that_is_down_loses_nothing(
    with_deaths: Settings, people: dict[str, Access], refusing_smtp: tuple[Inbox, MailSettings]
) -> None:
    inbox, mail = refusing_smtp
    url = with_deaths.database_url
    add_user(url, RefusingInbox.REFUSED, "trust_staff", OWN, PASSWORD, actor="tests")
    add_user(url, "midwife@r0a.test", "trust_staff", OWN, PASSWORD, actor="tests")
    _, made = _overdue(with_deaths, people)
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    with pytest.raises(OSError):
        send_review_notices(url, MailSettings(host="127.0.0.1", port=closed))
    with transaction(url) as session:
        assert all(n.emailed_at is None for n in session.scalars(select(ReviewNotification)))
    assert send_review_notices(url, mail) == made
    assert [r for recipients, _ in inbox.messages for r in recipients] == ["midwife@r0a.test"] * made
