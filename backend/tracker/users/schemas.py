from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from tracker.roles import Role


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
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


class StaffMember(BaseModel):
    """Who can be assigned work: active MAINTAINERs and ADMINs."""

    id: int
    full_name: str
    email: str
    role: Role
