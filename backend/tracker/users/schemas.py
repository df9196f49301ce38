from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from tracker.auth.handles import MAX_LENGTH as HANDLE_MAX
from tracker.auth.handles import MIN_LENGTH as HANDLE_MIN
from tracker.auth.handles import PATTERN as HANDLE_PATTERN
from tracker.inputs import NOT_BLANK
from tracker.roles import Role

USERNAME = Field(
    min_length=HANDLE_MIN,
    max_length=HANDLE_MAX,
    pattern=HANDLE_PATTERN,
    description="The @handle: lowercase letters, digits, '_' and '-'",
)


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    username: str
    full_name: str
    role: Role
    is_active: bool
    created_at: datetime
    last_login_at: datetime | None


class UserPage(BaseModel):
    items: list[UserOut]
    total: int = Field(description="How many users match the filters, over all pages")
    limit: int
    offset: int


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role | None = None
    is_active: bool | None = None
    username: Annotated[str, USERNAME] | None = None


class ProfileUpdate(BaseModel):
    """What people change about themselves."""

    model_config = ConfigDict(extra="forbid")

    username: Annotated[str, USERNAME] | None = None
    full_name: str | None = Field(default=None, min_length=1, max_length=200, pattern=NOT_BLANK)


class StaffMember(BaseModel):
    """Who can be assigned work: active MAINTAINERs and ADMINs."""

    id: int
    full_name: str
    username: str
    email: str
    role: Role
