"""E-mail address syntax, checked where an address comes in (new users, the sender setting).

An address goes into an e-mail's ``To``/``From`` header and the SMTP envelope, so a carriage
return or line feed in it could add headers or recipients (header injection), and a malformed
one makes the relay refuse it. We accept the common form of RFC 5322 §3.4.1 ``addr-spec``
(https://www.rfc-editor.org/rfc/rfc5322#section-3.4.1): a ``dot-atom`` local part, ``@``, and a
domain of dot-separated labels of letters, digits and hyphens (RFC 1035 §2.3.1,
https://www.rfc-editor.org/rfc/rfc1035#section-2.3.1), within the size limits of RFC 5321
§4.5.3.1 (https://www.rfc-editor.org/rfc/rfc5321#section-4.5.3.1: 64 octets local part, 255
domain; 254 in all, the longest path less its angle brackets). Quoted local parts, comments and
address literals are legal but refused: no NHS mailbox needs them, and each is a way to smuggle
characters past a simpler check.
"""

from __future__ import annotations

import re

__all__ = ["InvalidAddress", "check_address", "is_address"]

_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"  # RFC 5322 §3.2.3 atext
_LOCAL = re.compile(rf"{_ATEXT}(?:\.{_ATEXT})*")
_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
MAX_LOCAL, MAX_ADDRESS = 64, 254


class InvalidAddress(ValueError):
    """Not an e-mail address we can send to; the message quotes it with control characters shown as "?"."""

    def __init__(self, text: str) -> None:
        shown = "".join("?" if ord(c) < 32 or ord(c) == 127 else c for c in text[:80])
        super().__init__(f"“{shown}” is not an e-mail address")


def check_address(text: str) -> str:
    """The address, trimmed and lower-cased; :class:`InvalidAddress` if it is not one.

    Only surrounding spaces are trimmed: a CR, LF or any other control character anywhere
    (including at the ends, where ``strip`` would hide it) is refused.
    """
    address = text.strip(" ")
    if len(address) > MAX_ADDRESS or address.count("@") != 1:
        raise InvalidAddress(address)
    local, _, domain = address.rpartition("@")
    labels = domain.split(".")
    if len(local) > MAX_LOCAL or not _LOCAL.fullmatch(local) or not all(_LABEL.fullmatch(label) for label in labels):
        raise InvalidAddress(address)
    return address.lower()


def is_address(text: str) -> bool:
    """Whether ``text`` passes :func:`check_address` (for addresses stored before it existed)."""
    try:
        check_address(text)
    except InvalidAddress:
        return False
    return True
