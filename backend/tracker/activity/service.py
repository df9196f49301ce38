"""Recording changes: one `issue_events` row per change, announced with NOTIFY.

`pg_notify` is transactional: PostgreSQL delivers it only when the request's transaction
commits, so a rolled-back change is never announced, and every API process and the worker that
LISTENs on the channel hears it.

Event ids COMMIT in id order, so the stream every listener sees is ordered by id, and a client
that resumes "after id N" can never miss an event that got a smaller id but committed later.
The row is inserted with a provisional id; when the transaction commits, a deferred trigger
(migration 0002) takes a transaction-scoped advisory lock, gives the row its final id and queues
the NOTIFY. The lock is held only while PostgreSQL commits, so `record_event` may come anywhere
in a transaction.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tracker.activity import repository

NOTIFY_CHANNEL = "tracker_events"
# Arbitrary constant identifying "the issue_events id order" among advisory locks; the
# commit-time trigger of migration 0002 takes it.
EVENT_ORDER_LOCK = 7_354_201_106


def event_values(
    *,
    issue_id: int | None,
    reporter_id: int | None,
    actor_id: int | None,
    kind: str,
    data: dict[str, Any] | None = None,
    exists: bool = True,
) -> dict[str, Any]:
    """An issue_events row's values. `record_event` writes one; a statement that creates the
    issue itself may write it in the same statement (issue_id None: the new issue's id)."""
    return {
        "issue_id": issue_id if exists else None,
        "issue_ref": issue_id,
        "reporter_id": reporter_id,
        "actor_id": actor_id,
        "kind": kind,
        "data": json.dumps(data or {}),
    }


async def record_event(
    session: AsyncSession,
    *,
    issue_id: int,
    reporter_id: int | None,
    actor_id: int | None,
    kind: str,
    data: dict[str, Any] | None = None,
    exists: bool = True,
) -> None:
    """Write the event row in the current transaction; it gets its id and its NOTIFY when the
    transaction commits.

    `kind` is dotted: issue.created, issue.updated, issue.deleted, comment.created, ...
    `exists=False` for an issue being deleted in this transaction (the row keeps `issue_ref`).
    """
    params = event_values(
        issue_id=issue_id,
        reporter_id=reporter_id,
        actor_id=actor_id,
        kind=kind,
        data=data,
        exists=exists,
    )
    await repository.insert_event(session, params)


# What a comment said before an edit is history for the team that works the issue, not for
# everyone who may read it: the reporter sees that a comment was edited, staff see the text.
_STAFF_ONLY_DATA = {"comment.updated": ("changes",)}


def visible_data(kind: str, data: dict[str, Any], *, staff: bool) -> dict[str, Any]:
    """An event's data as a reader may see it (the live feed reads it as a non-staff reader:
    one message serves every subscriber of a channel)."""
    hidden = () if staff else _STAFF_ONLY_DATA.get(kind, ())
    if not hidden:
        return data
    return {key: value for key, value in data.items() if key not in hidden}


async def issue_history(
    session: AsyncSession, issue_id: int, *, after_id: int | None, limit: int, staff: bool
) -> list[dict[str, Any]]:
    """An issue's events after `after_id` in the order they happened, at most `limit`, each as
    its reader may see it (`staff` or not): id, issue_id, actor ({id, full_name} or None when
    unknown), kind, data and created_at."""
    rows = await repository.history_page(session, issue_id, after_id, limit)
    return [
        {
            "id": r["id"],
            "issue_id": r["issue_id"],
            "actor": (
                None
                if r["actor_id"] is None or r["actor_name"] is None
                else {"id": r["actor_id"], "full_name": r["actor_name"]}
            ),
            "kind": r["kind"],
            "data": visible_data(r["kind"], r["data"], staff=staff),
            "created_at": r["created_at"],
        }
        for r in rows
    ]


async def forget_comment_text(session: AsyncSession, issue_id: int, comment_id: int) -> None:
    """A deleted comment's words leave the history too: its edits keep no text."""
    await repository.drop_data_key(
        session, issue_id=issue_id, kind="comment.updated", comment_id=comment_id, key="changes"
    )


async def notify_stats_changed(session: AsyncSession) -> None:
    """Tell live dashboards that aggregated numbers changed (no history row)."""
    payload = json.dumps(
        {"id": None, "issue_id": None, "reporter_id": None, "kind": "stats.updated"}
    )
    await repository.notify(session, NOTIFY_CHANNEL, payload)
