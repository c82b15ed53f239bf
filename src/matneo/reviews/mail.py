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

from email.message import EmailMessage

from matneo.config import MailSettings
from matneo.dates import day_text
from matneo.mailing import send_notices
from matneo.reviews.models import ReviewNotification
from matneo.reviews.rules import STAGE_LABELS

__all__ = ["message_for", "send_review_notices"]


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


def send_review_notices(url: str, mail: MailSettings) -> int:
    """E-mail every unread, unsent review notice to its trust's staff, one message per recipient
    (:func:`matneo.mailing.send_notices`); returns how many notices were sent."""
    return send_notices(url, mail, ReviewNotification, message_for, "review notice", "review.notices_emailed")
