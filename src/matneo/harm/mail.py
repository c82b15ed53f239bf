"""E-mail for harm notifications, when an SMTP relay is configured (``MATNEO_SMTP_HOST``).

The in-app list is the record; e-mail is a prompt to look at it. Each unread notification
not yet e-mailed goes once to the active trust staff of the trust it is for. Messages carry
the case number, route and deadline only — never a patient identifier — and a link path to the
case. A notification is marked sent only after the relay accepted it, so a failure is retried
on the next run (at least once, never silently dropped).
"""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage

from sqlalchemy import select

from matneo.auth.users import audit
from matneo.config import MailSettings
from matneo.db.models import HarmNotification, User, utcnow
from matneo.db.session import transaction

log = logging.getLogger(__name__)
REPORTING_ROLE = "trust_staff"


def _message(mail: MailSettings, recipients: list[str], note: HarmNotification) -> EmailMessage:
    message = EmailMessage()
    message["From"] = mail.sender
    message["To"] = ", ".join(recipients)
    message["Subject"] = f"MatNeo: harm report {note.report_id} needs action ({note.route_id})"
    message.set_content(
        f"{note.message}\n\nOpen the case in MatNeo: /harm/{note.report_id}\n\n"
        "This message contains no patient details. Sign in to MatNeo to see the case.\n"
    )
    return message


def send_notifications(url: str, mail: MailSettings) -> int:
    """E-mail every unread, unsent notification to its trust's staff; returns how many were sent."""
    with transaction(url) as session:
        pending = session.scalars(
            select(HarmNotification)
            .where(HarmNotification.emailed_at.is_(None), HarmNotification.read_at.is_(None))
            .order_by(HarmNotification.id)
        ).all()
        if not pending:
            return 0
        staff: dict[str, list[str]] = {}
        for user in session.scalars(select(User).where(User.active.is_(True), User.role == REPORTING_ROLE)):
            staff.setdefault(user.org_code, []).append(user.email)
        sent = 0
        with smtplib.SMTP(mail.host, mail.port, timeout=30) as smtp:
            if mail.starttls:
                smtp.starttls()
            if mail.username:
                smtp.login(mail.username, mail.password or "")
            for note in pending:
                recipients = sorted(staff.get(note.org_code, []))
                if recipients:
                    smtp.send_message(_message(mail, recipients, note))
                    sent += 1
                else:
                    log.warning("harm notification %s: no active trust staff at %s to e-mail", note.id, note.org_code)
                note.emailed_at = utcnow()
        audit(session, "system", "harm.notifications_emailed", "harm_notifications", "-", sent=sent)
        return sent
