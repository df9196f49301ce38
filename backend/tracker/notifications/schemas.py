from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from tracker.notifications.models import Delivery, Kind
from tracker.refs import UserRef


class IssueTitle(BaseModel):
    id: int
    title: str


class NotificationOut(BaseModel):
    id: int
    kind: Kind
    issue: IssueTitle | None
    actor: UserRef | None
    summary: str
    changes: int = Field(description="How many changes by the actor this one stands for")
    created_at: datetime
    updated_at: datetime
    read_at: datetime | None


class NotificationPage(BaseModel):
    items: list[NotificationOut]
    next_cursor: str | None
    unread: int = Field(description="Unread notifications in all, not only on this page")


class UnreadCount(BaseModel):
    unread: int


class KindSetting(BaseModel):
    kind: Kind
    delivery: Delivery


class NotificationSettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    settings: list[KindSetting] = Field(
        max_length=len(Kind), description="Kinds left out keep their setting"
    )


class NotificationSettingsOut(BaseModel):
    settings: list[KindSetting] = Field(description="Every kind, with its delivery")
    email_enabled: bool = Field(
        description="Whether this server sends e-mail at all; without it e-mail choices wait"
    )


class Mentionable(BaseModel):
    id: int
    username: str
    full_name: str
