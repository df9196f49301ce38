from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from tracker.activity.models import IssueEvent
from tracker.auth.models import User
from tracker.comments.models import Comment
from tracker.issues.models import Issue
from tracker.notifications.models import (
    Delivery,
    EventCursor,
    Kind,
    Notification,
    NotificationSetting,
    OutgoingMail,
)
from tracker.roles import STAFF_ROLES

_actor = aliased(User)


async def page_for(
    session: AsyncSession, recipient_id: int, *, before_id: int | None, unread: bool, limit: int
) -> Sequence[Any]:
    """Newest first: the notification, its issue's title and its actor's name, one row each."""
    stmt = (
        select(
            Notification,
            Issue.title.label("issue_title"),
            _actor.full_name.label("actor_name"),
        )
        .outerjoin(Issue, Issue.id == Notification.issue_id)
        .outerjoin(_actor, _actor.id == Notification.actor_id)
        .where(Notification.recipient_id == recipient_id)
        .order_by(Notification.id.desc())
        .limit(limit)
    )
    if before_id is not None:
        stmt = stmt.where(Notification.id < before_id)
    if unread:
        stmt = stmt.where(Notification.read_at.is_(None))
    return (await session.execute(stmt)).all()


async def unread_count(session: AsyncSession, recipient_id: int) -> int:
    stmt = select(func.count()).where(
        Notification.recipient_id == recipient_id, Notification.read_at.is_(None)
    )
    return int((await session.execute(stmt)).scalar_one())


async def mark_read(session: AsyncSession, recipient_id: int, notification_id: int) -> bool:
    """Whether the recipient has this notification (read before or now)."""
    stmt = (
        update(Notification)
        .where(Notification.id == notification_id, Notification.recipient_id == recipient_id)
        .values(read_at=func.coalesce(Notification.read_at, func.now()))
        .returning(Notification.id)
    )
    return (await session.execute(stmt)).scalar_one_or_none() is not None


async def mark_all_read(session: AsyncSession, recipient_id: int) -> int:
    stmt = (
        update(Notification)
        .where(Notification.recipient_id == recipient_id, Notification.read_at.is_(None))
        .values(read_at=func.now())
    )
    result = await session.execute(stmt)
    return int(getattr(result, "rowcount", 0) or 0)


async def mentionable(session: AsyncSession, reporter_id: int, q: str, limit: int) -> Sequence[Any]:
    """Active people who may see an issue reported by `reporter_id`, whose handle or name
    starts with `q`: the staff and that reporter. Closest handles first."""
    prefix = q.lower()
    stmt = (
        select(User.id, User.username, User.full_name)
        .where(
            User.is_active.is_(True),
            or_(User.role.in_(STAFF_ROLES), User.id == reporter_id),
            or_(
                User.username.startswith(prefix, autoescape=True),
                func.lower(User.full_name).startswith(prefix, autoescape=True),
                func.lower(User.full_name).contains(f" {prefix}", autoescape=True),
            ),
        )
        .order_by(func.length(User.username), User.username)
        .limit(limit)
    )
    return (await session.execute(stmt)).all()


async def settings_of(session: AsyncSession, user_id: int) -> dict[Kind, Delivery]:
    stmt = select(NotificationSetting.kind, NotificationSetting.delivery).where(
        NotificationSetting.user_id == user_id
    )
    rows = (await session.execute(stmt)).all()
    return dict(rows)


async def save_settings(session: AsyncSession, user_id: int, chosen: dict[Kind, Delivery]) -> None:
    if not chosen:
        return
    stmt = insert(NotificationSetting).values(
        [{"user_id": user_id, "kind": k, "delivery": d} for k, d in chosen.items()]
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[NotificationSetting.user_id, NotificationSetting.kind],
            set_={"delivery": stmt.excluded.delivery},
        )
    )


# --- the fan-out: reading what happened, writing who needs to know ---------------------------


async def cursor_of(session: AsyncSession, consumer: str) -> int:
    """The last event id `consumer` handled, with its row locked for this transaction."""
    await session.execute(
        insert(EventCursor).values(consumer=consumer, last_event_id=0).on_conflict_do_nothing()
    )
    stmt = (
        select(EventCursor.last_event_id).where(EventCursor.consumer == consumer).with_for_update()
    )
    return int((await session.execute(stmt)).scalar_one())


async def move_cursor(session: AsyncSession, consumer: str, last_event_id: int) -> None:
    await session.execute(
        update(EventCursor)
        .where(EventCursor.consumer == consumer)
        .values(last_event_id=last_event_id)
    )


async def events_after(session: AsyncSession, after_id: int, limit: int) -> Sequence[Any]:
    """Committed events after `after_id` in id order, with their issue's current state and
    their actor's name (an issue deleted since has none)."""
    stmt = (
        select(
            IssueEvent.id,
            IssueEvent.issue_id,
            IssueEvent.actor_id,
            IssueEvent.kind,
            IssueEvent.data,
            IssueEvent.created_at,
            Issue.title,
            Issue.reporter_id,
            Issue.assignee_id,
            Issue.description,
            _actor.full_name.label("actor_name"),
        )
        .join(Issue, Issue.id == IssueEvent.issue_id)
        .outerjoin(_actor, _actor.id == IssueEvent.actor_id)
        .where(IssueEvent.id > after_id)
        .order_by(IssueEvent.id)
        .limit(limit)
    )
    return (await session.execute(stmt)).all()


async def comment_body(session: AsyncSession, comment_id: int) -> str | None:
    stmt = select(Comment.body).where(Comment.id == comment_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def people(session: AsyncSession, user_ids: set[int]) -> dict[int, Any]:
    if not user_ids:
        return {}
    stmt = select(User.id, User.role, User.is_active, User.email, User.full_name).where(
        User.id.in_(user_ids)
    )
    return {row.id: row for row in (await session.execute(stmt)).all()}


async def ids_with_handles(session: AsyncSession, handles: set[str]) -> set[int]:
    if not handles:
        return set()
    stmt = select(User.id).where(User.username.in_(handles))
    return set((await session.execute(stmt)).scalars())


async def recent_unread(
    session: AsyncSession, recipient_id: int, issue_id: int, actor_id: int, since: datetime
) -> Notification | None:
    """The unread notification this actor's change folds into, if one was made since `since`."""
    stmt = (
        select(Notification)
        .where(
            Notification.recipient_id == recipient_id,
            Notification.issue_id == issue_id,
            Notification.actor_id == actor_id,
            Notification.read_at.is_(None),
            Notification.updated_at >= since,
        )
        .order_by(Notification.id.desc())
        .limit(1)
        .with_for_update()
    )
    return (await session.execute(stmt)).scalar_one_or_none()


def add_notification(session: AsyncSession, notification: Notification) -> None:
    session.add(notification)


def add_mail(session: AsyncSession, mail: OutgoingMail) -> None:
    session.add(mail)
