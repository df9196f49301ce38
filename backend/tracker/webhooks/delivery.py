"""Delivering webhooks: what the worker's `deliver_webhooks` job does on every run.

1. New events become deliveries: every `issue_events` row after the cursor, one delivery per
   active endpoint subscribed to its kind; the cursor moves in the same transaction, and a
   unique (endpoint, event) pair makes a repeat harmless.
2. Due deliveries are claimed (tracker/outbox.py) and an attempt row is written for each;
   that much is committed before anything is sent, so an overlapping run skips them and a
   crash leaves a record of the try it interrupted.
3. Each is POSTed (sender.py), a bounded number at a time, outside any transaction.
4. The answers are recorded and each delivery settled: delivered, retried later, or failed.

Nothing is sent twice unless a run dies between steps 2 and 4; then that delivery goes again
once its lease ends, with the same X-Tracker-Delivery id.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tracker.config import Settings
from tracker.observability.logging import get_logger
from tracker.outbox import Backoff, Claim, OutboxState, Outcome
from tracker.outbox import claim as claim_rows
from tracker.outbox import prune as prune_rows
from tracker.outbox import settle as settle_rows
from tracker.webhooks import repository
from tracker.webhooks.addresses import AllowedHosts
from tracker.webhooks.models import AttemptOutcome
from tracker.webhooks.repository import DELIVERIES, DeliveryRow
from tracker.webhooks.sender import Answer, make_client, post
from tracker.webhooks.signing import signature

log = get_logger("tracker.webhooks")

# After a failed try, wait this long before the next: 7 tries over about 25 hours.
BACKOFF = Backoff(
    tuple(timedelta(seconds=s) for s in (30, 2 * 60, 10 * 60, 60 * 60, 6 * 60 * 60, 18 * 60 * 60))
)
# Events turned into deliveries per run; a backlog is worked through a batch per run.
EVENTS_PER_RUN = 1000
PRUNE_PER_RUN = 500

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


def lease_for(settings: Settings) -> timedelta:
    """Long enough for a whole batch to be sent, a bounded number at a time, with room over."""
    rounds = math.ceil(settings.webhook_batch_size / settings.webhook_concurrency)
    return timedelta(seconds=settings.webhook_timeout_seconds * rounds + 60)


async def queue_new_events(session: AsyncSession, *, now: datetime) -> int:
    """Turn the events after the cursor into deliveries and move the cursor past them."""
    cursor = await repository.lock_cursor(session)
    if cursor is None:  # another run is doing exactly this
        return 0
    upto = await repository.last_event_of_batch(session, cursor, EVENTS_PER_RUN)
    if upto is None:
        return 0
    queued = await repository.queue_deliveries(session, after=cursor, upto=upto, now=now)
    await repository.set_cursor(session, upto)
    return queued


@dataclass
class Batch:
    """Claimed deliveries with their attempt rows and what to send."""

    claims: list[Claim] = field(default_factory=list)
    attempts: dict[uuid.UUID, int] = field(default_factory=dict)
    rows: dict[uuid.UUID, DeliveryRow] = field(default_factory=dict)


async def claim_due(session: AsyncSession, settings: Settings, *, now: datetime) -> Batch:
    claims = await claim_rows(
        session,
        DELIVERIES,
        now=now,
        limit=settings.webhook_batch_size,
        lease=lease_for(settings),
        where=[repository.active_endpoint()],
        # Due at the same time, they go in the order things happened.
        order_by=[DELIVERIES.c.event_id, DELIVERIES.c.endpoint_id],
    )
    attempts = await repository.start_attempts(session, claims, now)
    rows = await repository.deliveries_to_send(session, [c.id for c in claims])
    return Batch(claims, attempts, {row.id: row for row in rows})


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def payload(row: DeliveryRow, settings: Settings) -> dict[str, Any]:
    """The JSON body: the delivery, its event, the issue as it is now (or its number, once
    deleted), who did it and the event's data."""
    issue: dict[str, Any]
    if row.issue is None:
        issue = {"id": row.issue_ref, "deleted": True}
    else:
        issue = {
            **row.issue,
            "created_at": _time(row.issue["created_at"]),
            "updated_at": _time(row.issue["updated_at"]),
            "url": f"{settings.web_origin.rstrip('/')}/issues/{row.issue['id']}",
            "deleted": False,
        }
    actor = None if row.actor_id is None else {"id": row.actor_id, "full_name": row.actor_name}
    return {
        "id": str(row.id),
        "event": row.kind,
        "event_id": row.event_id,
        "created_at": _time(row.created_at),
        "issue": issue,
        "actor": actor,
        "data": row.data,
    }


def encode(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


async def _send_one(
    client: httpx.AsyncClient,
    row: DeliveryRow | None,
    settings: Settings,
    allowed: AllowedHosts,
    limit: asyncio.Semaphore,
) -> Answer:
    if row is None:  # deleted with its endpoint between the claim and now
        return Answer(False, error="the endpoint no longer exists")
    body = encode(payload(row, settings))
    headers = {
        "Content-Type": "application/json",
        "Accept-Encoding": "identity",
        "X-Tracker-Event": row.kind,
        "X-Tracker-Delivery": str(row.id),
    }
    async with limit:
        headers["X-Tracker-Signature"] = signature(row.secret, body, int(time.time()))
        try:
            return await post(
                client,
                url=row.url,
                body=body,
                headers=headers,
                allowed=allowed,
                time_limit=settings.webhook_timeout_seconds,
            )
        except Exception as exc:  # a bug must cost one try, not the batch's records
            log.exception("webhook_try_crashed", delivery=str(row.id))
            return Answer(False, error=f"internal error: {type(exc).__name__}")


async def send(batch: Batch, settings: Settings) -> list[Answer]:
    """Send every claimed delivery (in claim order), `webhook_concurrency` at a time."""
    if not batch.claims:
        return []
    allowed = AllowedHosts.parse(settings.webhook_allowed_hosts)
    limit = asyncio.Semaphore(settings.webhook_concurrency)
    async with make_client(
        timeout=settings.webhook_timeout_seconds, concurrency=settings.webhook_concurrency
    ) as client:
        return list(
            await asyncio.gather(
                *(
                    _send_one(client, batch.rows.get(c.id), settings, allowed, limit)
                    for c in batch.claims
                )
            )
        )


async def settle(
    session: AsyncSession, batch: Batch, answers: list[Answer], *, now: datetime
) -> dict[OutboxState, int]:
    """Record every try's answer and move each delivery on (flushed, not committed)."""
    results = []
    for claim, answer in zip(batch.claims, answers, strict=True):
        results.append(
            {
                "b_id": batch.attempts[claim.id],
                "outcome": AttemptOutcome.SUCCEEDED if answer.delivered else AttemptOutcome.FAILED,
                "status_code": answer.status_code,
                "error": answer.error,
                "duration_ms": answer.duration_ms,
                "response_excerpt": answer.excerpt,
            }
        )
        if not answer.delivered:
            log.info(
                "webhook_try_failed",
                delivery=str(claim.id),
                tries=claim.tries,
                status=answer.status_code,
                error=answer.error,
            )
    await repository.finish_attempts(session, results)
    outcomes = [
        Outcome(claim, answer.delivered)
        for claim, answer in zip(batch.claims, answers, strict=True)
    ]
    return await settle_rows(session, DELIVERIES, outcomes, backoff=BACKOFF, now=now)


async def run(
    session: AsyncSession, settings: Settings, *, clock: Clock = utcnow
) -> dict[str, int]:
    """One run of the job: queue, claim (committed), send, settle; returns what it did."""
    queued = await queue_new_events(session, now=clock())
    batch = await claim_due(session, settings, now=clock())
    # The claims and their attempt rows are committed before anything is sent.
    await session.commit()
    answers = await send(batch, settings)
    now = clock()
    settled = await settle(session, batch, answers, now=now)
    pruned = await prune_rows(
        session,
        DELIVERIES,
        before=now - timedelta(days=settings.webhook_retention_days),
        limit=PRUNE_PER_RUN,
    )
    return {
        "queued": queued,
        "sent": len(batch.claims),
        "delivered": settled[OutboxState.DELIVERED],
        "retrying": settled[OutboxState.PENDING],
        "failed": settled[OutboxState.FAILED],
        "pruned": pruned,
    }
