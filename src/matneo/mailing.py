"""Sending notices by e-mail, one message per recipient: shared by harm notifications
(:mod:`matneo.harm.portal.mail`) and review notices (:mod:`matneo.reviews.mail`).

The in-app list is the record; e-mail is a prompt to look at it. Each unread notice not yet
e-mailed goes once to the active trust staff of the trust it is for, each recipient as a message
of their own, so one refused or malformed address (or one trust's refused notice) never stops the
others. A notice counts as sent when at least one of its recipients' messages was accepted; one
that no recipient accepted stays unsent and is tried again on the next run (never silently
dropped). The refusals are counted in the audit record. Stored addresses that are not valid
addresses (:func:`matneo.addresses.is_address`) are skipped, never put in a header.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any

from sqlalchemy import select

from matneo.addresses import check_address, is_address
from matneo.auth.users import audit
from matneo.config import MailSettings
from matneo.db.models import User, utcnow
from matneo.db.session import transaction

__all__ = ["REPORTING_ROLE", "send_notices"]

log = logging.getLogger(__name__)
#: Who is e-mailed: the trust's own reporting staff.
REPORTING_ROLE = "trust_staff"

#: Builds one notice's message for one recipient.
Compose = Callable[[MailSettings, str, Any], EmailMessage]


def send_notices(url: str, mail: MailSettings, model: Any, compose: Compose, what: str, action: str) -> int:
    """E-mail every unread, unsent notice of ``model`` (a notice table with ``id``, ``org_code``,
    ``read_at`` and ``emailed_at``) to its trust's staff; returns how many notices were sent.

    ``compose`` makes each message (no patient identifiers), ``what`` names a notice in the log
    ("harm notification"), ``action`` is the audit action of the run.
    """
    check_address(mail.sender)  # the sender goes in every From header: refuse a bad one up front
    failure: BaseException | None = None
    with transaction(url) as session:
        pending = session.scalars(
            select(model).where(model.emailed_at.is_(None), model.read_at.is_(None)).order_by(model.id)
        ).all()
        if not pending:
            return 0
        staff: dict[str, list[str]] = {}
        skipped = 0
        for user in session.scalars(select(User).where(User.active.is_(True), User.role == REPORTING_ROLE)):
            if is_address(user.email):
                staff.setdefault(user.org_code, []).append(user.email)
            else:
                skipped += 1
                log.warning("user %s: stored e-mail address is not a valid address; not e-mailed", user.id)
        sent = refused = 0
        with smtplib.SMTP(mail.host, mail.port, timeout=30) as smtp:
            if mail.starttls:
                smtp.starttls()
            if mail.username:
                smtp.login(mail.username, mail.password or "")
            for note in pending:
                recipients = sorted(staff.get(note.org_code, []))
                if not recipients:
                    log.warning("%s %s: no active trust staff at %s to e-mail", what, note.id, note.org_code)
                    note.emailed_at = utcnow()
                    continue
                accepted = 0
                try:
                    for recipient in recipients:
                        if _send_one(smtp, compose(mail, recipient, note), what, note.id):
                            accepted += 1
                        else:
                            refused += 1
                except (smtplib.SMTPException, OSError) as error:  # the connection went: keep what was sent
                    failure = error
                if accepted:
                    note.emailed_at = utcnow()
                    sent += 1
                if failure is not None:
                    break
        table = model.__tablename__
        audit(session, "system", action, table, "-", sent=sent, refused=refused, invalid_addresses=skipped)
    if failure is not None:
        raise failure
    return sent


def _send_one(smtp: smtplib.SMTP, message: EmailMessage, what: str, note_id: int) -> bool:
    """Send one message; False (logged) if the relay refused it.

    Refusals of this one message (recipient or sender refused, data refused, a header the relay
    or :mod:`email` will not take) are the message's problem, not the run's: the caller goes on
    to the next. A lost connection is raised, since nothing after it can go.
    """
    try:
        smtp.send_message(message)
    except smtplib.SMTPServerDisconnected:
        raise
    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError, ValueError) as error:
        log.warning("%s %s: one recipient's message was refused (%s)", what, note_id, type(error).__name__)
        return False
    return True
