"""E-mail addresses are checked where they come in: syntax, and no CR/LF to inject headers."""

from __future__ import annotations

import pytest

from matneo.addresses import InvalidAddress, check_address, is_address
from matneo.auth.users import add_user, list_users
from matneo.config import Settings
from matneo.db.session import prepare

GOOD = ["midwife@r0a.test", "Jane.Smith1@nhs.net", "a+tag@sub.example.nhs.uk", "o'neil@trust.nhs.uk", "x@localhost"]
BAD = [
    "midwife@r0a.test\r\nBcc: attacker@evil.test",  # header injection
    "midwife@r0a.test\n",
    "\rmidwife@r0a.test",
    "mid\x00wife@r0a.test",
    "midwife@r0a.test, other@evil.test",  # a second recipient
    "Mid Wife <midwife@r0a.test>",  # a display name, not an address
    "not-an-email",
    "@r0a.test",
    "midwife@",
    "a@b@c.test",
    "mid wife@r0a.test",
    ".midwife@r0a.test",
    "mid..wife@r0a.test",
    '"quoted"@r0a.test',
    "midwife@-r0a.test",
    "midwife@r0a..test",
    "midwife@[127.0.0.1]",
    "m" * 65 + "@r0a.test",
    "m@" + "a" * 250 + ".test",
]


@pytest.mark.parametrize("address", GOOD)
def test_real_addresses_pass_lower_cased(address: str) -> None:
    assert check_address(f" {address} ") == address.lower()
    assert is_address(address)


@pytest.mark.parametrize("address", BAD)
def test_malformed_addresses_and_line_breaks_are_refused(address: str) -> None:
    with pytest.raises(InvalidAddress, match="is not an e-mail address") as refused:
        check_address(address)
    assert "\r" not in str(refused.value) and "\n" not in str(refused.value)
    assert not is_address(address)


def test_a_user_cannot_be_added_with_a_header_in_their_address(settings: Settings) -> None:
    settings.ensure_dirs()
    prepare(settings.database_url)
    with pytest.raises(ValueError, match="is not an e-mail address"):
        add_user(settings.database_url, BAD[0], "national_analyst", "ENG", "a perfectly long password", "tests")
    assert list_users(settings.database_url) == []
