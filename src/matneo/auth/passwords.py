"""Password rules and hashing with Argon2id (argon2-cffi's defaults, RFC 9106 recommended parameters).

Why Argon2id: it is the current OWASP Password Storage Cheat Sheet recommendation; it is
memory-hard, so offline guessing of a stolen hash is expensive. Hashes carry their own
parameters, so ``needs_rehash`` lets sign-in upgrade old hashes when the defaults change.

Which passwords are refused, and why (NCSC, "Password policy: updating your approach", 2018,
https://www.ncsc.gov.uk/collection/passwords/updating-your-approach, and "Password guidance:
simplifying your approach", 2016,
https://www.ncsc.gov.uk/guidance/password-guidance-simplifying-your-approach: favour length
over complexity rules, and deny the most common passwords, which attackers try first):

* shorter than :data:`MIN_LENGTH` characters;
* one of the 20,000 most common passwords (``data/common-passwords.txt.gz``, taken from the
  Django package with its attribution and licence in ``data/NOTICE.md``), compared without
  case or spaces;
* a common password with only digits or symbols added before or after it (``Summer2026!!!``,
  ``password1234``), or with at most :data:`MAX_ADDED` characters of any kind added
  (``qwertyuiopasdf``): the usual ways people stretch one to a length rule;
* fewer than :data:`MIN_DISTINCT` different characters (``aaaaaaaaaaaa``, ``121212121212``);
* containing the person's own e-mail name or the service's name.

No rules about mixing upper case, digits and symbols: NCSC advises against them. The numbers
are MatNeo's defaults and **need local confirmation** against the trust's password policy.
"""

from __future__ import annotations

import gzip
import re
import string
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_HASHER = PasswordHasher()
MIN_LENGTH = 12  # NCSC password guidance favours length; 12 is MatNeo's floor (needs local confirmation)
MIN_DISTINCT = 5  # different characters at least (needs local confirmation)
MAX_ADDED = 4  # characters added to a common password that still count as that password (needs local confirmation)
COMMON_PASSWORDS = Path(__file__).parent / "data" / "common-passwords.txt.gz"
SERVICE_WORDS = ("matneo",)
_PADDING = string.digits + string.punctuation


class WeakPassword(ValueError):
    """A password MatNeo will not accept; the message says why, in words for the person choosing it."""


@cache
def common_passwords() -> frozenset[str]:
    """The packaged list of the most common passwords (lower case)."""
    with gzip.open(COMMON_PASSWORDS, "rt", encoding="utf-8") as handle:
        return frozenset(line.strip() for line in handle if line.strip())


def _common_with_a_little_added(squeezed: str, common: frozenset[str]) -> bool:
    """A common password of 6 or more characters with at most :data:`MAX_ADDED` others around it
    (``qwertyuiopasdf``, ``xxmonkey1234xx``). Checked up to 64 characters (the scan is quadratic)."""
    if len(squeezed) > 64:
        return False
    for start in range(len(squeezed)):
        for end in range(start + 6, len(squeezed) + 1):
            if len(squeezed) - (end - start) <= MAX_ADDED and squeezed[start:end] in common:
                return True
    return False


def check_strength(password: str, email: str = "") -> None:
    """:class:`WeakPassword` saying what is wrong, or nothing for an acceptable password."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"the password must be at least {MIN_LENGTH} characters long")
    if password.strip() != password:
        raise WeakPassword("the password must not start or end with spaces")
    squeezed = re.sub(r"\s+", "", password.lower())
    common = common_passwords()
    if squeezed in common:
        raise WeakPassword(
            "the password is one of the most common passwords: choose another, such as three random words"
        )
    if len(set(squeezed)) < MIN_DISTINCT:
        raise WeakPassword("the password repeats too few different characters: choose another")
    core = squeezed.strip(_PADDING)
    if not core or core in common or _common_with_a_little_added(squeezed, common):
        raise WeakPassword(
            "the password is a common password with a few letters, numbers or symbols added: choose another, "
            "such as three random words"
        )
    name = email.strip().lower().split("@")[0]
    for word in (*SERVICE_WORDS, *([name] if len(name) >= 4 else [])):
        if word in squeezed:
            raise WeakPassword("the password must not contain your e-mail address or the name of the service")


def hash_password(password: str, email: str = "") -> str:
    """Check the password against the rules above, then hash it."""
    check_strength(password, email)
    return _HASHER.hash(password)


def rehash(password: str) -> str:
    """A fresh hash of a password already in use (sign-in upgrading old parameters): no rule check,
    so a person whose password predates a rule is not locked out by it."""
    return _HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True if ``password`` matches; False for a wrong password or a missing/corrupt hash."""
    if not password_hash:
        return False
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _HASHER.check_needs_rehash(password_hash)
