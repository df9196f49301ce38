"""Handles: the `@name` a person is mentioned by. Lowercase letters, digits, `_` and `-`,
2 to 39 characters, unique; made from the e-mail address when nobody chooses one."""

from __future__ import annotations

import re

MIN_LENGTH = 2
MAX_LENGTH = 39
PATTERN = rf"^[a-z0-9_-]{{{MIN_LENGTH},{MAX_LENGTH}}}$"
_VALID = re.compile(PATTERN)
_OUTSIDE = re.compile(r"[^a-z0-9_-]+")


def handle_problem(handle: str) -> str | None:
    """Why a chosen handle is refused, or None when it is acceptable."""
    if not MIN_LENGTH <= len(handle) <= MAX_LENGTH:
        return f"A username is {MIN_LENGTH} to {MAX_LENGTH} characters long"
    if not _VALID.match(handle):
        return "A username uses only lowercase letters, digits, '_' and '-'"
    return None


def handle_from_email(email: str) -> str:
    """The handle an address suggests: its local part, lowercased, other characters as `-`."""
    local = email.split("@", 1)[0].lower()
    base = _OUTSIDE.sub("-", local).strip("-")[:MAX_LENGTH].strip("-")
    return base if len(base) >= MIN_LENGTH else f"{base or 'user'}-1"[:MAX_LENGTH]


def with_suffix(base: str, n: int) -> str:
    """The n-th alternative for a taken handle (n >= 2): `base-n`, shortened to fit."""
    suffix = f"-{n}"
    return base[: MAX_LENGTH - len(suffix)].rstrip("-") + suffix


def first_free(base: str, taken: set[str]) -> str:
    if base not in taken:
        return base
    n = 2
    while with_suffix(base, n) in taken:
        n += 1
    return with_suffix(base, n)
