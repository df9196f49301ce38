"""Password hashing with argon2id and the password policy."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from tracker.offload import PASSWORD_HASHING

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters

MIN_LENGTH = 10
MAX_LENGTH = 256


def policy_problem(password: str, *, email: str | None = None) -> str | None:
    """Why a password is refused, or None when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return f"Password must be at least {MIN_LENGTH} characters long"
    if len(password) > MAX_LENGTH:
        return f"Password must be at most {MAX_LENGTH} characters long"
    if len(set(password)) < 4:
        return "Password is too repetitive"
    if email and password.lower() == email.lower():
        return "Password must not be your e-mail address"
    return None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        # Spend the same time as a real check so unknown accounts are not revealed by timing.
        _hasher.hash(password)
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


# Each argon2 call is ~50 ms of CPU by design: requests run it off the event loop, two at a time.


async def hash_password_off_loop(password: str) -> str:
    return await PASSWORD_HASHING.run(hash_password, password)


async def verify_password_off_loop(password_hash: str | None, password: str) -> bool:
    return await PASSWORD_HASHING.run(verify_password, password_hash, password)
