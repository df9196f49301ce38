"""SQL for the activity history: the event INSERT (its id and NOTIFY come at commit, from the
trigger of migration 0002), an issue's history page and the bare NOTIFY.

Reads return asyncpg `Record`s from statements compiled once (tracker.db.Sql), as the issues
domain's do."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Integer, Select, Table, bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tracker.activity.models import IssueEvent
from tracker.auth.models import User
from tracker.db import Record, Sql, StatementCache, fetch, fetchrow

_EVENTS = cast(Table, IssueEvent.__table__)
_USERS = cast(Table, User.__table__)
_FIELDS = ("issue_id", "issue_ref", "reporter_id", "actor_id", "kind", "data")
# One event row; public, for whoever must send the same SQL as the API (bench/baseline.py).
RECORD_EVENT = Sql(
    insert(_EVENTS)
    .values({name: bindparam(name, type_=_EVENTS.c[name].type) for name in _FIELDS})
    .returning(_EVENTS.c.created_at)
)


async def insert_event(session: AsyncSession, values: dict[str, Any]) -> None:
    await fetchrow(session, RECORD_EVENT, values, write=True)


@StatementCache
def _history_statement(after: bool) -> Select[Any]:
    stmt = (
        select(
            _EVENTS.c.id,
            _EVENTS.c.issue_id,
            _EVENTS.c.kind,
            _EVENTS.c.data,
            _EVENTS.c.created_at,
            _EVENTS.c.actor_id,
            _USERS.c.full_name.label("actor_name"),
        )
        .select_from(_EVENTS.outerjoin(_USERS, _USERS.c.id == _EVENTS.c.actor_id))
        .where(_EVENTS.c.issue_id == bindparam("issue_id", type_=Integer))
        .order_by(_EVENTS.c.id)
        .limit(bindparam("limit", type_=Integer))
    )
    if after:
        stmt = stmt.where(_EVENTS.c.id > bindparam("after_id", type_=Integer))
    return stmt


async def history_page(
    session: AsyncSession, issue_id: int, after_id: int | None, limit: int
) -> list[Record]:
    """An issue's events in id order (after `after_id`), at most `limit`, with the actor's name."""
    params = {"issue_id": issue_id, "after_id": after_id, "limit": limit}
    return await fetch(session, _history_statement(after_id is not None), params)


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
