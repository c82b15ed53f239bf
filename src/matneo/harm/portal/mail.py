"""E-mail for harm notifications, when an SMTP relay is configured (``MATNEO_SMTP_HOST``).

The in-app list is the record; e-mail is a prompt to look at it. Each unread notification
not yet e-mailed goes once to the active trust staff of the trust it is for. Messages carry
the case number, route and deadline only — never a patient identifier — and a link path to the
case. A notification is marked sent only after the relay accepted it for at least one
recipient, so a failure is retried on the next run (at least once, never silently dropped).
Each recipient gets a message of their own: one refused address does not stop anyone else's.
"""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage

from sqlalchemy import select

from matneo.addresses import check_address, is_address
from matneo.auth.users import audit
from matneo.config import MailSettings
from matneo.db.models import HarmNotification, User, utcnow
from matneo.db.session import transaction

log = logging.getLogger(__name__)
REPORTING_ROLE = "trust_staff"


def _message(mail: MailSettings, recipient: str, note: HarmNotification) -> EmailMessage:
    message = EmailMessage()
    message["From"] = mail.sender
    message["To"] = recipient
    message["Subject"] = f"MatNeo: harm report {note.report_id} needs action"  # the route is named in the body
    message.set_content(
        f"{note.message}\n\nOpen the case in MatNeo: /harm/{note.report_id}\n\n"
        "This message contains no patient details. Sign in to MatNeo to see the case.\n"
    )
    return message


def _send_one(smtp: smtplib.SMTP, mail: MailSettings, recipient: str, note: HarmNotification) -> bool:
    """Send one notification to one person; False (logged) if the relay refused it.

    Refusals of this one message (recipient or sender refused, data refused, a header the
    relay or :mod:`email` will not take) are the message's problem, not the run's: the
    caller goes on to the next. A lost connection is raised, since nothing after it can go.
    """
    try:
        smtp.send_message(_message(mail, recipient, note))
    except smtplib.SMTPServerDisconnected:
        raise
    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError, ValueError) as error:
        log.warning("harm notification %s: one recipient's message was refused (%s)", note.id, type(error).__name__)
        return False
    return True


def send_notifications(url: str, mail: MailSettings) -> int:
    """E-mail every unread, unsent notification to its trust's staff; returns how many were sent.

    Each notification goes to each recipient as a message of its own, so one refused or
    malformed address (or one trust's refused notice) never stops the others: a notification
    counts as sent when at least one of its recipients' messages was accepted. One that no
    recipient accepted stays unsent and is tried again on the next run; the refusals are
    counted in the audit record. Addresses stored before input checking that are not valid
    addresses (:func:`matneo.addresses.is_address`) are skipped, never put in a header.
    """
    check_address(mail.sender)  # MATNEO_MAIL_FROM goes in every From header: refuse a bad one up front
    failure: BaseException | None = None
    with transaction(url) as session:
        pending = session.scalars(
            select(HarmNotification)
            .where(HarmNotification.emailed_at.is_(None), HarmNotification.read_at.is_(None))
            .order_by(HarmNotification.id)
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
                    log.warning("harm notification %s: no active trust staff at %s to e-mail", note.id, note.org_code)
                    note.emailed_at = utcnow()
                    continue
                accepted = 0
                try:
                    for recipient in recipients:
                        if _send_one(smtp, mail, recipient, note):
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
        audit(
            session,
            "system",
            "harm.notifications_emailed",
            "harm_notifications",
            "-",
            sent=sent,
            refused=refused,
            invalid_addresses=skipped,
        )
    if failure is not None:
        raise failure
    return sent
