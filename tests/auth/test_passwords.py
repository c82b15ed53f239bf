"""Password rules (issue 11 finding 10): common and padded-common passwords are refused."""

from __future__ import annotations

import gzip

import pytest

from matneo.auth.passwords import (
    COMMON_PASSWORDS,
    MIN_LENGTH,
    WeakPassword,
    check_strength,
    common_passwords,
    hash_password,
    rehash,
    verify_password,
)
from matneo.auth.users import add_user
from matneo.config import Settings
from matneo.db.session import upgrade
from matneo.reference.organisations import load_hierarchy


def test_the_common_password_list_ships_with_its_attribution() -> None:
    assert COMMON_PASSWORDS.exists()
    notice = (COMMON_PASSWORDS.parent / "NOTICE.md").read_text()
    assert "Django Software Foundation" in notice and "Royce Williams" in notice
    with gzip.open(COMMON_PASSWORDS, "rt", encoding="utf-8") as handle:
        lines = [line.strip() for line in handle]
    assert len(lines) > 19_000 and lines[:4] == ["123456", "123456789", "qwerty", "password"]
    assert {"qwerty123456", "1q2w3e4r5t6y"} <= common_passwords()


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("qwerty123456", "most common"),  # long enough, and in every attacker's list
        ("Q W E R T Y 1 2 3 4 5 6", "most common"),  # case and spaces do not disguise it
        ("Summer2026!!!", "numbers or symbols added"),
        ("password1234!", "numbers or symbols added"),
        ("qwertyuiopasdf", "a few letters"),
        ("iloveyou2026x", "a few letters"),
        ("zzzzzzzzzzzzzz", "too few different"),
        ("121212121212", "too few different"),
        ("matneo rocks forever", "name of the service"),
        ("jane.smith likes tea", "your e-mail address"),
        ("short", f"at least {MIN_LENGTH}"),
    ],
)
def test_weak_passwords_are_refused_with_a_reason(password: str, why: str) -> None:
    with pytest.raises(WeakPassword, match=why):
        check_strength(password, email="jane.smith@nhs.net")


@pytest.mark.parametrize(
    "password", ["correct horse battery staple", "midwife on the night shift", "tulip kettle harbour", "x7Gq!mP2zR9w"]
)
def test_good_passwords_are_accepted(password: str) -> None:
    check_strength(password, email="jane.smith@nhs.net")


def test_signing_in_with_an_old_password_rehashes_without_the_new_rules() -> None:
    """A password set before a rule existed still works; rules apply when one is chosen."""
    with pytest.raises(WeakPassword):
        hash_password("qwerty123456")
    assert verify_password(rehash("qwerty123456"), "qwerty123456")


def test_adding_a_user_with_a_common_password_is_refused(settings: Settings) -> None:
    settings.ensure_dirs()
    upgrade(settings.database_url, load_hierarchy())
    with pytest.raises(WeakPassword, match="most common"):
        add_user(settings.database_url, "mw@test.invalid", "trust_staff", "R0A", "1qaz2wsx3edc", actor="tests")


def test_adding_a_user_does_not_reveal_accounts_in_other_organisations(settings: Settings) -> None:
    settings.ensure_dirs()
    upgrade(settings.database_url, load_hierarchy())
    password = "tulip kettle harbour"
    add_user(settings.database_url, "consultant@test.invalid", "national_analyst", "ENG", password, actor="tests")
    add_user(settings.database_url, "mw@test.invalid", "trust_staff", "R0A", password, actor="tests")
    with pytest.raises(ValueError) as outside:  # a trust administrator at R0A tries an address used at ENG
        add_user(settings.database_url, "consultant@test.invalid", "trust_staff", "R0A", password, "a", {"R0A"})
    message = str(outside.value)
    assert "cannot add" in message
    assert not any(word in message.lower() for word in ("england", "eng", "analyst", "already exists"))
    with pytest.raises(ValueError, match="already exists"):  # in their own organisation they can see it anyway
        add_user(settings.database_url, "mw@test.invalid", "trust_staff", "R0A", password, "a", {"R0A"})
