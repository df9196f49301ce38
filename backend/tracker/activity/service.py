"""Recording changes: one `issue_events` row per change, announced with NOTIFY.

`pg_notify` is transactional: PostgreSQL delivers it only when the request's transaction
commits, so a rolled-back change is never announced, and every API process and the worker that
LISTENs on the channel hears it.

Event ids are handed out under a transaction-scoped advisory lock, so they COMMIT in id order:
the stream every listener sees is ordered by id, and a client that resumes "after id N" can
never miss an event that got a smaller id but committed later. The lock is held from the event
insert to the commit, so call `record_event` as the last write of a transaction.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    Table,
    bindparam,
    func,
    insert,
    literal_column,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import TypeEngine

from tracker.activity.models import IssueEvent
from tracker.db import Sql, fetchrow

NOTIFY_CHANNEL = "tracker_events"
# Arbitrary constant identifying "the issue_events id order" among advisory locks.
EVENT_ORDER_LOCK = 7_354_201_106

_EVENTS = cast(Table, IssueEvent.__table__)


def _record_statement() -> Sql:
    """Lock, insert and NOTIFY as one statement (one round trip on every write):

        WITH ordered AS (SELECT pg_advisory_xact_lock(K)),
             event AS (INSERT INTO issue_events (...) SELECT ... FROM ordered RETURNING ...)
        SELECT event.id, event.created_at, pg_notify('tracker_events', '{"id": …}') FROM event

    The INSERT reads its one row from the lock's CTE, so the id (its default, nextval) is taken
    only once the lock is held.
    """
    lock_key: ColumnElement[int] = literal_column(str(EVENT_ORDER_LOCK))
    ordered = select(func.pg_advisory_xact_lock(lock_key).label("locked")).cte("ordered")
    names = ("issue_id", "issue_ref", "reporter_id", "actor_id", "kind", "data")
    types: dict[str, TypeEngine[Any]] = {"kind": String(), "data": JSONB()}
    row: Select[Any] = select(
        *(bindparam(n, type_=types.get(n, Integer())).label(n) for n in names)
    ).select_from(ordered)
    event = (
        insert(_EVENTS)
        .from_select(list(names), row)
        .returning(_EVENTS.c.id, _EVENTS.c.created_at, _EVENTS.c.issue_ref)
        .cte("event")
    )
    payload = func.json_build_object(
        literal_column("'id'"),
        event.c.id,
        literal_column("'issue_id'"),
        event.c.issue_ref,
        literal_column("'reporter_id'"),
        bindparam("reporter_id", type_=Integer()),
        literal_column("'kind'"),
        bindparam("kind", type_=String()),
    )
    notify = func.pg_notify(literal_column(f"'{NOTIFY_CHANNEL}'"), payload.cast(String()))
    return Sql(select(event.c.id, event.c.created_at, notify.label("notified")))


_RECORD = _record_statement()


class RecordedEvent(NamedTuple):
    id: int
    created_at: datetime


async def record_event(
    session: AsyncSession,
    *,
    issue_id: int,
    reporter_id: int | None,
    actor_id: int | None,
    kind: str,
    data: dict[str, Any] | None = None,
    exists: bool = True,
) -> RecordedEvent:
    """Write the event row and queue its notification in the current transaction; returns the
    row's id and created_at.

    `kind` is dotted: issue.created, issue.updated, issue.deleted, comment.created, ...
    `exists=False` for an issue being deleted in this transaction (the row keeps `issue_ref`).
    """
    params = {
        "issue_id": issue_id if exists else None,
        "issue_ref": issue_id,
        "reporter_id": reporter_id,
        "actor_id": actor_id,
        "kind": kind,
        "data": json.dumps(data or {}),
    }
    row = await fetchrow(session, _RECORD, params, write=True)
    assert row is not None
    return RecordedEvent(row["id"], row["created_at"])


async def notify_stats_changed(session: AsyncSession) -> None:
    """Tell live dashboards that aggregated numbers changed (no history row)."""
    payload = json.dumps(
        {"id": None, "issue_id": None, "reporter_id": None, "kind": "stats.updated"}
    )
    await session.execute(select(func.pg_notify(NOTIFY_CHANNEL, payload)))
