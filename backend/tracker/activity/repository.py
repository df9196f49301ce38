"""SQL for the activity history: the event INSERT (its id and NOTIFY come at commit, from the
trigger of migration 0002) and the bare NOTIFY."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table, bindparam, func, insert, select
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
