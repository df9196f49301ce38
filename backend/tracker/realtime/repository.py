"""Reads the live feed needs: event rows with their actor, replays, and viewers' current access."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select, true
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from tracker.activity.models import IssueEvent
from tracker.auth.models import User
from tracker.notifications.models import Notification
from tracker.roles import Role


@dataclass(frozen=True, slots=True)
class EventRow:
    id: int
    issue_id: int
    reporter_id: int | None
    kind: str
    data: dict[str, Any]
    actor_id: int | None
    actor_name: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ViewerRow:
    id: int
    full_name: str
    role: Role
    is_active: bool


def _events() -> Select[Any]:
    return select(
        IssueEvent.id,
        IssueEvent.issue_ref,
        IssueEvent.reporter_id,
        IssueEvent.kind,
        IssueEvent.data,
        IssueEvent.actor_id,
        User.full_name,
        IssueEvent.created_at,
    ).outerjoin(User, User.id == IssueEvent.actor_id)


def _rows(result: Sequence[Any]) -> list[EventRow]:
    return [EventRow(*row) for row in result]


async def events_by_ids(conn: AsyncConnection, ids: Sequence[int]) -> list[EventRow]:
    stmt = _events().where(IssueEvent.id.in_(ids)).order_by(IssueEvent.id)
    return _rows((await conn.execute(stmt)).all())


async def events_after(conn: AsyncConnection, after_id: int, limit: int) -> list[EventRow]:
    stmt = _events().where(IssueEvent.id > after_id).order_by(IssueEvent.id).limit(limit)
    return _rows((await conn.execute(stmt)).all())


async def latest_event_id(conn: AsyncConnection | AsyncSession) -> int:
    """The newest committed event id (0 before the first): ids commit in id order, so every
    event after it is yet to come."""
    return int((await conn.execute(select(func.coalesce(func.max(IssueEvent.id), 0)))).scalar_one())


async def replay(
    session: AsyncSession,
    *,
    after_id: int,
    issue_id: int | None,
    reporter_id: int | None,
    limit: int,
) -> list[EventRow]:
    """Events after `after_id` in id order, for one issue or all, for one reporter or everyone.

    The scope is in SQL: a REPORTER's replay passes their own id and cannot read other rows.
    """
    where: list[ColumnElement[bool]] = [IssueEvent.id > after_id]
    if issue_id is not None:
        where.append(IssueEvent.issue_ref == issue_id)
    if reporter_id is not None:
        where.append(IssueEvent.reporter_id == reporter_id)
    stmt = _events().where(true(), *where).order_by(IssueEvent.id).limit(limit)
    return _rows((await session.execute(stmt)).all())


async def viewers(session: AsyncSession, ids: Sequence[int]) -> dict[int, ViewerRow]:
    stmt = select(User.id, User.full_name, User.role, User.is_active).where(User.id.in_(ids))
    return {row[0]: ViewerRow(*row) for row in (await session.execute(stmt)).all()}


async def unread_counts(conn: AsyncConnection, user_ids: Sequence[int]) -> dict[int, int]:
    """How many unread notifications each of these people has (0 included)."""
    stmt = (
        select(Notification.recipient_id, func.count())
        .where(Notification.recipient_id.in_(user_ids), Notification.read_at.is_(None))
        .group_by(Notification.recipient_id)
    )
    counts = dict.fromkeys(user_ids, 0)
    counts.update({uid: int(n) for uid, n in (await conn.execute(stmt)).all()})
    return counts
