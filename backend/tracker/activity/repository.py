"""SQL for the activity history: the event INSERT (its id and NOTIFY come at commit, from the
trigger of migration 0002) and the bare NOTIFY."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Integer, Table, bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tracker.activity.models import IssueEvent
from tracker.db import Sql, fetchrow

_EVENTS = cast(Table, IssueEvent.__table__)
_FIELDS = ("issue_id", "issue_ref", "reporter_id", "actor_id", "kind", "data")
_RECORD = Sql(
    insert(_EVENTS)
    .values({name: bindparam(name, type_=_EVENTS.c[name].type) for name in _FIELDS})
    .returning(_EVENTS.c.created_at)
)


async def insert_event(session: AsyncSession, values: dict[str, Any]) -> None:
    await fetchrow(session, _RECORD, values, write=True)


async def notify(session: AsyncSession, channel: str, payload: str) -> None:
    await session.execute(select(func.pg_notify(channel, payload)))


async def drop_data_key(
    session: AsyncSession, *, issue_id: int, kind: str, comment_id: int, key: str
) -> None:
    """Remove `key` from the data of one comment's events of `kind`."""
    await session.execute(
        update(_EVENTS)
        .where(
            _EVENTS.c.issue_id == issue_id,
            _EVENTS.c.kind == kind,
            _EVENTS.c.data["comment_id"].astext.cast(Integer) == comment_id,
        )
        .values(data=_EVENTS.c.data.op("-", return_type=_EVENTS.c.data.type)(key))
    )
