"""The inbox people read: their notifications, read and unread, and how they want to be told.

Every change to someone's inbox is announced on `tracker_notifications` when its transaction
commits (PostgreSQL NOTIFY), so their open pages update the bell without asking.
"""

from __future__ import annotations

import json

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tracker.auth.models import User
from tracker.config import Settings
from tracker.cursors import decode_id_cursor
from tracker.errors import NotFound
from tracker.issues import service as issues
from tracker.notifications import repository
from tracker.notifications.models import Delivery, Kind, Notification
from tracker.notifications.schemas import (
    IssueTitle,
    KindSetting,
    Mentionable,
    NotificationOut,
    NotificationPage,
    NotificationSettingsIn,
    NotificationSettingsOut,
    UnreadCount,
)
from tracker.refs import UserRef

NOTIFY_CHANNEL = "tracker_notifications"
# In the app, and by e-mail for what is addressed to you alone.
DEFAULT_DELIVERY = {
    Kind.ASSIGNED: Delivery.EMAIL,
    Kind.MENTIONED: Delivery.EMAIL,
    Kind.COMMENTED: Delivery.APP,
    Kind.STATUS_CHANGED: Delivery.APP,
    Kind.ATTACHMENT_ADDED: Delivery.APP,
}


def to_out(row: Notification, issue_title: str | None, actor_name: str | None) -> NotificationOut:
    return NotificationOut(
        id=row.id,
        kind=row.kind,
        issue=(
            IssueTitle(id=row.issue_id, title=issue_title)
            if row.issue_id is not None and issue_title is not None
            else None
        ),
        actor=(
            UserRef(id=row.actor_id, full_name=actor_name)
            if row.actor_id is not None and actor_name is not None
            else None
        ),
        summary=row.summary,
        changes=row.changes,
        created_at=row.created_at,
        updated_at=row.updated_at,
        read_at=row.read_at,
    )


async def announce(session: AsyncSession, recipient_id: int, notification_id: int | None) -> None:
    """Tell the recipient's open pages, once this transaction commits, that their inbox changed
    (a new or updated notification, or what they have read)."""
    payload = json.dumps({"user_id": recipient_id, "notification_id": notification_id})
    await session.execute(select(func.pg_notify(NOTIFY_CHANNEL, payload)))


async def list_notifications(
    session: AsyncSession, user_id: int, *, cursor: str | None, unread: bool, limit: int
) -> NotificationPage:
    rows = await repository.page_for(
        session, user_id, before_id=decode_id_cursor(cursor), unread=unread, limit=limit + 1
    )
    items = [to_out(r.Notification, r.issue_title, r.actor_name) for r in rows[:limit]]
    return NotificationPage(
        items=items,
        next_cursor=str(items[-1].id) if len(rows) > limit else None,
        unread=await repository.unread_count(session, user_id),
    )


async def unread(session: AsyncSession, user_id: int) -> UnreadCount:
    return UnreadCount(unread=await repository.unread_count(session, user_id))


async def mark_read(session: AsyncSession, user_id: int, notification_id: int) -> UnreadCount:
    if not await repository.mark_read(session, user_id, notification_id):
        raise NotFound(f"Notification {notification_id} not found", code="notification_not_found")
    await announce(session, user_id, None)
    return await unread(session, user_id)


async def mark_all_read(session: AsyncSession, user_id: int) -> UnreadCount:
    if await repository.mark_all_read(session, user_id):
        await announce(session, user_id, None)
    return UnreadCount(unread=0)


async def deliveries_of(session: AsyncSession, user_id: int) -> dict[Kind, Delivery]:
    return {**DEFAULT_DELIVERY, **await repository.settings_of(session, user_id)}


async def get_settings(
    session: AsyncSession, settings: Settings, user_id: int
) -> NotificationSettingsOut:
    chosen = await deliveries_of(session, user_id)
    return NotificationSettingsOut(
        settings=[KindSetting(kind=k, delivery=chosen[k]) for k in Kind],
        email_enabled=settings.mail_enabled,
    )


async def put_settings(
    session: AsyncSession, settings: Settings, user_id: int, body: NotificationSettingsIn
) -> NotificationSettingsOut:
    await repository.save_settings(session, user_id, {s.kind: s.delivery for s in body.settings})
    return await get_settings(session, settings, user_id)


async def mentionable(
    session: AsyncSession, user: User, issue_id: int, q: str, limit: int
) -> list[Mentionable]:
    issue = await issues.get_visible_issue(session, user, issue_id)
    rows = await repository.mentionable(session, issue.reporter_id, q.strip().lstrip("@"), limit)
    return [Mentionable(id=r.id, username=r.username, full_name=r.full_name) for r in rows]
