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
from typing import Any

from sqlalchemy import Row, Table, bindparam, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from tracker.activity.models import IssueEvent

NOTIFY_CHANNEL = "tracker_events"
# Arbitrary constant identifying "the issue_events id order" among advisory locks.
EVENT_ORDER_LOCK = 7_354_201_106

# Built once: every write runs these, and one INSERT ... RETURNING is far cheaper than adding an
# ORM object and flushing a unit of work.
_LOCK = select(func.pg_advisory_xact_lock(EVENT_ORDER_LOCK))
_EVENTS = IssueEvent.__table__
assert isinstance(_EVENTS, Table)
_INSERT = insert(_EVENTS).returning(_EVENTS.c.id, _EVENTS.c.created_at)
_NOTIFY = select(func.pg_notify(NOTIFY_CHANNEL, bindparam("payload")))


async def record_event(
    session: AsyncSession,
    *,
    issue_id: int,
    reporter_id: int | None,
    actor_id: int | None,
    kind: str,
    data: dict[str, Any] | None = None,
    exists: bool = True,
) -> Row[int, datetime]:
    """Write the event row and queue its notification in the current transaction; returns the
    row's id and created_at.

    `kind` is dotted: issue.created, issue.updated, issue.deleted, comment.created, ...
    `exists=False` for an issue being deleted in this transaction (the row keeps `issue_ref`).
    """
    await session.execute(_LOCK)
    event = (
        await session.execute(
            _INSERT,
            {
                "issue_id": issue_id if exists else None,
                "issue_ref": issue_id,
                "reporter_id": reporter_id,
                "actor_id": actor_id,
                "kind": kind,
                "data": data or {},
            },
        )
    ).one()
    payload = json.dumps(
        {"id": event.id, "issue_id": issue_id, "reporter_id": reporter_id, "kind": kind}
    )
    await session.execute(_NOTIFY, {"payload": payload})
    return event


async def notify_stats_changed(session: AsyncSession) -> None:
    """Tell live dashboards that aggregated numbers changed (no history row)."""
    payload = json.dumps(
        {"id": None, "issue_id": None, "reporter_id": None, "kind": "stats.updated"}
    )
    await session.execute(select(func.pg_notify(NOTIFY_CHANNEL, payload)))
