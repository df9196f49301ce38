from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tracker.auth.models import User
from tracker.views.models import SavedView


def _visible_to(user_id: int) -> ColumnElement[bool]:
    return or_(SavedView.owner_id == user_id, SavedView.shared.is_(True))


async def visible(session: AsyncSession, user_id: int) -> Sequence[tuple[SavedView, User]]:
    """Your own views and the team's, yours first, each group by name."""
    rows = await session.execute(
        select(SavedView, User)
        .join(User, User.id == SavedView.owner_id)
        .where(_visible_to(user_id))
        .order_by((SavedView.owner_id != user_id), func.lower(SavedView.name), SavedView.id)
    )
    return [(view, owner) for view, owner in rows.all()]


async def get_visible(
    session: AsyncSession, user_id: int, view_id: int, *, lock: bool = False
) -> tuple[SavedView, User] | None:
    stmt = (
        select(SavedView, User)
        .join(User, User.id == SavedView.owner_id)
        .where(SavedView.id == view_id, _visible_to(user_id))
    )
    if lock:
        stmt = stmt.with_for_update(of=SavedView)
    row = (await session.execute(stmt)).first()
    return None if row is None else (row[0], row[1])


async def count_owned(session: AsyncSession, user_id: int) -> int:
    return (
        await session.scalar(
            select(func.count()).select_from(SavedView).where(SavedView.owner_id == user_id)
        )
        or 0
    )


async def name_taken(
    session: AsyncSession, user_id: int, name: str, *, except_id: int | None = None
) -> bool:
    stmt = select(SavedView.id).where(
        SavedView.owner_id == user_id, func.lower(SavedView.name) == name.lower()
    )
    if except_id is not None:
        stmt = stmt.where(SavedView.id != except_id)
    return (await session.scalar(stmt.limit(1))) is not None
