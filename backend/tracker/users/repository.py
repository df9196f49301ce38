from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tracker.auth.models import User
from tracker.roles import STAFF_ROLES, Role

# The columns a user listing returns: never the password hash.
LIST_COLUMNS = (
    User.id,
    User.email,
    User.username,
    User.full_name,
    User.role,
    User.is_active,
    User.created_at,
    User.last_login_at,
)


async def by_ids(session: AsyncSession, ids: Sequence[int]) -> Sequence[User]:
    if not ids:
        return []
    return (await session.scalars(select(User).where(User.id.in_(list(ids))))).all()


async def lock(session: AsyncSession, user_id: int) -> User | None:
    return await session.get(User, user_id, with_for_update=True)


async def lock_active_admin_ids(session: AsyncSession) -> list[int]:
    """Lock every active ADMIN row, so two admins demoting each other at once cannot both win."""
    stmt = (
        select(User.id)
        .where(User.role == Role.ADMIN, User.is_active.is_(True))
        .order_by(User.id)
        .with_for_update()
    )
    return list((await session.execute(stmt)).scalars())


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def list_page(
    session: AsyncSession,
    *,
    role: Role | None,
    is_active: bool | None,
    q: str | None,
    limit: int,
    offset: int,
) -> tuple[Sequence[Any], int]:
    filters = []
    if role is not None:
        filters.append(User.role == role)
    if is_active is not None:
        filters.append(User.is_active.is_(is_active))
    if q:
        pattern = f"%{_escape_like(q.strip())}%"
        filters.append(
            or_(User.email.ilike(pattern, escape="\\"), User.full_name.ilike(pattern, escape="\\"))
        )
    # One round trip: the window count gives the total of the filtered set alongside the page.
    stmt = (
        select(*LIST_COLUMNS, func.count().over().label("total"))
        .where(*filters)
        .order_by(User.created_at.desc(), User.id.desc())
        .limit(limit)
        .offset(offset)
    )
    rows = (await session.execute(stmt)).all()
    if rows:
        return rows, int(rows[0].total)
    if offset == 0:
        return rows, 0
    # Past the last page the window count is not there; count on its own.
    count = select(func.count()).select_from(User).where(*filters)
    return rows, int((await session.execute(count)).scalar_one())


async def list_staff(session: AsyncSession) -> Sequence[Any]:
    stmt = (
        select(User.id, User.full_name, User.username, User.email, User.role)
        .where(User.role.in_(STAFF_ROLES), User.is_active.is_(True))
        .order_by(func.lower(User.full_name), User.id)
    )
    return (await session.execute(stmt)).all()
