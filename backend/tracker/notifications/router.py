"""The signed-in person's inbox and notification settings."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from tracker.auth.dependencies import AppSettings, CurrentUser
from tracker.db import DbSession
from tracker.errors import problems
from tracker.inputs import ID_CURSOR, INT4_MAX, NUL_FREE, JsonBodyRoute
from tracker.notifications import service
from tracker.notifications.schemas import (
    Mentionable,
    NotificationPage,
    NotificationSettingsIn,
    NotificationSettingsOut,
    UnreadCount,
)

router = APIRouter(tags=["notifications"], route_class=JsonBodyRoute)


@router.get(
    "/notifications",
    response_model=NotificationPage,
    responses=problems((400, "The cursor is not one this listing handed out")),
)
async def list_notifications(
    user: CurrentUser,
    session: DbSession,
    unread: bool = False,
    cursor: Annotated[str | None, Query(json_schema_extra=ID_CURSOR)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 30,
) -> NotificationPage:
    """Your notifications, newest first, with how many are unread."""
    return await service.list_notifications(
        session, user.id, cursor=cursor, unread=unread, limit=limit
    )


@router.post(
    "/notifications/{notification_id:int}/read", response_model=UnreadCount, responses=problems(404)
)
async def mark_read(
    notification_id: Annotated[int, Path(ge=1, le=INT4_MAX)], user: CurrentUser, session: DbSession
) -> UnreadCount:
    """Mark one notification read; answers how many are left unread."""
    return await service.mark_read(session, user.id, notification_id)


@router.post("/notifications/read-all", response_model=UnreadCount)
async def mark_all_read(user: CurrentUser, session: DbSession) -> UnreadCount:
    """Mark every notification read."""
    return await service.mark_all_read(session, user.id)


@router.get(
    "/users/mentionable",
    response_model=list[Mentionable],
    responses=problems(404),
)
async def mentionable(
    user: CurrentUser,
    session: DbSession,
    issue_id: Annotated[int, Query(ge=1, le=INT4_MAX)],
    q: Annotated[str, Query(max_length=40, pattern=NUL_FREE)] = "",
    limit: Annotated[int, Query(ge=1, le=20)] = 8,
) -> list[Mentionable]:
    """People who could see this issue, for `@` autocomplete: its reporter and the staff."""
    return await service.mentionable(session, user, issue_id, q, limit)


@router.get("/users/me/notification-settings", response_model=NotificationSettingsOut)
async def get_settings(
    user: CurrentUser, session: DbSession, settings: AppSettings
) -> NotificationSettingsOut:
    """How you are told about each kind of notification."""
    return await service.get_settings(session, settings, user.id)


@router.put("/users/me/notification-settings", response_model=NotificationSettingsOut)
async def put_settings(
    body: NotificationSettingsIn, user: CurrentUser, session: DbSession, settings: AppSettings
) -> NotificationSettingsOut:
    """Choose per kind: in the app only, e-mail at once, or a daily digest."""
    return await service.put_settings(session, settings, user.id, body)
