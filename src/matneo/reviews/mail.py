"""E-mail for review notices (missed review deadlines), when an SMTP relay is configured, as for harm notices.

The same rules as :mod:`matneo.harm.portal.mail`: the in-app list ("Missed deadlines" on the Reviews page)
is the record and e-mail is a prompt to look at it. Each unread notice not yet e-mailed goes once to each
active trust staff member of the trust it is for, as a message of its own (one refused address stops no
one else's), and is marked sent only when the relay accepted it for at least one of them, so a failure is
tried again on the next run. Stored addresses that are not valid are skipped, never put in a header.

The message names no patient and no review: only the stage, the deadline as a date in words ("2 Dec
2026") and the path of the Reviews page, so a message read by the wrong person says nothing about anyone.
"""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage

from sqlalchemy import select

from matneo.addresses import check_address, is_address
from matneo.auth.users import audit
from matneo.config import MailSettings
from matneo.dates import day_text
from matneo.db.models import User, utcnow
from matneo.db.session import transaction
from matneo.harm.portal.mail import REPORTING_ROLE
from matneo.reviews.models import ReviewNotification
from matneo.reviews.rules import STAGE_LABELS

__all__ = ["message_for", "send_review_notices"]

log = logging.getLogger(__name__)


def message_for(mail: MailSettings, recipient: str, note: ReviewNotification) -> EmailMessage:
    """One notice for one person: the stage and its deadline in words, no identifiers."""
    stage = STAGE_LABELS.get(note.stage, note.stage.replace("_", " ")).lower()
    message = EmailMessage()
    message["From"] = mail.sender
    message["To"] = recipient
    message["Subject"] = "MatNeo: a perinatal mortality review has missed a deadline"
    message.set_content(
        f"A perinatal mortality review at your trust has missed a deadline: {stage} was due by "
        f"{day_text(note.due_on)} and is not done.\n\n"
        'Open MatNeo and see "Missed deadlines" on the Reviews page: /reviews\n\n'
        "This message contains no patient details. Sign in to MatNeo to see the review.\n"
    )
    return message


def _send_one(smtp: smtplib.SMTP, mail: MailSettings, recipient: str, note: ReviewNotification) -> bool:
    """Send one notice to one person; False (logged) if the relay refused this message only."""
    try:
        smtp.send_message(message_for(mail, recipient, note))
    except smtplib.SMTPServerDisconnected:
        raise
    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError, ValueError) as error:
        log.warning("review notice %s: one recipient's message was refused (%s)", note.id, type(error).__name__)
        return False
    return True


def send_review_notices(url: str, mail: MailSettings) -> int:
    """E-mail every unread, unsent review notice to its trust's staff; returns how many notices were sent."""
    check_address(mail.sender)
    failure: BaseException | None = None
    with transaction(url) as session:
        pending = session.scalars(
            select(ReviewNotification)
            .where(ReviewNotification.emailed_at.is_(None), ReviewNotification.read_at.is_(None))
            .order_by(ReviewNotification.id)
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
                    log.warning("review notice %s: no active trust staff at %s to e-mail", note.id, note.org_code)
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
            "review.notices_emailed",
            "review_notifications",
            "-",
            sent=sent,
            refused=refused,
            invalid_addresses=skipped,
        )
    if failure is not None:
        raise failure
    return sent
