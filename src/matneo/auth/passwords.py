"""Password hashing with Argon2id (argon2-cffi's defaults, RFC 9106 recommended parameters).

Why Argon2id: it is the current OWASP Password Storage Cheat Sheet recommendation; it is
memory-hard, so offline guessing of a stolen hash is expensive. Hashes carry their own
parameters, so ``needs_rehash`` lets sign-in upgrade old hashes when the defaults change.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_HASHER = PasswordHasher()
MIN_LENGTH = 12  # NCSC password guidance favours length; 12 is MatNeo's floor (needs local confirmation)


class WeakPassword(ValueError):
    """A password MatNeo will not accept."""


def check_strength(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"the password must be at least {MIN_LENGTH} characters long")
    if password.strip() != password:
        raise WeakPassword("the password must not start or end with spaces")


def hash_password(password: str) -> str:
    check_strength(password)
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
