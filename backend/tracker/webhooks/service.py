"""Webhook endpoints for ADMINs: register, change, rotate the secret, read the delivery log,
deliver again. Deliveries themselves are the worker's (delivery.py)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tracker.auth.models import User
from tracker.config import Settings
from tracker.cursors import decode_id_cursor
from tracker.errors import Conflict, NotFound
from tracker.outbox import OutboxState, requeue
from tracker.webhooks import repository
from tracker.webhooks.addresses import AllowedHosts, checked_destination
from tracker.webhooks.models import WebhookEndpoint
from tracker.webhooks.repository import DELIVERIES
from tracker.webhooks.schemas import (
    EVENT_KINDS,
    AttemptOut,
    DeliveryOut,
    DeliveryPage,
    EventKind,
    LastDelivery,
    WebhookCreate,
    WebhookOut,
    WebhookUpdate,
    WebhookWithSecret,
)
from tracker.webhooks.signing import new_secret

MAX_ENDPOINTS = 100
# Tries shown with each delivery in the log (attempt_count says how many there were).
ATTEMPTS_SHOWN = 10


def _not_found(endpoint_id: int) -> NotFound:
    return NotFound(f"Webhook {endpoint_id} does not exist", code="webhook_not_found")


def list_event_kinds() -> list[EventKind]:
    return [EventKind(kind=kind, description=text) for kind, text in EVENT_KINDS.items()]


async def _check_url(settings: Settings, url: str) -> None:
    """Refuse a URL that is not http(s), does not resolve, or reaches a non-public address
    (unless WEBHOOK_ALLOWED_HOSTS lists it): 422 with the reason's code."""
    await checked_destination(url, AllowedHosts.parse(settings.webhook_allowed_hosts))


def _out(endpoint: WebhookEndpoint, row: Any = None) -> dict[str, Any]:
    last = None
    if row is not None and row.delivery_id is not None:
        last = LastDelivery(
            id=row.delivery_id,
            event=row.delivery_event,
            state=row.delivery_state,
            at=row.delivery_at,
        )
    return {
        "id": endpoint.id,
        "url": endpoint.url,
        "description": endpoint.description,
        "events": list(endpoint.events),
        "active": endpoint.active,
        "created_at": endpoint.created_at,
        "updated_at": endpoint.updated_at,
        "last_delivery": last,
    }


async def list_endpoints(session: AsyncSession) -> list[WebhookOut]:
    rows = await repository.endpoints_with_last_delivery(session)
    return [WebhookOut(**_out(row[0], row)) for row in rows]


async def get_endpoint(session: AsyncSession, endpoint_id: int) -> WebhookOut:
    rows = await repository.endpoints_with_last_delivery(session, endpoint_id)
    if not rows:
        raise _not_found(endpoint_id)
    return WebhookOut(**_out(rows[0][0], rows[0]))


async def create_endpoint(
    session: AsyncSession, settings: Settings, *, actor: User, data: WebhookCreate
) -> WebhookWithSecret:
    await _check_url(settings, data.url)
    if await repository.count_endpoints(session) >= MAX_ENDPOINTS:
        raise Conflict(
            f"There are {MAX_ENDPOINTS} webhooks already: delete one first",
            code="too_many_webhooks",
        )
    secret = new_secret()
    endpoint = await repository.add_endpoint(
        session,
        WebhookEndpoint(
            url=data.url,
            description=data.description.strip(),
            events=data.events,
            secret=secret,
            active=data.active,
            since_event_id=await repository.latest_event_id(session),
            created_by_id=actor.id,
        ),
    )
    return WebhookWithSecret(**_out(endpoint), secret=secret)


async def _locked(session: AsyncSession, endpoint_id: int) -> WebhookEndpoint:
    endpoint = await repository.lock_endpoint(session, endpoint_id)
    if endpoint is None:
        raise _not_found(endpoint_id)
    return endpoint


async def update_endpoint(
    session: AsyncSession, settings: Settings, *, endpoint_id: int, changes: WebhookUpdate
) -> WebhookOut:
    endpoint = await _locked(session, endpoint_id)
    if changes.url is not None and changes.url != endpoint.url:
        await _check_url(settings, changes.url)
        endpoint.url = changes.url
    if changes.events is not None:
        endpoint.events = changes.events
    if changes.description is not None:
        endpoint.description = changes.description.strip()
    if changes.active is not None and changes.active != endpoint.active:
        endpoint.active = changes.active
        if changes.active:
            # What happened while it was off is not sent now.
            endpoint.since_event_id = await repository.latest_event_id(session)
    await repository.save_endpoint(session, endpoint)
    return await get_endpoint(session, endpoint_id)


async def delete_endpoint(session: AsyncSession, endpoint_id: int) -> None:
    if not await repository.delete_endpoint(session, endpoint_id):
        raise _not_found(endpoint_id)


async def rotate_secret(session: AsyncSession, endpoint_id: int) -> WebhookWithSecret:
    """A new secret at once: every delivery from now on, retries included, is signed with it."""
    endpoint = await _locked(session, endpoint_id)
    endpoint.secret = new_secret()
    await repository.save_endpoint(session, endpoint)
    shown = await get_endpoint(session, endpoint_id)
    return WebhookWithSecret(**shown.model_dump(), secret=endpoint.secret)


async def list_deliveries(
    session: AsyncSession,
    *,
    endpoint_id: int,
    cursor: str | None,
    state: OutboxState | None,
    limit: int,
) -> DeliveryPage:
    before = decode_id_cursor(cursor)
    await get_endpoint(session, endpoint_id)
    rows = await repository.delivery_page(
        session, endpoint_id=endpoint_id, before_event_id=before, state=state, limit=limit + 1
    )
    more = len(rows) > limit
    rows = rows[:limit]
    attempts: dict[uuid.UUID, list[AttemptOut]] = defaultdict(list)
    totals: dict[uuid.UUID, int] = {}
    for attempt, total in await repository.newest_attempts(
        session, [row.id for row in rows], ATTEMPTS_SHOWN
    ):
        attempts[attempt.delivery_id].append(
            AttemptOut.model_validate(attempt, from_attributes=True)
        )
        totals[attempt.delivery_id] = int(total)
    items = [
        DeliveryOut(
            **row._mapping,
            attempt_count=totals.get(row.id, 0),
            attempts=attempts.get(row.id, []),
        )
        for row in rows
    ]
    return DeliveryPage(items=items, next_cursor=str(rows[-1].event_id) if more and rows else None)


async def redeliver(
    session: AsyncSession, *, endpoint_id: int, delivery_id: uuid.UUID
) -> DeliveryOut:
    """Queue a delivery again, due now, with a new schedule of tries."""
    if await repository.delivery_endpoint(session, delivery_id) != endpoint_id:
        raise NotFound(
            f"Webhook {endpoint_id} has no delivery {delivery_id}", code="delivery_not_found"
        )
    queued = await requeue(session, DELIVERIES, delivery_id, now=datetime.now(UTC))
    if queued is False:
        raise Conflict(
            "This delivery is being sent right now; try again when the try is over",
            code="delivery_in_flight",
        )
    return await _one_delivery(session, endpoint_id, delivery_id)


async def _one_delivery(
    session: AsyncSession, endpoint_id: int, delivery_id: uuid.UUID
) -> DeliveryOut:
    row = await repository.delivery_by_id(session, delivery_id)
    if row is None:
        raise NotFound(
            f"Webhook {endpoint_id} has no delivery {delivery_id}", code="delivery_not_found"
        )
    attempts = await repository.newest_attempts(session, [delivery_id], ATTEMPTS_SHOWN)
    return DeliveryOut(
        **row._mapping,
        attempt_count=int(attempts[0][1]) if attempts else 0,
        attempts=[AttemptOut.model_validate(a, from_attributes=True) for a, _ in attempts],
    )
