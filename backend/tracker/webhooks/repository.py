"""SQL for webhooks: endpoints, the delivery log, and the worker's outbox steps."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Row,
    Table,
    and_,
    any_,
    bindparam,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from tracker.activity.models import IssueEvent
from tracker.auth.models import User
from tracker.issues.models import Issue, Tag, issue_tags
from tracker.outbox import Claim, OutboxState
from tracker.webhooks.models import (
    WebhookAttempt,
    WebhookCursor,
    WebhookDelivery,
    WebhookEndpoint,
)
from tracker.webhooks.schemas import ALL_EVENTS

DELIVERIES = cast(Table, WebhookDelivery.__table__)


# ---- endpoints ----------------------------------------------------------------------------------


async def count_endpoints(session: AsyncSession) -> int:
    return int((await session.execute(select(func.count(WebhookEndpoint.id)))).scalar_one())


async def latest_event_id(session: AsyncSession) -> int:
    """The newest committed event id: ids commit in id order, so every later event is new."""
    stmt = select(func.coalesce(func.max(IssueEvent.id), 0))
    return int((await session.execute(stmt)).scalar_one())


async def add_endpoint(session: AsyncSession, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    session.add(endpoint)
    await session.flush()
    await session.refresh(endpoint)
    return endpoint


async def lock_endpoint(session: AsyncSession, endpoint_id: int) -> WebhookEndpoint | None:
    return await session.get(WebhookEndpoint, endpoint_id, with_for_update=True)


async def save_endpoint(session: AsyncSession, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    await session.flush()
    await session.refresh(endpoint)
    return endpoint


async def delete_endpoint(session: AsyncSession, endpoint_id: int) -> bool:
    stmt = delete(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id)
    result = await session.execute(stmt.returning(WebhookEndpoint.id))
    return result.first() is not None


def _last_delivery() -> Any:
    return (
        select(
            WebhookDelivery.id.label("delivery_id"),
            IssueEvent.kind.label("delivery_event"),
            WebhookDelivery.state.label("delivery_state"),
            func.coalesce(WebhookDelivery.last_attempt_at, WebhookDelivery.created_at).label(
                "delivery_at"
            ),
        )
        .join(IssueEvent, IssueEvent.id == WebhookDelivery.event_id)
        .where(WebhookDelivery.endpoint_id == WebhookEndpoint.id)
        .order_by(WebhookDelivery.event_id.desc())
        .limit(1)
        .lateral("last_delivery")
    )


async def endpoints_with_last_delivery(
    session: AsyncSession, endpoint_id: int | None = None
) -> Sequence[Row[Any]]:
    """Endpoints (one, or all by id) with their newest delivery's columns, NULL for none."""
    last = _last_delivery()
    stmt = select(WebhookEndpoint, *last.c).outerjoin(last, true()).order_by(WebhookEndpoint.id)
    if endpoint_id is not None:
        stmt = stmt.where(WebhookEndpoint.id == endpoint_id)
    return (await session.execute(stmt)).all()


# ---- the delivery log ---------------------------------------------------------------------------


def _deliveries() -> Any:
    return select(
        WebhookDelivery.id,
        IssueEvent.kind.label("event"),
        WebhookDelivery.event_id,
        IssueEvent.issue_ref.label("issue_id"),
        WebhookDelivery.state,
        WebhookDelivery.tries,
        WebhookDelivery.next_attempt_at,
        WebhookDelivery.created_at,
        WebhookDelivery.finished_at,
    ).join(IssueEvent, IssueEvent.id == WebhookDelivery.event_id)


async def delivery_page(
    session: AsyncSession,
    *,
    endpoint_id: int,
    before_event_id: int | None,
    state: OutboxState | None,
    limit: int,
) -> Sequence[Row[Any]]:
    """An endpoint's deliveries, newest event first (one event, one delivery: the event id
    is an exact keyset)."""
    where: list[ColumnElement[bool]] = [WebhookDelivery.endpoint_id == endpoint_id]
    if before_event_id is not None:
        where.append(WebhookDelivery.event_id < before_event_id)
    if state is not None:
        where.append(WebhookDelivery.state == state)
    stmt = _deliveries().where(*where).order_by(WebhookDelivery.event_id.desc()).limit(limit)
    return (await session.execute(stmt)).all()


async def delivery_by_id(session: AsyncSession, delivery_id: uuid.UUID) -> Row[Any] | None:
    stmt = _deliveries().where(WebhookDelivery.id == delivery_id)
    return (await session.execute(stmt)).first()


async def newest_attempts(
    session: AsyncSession, delivery_ids: Sequence[uuid.UUID], per_delivery: int
) -> list[tuple[WebhookAttempt, int]]:
    """The newest `per_delivery` attempts of each delivery, newest first, each with the
    delivery's count of attempts (one query for a whole page)."""
    if not delivery_ids:
        return []
    ranked = (
        select(
            WebhookAttempt,
            func.row_number()
            .over(partition_by=WebhookAttempt.delivery_id, order_by=WebhookAttempt.id.desc())
            .label("rank"),
            func.count().over(partition_by=WebhookAttempt.delivery_id).label("total"),
        )
        .where(WebhookAttempt.delivery_id.in_(delivery_ids))
        .subquery()
    )
    attempt = aliased(WebhookAttempt, ranked)
    stmt = (
        select(attempt, ranked.c.total)
        .where(ranked.c.rank <= per_delivery)
        .order_by(ranked.c.delivery_id, ranked.c.id.desc())
    )
    return [(row[0], int(row[1])) for row in (await session.execute(stmt)).all()]


async def delivery_endpoint(session: AsyncSession, delivery_id: uuid.UUID) -> int | None:
    stmt = select(WebhookDelivery.endpoint_id).where(WebhookDelivery.id == delivery_id)
    return (await session.execute(stmt)).scalar_one_or_none()


# ---- the worker: events into deliveries ---------------------------------------------------------


async def lock_cursor(session: AsyncSession) -> int | None:
    """The cursor's value, locked for this transaction; None while another run holds it (that
    run is turning the same events into deliveries)."""
    await session.execute(
        pg_insert(WebhookCursor)
        .values(id=1, last_event_id=0)
        .on_conflict_do_nothing(index_elements=["id"])
    )
    stmt = select(WebhookCursor.last_event_id).where(WebhookCursor.id == 1)
    result = await session.execute(stmt.with_for_update(skip_locked=True))
    return result.scalar_one_or_none()


async def last_event_of_batch(session: AsyncSession, after: int, limit: int) -> int | None:
    batch = (
        select(IssueEvent.id).where(IssueEvent.id > after).order_by(IssueEvent.id).limit(limit)
    ).subquery()
    last = (await session.execute(select(func.max(batch.c.id)))).scalar_one_or_none()
    return None if last is None else int(last)


async def queue_deliveries(session: AsyncSession, *, after: int, upto: int, now: datetime) -> int:
    """One delivery per event in (after, upto] and active endpoint subscribed to its kind;
    returns how many were made (an existing delivery is kept as it is)."""
    matching = (
        select(WebhookEndpoint.id, IssueEvent.id, literal(now, WebhookDelivery.created_at.type))
        .join(
            WebhookEndpoint,
            and_(
                WebhookEndpoint.active.is_(True),
                IssueEvent.id > WebhookEndpoint.since_event_id,
                or_(
                    literal(ALL_EVENTS) == any_(WebhookEndpoint.events),
                    IssueEvent.kind == any_(WebhookEndpoint.events),
                ),
            ),
        )
        .where(IssueEvent.id > after, IssueEvent.id <= upto)
    )
    stmt = (
        pg_insert(WebhookDelivery)
        .from_select(
            ["endpoint_id", "event_id", "next_attempt_at"], matching, include_defaults=False
        )
        .on_conflict_do_nothing(index_elements=["endpoint_id", "event_id"])
        .returning(WebhookDelivery.id)
    )
    return len((await session.execute(stmt)).all())


async def set_cursor(session: AsyncSession, last_event_id: int) -> None:
    await session.execute(
        update(WebhookCursor).where(WebhookCursor.id == 1).values(last_event_id=last_event_id)
    )


def active_endpoint() -> ColumnElement[bool]:
    """Claim only deliveries of endpoints that are switched on (the others' wait)."""
    return WebhookDelivery.endpoint_id.in_(
        select(WebhookEndpoint.id).where(WebhookEndpoint.active.is_(True))
    )


# ---- the worker: a try ---------------------------------------------------------------------------


async def start_attempts(
    session: AsyncSession, claims: Sequence[Claim], now: datetime
) -> dict[uuid.UUID, int]:
    """An attempt row per claimed delivery, before anything is sent: delivery id → attempt id."""
    if not claims:
        return {}
    stmt = (
        insert(WebhookAttempt)
        .values([{"delivery_id": c.id, "started_at": now} for c in claims])
        .returning(WebhookAttempt.delivery_id, WebhookAttempt.id)
    )
    return {row[0]: row[1] for row in (await session.execute(stmt)).all()}


@dataclass(frozen=True, slots=True)
class DeliveryRow:
    """What a try needs: where to, the secret, and the event with its issue as it is now."""

    id: uuid.UUID
    url: str
    secret: str
    event_id: int
    kind: str
    data: dict[str, Any]
    created_at: datetime
    issue_ref: int
    actor_id: int | None
    actor_name: str | None
    issue: dict[str, Any] | None


async def deliveries_to_send(
    session: AsyncSession, delivery_ids: Sequence[uuid.UUID]
) -> list[DeliveryRow]:
    if not delivery_ids:
        return []
    actor = aliased(User)
    reporter = aliased(User)
    assignee = aliased(User)
    tags = (
        select(func.array_agg(Tag.name))
        .select_from(issue_tags.join(Tag, Tag.id == issue_tags.c.tag_id))
        .where(issue_tags.c.issue_id == Issue.id)
        .scalar_subquery()
    )
    stmt = (
        select(
            WebhookDelivery.id,
            WebhookEndpoint.url,
            WebhookEndpoint.secret,
            IssueEvent.id.label("event_id"),
            IssueEvent.kind,
            IssueEvent.data,
            IssueEvent.created_at,
            IssueEvent.issue_ref,
            IssueEvent.actor_id,
            actor.full_name.label("actor_name"),
            Issue.id.label("issue_id"),
            Issue.title,
            Issue.status,
            Issue.severity,
            Issue.created_at.label("issue_created_at"),
            Issue.updated_at.label("issue_updated_at"),
            reporter.id.label("reporter_id"),
            reporter.full_name.label("reporter_name"),
            assignee.id.label("assignee_id"),
            assignee.full_name.label("assignee_name"),
            tags.label("tags"),
        )
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .join(IssueEvent, IssueEvent.id == WebhookDelivery.event_id)
        .outerjoin(actor, actor.id == IssueEvent.actor_id)
        .outerjoin(Issue, Issue.id == IssueEvent.issue_id)
        .outerjoin(reporter, reporter.id == Issue.reporter_id)
        .outerjoin(assignee, assignee.id == Issue.assignee_id)
        .where(WebhookDelivery.id.in_(delivery_ids))
    )
    rows = (await session.execute(stmt)).mappings().all()
    return [
        DeliveryRow(
            id=row["id"],
            url=row["url"],
            secret=row["secret"],
            event_id=row["event_id"],
            kind=row["kind"],
            data=row["data"] or {},
            created_at=row["created_at"],
            issue_ref=row["issue_ref"],
            actor_id=row["actor_id"],
            actor_name=row["actor_name"],
            issue=None if row["issue_id"] is None else _issue(row),
        )
        for row in rows
    ]


def _issue(row: Any) -> dict[str, Any]:
    def person(user_id: int | None, name: str | None) -> dict[str, Any] | None:
        return None if user_id is None else {"id": user_id, "full_name": name}

    return {
        "id": row["issue_id"],
        "title": row["title"],
        "status": str(row["status"]),
        "severity": str(row["severity"]),
        "reporter": person(row["reporter_id"], row["reporter_name"]),
        "assignee": person(row["assignee_id"], row["assignee_name"]),
        "tags": sorted(row["tags"] or [], key=str.lower),
        "created_at": row["issue_created_at"],
        "updated_at": row["issue_updated_at"],
    }


async def finish_attempts(session: AsyncSession, results: Sequence[dict[str, Any]]) -> None:
    """Each attempt's answer: keys b_id, outcome, status_code, error, duration_ms,
    response_excerpt."""
    if not results:
        return
    table = cast(Table, WebhookAttempt.__table__)
    stmt = (
        update(table)
        .where(table.c.id == bindparam("b_id"))
        .values(
            {
                name: bindparam(name)
                for name in ("outcome", "status_code", "error", "duration_ms", "response_excerpt")
            }
        )
    )
    await session.execute(stmt, list(results))
