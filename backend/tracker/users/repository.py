from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tracker.users.models import Role, User


async def get(session: AsyncSession, user_id: int) -> User | None:
    return await session.get(User, user_id)


async def get_by_email(session: AsyncSession, email: str) -> User | None:
    stmt = select(User).where(func.lower(User.email) == email.strip().lower())
    return (await session.execute(stmt)).scalar_one_or_none()


async def count_by_role(session: AsyncSession, role: Role) -> int:
    stmt = select(func.count()).select_from(User).where(User.role == role)
    return int((await session.execute(stmt)).scalar_one())


def add(session: AsyncSession, user: User) -> User:
    session.add(user)
    return user
