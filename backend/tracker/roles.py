"""The three roles and the staff rule, which every domain applies the same way."""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol


class Role(StrEnum):
    ADMIN = "ADMIN"
    MAINTAINER = "MAINTAINER"
    REPORTER = "REPORTER"


# Staff triage and work every issue; a REPORTER sees only their own.
STAFF_ROLES = (Role.ADMIN, Role.MAINTAINER)


class HasRole(Protocol):
    @property
    def role(self) -> Role: ...


def is_staff(someone: HasRole) -> bool:
    return someone.role in STAFF_ROLES
