"""E-mail for harm notifications, when an SMTP relay is configured (``MATNEO_SMTP_HOST``).

The in-app list is the record; e-mail is a prompt to look at it. Each unread notification
not yet e-mailed goes once to the active trust staff of the trust it is for. Messages carry
the case number, route and deadline only — never a patient identifier — and a link path to the
case. A notification is marked sent only after the relay accepted it for at least one
recipient, so a failure is retried on the next run (at least once, never silently dropped).
Each recipient gets a message of their own: one refused address does not stop anyone else's.
"""

from __future__ import annotations

from email.message import EmailMessage

from matneo.config import MailSettings
from matneo.db.models import HarmNotification
from matneo.mailing import send_notices

__all__ = ["send_notifications"]


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


def send_notifications(url: str, mail: MailSettings) -> int:
    """E-mail every unread, unsent harm notification to its trust's staff, one message per
    recipient (:func:`matneo.mailing.send_notices`); returns how many were sent."""
    return send_notices(url, mail, HarmNotification, _message, "harm notification", "harm.notifications_emailed")
