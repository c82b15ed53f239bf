"""What the harm, review and QI tests share: signed-in people by role, and a real SMTP relay.

A top-level test helper module (as :mod:`rowbuilder`), imported by those packages' conftest and
test modules, so each keeps one copy. The relay is aiosmtpd on a loopback port: a real SMTP
conversation, no mock.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator, Sequence
from email import message_from_bytes
from email.message import Message

from aiosmtpd.controller import Controller

from matneo.auth.access import Access
from matneo.auth.signin import SignedInUser
from matneo.config import MailSettings
from matneo.reference.organisations import OrgHierarchy

OWN, OTHER = "R0A", "RJ1"


def make_people(hierarchy: OrgHierarchy, rows: Sequence[tuple[str, str, str, str]]) -> dict[str, Access]:
    """``{name: Access}`` for rows of (name, e-mail, role, organisation); user ids 1, 2, … in row order."""
    return {
        name: Access(SignedInUser(i, email, role, org, "csrf"), hierarchy)
        for i, (name, email, role, org) in enumerate(rows, start=1)
    }


def leads(hierarchy: OrgHierarchy, own: str = OWN) -> list[tuple[str, str, str, str]]:
    """The two people above a trust that every workflow's tests use: its LMNS lead and a national analyst."""
    return [
        ("lmns", "lead@lmns.test", "lmns_lead", hierarchy.ancestor_at(own, "lmns").code),
        ("national", "analyst@eng.test", "national_analyst", "ENG"),
    ]


def trust_people(hierarchy: OrgHierarchy) -> dict[str, Access]:
    """The harm and review cast: two staff of the owning trust, one of another, the leads, a trust admin."""
    return make_people(
        hierarchy,
        [
            ("trust", "midwife@r0a.test", "trust_staff", OWN),
            ("colleague", "obstetrician@r0a.test", "trust_staff", OWN),
            ("other", "staff@rj1.test", "trust_staff", OTHER),
            *leads(hierarchy),
            ("trust_admin", "admin@r0a.test", "administrator", OWN),
        ],
    )


class Inbox:
    """An SMTP handler that keeps every message it accepts, with its envelope recipients."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 OK"


class RefusingInbox(Inbox):
    """A relay that refuses one mailbox at RCPT time (550), as a real relay does for a bad address."""

    REFUSED = "gone@r0a.test"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]
        if address.lower() == self.REFUSED:
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"


def serve(inbox: Inbox) -> Iterator[tuple[Inbox, MailSettings]]:
    """Run ``inbox`` on a free loopback port for the life of a fixture; yields it with settings to reach it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, MailSettings(host="127.0.0.1", port=port, sender="matneo@trust.nhs.test")
    controller.stop()
