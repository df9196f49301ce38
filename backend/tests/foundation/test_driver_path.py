"""The hot paths' statements run on the session's own connection and transaction (ADR 0012):
what they write is committed or rolled back with everything else the request did."""

from __future__ import annotations

import pytest
from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tracker.db import Sql, fetchrow
from tracker.issues.models import Tag

_ADD_TAG = Sql(insert(Tag).values(name=bindparam("name")).returning(Tag.id))
_COUNT = select(func.count()).select_from(Tag).where(Tag.name == bindparam("name"))


async def _count(factory: async_sessionmaker[AsyncSession], name: str) -> int:
    async with factory() as session:
        return int((await session.execute(_COUNT, {"name": name})).scalar_one())


async def test_a_driver_write_is_undone_by_the_session_rollback(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker() as session:
        assert await fetchrow(session, _ADD_TAG, {"name": "rolled-back"}, write=True)
        await session.rollback()
    assert await _count(sessionmaker, "rolled-back") == 0


async def test_driver_and_orm_writes_share_one_transaction(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker() as session:
        session.add(Tag(name="from-orm"))
        await session.flush()
        # The ORM's uncommitted row is visible to the driver statement: same transaction.
        seen = await fetchrow(session, Sql(_COUNT), {"name": "from-orm"})
        assert seen is not None and seen[0] == 1
        await fetchrow(session, _ADD_TAG, {"name": "from-driver"}, write=True)
        await session.commit()
    assert await _count(sessionmaker, "from-orm") == 1
    assert await _count(sessionmaker, "from-driver") == 1


async def test_a_constraint_violation_is_the_same_error_as_through_the_orm(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker() as session:
        await fetchrow(session, _ADD_TAG, {"name": "twice"}, write=True)
        with pytest.raises(IntegrityError):
            await fetchrow(session, _ADD_TAG, {"name": "TWICE"}, write=True)
        await session.rollback()
    assert await _count(sessionmaker, "twice") == 0
